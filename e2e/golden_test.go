package e2e_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pushShape is the keys of a push body: the envelope's, and each
// mutation type's (person's keys as person.kind, person.id).
type pushShape struct {
	envelope  []string
	mutations map[string][]string // by type
}

// shapeOf returns the keys of the push body b.
func shapeOf(t *testing.T, b []byte) pushShape {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("push body: %v (%.200s)", err, b)
	}
	s := pushShape{mutations: map[string][]string{}}
	for k := range body {
		s.envelope = append(s.envelope, k)
	}
	slices.Sort(s.envelope)
	ms, _ := body["mutations"].([]any)
	for _, m := range ms {
		m, _ := m.(map[string]any)
		typ, _ := m["type"].(string)
		var ks []string
		for k, v := range m {
			ks = append(ks, k)
			if sub, ok := v.(map[string]any); ok {
				for sk := range sub {
					ks = append(ks, k+"."+sk)
				}
			}
		}
		slices.Sort(ks)
		if prev, ok := s.mutations[typ]; ok && !slices.Equal(prev, ks) {
			t.Errorf("two %s mutations of one push with keys %v and %v", typ, prev, ks)
		}
		s.mutations[typ] = ks
	}
	return s
}

// checkPushShape compares the app's own push bodies with the golden push
// request of the protocol (sync/protocol/testdata/golden): the same
// envelope keys, and for each mutation type the golden one has, the same
// keys.
func checkPushShape(t *testing.T, bodies [][]byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "sync", "protocol", "testdata", "golden", "push_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := shapeOf(t, b)
	compared := map[string]bool{}
	for _, body := range bodies {
		got := shapeOf(t, body)
		if !slices.Equal(got.envelope, want.envelope) {
			t.Errorf("the app's push envelope has keys %v, the golden push request %v", got.envelope, want.envelope)
		}
		for typ, ks := range got.mutations {
			if wk, ok := want.mutations[typ]; ok && !slices.Equal(ks, wk) {
				t.Errorf("the app's %s mutation has keys %v, the golden one %v", typ, ks, wk)
			}
			compared[typ] = true
		}
	}
	for typ := range want.mutations {
		if !compared[typ] {
			t.Errorf("no %s mutation pushed by the app to compare with the golden push request", typ)
		}
	}
	t.Logf("push shape: %d bodies compared with the golden push request (envelope %s)", len(bodies), strings.Join(want.envelope, ", "))
}
