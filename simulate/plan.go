// Package simulate replays what the phones recorded (a dataset's
// checkins.jsonl) against a running prodays server, through the real login
// and push API, as many concurrent virtual phones that follow the sync
// protocol's retry rules (shared/design/sync-protocol.md, Push): lost
// responses are retried with the same mutation ids, 429 and 503 are
// honoured with backoff, jitter and Retry-After, a 413 splits the batch, a
// 401 refreshes the session.
//
// The conversion of checkins.jsonl lines into protocol mutations lives
// here and only here (Convert): tests and tools that need the mutations of
// a dataset call it.
package simulate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"prodays"
	"prodays/internal/uuid7"
	"prodays/sync/protocol"
)

// Action is one line of checkins.jsonl (shared/datasets/README.md): an
// action recorded on a phone. Exactly one of TraineeID and SpeakerID is
// set; Action is "check_in" or "undo". ClockErrorMS, present only on the
// phones whose clock is wrong, is how far that phone's clock is off.
type Action struct {
	DeviceID     string `json:"device_id"`
	Username     string `json:"username"`
	Batch        int    `json:"batch"`
	Seq          int64  `json:"seq"`
	ActivityID   string `json:"activity_id"`
	TraineeID    string `json:"trainee_id,omitempty"`
	SpeakerID    string `json:"speaker_id,omitempty"`
	Action       string `json:"action"`
	RecordedAt   string `json:"recorded_at"`
	Method       string `json:"method,omitempty"`
	ClockErrorMS *int64 `json:"clock_error_ms,omitempty"`
}

// Actions of checkins.jsonl.
const (
	ActionCheckIn = "check_in"
	ActionUndo    = "undo"
)

// maxLine bounds one line of checkins.jsonl.
const maxLine = 1 << 20

// ReadActions decodes a checkins.jsonl stream, one Action a line (blank
// lines are skipped; unknown fields such as small-nasty's note are
// ignored).
func ReadActions(r io.Reader) ([]Action, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var out []Action
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var a Action
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("checkins line %d: %w", line, err)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read checkins: %w", err)
	}
	return out, nil
}

// Batch is one sync batch of a phone, its mutations in seq order.
type Batch struct {
	// Number is the batch's number in the file (the phone's upload order).
	Number    int
	Mutations []protocol.Mutation
}

// Device is one phone of the replay: who logs in on it, how wrong its
// clock is, and its batches in the order it sent them.
type Device struct {
	ID       string
	Username string
	// ClockError is added to the real clock to make client_time.
	ClockError time.Duration
	Batches    []Batch
}

// Plan is a dataset converted to what the phones push.
type Plan struct {
	// Devices in the order of their first line in the file.
	Devices []*Device
	// Mutations is the number of distinct mutations (one per line).
	Mutations int
}

// Usernames returns the distinct usernames of the plan, sorted.
func (p *Plan) Usernames() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range p.Devices {
		if !seen[d.Username] {
			seen[d.Username] = true
			out = append(out, d.Username)
		}
	}
	sort.Strings(out)
	return out
}

// MutationID is the id of the mutation of device's seq recorded at at: a
// time-ordered UUIDv7 (RFC 9562) as the app makes them (sync protocol,
// Identities), its random bits derived from the device and seq, so that
// every retry, run or tool sends the same id.
func MutationID(deviceID string, seq int64, at time.Time) string {
	return uuid7.Derived(at, deviceID, seq)
}

// LoadFile reads and converts a checkins.jsonl file.
func LoadFile(path string) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	acts, err := ReadActions(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Convert(acts)
}

