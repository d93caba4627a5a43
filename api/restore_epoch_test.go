package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	osexec "os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/store"
	"prodays/sync/protocol"
)

// Protocol 1.1 after a restore (issue #14), against the real server
// process and the real `prodays restore`: the history epoch changes, an
// old cursor (and one without an epoch) is answered 409 resync, a token
// of a device the restored server does not know is answered 401 and a
// login with the device's secret registers it again with that secret,
// and the device object of push and pull answers says what the server
// lost, so that the phone can re-send it.
func TestRestoreEpochAndDevice(t *testing.T) {
	ctx := context.Background()
	env := bindingEnv(t, nil)
	const dev = "0193a7c0-0000-7000-8000-00000000e001"
	backup := filepath.Join(t.TempDir(), "before.db")

	// The backup is taken before this device's first login.
	if err := env.DB.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	a := rawLogin(t, env, "staff1", dev, "")
	if a.Status != http.StatusOK || a.DeviceSecret == "" {
		t.Fatalf("first login: status %d %s, secret %q", a.Status, a.Code, a.DeviceSecret)
	}
	// An empty push is valid and answers the device object.
	empty := pushDevice(t, env, a.AccessToken, dev)
	if empty.Epoch == "" || empty.MaxSeq != 0 || !reflect.DeepEqual(empty.Gaps, [][2]int64{}) {
		t.Fatalf("empty push: device %+v, want an epoch, max_seq 0, no gaps", empty)
	}
	phone := synctest.NewPhone(dev, time.Now().Add(-time.Minute))
	ms := []protocol.Mutation{phone.CheckIn("A1", "trainee", synctest.TraineesE1[0]), phone.CheckIn("A1", "trainee", synctest.TraineesE1[1]),
		phone.CheckIn("A1", "trainee", synctest.TraineesE1[2]), phone.CheckIn("A1", "trainee", synctest.TraineesE1[3])}
	// seqs 1, 2 and 4 (3 is still on the phone): one gap.
	d := pushDevice(t, env, a.AccessToken, dev, ms[0], ms[1], ms[3])
	if d.Epoch != empty.Epoch || d.MaxSeq != 4 || !reflect.DeepEqual(d.Gaps, [][2]int64{{3, 3}}) {
		t.Fatalf("push of seqs 1, 2, 4: device %+v, want epoch %s, max_seq 4, gaps [[3 3]]", d, empty.Epoch)
	}
	page := pullPage(t, env, a.AccessToken, "")
	if page.Status != http.StatusOK || page.Device.MaxSeq != 4 || page.Device.Epoch != empty.Epoch || !reflect.DeepEqual(page.Device.Gaps, [][2]int64{{3, 3}}) {
		t.Fatalf("pull: status %d, device %+v", page.Status, page.Device)
	}
	oldCursor := page.Cursor
	for page.HasMore {
		page = pullPage(t, env, a.AccessToken, page.Cursor)
		oldCursor = page.Cursor
	}
	if p := pullPage(t, env, a.AccessToken, oldCursor); p.Status != http.StatusOK {
		t.Fatalf("pull with the last cursor before the restore: status %d %s", p.Status, p.Code)
	}
	// A cursor issued before 1.1 (no epoch) is answered resync.
	if p := pullPage(t, env, a.AccessToken, withoutEpoch(t, oldCursor)); p.Status != http.StatusConflict || p.Code != "resync" {
		t.Fatalf("pull with a cursor without epoch: status %d %s, want 409 resync", p.Status, p.Code)
	}

	// The disk is lost: the server dies, the backup is restored.
	env.Proc.Kill()
	env.DB.Close()
	restore := osexec.Command(testenv.Binary(t), "restore", backup, "--db", env.Proc.DB)
	if out, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("prodays restore: %v\n%s", err, out)
	}
	env.Proc.Restart(t)

	if p := pullPage(t, env, a.AccessToken, oldCursor); p.Status != http.StatusUnauthorized {
		t.Fatalf("pull with the token of a device the restored server does not know: status %d %s, want 401", p.Status, p.Code)
	}
	again := rawLogin(t, env, "staff1", dev, a.DeviceSecret)
	if again.Status != http.StatusOK || again.DeviceSecret != "" {
		t.Fatalf("login again with the device secret: status %d %s (secret in the answer: %q)", again.Status, again.Code, again.DeviceSecret)
	}
	// The device was registered again with its own secret: without it,
	// another installation cannot take it.
	if other := rawLogin(t, env, "staff1b", dev, ""); other.Status != http.StatusForbidden || other.Code != "device_taken" {
		t.Fatalf("login of another installation after the re-registration: status %d %s, want 403 device_taken", other.Status, other.Code)
	}
	if p := pullPage(t, env, again.AccessToken, oldCursor); p.Status != http.StatusConflict || p.Code != "resync" {
		t.Fatalf("pull with a cursor from before the restore: status %d %s, want 409 resync", p.Status, p.Code)
	}
	fresh := pullPage(t, env, again.AccessToken, "")
	if fresh.Status != http.StatusOK || fresh.Device.Epoch == empty.Epoch || fresh.Device.Epoch == "" || fresh.Device.MaxSeq != 0 {
		t.Fatalf("snapshot after the restore: status %d, device %+v (epoch before %s)", fresh.Status, fresh.Device, empty.Epoch)
	}
	// The phone pushes its next mutation: the answer shows what was lost.
	next := phone.CheckIn("A1", "trainee", synctest.TraineesE1[4])
	d = pushDevice(t, env, again.AccessToken, dev, next)
	if d.Epoch != fresh.Device.Epoch || d.MaxSeq != 5 || !reflect.DeepEqual(d.Gaps, [][2]int64{{1, 4}}) {
		t.Fatalf("first push after the restore: device %+v, want max_seq 5, gaps [[1 4]]", d)
	}
	// It re-sends what it still holds (seqs 1 to 4) with their ids.
	d = pushDevice(t, env, again.AccessToken, dev, ms...)
	if d.MaxSeq != 5 || !reflect.DeepEqual(d.Gaps, [][2]int64{}) {
		t.Fatalf("after the re-send: device %+v, want max_seq 5, no gaps", d)
	}
	db, err := store.Open(ctx, env.Proc.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.Read.QueryRow(`SELECT count(*) FROM checkins WHERE device_id = ?`, dev).Scan(&n); err != nil || n != 5 {
		t.Fatalf("%d check-ins of the device stored (%v), want 5", n, err)
	}
}

