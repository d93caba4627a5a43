package simulate

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// infoKeys are the keys of expected.json that are for information only
// (datasets README).
var infoKeys = map[string]bool{"params": true, "raw_actions": true, "mess": true}

// CompareBilan compares a bilan (the JSON of GET /api/v1/reports/bilan)
// with a dataset's expected.json: every key of expected.json but params,
// raw_actions and mess must be equal, per_region and per_day included. It
// returns one line per difference, sorted (none when equal).
func CompareBilan(bilan, expected []byte) ([]string, error) {
	var got, want map[string]any
	if err := json.Unmarshal(bilan, &got); err != nil {
		return nil, fmt.Errorf("bilan: %w", err)
	}
	if err := json.Unmarshal(expected, &want); err != nil {
		return nil, fmt.Errorf("expected.json: %w", err)
	}
	var diffs []string
	for k, w := range want {
		if infoKeys[k] {
			continue
		}
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: missing, want %v", k, w))
		case !reflect.DeepEqual(g, w):
			wm, wok := w.(map[string]any)
			gm, gok := g.(map[string]any)
			if !wok || !gok {
				diffs = append(diffs, fmt.Sprintf("%s: got %v, want %v", k, g, w))
				continue
			}
			for sk, sw := range wm {
				if sg := gm[sk]; !reflect.DeepEqual(sg, sw) {
					diffs = append(diffs, fmt.Sprintf("%s.%s: got %v, want %v", k, sk, sg, sw))
				}
			}
			for sk, sg := range gm {
				if _, ok := wm[sk]; !ok {
					diffs = append(diffs, fmt.Sprintf("%s.%s: got %v, not expected", k, sk, sg))
				}
			}
		}
	}
	sort.Strings(diffs)
	return diffs, nil
}
