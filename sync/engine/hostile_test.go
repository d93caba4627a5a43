package engine_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"prodays"
	"prodays/internal/synctest"
	"prodays/sync/engine"
	"prodays/sync/protocol"
)

var hostileHistories = flag.Int("hostile", 200, "random histories of the hostile-phone property test")

// hostileStats counts what the property test exercised (logged with -v).
var hostileStats = map[string]int{}

// The hostile-phone property test (issue #13). One staff member of E1
// (staff1: region RSK) mixes honest mutations with attempts to escape the
// scope; honest phones of CS (staff3, sup3: E3, B1) and of the same region
// (staff2: E2, A3) push honest histories. Delivered in random orders
// (batches shuffled, some twice), nothing outside staff1's scope differs
// from a run without the hostile phone, and every honest mutation of the
// other phones is applied, once.
//
// staff1's scope is what a staff member of E1 may change: attendance at
// E1's activities, trainees of RSK (corrections), walk-ins of E1. Outside
// it: the trainees of other regions, attendance at other establishments'
// activities, the flags, merge proposals, conflicts and quarantine of
// other regions' supervisors, and the pulls of other regions' staff (and
// the attendance that E2's staff pull).

// hdevice is a phone of a hostile history.
type hdevice struct {
	id, user string
	hostile  bool
}

// hbatch is one batch as the phone sends it. after names the honest
// batches the hostile phone learnt something from (a mutation id, a
// walk-in id it reuses): it is delivered after them.
type hbatch struct {
	dev   *hdevice
	raw   []json.RawMessage
	after []int
}

type hhistory struct {
	batches []*hbatch
	// honest: the other phones' mutations (id → type); undone: the
	// check-ins an honest undo names.
	honest map[string]string
	undone map[string]bool
	checks []string // honest check-in ids
}