// pushDevice pushes ms (possibly none) and returns the answer's device
// object, failing unless the push is answered 200.
func pushDevice(t *testing.T, env *testenv.Env, token, device string, ms ...protocol.Mutation) protocol.DeviceState {
	t.Helper()
	var resp protocol.PushResponse
	if st := env.Do(t, "POST", "/api/v1/sync/push", token, json.RawMessage(synctest.Body(device, time.Now(), len(ms), ms...)), &resp); st != http.StatusOK {
		t.Fatalf("push of %d mutations: status %d", len(ms), st)
	}
	if len(resp.Results) != len(ms) {
		t.Fatalf("push of %d mutations: %d results", len(ms), len(resp.Results))
	}
	return resp.Device
}

// pulled is a pull answer: the page or the problem's code.
type pulled struct {
	protocol.PullResponse
	Status int
	Code   string `json:"code"`
}

func pullPage(t *testing.T, env *testenv.Env, token, cursor string) pulled {
	t.Helper()
	var p pulled
	p.Status = env.Do(t, "GET", "/api/v1/sync/pull?limit=5000&cursor="+cursor, token, nil, &p)
	return p
}

// withoutEpoch returns cursor without its epoch, as a 1.0 server issued
// it (the cursor is opaque to phones; this test knows its encoding).
func withoutEpoch(t *testing.T, cursor string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if _, ok := c["e"]; !ok {
		t.Fatalf("cursor %s carries no epoch", b)
	}
	delete(c, "e")
	b, _ = json.Marshal(c)
	if bytes.Contains(b, []byte(`"e"`)) {
		t.Fatal("epoch still there")
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestDeviceGapsOfOlderDatabase: a device of a database from before
// migration 00037 has no stored gaps (seq_gaps NULL): a pull computes them
// from its stored seqs, and its next push stores them, updated by the
// batch.
func TestDeviceGapsOfOlderDatabase(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	synctest.Seed(t, env.DB)
	testenv.CreateUser(t, env.DB, "staff1", "staff", "E1", "RSK")
	const dev = "0193a7c0-0000-7000-8000-00000000e002"
	s := env.Login(t, "staff1", dev)
	phone := synctest.NewPhone(dev, time.Now().Add(-time.Minute))
	var ms []protocol.Mutation
	for i := range 6 {
		ms = append(ms, phone.CheckIn("A1", "trainee", synctest.TraineesE1[i]))
	}
	pushDevice(t, env, s.AccessToken, dev, ms[0], ms[1], ms[3])
	if _, err := env.DB.Write.Exec(`UPDATE devices SET seq_gaps = NULL WHERE id = ?`, dev); err != nil {
		t.Fatal(err)
	}
	if p := pullPage(t, env, s.AccessToken, ""); p.Status != http.StatusOK || p.Device.MaxSeq != 4 || !reflect.DeepEqual(p.Device.Gaps, [][2]int64{{3, 3}}) {
		t.Fatalf("pull with gaps not stored: status %d, device %+v, want max_seq 4, gaps [[3 3]]", p.Status, p.Device)
	}
	d := pushDevice(t, env, s.AccessToken, dev, ms[5])
	if d.MaxSeq != 6 || !reflect.DeepEqual(d.Gaps, [][2]int64{{3, 3}, {5, 5}}) {
		t.Fatalf("push of seq 6: device %+v, want max_seq 6, gaps [[3 3] [5 5]]", d)
	}
	var stored string
	if err := env.DB.Read.QueryRow(`SELECT seq_gaps FROM devices WHERE id = ?`, dev).Scan(&stored); err != nil || stored != "[[3,3],[5,5]]" {
		t.Fatalf("stored gaps %q (%v), want [[3,3],[5,5]]", stored, err)
	}
}
