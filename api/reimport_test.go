package api_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"prodays"
	"prodays/internal/synctest"
	"prodays/sync/protocol"
)

// TestReimportKeepsServerChanges (issue #18, finding 2): a trainees file
// of three new trainees is imported; then a phone corrects a first name and two phones write
// different groups from the same version (a conflict a supervisor
// confirms). Re-importing the same file keeps both server values and lists
// each field with both values, while the file's own change of another
// trainee's programme applies; with overwrite_local_changes=true the file's
// values are taken (and listed as not kept).
func TestReimportKeepsServerChanges(t *testing.T) {
	env := syncEnv(t)
	admin := env.Login(t, "admin", "dev-reimport-admin")
	sup := env.Login(t, "sup1", "dev-reimport-sup")
	s1 := env.Login(t, "staff1", "dev-reimport-1")
	s2 := env.Login(t, "staff1", "dev-reimport-2")
	ids := []string{"F25000100001Q", "F25000100002R", "F25000100003S"} // matricules with their check letters
	target, other := ids[0], ids[1]

	file := func(otherProgram string) []byte {
		var b strings.Builder
		b.WriteString("trainee_id,last_name,first_name,establishment_code,program,group,gender\n")
		for i, id := range ids {
			program := "Dev"
			if id == other {
				program = otherProgram
			}
			fmt.Fprintf(&b, "%s,Nom%d,PrenomE1%d,E1,%s,G1,F\n", id, i, i, program)
		}
		return []byte(b.String())
	}
	imp := func(body []byte, fields map[string]string) prodays.ImportReport {
		t.Helper()
		b, ct := multipartBody("trainees.csv", body, fields)
		a := env.Raw(t, "POST", "/api/v1/admin/import/trainees", admin.AccessToken, ct, b)
		if a.Status != 200 {
			t.Fatalf("import: %d %s", a.Status, a.Body)
		}
		var r prodays.ImportReport
		if err := json.Unmarshal(a.Body, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := imp(file("Dev"), nil); len(r.LocalChanges) != 0 {
		t.Fatalf("first import: local changes %+v", r.LocalChanges)
	}

	p1 := synctest.NewPhone("dev-reimport-1", eventNow.Add(-time.Hour))
	p2 := synctest.NewPhone("dev-reimport-2", eventNow.Add(-50*time.Minute))
	for _, x := range []struct {
		token, dev string
		m          protocol.Mutation
	}{
		{s1.AccessToken, "dev-reimport-1", p1.Update(target, 1, map[string]string{"first_name": "Yasmine", "group": "G2"})},
		{s2.AccessToken, "dev-reimport-2", p2.Update(target, 1, map[string]string{"group": "G3"})},
	} {
		a := send(t, env, "POST", "/api/v1/sync/push", x.token, json.RawMessage(synctest.Body(x.dev, eventNow, 1, x.m)))
		if a.Status != 200 {
			t.Fatalf("push: %d %s", a.Status, a.Body)
		}
	}
	var conflicts struct {
		Conflicts []struct {
			ID          int64  `json:"id"`
			Field       string `json:"field"`
			WinnerValue string `json:"winner_value"`
		} `json:"conflicts"`
	}
	if sup.Do(t, "GET", "/api/v1/review/conflicts", nil, &conflicts); len(conflicts.Conflicts) != 1 || conflicts.Conflicts[0].Field != "group" {
		t.Fatalf("conflicts: %+v, want one on group", conflicts)
	}
	group := conflicts.Conflicts[0].WinnerValue
	if a := send(t, env, "POST", fmt.Sprintf("/api/v1/review/conflicts/%d/confirm", conflicts.Conflicts[0].ID), sup.AccessToken, map[string]string{"reason": "checked"}); a.Status != 204 {
		t.Fatalf("confirm: %d %s", a.Status, a.Body)
	}
	current := func(id string) (first, grp, program string) {
		env.DB.Read.QueryRow(`SELECT first_name, group_name, program FROM trainees WHERE id = ?`, id).Scan(&first, &grp, &program)
		return
	}

	r := imp(file("Réseaux"), nil)
	var got []string
	for _, c := range r.LocalChanges {
		got = append(got, fmt.Sprintf("%d %s %s %q %q %v", c.Line, c.TraineeID, c.Field, c.ServerValue, c.FileValue, c.Kept))
	}
	want := []string{fmt.Sprintf(`2 %s first_name "Yasmine" "PrenomE10" true`, target), fmt.Sprintf(`2 %s group %q "G1" true`, target, group)}
	if !slices.Equal(got, want) {
		t.Errorf("re-import local changes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if f, g, _ := current(target); f != "Yasmine" || g != group {
		t.Errorf("after the re-import: %s %s, want the server's Yasmine %s", f, g, group)
	}
	if _, _, p := current(other); p != "Réseaux" {
		t.Errorf("the file's own change: program %q, want Réseaux", p)
	}
	if c := r.Counts["trainees"]; c.Updated != 1 {
		t.Errorf("re-import counts %+v, want 1 updated (the programme)", c)
	}

	r = imp(file("Réseaux"), map[string]string{"overwrite_local_changes": "true"})
	if len(r.LocalChanges) != 2 || r.LocalChanges[0].Kept || r.LocalChanges[1].Kept {
		t.Errorf("overwrite: local changes %+v, want the two fields, not kept", r.LocalChanges)
	}
	if f, g, _ := current(target); f != "PrenomE10" || g != "G1" {
		t.Errorf("after the overwrite: %s %s, want the file's PrenomE10 G1", f, g)
	}
}
