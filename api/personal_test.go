package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"prodays"
	"prodays/internal/dbtest"
	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/report"
	"prodays/sync/protocol"
)

// personHits lists, for every text value of every column of every table
// that contains one of terms, "table.column: value".
func personHits(t *testing.T, env *testenv.Env, terms ...string) []string {
	t.Helper()
	cols := dbtest.Rows(t, env.DB, dbtest.Pair, `SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`)
	var hits []string
	for _, tc := range cols {
		for _, term := range terms {
			q := fmt.Sprintf(`SELECT CAST(%q AS TEXT) FROM %q WHERE typeof(%q) = 'text' AND instr(%q, ?) > 0`, tc[1], tc[0], tc[1], tc[1])
			if tc[0] == "changes" {
				q += ` AND op <> 'delete'` // the deletes tell phones which id to drop
			}
			r, err := env.DB.Read.Query(q, term)
			if err != nil {
				t.Fatal(err)
			}
			for r.Next() {
				var v string
				r.Scan(&v)
				hits = append(hits, fmt.Sprintf("%s.%s (%q): %.200s", tc[0], tc[1], term, v))
			}
			r.Close()
		}
	}
	return hits
}

// TestTraineeExportErase: the export holds everything about the trainee;
// the erasure leaves the bilan unchanged, no trace of the matricule or the
// names anywhere but the change log's deletes, and tells phones to drop
// the old id.
func TestTraineeExportErase(t *testing.T) {
	env := syncEnv(t)
	ctx := context.Background()
	target := synctest.TraineesE1[0]
	exec(t, env, `UPDATE trainees SET last_name = 'Zerhouni', first_name = 'Yasmine' WHERE id = '`+target+`'`)
	staff := env.Login(t, "staff1", "dev-dp")
	sup := env.Login(t, "sup1", "dev-dp-sup")
	adm := env.Login(t, "admin", "dev-dp-admin")
	ph := synctest.NewPhone("dev-dp", eventNow.Add(-time.Hour))
	c1 := ph.CheckIn("A1", "trainee", target)
	c2 := ph.CheckIn("A2", "trainee", target)
	c3 := ph.CheckIn("A2", "trainee", target)
	other := ph.CheckIn("A1", "trainee", synctest.TraineesE1[1])
	upd := ph.Update(target, 1, map[string]string{"last_name": "Zerhouny", "program": "Développement digital"})
	walk := ph.Register("E1", "Zerhouny", "Yasmine")
	wc := ph.CheckIn("A2", "trainee", walk.Trainee.ID)
	push := func(ms ...protocol.Mutation) {
		t.Helper()
		a := send(t, env, "POST", "/api/v1/sync/push", staff.AccessToken, json.RawMessage(synctest.Body("dev-dp", eventNow, 0, ms...)))
		if a.Status != 200 {
			t.Fatalf("push: %d %s", a.Status, a.Body)
		}
		var pr protocol.PushResponse
		json.Unmarshal(a.Body, &pr)
		for _, r := range pr.Results {
			if r.Status != "applied" {
				t.Fatalf("push: %+v", r)
			}
		}
	}
	push(c1, c2, c3, other, ph.Undo("A2", "trainee", target, c3.ID), upd, walk, wc)
	var props struct {
		MergeProposals []struct {
			ID          int64  `json:"id"`
			WalkInID    string `json:"walk_in_id"`
			CandidateID string `json:"candidate_id"`
		} `json:"merge_proposals"`
	}
	if st := sup.Do(t, "GET", "/api/v1/review/merge-proposals", nil, &props); st != 200 {
		t.Fatalf("proposals: %d", st)
	}
	merged := false
	for _, p := range props.MergeProposals {
		if p.WalkInID == walk.Trainee.ID && p.CandidateID == target {
			decideItem(t, env, sup, "merge-proposals", p.ID, "merge", "same person")
			merged = true
		}
	}
	if !merged {
		t.Fatalf("no merge proposal for the walk-in: %+v", props)
	}
	if a := send(t, env, "POST", "/api/v1/review/overrides", sup.AccessToken, map[string]any{"activity_id": "A1",
		"person": map[string]string{"kind": "trainee", "id": target}, "present": true, "reason": "Yasmine Zerhouny signed the sheet"}); a.Status != 204 {
		t.Fatalf("override: %d %s", a.Status, a.Body)
	}

	// Export.
	a := send(t, env, "GET", "/api/v1/admin/trainees/"+target+"/export", adm.AccessToken, nil)
	if a.Status != 200 {
		t.Fatalf("export: %d %s", a.Status, a.Body)
	}
	var x prodays.TraineeExport
	if err := json.Unmarshal(a.Body, &x); err != nil {
		t.Fatal(err)
	}
	if x.Trainee["last_name"] != "Zerhouny" || x.Trainee["source"] != "roster" || len(x.Attendance) != 2 || len(x.Checkins) != 4 ||
		len(x.Undos) != 1 || len(x.FieldHistory) != 2 || len(x.MergedWalkIns) != 1 || len(x.Audit) < 2 || len(x.Mutations) < 5 {
		t.Fatalf("export: %s", a.Body)
	}
	if x.Checkins[0]["device_id"] != "dev-dp" || x.Checkins[0]["method"] != "qr" || x.Attendance[0]["activity_title"] == nil {
		t.Errorf("export check-in/attendance: %v %v", x.Checkins[0], x.Attendance[0])
	}
	if w := x.MergedWalkIns[0]["walk_in"].(map[string]any); w["device_id"] != "dev-dp" || w["username"] != "staff1" {
		t.Errorf("walk-in origin: %v", w)
	}

	before, err := report.Bilan(ctx, env.DB, report.Filter{Scope: prodays.AdminScope()})
	if err != nil {
		t.Fatal(err)
	}
	var cur struct {
		Cursor string `json:"cursor"`
	}
	for {
		var p protocol.PullResponse
		if st := staff.Do(t, "GET", "/api/v1/sync/pull?limit=1000&cursor="+cur.Cursor, nil, &p); st != 200 {
			t.Fatalf("pull: %d", st)
		}
		cur.Cursor = p.Cursor
		if !p.HasMore {
			break
		}
	}

	// Erase.
	wantProblem(t, "erase without reason", send(t, env, "POST", "/api/v1/admin/trainees/"+target+"/erase", adm.AccessToken, map[string]string{}), 400, "invalid")
	a = send(t, env, "POST", "/api/v1/admin/trainees/"+target+"/erase", adm.AccessToken, map[string]string{"reason": "Demande écrite de Yasmine Zerhouny du 2 avril"})
	if a.Status != 200 {
		t.Fatalf("erase: %d %s", a.Status, a.Body)
	}
	var er struct {
		AnonymousID string `json:"anonymous_id"`
	}
	json.Unmarshal(a.Body, &er)
	if !strings.HasPrefix(er.AnonymousID, "ANON-") {
		t.Fatalf("erase: %s", a.Body)
	}
	after, err := report.Bilan(ctx, env.DB, report.Filter{Scope: prodays.AdminScope()})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("bilan changed by the erasure:\nbefore %+v\nafter  %+v", before, after)
	}
	for _, h := range personHits(t, env, target, walk.Trainee.ID, "Zerhouni", "Zerhouny", "ZERHOUN", "Yasmine", "YASMINE", "Développement digital") {
		t.Errorf("left after the erasure: %s", h)
	}
	var n int
	if err := env.DB.Read.QueryRow(`SELECT count(*) FROM attendance WHERE person_id = ? AND present = 1`, er.AnonymousID).Scan(&n); err != nil || n != 2 {
		t.Errorf("attendance under the anonymous id: %d %v", n, err)
	}
	var audit struct {
		Entries []struct {
			Username string         `json:"username"`
			Target   string         `json:"target"`
			Detail   map[string]any `json:"detail"`
		} `json:"entries"`
	}
	if st := adm.Do(t, "GET", "/api/v1/admin/audit?action=trainee.erase", nil, &audit); st != 200 || len(audit.Entries) != 1 {
		t.Fatalf("audit: %d %+v", st, audit)
	}
	if e := audit.Entries[0]; e.Username != "admin" || e.Target != er.AnonymousID || e.Detail["reason"] != "Demande écrite de *** *** du 2 avril" {
		t.Errorf("erase audit entry: %+v", e)
	}
	// Phones drop the old ids.
	var p protocol.PullResponse
	if st := staff.Do(t, "GET", "/api/v1/sync/pull?limit=1000&cursor="+cur.Cursor, nil, &p); st != 200 {
		t.Fatalf("pull: %d", st)
	}
	got := map[string]string{}
	for _, ch := range p.Changes {
		got[ch.Entity+" "+ch.ID] = ch.Op
	}
	for k, op := range map[string]string{"trainee " + target: "delete", "trainee " + er.AnonymousID: "upsert",
		"attendance A1:trainee:" + target: "delete", "attendance A1:trainee:" + er.AnonymousID: "upsert"} {
		if got[k] != op {
			t.Errorf("pull after erasure: %s = %q, want %q (%v)", k, got[k], op, got)
		}
	}
	wantProblem(t, "export erased", send(t, env, "GET", "/api/v1/admin/trainees/"+target+"/export", adm.AccessToken, nil), 404, "not_found")
	wantProblem(t, "erase twice", send(t, env, "POST", "/api/v1/admin/trainees/"+target+"/erase", adm.AccessToken, map[string]string{"reason": "again"}), 404, "not_found")
	wantProblem(t, "erase anonymous", send(t, env, "POST", "/api/v1/admin/trainees/"+er.AnonymousID+"/erase", adm.AccessToken, map[string]string{"reason": "again"}), 409, "conflict")
	_ = http.StatusOK
}
