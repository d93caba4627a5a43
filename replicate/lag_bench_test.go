package replicate_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/superfly/ltx"

	"prodays/api"
	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/replicate"
	"prodays/sync/protocol"
)

// lagPhones and lagBatch shape the day's end: the edition's phones push
// 15 check-ins a batch on average (49,404 mutations in 3,243 batches), many
// at once.
const (
	lagPhones = 32
	lagBatch  = 15
)

// commit is one push's commit: when its answer came, and where the WAL
// ended then (its frames are at or before that offset of the WAL with
// that salt).
type commit struct {
	at   time.Time
	salt uint64
	end  int64
}

// walEnd reads the salt and the size of the WAL of db.
func walEnd(tb testing.TB, db string) (uint64, int64) {
	f, err := os.Open(db + "-wal")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	hdr := make([]byte, 32)
	if _, err := io.ReadFull(f, hdr); err != nil {
		tb.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	return binary.BigEndian.Uint64(hdr[16:24]), st.Size()
}

// replicaWatch follows the L0 files of a file replica: per WAL salt, the
// end of the WAL it holds, and when each salt was first seen.
type replicaWatch struct {
	dir  string
	seen map[string]bool
	mu   sync.Mutex
	end  map[uint64]int64     // WAL salt → end offset held by the replica
	at   map[uint64]time.Time // WAL salt → when the replica first held it
}

func (w *replicaWatch) poll(tb testing.TB) {
	entries, _ := os.ReadDir(w.dir)
	for _, e := range entries {
		if w.seen[e.Name()] {
			continue
		}
		f, err := os.Open(filepath.Join(w.dir, e.Name()))
		if err != nil {
			continue
		}
		dec := ltx.NewDecoder(f)
		err = dec.DecodeHeader()
		f.Close()
		if err != nil {
			continue // still being written
		}
		w.seen[e.Name()] = true
		h := dec.Header()
		salt := uint64(h.WALSalt1)<<32 | uint64(h.WALSalt2)
		w.mu.Lock()
		if h.WALOffset+h.WALSize > w.end[salt] {
			w.end[salt] = h.WALOffset + h.WALSize
		}
		if _, ok := w.at[salt]; !ok {
			w.at[salt] = time.Now()
		}
		w.mu.Unlock()
	}
}

// held says when the replica held c (zero: not yet): when an upload of
// c's WAL reached its end, or when a later WAL (Litestream restarts the
// WAL only after copying all of it) first appeared after c.
func (w *replicaWatch) held(c commit, now time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.end[c.salt] >= c.end {
		return now, true
	}
	for salt, at := range w.at {
		if salt != c.salt && at.After(c.at) {
			return at, true
		}
	}
	return time.Time{}, false
}

// BenchmarkReplicationLag measures, under the day's end's shape of load
// (32 phones pushing batches of 15 check-ins at once, through HTTP), the
// time from a push's commit (its answer) to the replica holding it (an L0
// LTX file of the file replica covering the WAL up to the end it had at
// the answer; polled every 2 ms). It reports the median and the 99th
// percentile in ms. The WAL end read after the answer may include later
// commits of other phones, so the figures are upper bounds.
func BenchmarkReplicationLag(b *testing.B) {
	eventNow := time.Date(2026, 3, 23, 10, 0, 0, 0, time.UTC)
	// No shedding: on this shared machine a push may wait over the 2 s
	// default; the lag is measured from each answer anyway.
	env := testenv.New(b, testenv.Options{Quiet: true, Now: func() time.Time { return eventNow },
		Configure: func(s *api.Server) { s.Shed = api.ShedOptions{Wait: time.Minute, Queue: 2 * lagPhones} }})
	synctest.Seed(b, env.DB)
	testenv.CreateUser(b, env.DB, "staff1", "staff", "E1", "")
	if _, err := env.DB.Write.Exec(`PRAGMA wal_autocheckpoint = 0`); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	rep, err := replicate.Open(context.Background(), env.DB.Path, []string{"file://" + dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer rep.Close(context.Background())
	var sessions []*testenv.Session
	var phones []*synctest.Phone
	for i := range lagPhones {
		dev := fmt.Sprintf("0190d5a4-8f0c-7a11-9c3b-%012d", i)
		sessions = append(sessions, env.Login(b, "staff1", dev))
		phones = append(phones, synctest.NewPhone(dev, eventNow.Add(-time.Hour)))
	}
	w := &replicaWatch{dir: filepath.Join(dir, "ltx", "0"), seen: map[string]bool{}, end: map[uint64]int64{}, at: map[uint64]time.Time{}}
	stop := make(chan struct{})
	watched := make(chan struct{})
	var mu sync.Mutex
	var pending []commit
	var lags []time.Duration
	go func() {
		defer close(watched)
		for {
			w.poll(b)
			now := time.Now()
			mu.Lock()
			rest := pending[:0]
			for _, c := range pending {
				if at, ok := w.held(c, now); ok {
					lags = append(lags, at.Sub(c.at))
				} else {
					rest = append(rest, c)
				}
			}
			pending = rest
			n := len(pending)
			mu.Unlock()
			select {
			case <-stop:
				if n == 0 {
					return
				}
			default:
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	var next atomic.Int64
	locks := make([]sync.Mutex, lagPhones)
	b.SetParallelism((lagPhones + 1) / 2)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)-1) % lagPhones
		s, ph := sessions[i], phones[i]
		for pb.Next() {
			locks[i].Lock() // a phone's pushes are one after another (seq)
			ms := make([]protocol.Mutation, 0, lagBatch)
			for j := range lagBatch {
				ms = append(ms, ph.CheckIn("A1", "trainee", synctest.TraineesE1[j%len(synctest.TraineesE1)]))
			}
			a := env.Raw(b, "POST", "/api/v1/sync/push", s.AccessToken, "application/json", synctest.Body(s.DeviceID, eventNow, lagBatch, ms...))
			at := time.Now()
			locks[i].Unlock()
			if a.Status != 200 {
				b.Errorf("push: %d %s", a.Status, a.Body)
				return
			}
			salt, end := walEnd(b, env.DB.Path)
			mu.Lock()
			pending = append(pending, commit{at: at, salt: salt, end: end})
			mu.Unlock()
		}
	})
	b.StopTimer()
	close(stop)
	select {
	case <-watched:
	case <-time.After(60 * time.Second):
		b.Fatalf("%d commits not on the replica after 60 s", len(pending))
	}
	slices.Sort(lags)
	q := func(p float64) float64 { return float64(lags[int(p*float64(len(lags)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(q(0.5), "p50-lag-ms")
	b.ReportMetric(q(0.99), "p99-lag-ms")
	b.ReportMetric(0, "ns/op")
}