// Convert turns the actions into the phones' batches of mutations
// (datasets README, "Converting to the sync protocol"): each action is one
// mutation of its phone, with the phone's device_id and seq and the id
// MutationID(device_id, seq, recorded_at); an undo names in undoes the
// ids of every check-in of the same person at the same activity on the
// same phone with a lower seq. A phone's batches are ordered by batch number, a batch's
// mutations by seq. It fails on an action it cannot convert (no device,
// seq < 1, a seq used twice on a phone, both or neither person ids, an
// unknown action, a bad recorded_at).
func Convert(acts []Action) (*Plan, error) {
	byDev := map[string][]*Action{}
	var order []string
	for i := range acts {
		a := &acts[i]
		if a.DeviceID == "" || a.Username == "" {
			return nil, fmt.Errorf("action %d: device_id and username are required", i+1)
		}
		if a.Seq < 1 {
			return nil, fmt.Errorf("action %d: seq %d < 1", i+1, a.Seq)
		}
		if _, ok := byDev[a.DeviceID]; !ok {
			order = append(order, a.DeviceID)
		}
		byDev[a.DeviceID] = append(byDev[a.DeviceID], a)
	}
	plan := &Plan{}
	for _, id := range order {
		list := byDev[id]
		sort.SliceStable(list, func(i, j int) bool { return list[i].Seq < list[j].Seq })
		d := &Device{ID: id, Username: list[0].Username}
		type key struct{ activity, kind, person string }
		checkIns := map[key][]string{}
		batches := map[int]*Batch{}
		for i, a := range list {
			if i > 0 && list[i-1].Seq == a.Seq {
				return nil, fmt.Errorf("device %s: seq %d used twice", id, a.Seq)
			}
			if a.ClockErrorMS != nil {
				d.ClockError = time.Duration(*a.ClockErrorMS) * time.Millisecond
			}
			m, err := mutation(a)
			if err != nil {
				return nil, fmt.Errorf("device %s seq %d: %w", id, a.Seq, err)
			}
			kk := key{m.ActivityID, m.Person.Kind, m.Person.ID}
			switch a.Action {
			case ActionCheckIn:
				checkIns[kk] = append(checkIns[kk], m.ID)
			case ActionUndo:
				m.Undoes = append([]string{}, checkIns[kk]...)
			}
			b := batches[a.Batch]
			if b == nil {
				b = &Batch{Number: a.Batch}
				batches[a.Batch] = b
			}
			b.Mutations = append(b.Mutations, m)
			plan.Mutations++
		}
		for _, b := range batches {
			d.Batches = append(d.Batches, *b)
		}
		sort.Slice(d.Batches, func(i, j int) bool { return d.Batches[i].Number < d.Batches[j].Number })
		plan.Devices = append(plan.Devices, d)
	}
	return plan, nil
}

// mutation converts one action (undoes is filled by Convert).
func mutation(a *Action) (protocol.Mutation, error) {
	var m protocol.Mutation
	at, err := time.Parse(time.RFC3339Nano, a.RecordedAt)
	if err != nil {
		return m, fmt.Errorf("recorded_at %q: %w", a.RecordedAt, err)
	}
	person := &protocol.Person{Kind: prodays.PersonTrainee, ID: a.TraineeID}
	switch {
	case a.TraineeID != "" && a.SpeakerID != "", a.TraineeID == "" && a.SpeakerID == "":
		return m, errors.New("exactly one of trainee_id and speaker_id is required")
	case a.SpeakerID != "":
		person = &protocol.Person{Kind: prodays.PersonSpeaker, ID: a.SpeakerID}
	}
	m = protocol.Mutation{ID: MutationID(a.DeviceID, a.Seq, at), Seq: a.Seq, RecordedAt: at,
		ActivityID: a.ActivityID, Person: person}
	switch a.Action {
	case ActionCheckIn:
		m.Type, m.Method = protocol.TypeCheckIn, a.Method
		if m.Method == "" {
			m.Method = protocol.MethodQR
		}
	case ActionUndo:
		m.Type = protocol.TypeUndo
	default:
		return m, fmt.Errorf("unknown action %q", a.Action)
	}
	return m, nil
}