func rawOf(m protocol.Mutation) json.RawMessage {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// tamper returns m as sent with key set to v (added or replaced).
func tamper(m protocol.Mutation, key string, v any) json.RawMessage {
	var obj map[string]any
	if err := json.Unmarshal(rawOf(m), &obj); err != nil {
		panic(err)
	}
	obj[key] = v
	b, _ := json.Marshal(obj)
	return b
}

// genHostile builds one random history: three honest phones, then the
// hostile phone, which knows the honest phones' ids (it reuses a mutation
// id or a walk-in id only after the server saw it: see hbatch.after).
func genHostile(r *rand.Rand) *hhistory {
	h := &hhistory{honest: map[string]string{}, undone: map[string]bool{}}
	start := time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC)
	type walkIn struct {
		id, est string
		batch   int // the batch of its registration
	}
	var foreignWalkIns []walkIn // honest walk-ins (E3 and E2)
	type seenMut struct {
		id    string
		batch int
	}
	var honestMuts []seenMut
	type checkIn struct{ act, kind, person, id string }
	var honestCheckIns []checkIn

	for _, d := range []struct{ id, user, act, est string }{
		{"dev-cs", "staff3", "B1", "E3"}, {"dev-sup3", "sup3", "B1", "E3"}, {"dev-e2", "staff2", "A3", "E2"},
	} {
		dev := &hdevice{id: d.id, user: d.user}
		ph := synctest.NewPhone(d.id, start.Add(time.Duration(r.IntN(60))*time.Minute))
		roster := synctest.TraineesE3
		if d.est == "E2" {
			roster = synctest.TraineesE2
		}
		var ms []protocol.Mutation
		var mine []checkIn
		var walks []string
		n := 3 + r.IntN(6)
		for len(ms) < n {
			switch k := r.IntN(10); {
			case k < 4:
				kind, person := "trainee", roster[r.IntN(len(roster))]
				if r.IntN(6) == 0 {
					kind, person = "speaker", []string{"S1", "S2"}[r.IntN(2)]
				} else if len(walks) > 0 && r.IntN(3) == 0 {
					person = walks[r.IntN(len(walks))]
				}
				m := ph.CheckIn(d.act, kind, person)
				ms = append(ms, m)
				mine = append(mine, checkIn{d.act, kind, person, m.ID})
			case k < 6:
				last, first := "Walk", fmt.Sprintf("In%d", r.IntN(3))
				if d.est == "E3" && r.IntN(2) == 0 {
					last, first = "Nom0", "PrenomE30" // a CS roster trainee's names: a merge proposal in CS
				}
				reg := ph.Register(d.est, last, first)
				walks = append(walks, reg.Trainee.ID)
				ms = append(ms, reg)
				c := ph.CheckIn(d.act, "trainee", reg.Trainee.ID)
				ms = append(ms, c)
				mine = append(mine, checkIn{d.act, "trainee", reg.Trainee.ID, c.ID})
			case k < 8:
				tr := roster[r.IntN(len(roster))]
				if len(walks) > 0 && r.IntN(2) == 0 {
					tr = walks[r.IntN(len(walks))]
				}
				field := []string{"last_name", "group", "program"}[r.IntN(3)]
				ms = append(ms, ph.Update(tr, 1, map[string]string{field: []string{"Alpha", "Beta"}[r.IntN(2)]}))
			default:
				if len(mine) == 0 {
					continue
				}
				c := mine[r.IntN(len(mine))]
				var ids []string
				for _, o := range mine {
					if o.person == c.person {
						ids = append(ids, o.id)
						h.undone[o.id] = true
					}
				}
				ms = append(ms, ph.Undo(c.act, c.kind, c.person, ids...))
			}
		}
		for len(ms) > 0 {
			k := min(len(ms), 1+r.IntN(3))
			b := &hbatch{dev: dev}
			idx := len(h.batches)
			for _, m := range ms[:k] {
				b.raw = append(b.raw, rawOf(m))
				h.honest[m.ID] = m.Type
				honestMuts = append(honestMuts, seenMut{m.ID, idx})
				if m.Type == protocol.TypeTraineeRegister {
					foreignWalkIns = append(foreignWalkIns, walkIn{m.Trainee.ID, m.Trainee.EstablishmentCode, idx})
				}
				if m.Type == protocol.TypeCheckIn {
					h.checks = append(h.checks, m.ID)
					for _, c := range mine {
						if c.id == m.ID {
							honestCheckIns = append(honestCheckIns, c)
						}
					}
				}
			}
			h.batches = append(h.batches, b)
			ms = ms[k:]
		}
	}

	// The hostile phone: staff1 of E1.
	dev := &hdevice{id: "dev-hostile", user: "staff1", hostile: true}
	ph := synctest.NewPhone(dev.id, start.Add(time.Duration(r.IntN(60))*time.Minute))
	type hm struct {
		raw   json.RawMessage
		after int // an honest batch to wait for, or -1
	}
	var ms []hm
	add := func(m protocol.Mutation) { ms = append(ms, hm{rawOf(m), -1}) }
	addRaw := func(raw json.RawMessage) { ms = append(ms, hm{raw, -1}) }
	var own []string // the hostile phone's walk-ins (E1, or refused)
	e1 := synctest.TraineesE1
	anyForeignPerson := func() (string, string) {
		switch x := r.IntN(4); {
		case x == 0 && len(foreignWalkIns) > 0:
			return "trainee", foreignWalkIns[r.IntN(len(foreignWalkIns))].id
		case x == 1:
			return "speaker", "S2"
		case x == 2:
			return "trainee", synctest.TraineesE2[r.IntN(3)]
		}
		return "trainee", synctest.TraineesE3[r.IntN(3)]
	}
	n := 6 + r.IntN(12)
	for len(ms) < n {
		switch k := r.IntN(18); k {
		case 0: // honest: a check-in at E1's meetings (of anyone known)
			kind, person := "trainee", e1[r.IntN(len(e1))]
			if r.IntN(3) == 0 {
				kind, person = anyForeignPerson()
			}
			add(ph.CheckIn([]string{"A1", "A2"}[r.IntN(2)], kind, person))
		case 1: // honest: a walk-in of E1 (sometimes with a CS trainee's names) and its check-in
			last, first := "Hostile", "Walk"
			if r.IntN(2) == 0 {
				last, first = "Nom0", "PrenomE30"
			}
			reg := ph.Register("E1", last, first)
			own = append(own, reg.Trainee.ID)
			add(reg)
			add(ph.CheckIn("A1", "trainee", reg.Trainee.ID))
		case 2: // honest: a correction of an E1 trainee
			add(ph.Update(e1[r.IntN(len(e1))], 1, map[string]string{"group": "G9"}))
		case 3: // a check-in at another establishment's activity
			kind, person := anyForeignPerson()
			add(ph.CheckIn([]string{"B1", "A3", "B1"}[r.IntN(3)], kind, person))
		case 4: // undo of honest check-ins, at their activity or at A1
			if len(honestCheckIns) == 0 {
				continue
			}
			c := honestCheckIns[r.IntN(len(honestCheckIns))]
			act := c.act
			if r.IntN(2) == 0 {
				act = "A1"
			}
			add(ph.Undo(act, c.kind, c.person, c.id))
		case 5: // a correction of another region's roster trainee
			field := []string{"last_name", "establishment_code", "group"}[r.IntN(3)]
			v := map[string]string{"last_name": "Hijacked", "establishment_code": []string{"E1", "E3"}[r.IntN(2)], "group": "GX"}[field]
			add(ph.Update(synctest.TraineesE3[r.IntN(3)], 1+int64(r.IntN(2)), map[string]string{field: v}))
		case 6: // a correction of an honest walk-in (held while its registration has not arrived)
			if len(foreignWalkIns) == 0 {
				continue
			}
			w := foreignWalkIns[r.IntN(len(foreignWalkIns))]
			fields := []map[string]string{
				{"last_name": "Nom1", "first_name": "PrenomE31"},
				{"establishment_code": "E1"},
				{"establishment_code": "E3", "last_name": "Nom0", "first_name": "PrenomE30"},
				{"establishment_code": "ZZ9"},
				{"group": "GX"},
			}[r.IntN(5)]
			add(ph.Update(w.id, 1, fields))
		case 7: // a correction of its own walk-in that leaves the scope
			if len(own) == 0 {
				continue
			}
			fields := []map[string]string{
				{"establishment_code": "E3", "last_name": "Nom0", "first_name": "PrenomE30"},
				{"establishment_code": "ZZ9"},
				{"establishment_code": "E3"},
				{"establishment_code": "E2"}, // same region: in scope
			}[r.IntN(4)]
			add(ph.Update(own[r.IntN(len(own))], 1, fields))
		case 8: // a roster trainee of its region moved out of it, or to nowhere
			tr := []string{e1[r.IntN(len(e1))], synctest.TraineesE2[r.IntN(3)]}[r.IntN(2)]
			add(ph.Update(tr, 1, map[string]string{"establishment_code": []string{"E3", "ZZ9"}[r.IntN(2)]}))
		case 9: // a walk-in registered outside its scope, with held check-ins of it
			reg := ph.Register([]string{"E3", "ZZ9", "E2"}[r.IntN(3)], "Nom0", "PrenomE30")
			c := ph.CheckIn("A1", "trainee", reg.Trainee.ID)
			if r.IntN(2) == 0 {
				add(c)
				add(reg)
			} else {
				add(reg)
				add(c)
			}
			own = append(own, reg.Trainee.ID)
		case 10: // an honest walk-in's id registered again, in E1 (after the server saw it)
			if len(foreignWalkIns) == 0 {
				continue
			}
			w := foreignWalkIns[r.IntN(len(foreignWalkIns))]
			reg := ph.Register("E1", "Squat", "Ter")
			reg.Trainee.ID = w.id
			ms = append(ms, hm{rawOf(reg), w.batch})
		case 11: // an honest mutation's id, reused (after the server saw it)
			if len(honestMuts) == 0 {
				continue
			}
			s := honestMuts[r.IntN(len(honestMuts))]
			m := ph.CheckIn("A1", "trainee", e1[0])
			m.ID = s.id
			ms = append(ms, hm{rawOf(m), s.batch})
		case 12: // a check-in at A1 of an honest walk-in (held until its registration)
			if len(foreignWalkIns) == 0 {
				continue
			}
			add(ph.CheckIn("A1", "trainee", foreignWalkIns[r.IntN(len(foreignWalkIns))].id))
		case 13: // seqs: zero, negative, huge, another mutation's
			m := ph.CheckIn("A1", "trainee", e1[1])
			seq := []int64{0, -5, 1 << 62, 9007199254740993, max(1, ph.Seq-1), 3}[r.IntN(6)]
			addRaw(tamper(m, "seq", seq))
		case 14: // bad fields: control characters, over-long, unknown references
			reg := ph.Register("E1", "Ctl", "Char")
			switch x := r.IntN(7); x {
			case 0:
				reg.Trainee.LastName = "Nul\x00Byte"
				add(reg)
			case 1:
				reg.Trainee.FirstName = "Esc\x1b[31mRed\x07"
				add(reg)
			case 2:
				add(ph.Update(e1[2], 1, map[string]string{"last_name": strings.Repeat("x", 400)}))
			case 3:
				add(ph.CheckIn("ZZ-NOPE", "trainee", e1[0]))
			case 4:
				add(ph.CheckIn("A1", "speaker", "S-NOPE"))
			case 5:
				add(ph.CheckIn("A1", "trainee", "F99999999999Z"))
			default:
				add(ph.Update(e1[3], 1, map[string]string{"last_name": "Tab\tand\nnewline\x01"}))
			}
		case 15: // malformed: repeated keys, another case, unknown type, bad ids
			m := ph.CheckIn("B1", "trainee", synctest.TraineesE3[0])
			switch r.IntN(5) {
			case 0:
				s := string(rawOf(m))
				addRaw(json.RawMessage(strings.Replace(s, `"activity_id":"B1"`, `"activity_id":"A1","activity_id":"B1"`, 1)))
			case 1:
				addRaw(json.RawMessage(strings.Replace(string(rawOf(m)), `"activity_id"`, `"Activity_ID"`, 1)))
			case 2:
				addRaw(tamper(m, "type", "trainee.delete"))
			case 3:
				addRaw(tamper(m, "id", "not-a-uuid"))
			default:
				addRaw(tamper(m, "person", map[string]string{"kind": "admin", "id": "x"}))
			}
		case 16: // recorded two days before the meeting: out of window, for a supervisor
			saved := ph.Clock
			ph.Clock = ph.Clock.Add(-50 * time.Hour)
			add(ph.CheckIn("A1", "trainee", e1[4+r.IntN(3)]))
			ph.Clock = saved
		default: // a check-in of a walk-in id never registered
			add(ph.CheckIn("A1", "trainee", synctest.V7(ph.Clock, "nobody", int64(r.IntN(1000)))))
		}
	}
	for len(ms) > 0 {
		k := min(len(ms), 1+r.IntN(5))
		b := &hbatch{dev: dev}
		for _, m := range ms[:k] {
			b.raw = append(b.raw, m.raw)
			if m.after >= 0 {
				b.after = append(b.after, m.after)
			}
		}
		h.batches = append(h.batches, b)
		ms = ms[k:]
	}
	return h
}

// hostileOrder delivers the batches of h (only the honest ones when
// withHostile is false) in a random order, some twice; a batch waits for
// the batches it names in after.
func hostileOrder(r *rand.Rand, h *hhistory, withHostile bool) []*hbatch {
	var pool []int
	for i, b := range h.batches {
		if b.dev.hostile && !withHostile {
			continue
		}
		pool = append(pool, i)
		if r.IntN(6) == 0 {
			pool = append(pool, i) // delivered twice (a retry after a lost answer)
		}
	}
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	delivered := map[int]bool{}
	ready := func(i int) bool {
		for _, a := range h.batches[i].after {
			if !delivered[a] {
				return false
			}
		}
		return true
	}
	var out []*hbatch
	var waiting []int
	for _, i := range pool {
		if !ready(i) {
			waiting = append(waiting, i)
			continue
		}
		out = append(out, h.batches[i])
		delivered[i] = true
		for again := true; again; {
			again = false
			for j, w := range waiting {
				if ready(w) {
					out = append(out, h.batches[w])
					delivered[w] = true
					waiting = append(waiting[:j], waiting[j+1:]...)
					again = true
					break
				}
			}
		}
	}
	for _, w := range waiting {
		out = append(out, h.batches[w])
	}
	return out
}

// runHostile delivers order into the reset database and returns what
// lies outside staff1's scope. Any push that fails (an internal error: a
// 500) fails the test; an honest mutation refused too.
func runHostile(tb testing.TB, seed uint64, e *engine.Engine, h *hhistory, order []*hbatch) string {
	tb.Helper()
	fail := func(format string, args ...any) {
		tb.Helper()
		tb.Fatalf("seed %d: "+format, append([]any{seed}, args...)...)
	}
	for _, q := range resetSQL {
		if _, err := e.DB.Write.Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
	ctx := context.Background()
	for _, b := range order {
		body, _ := json.Marshal(map[string]any{"device_id": b.dev.id, "client_time": eventNow.Format(time.RFC3339Nano),
			"app_version": "1.0.0", "outbox_size": len(b.raw), "mutations": b.raw})
		req, err := protocol.DecodePush(body)
		if err != nil {
			if b.dev.hostile && (prodays.ErrorCode(err) == prodays.EInvalid || prodays.ErrorCode(err) == prodays.ETooLarge) {
				continue // the whole batch refused (400): nothing applied, nothing failed
			}
			fail("decode a batch of %s: %v", b.dev.id, err)
		}
		resp, err := e.Push(ctx, synctest.Principal(b.dev.user, b.dev.id), req)
		if err != nil {
			fail("push of %s (%d mutations) failed: %v\n%s", b.dev.id, len(b.raw), err, b.raw)
		}
		if len(resp.Results) != len(req.Mutations) {
			fail("%d results for %d mutations", len(resp.Results), len(req.Mutations))
		}
		for _, res := range resp.Results {
			if b.dev.hostile {
				hostileStats["hostile "+res.Status+":"+res.Code]++
			}
			if h.honest[res.ID] != "" && !b.dev.hostile && (res.Status == protocol.StatusRejected || res.Outcome == protocol.StatusRejected) {
				fail("honest mutation %s of %s refused: %+v", res.ID, b.dev.id, res)
			}
		}
	}
	review(tb, fail, e)
	checkHonestOnce(tb, fail, e, h)
	return outsideScope(tb, e)
}

// review is what the supervisors of RSK and CS do afterwards: accept every
// open flag (but those awaiting a registration, which cannot be); CS's
// also merges every open proposal, in the order of their trainee ids (the
// same in every run). (RSK's merges are left out: they follow the names
// of RSK's trainees, which staff1 may correct, and move attendance at E2's
// activities with them.)
func review(tb testing.TB, fail func(string, ...any), e *engine.Engine) {
	tb.Helper()
	ctx := context.Background()
	for _, sup := range []*prodays.Principal{synctest.Principal("sup1", "dev-sup1"), synctest.Principal("sup3", "dev-sup3r")} {
		fs, err := e.ListFlags(ctx, sup, "open")
		if err != nil {
			fail("flags: %v", err)
		}
		for _, f := range fs {
			if f.Kind == protocol.FlagAwaitingRegistration {
				continue
			}
			hostileStats["accepted "+f.Kind]++
			if err := e.DecideFlag(ctx, sup, f.ID, true, "seen"); err != nil {
				fail("accept flag %d (%s of %s): %v", f.ID, f.Kind, f.MutationID, err)
			}
		}
		for sup.RegionCode == "CS" {
			ps, err := e.ListProposals(ctx, sup, "open")
			if err != nil {
				fail("proposals: %v", err)
			}
			if len(ps) == 0 {
				break
			}
			slices.SortFunc(ps, func(a, b engine.MergeProposal) int {
				return strings.Compare(a.WalkInID+" "+a.CandidateID, b.WalkInID+" "+b.CandidateID)
			})
			hostileStats["merge"]++
			err = e.DecideProposal(ctx, sup, ps[0].ID, true, "same person")
			if prodays.ErrorCode(err) == engine.EAlreadyDecided {
				err = e.DecideProposal(ctx, sup, ps[0].ID, false, "gone")
			}
			if err != nil {
				fail("merge %+v: %v", ps[0], err)
			}
		}
	}
}

// checkHonestOnce: every honest mutation is applied (the mutations view:
// a held one records the outcome it got when it took effect), and every
// honest check-in that no honest undo names is in exactly one presence.
func checkHonestOnce(tb testing.TB, fail func(string, ...any), e *engine.Engine, h *hhistory) {
	tb.Helper()
	ids := make([]string, 0, len(h.honest))
	for id := range h.honest {
		ids = append(ids, id)
	}
	list, _ := json.Marshal(ids)
	rows, err := e.DB.Read.Query(`SELECT m.id, m.status, m.code FROM json_each(?) j JOIN mutations m ON m.id = j.value`, string(list))
	if err != nil {
		tb.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var id, st, code string
		if err := rows.Scan(&id, &st, &code); err != nil {
			tb.Fatal(err)
		}
		got[id] = st + ":" + code
	}
	rows.Close()
	for _, id := range ids {
		if got[id] != "applied:" {
			fail("honest %s %s: %q, want applied", h.honest[id], id, got[id])
		}
	}
	in := map[string]int{}
	rows, err = e.DB.Read.Query(`SELECT j.value FROM attendance a, json_each(a.check_in_ids) j`)
	if err != nil {
		tb.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		in[id]++
	}
	rows.Close()
	for _, id := range h.checks {
		if want := map[bool]int{true: 0, false: 1}[h.undone[id]]; in[id] != want {
			fail("honest check-in %s (undone %v) is in %d presences, want %d", id, h.undone[id], in[id], want)
		}
	}
}

// outsideQueries are the rows outside staff1's scope (E1, region RSK);
// seqs and row ids, which count what else happened, are left out.
var outsideQueries = []string{
	`SELECT t.id, t.last_name, t.first_name, t.establishment_code, t.program, t.group_name, t.gender, t.source, t.version, t.deleted,
		COALESCE(t.merged_into, ''), COALESCE(t.registered_by, '') FROM trainees t JOIN establishments e ON e.code = t.establishment_code
		WHERE e.region_code <> 'RSK' ORDER BY 1`,
	`SELECT f.trainee_id, f.field, f.value, f.mutation_id, f.base_version FROM trainee_field_writes f
		WHERE f.trainee_id NOT IN (SELECT t.id FROM trainees t JOIN establishments e ON e.code = t.establishment_code WHERE e.region_code = 'RSK') ORDER BY 1, 2, 4`,
	`SELECT a.activity_id, a.person_kind, a.person_id, a.present, COALESCE(a.checked_in_at, ''), a.check_in_ids, COALESCE(a.override, '')
		FROM attendance a JOIN activities x ON x.id = a.activity_id WHERE x.establishment_code <> 'E1' ORDER BY 1, 2, 3`,
	`SELECT c.id, c.activity_id, c.person_id, c.status FROM checkins c JOIN activities x ON x.id = c.activity_id
		WHERE x.establishment_code <> 'E1' AND c.status <> 'rejected' ORDER BY 1`,
	`SELECT COALESCE(mutation_id, ''), kind, status, detail FROM flags WHERE COALESCE(region_code, '') <> 'RSK'
		AND (kind <> 'awaiting_registration' OR status = 'open') ORDER BY 1, 2`,
	`SELECT walk_in_id, candidate_id, reason, status FROM merge_proposals WHERE COALESCE(region_code, '') <> 'RSK' ORDER BY 1, 2`,
	`SELECT trainee_id, field, base_version, winner_mutation_id, winner_value, loser_mutation_id, loser_value, status FROM conflicts
		WHERE COALESCE(region_code, '') <> 'RSK' ORDER BY 1, 2, 3, 4, 6`,
}

// outsideScope returns the canonical dump of what lies outside staff1's
// scope: the rows of outsideQueries, what other regions' supervisors see
// (flags, merge proposals, conflicts, quarantine) and what other regions'
// staff pull (and E2's staff, of activities and attendance).
func outsideScope(tb testing.TB, e *engine.Engine) string {
	tb.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, region := range []string{"CS", "TTA"} {
		sup := &prodays.Principal{Username: "sup3", DeviceID: "x", Scope: prodays.Scope{Role: prodays.RoleSupervisor, RegionCode: region}}
		for _, st := range []string{"open", "accepted", "rejected"} {
			fs, err := e.ListFlags(ctx, sup, st)
			if err != nil {
				tb.Fatal(err)
			}
			for _, f := range fs {
				if f.Kind == protocol.FlagAwaitingRegistration && st != "open" {
					continue // whether a check-in beat its walk-in's registration
				}
				fmt.Fprintf(&b, "flag %s %s %s %s %s %s\n", region, st, f.Kind, f.MutationID, f.ActivityID, f.Detail)
			}
		}
		ps, err := e.ListProposals(ctx, sup, "open")
		if err != nil {
			tb.Fatal(err)
		}
		for _, p := range ps {
			fmt.Fprintf(&b, "proposal %s %s %s %s %s %s\n", region, p.WalkInID, p.CandidateID, p.Reason, p.WalkInName, p.CandidateName)
		}
		cs, err := e.ListConflicts(ctx, sup, "open")
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range cs {
			fmt.Fprintf(&b, "conflict %s %s %s %s %s\n", region, c.TraineeID, c.Field, c.WinnerValue, c.LoserValue)
		}
		qs, err := e.ListQuarantine(ctx, sup, true)
		if err != nil {
			tb.Fatal(err)
		}
		for _, q := range qs {
			fmt.Fprintf(&b, "quarantine %s %s %s\n", region, q.ID, q.Code)
		}
	}
	for _, who := range []struct {
		user     string
		entities string
	}{{"staff3", ""}, {"sup3", ""}, {"staff2", "activity attendance"}} {
		cur := ""
		for {
			page, err := e.Pull(ctx, synctest.Principal(who.user, "dev-pull"), cur, protocol.MaxPullLimit)
			if err != nil {
				tb.Fatal(err)
			}
			for _, c := range page.Changes {
				if who.entities != "" && !strings.Contains(who.entities, c.Entity) || c.Op != "upsert" {
					continue // a delete's presence depends on the order (an undo before its check-in leaves none)
				}
				data, _ := json.Marshal(c.Data)
				fmt.Fprintf(&b, "pull %s %s %s %s %s\n", who.user, c.Entity, c.Op, c.ID, data)
			}
			if !page.HasMore {
				break
			}
			cur = page.Cursor
		}
	}
	// Lists and pages come in the order things arrived (ids, seqs): the
	// set of lines is what a reader sees.
	lines := slices.Compact(slices.Sorted(slices.Values(strings.Split(b.String(), "\n"))))
	return dumpWith(tb, e, outsideQueries) + strings.Join(lines, "\n")
}

func dumpWith(tb testing.TB, e *engine.Engine, queries []string) string {
	saved := dumpQueries
	defer func() { dumpQueries = saved }()
	dumpQueries = queries
	return dump(tb, e.DB.Read)
}

// TestHostilePhone is the hostile-phone property test: for each seeded
// history, the state outside the hostile user's scope is the same with
// and without the hostile phone, and no input makes a batch fail. A
// failure prints its seed; rerun it with -seed=N.
func TestHostilePhone(t *testing.T) {
	e := convergenceDB(t)
	for seed := range seeds(*hostileHistories) {
		r := rand.New(rand.NewPCG(seed, 13))
		h := genHostile(r)
		want := runHostile(t, seed, e, h, hostileOrder(r, h, false))
		got := runHostile(t, seed, e, h, hostileOrder(r, h, true))
		if got != want {
			t.Fatalf("seed %d: the hostile phone changed what lies outside its scope:\n%s", seed, diff(want, got))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(hostileStats)) {
		t.Logf("%6d %s", hostileStats[k], k)
	}
}
