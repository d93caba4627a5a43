package e2e_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"prodays/internal/testenv"
)

// TestDeviceSecretSharedPhone (sync protocol 1.1, Device binding): the app
// keeps its device_secret beside its device_id and sends it at every
// login. Staff A logs in, checks a trainee in, syncs and logs out; the
// page is reloaded and staff B logs in on the same installation: the login
// proves the device, and B's check-in is pushed with the next seq. Another
// installation (another browser) naming the same device id is refused
// device_taken, and its login screen says so in the user's language.
func TestDeviceSecretSharedPhone(t *testing.T) {
	srv, ctx := openApp(t, 50, serverOptions{}, 4*time.Minute)
	testenv.CreateUser(t, srv.DB, "s.staff2", "staff", "EFP0105", "")

	loginAndDownloadAs(t, ctx, srv, "s.staff")
	p := &phone{name: "phone", ctx: ctx, deviceID: eval[string](t, ctx, `import('/js/db.js').then((db) => db.getMeta('device_id'))`)}
	secret := eval[string](t, ctx, `import('/js/db.js').then((db) => db.getMeta('device_secret'))`)
	if len(secret) != 43 {
		t.Fatalf("device_secret in IndexedDB: %q, want 256 bits in base64url", secret)
	}
	sum := sha256.Sum256([]byte(secret))
	wantHash := hex.EncodeToString(sum[:])
	device := func() (owner, hash string) {
		t.Helper()
		if err := srv.DB.Read.QueryRow(`SELECT username, COALESCE(secret_hash, '') FROM devices WHERE id = ?`, p.deviceID).Scan(&owner, &hash); err != nil {
			t.Fatal(err)
		}
		return owner, hash
	}
	if owner, hash := device(); owner != "s.staff" || hash != wantHash {
		t.Fatalf("device after the first login: %s %s, want s.staff bound to the app's secret %s", owner, hash, wantHash)
	}

	checkInAndSync := func(query, id string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#/activity/MTG-0001")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "the activity screen", `!!document.querySelector('#q')`, 10*time.Second)
		p.checkIn(t, query, id)
		p.syncUntilEmpty(t)
	}
	checkInAndSync("ait baha", traineeAit)

	// A logs out; the page is reloaded; B logs in on the same installation.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "home", `!!document.querySelector('[data-test=logout]')`, 10*time.Second)
	click(t, ctx, "[data-test=logout]")
	waitFor(t, ctx, "the login screen", `!!document.querySelector('[data-test=login-form]')`, 10*time.Second)
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	loginAndDownloadAs(t, ctx, srv, "s.staff2")
	if owner, hash := device(); owner != "s.staff2" || hash != wantHash {
		t.Fatalf("device after B's login: %s %s, want s.staff2, same secret", owner, hash)
	}
	checkInAndSync("benaissa", traineeBenaissa)

	rows, err := srv.DB.Read.Query(`SELECT username, seq, status FROM mutations WHERE device_id = ? ORDER BY seq`, p.deviceID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var user, status string
		var seq int64
		if err := rows.Scan(&user, &seq, &status); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal([]any{user, seq, status})
		got = append(got, string(b))
	}
	rows.Close()
	if want := []string{`["s.staff",1,"applied"]`, `["s.staff2",2,"applied"]`}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("the device's mutations: %v, want %v (the seq goes on across users)", got, want)
	}

	// Another installation names this device id: refused, in its language.
	other, cancel2 := newTab(t, newBrowser(t), 2*time.Minute)
	defer cancel2()
	openLogin(t, other, srv)
	eval[bool](t, other, `import('/js/db.js').then((db) => db.setMeta('device_id', `+jsString(p.deviceID)+`)).then(() => true)`)
	if err := chromedp.Do(other, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, other, "the login form", `!!document.querySelector('[data-test=login-form]')`, 20*time.Second)
	submitLogin(t, other, "s.staff")
	lang := eval[string](t, other, `document.documentElement.lang`)
	want := messages(t, lang)["reason.device_taken"]
	if want == "" {
		t.Fatalf("%s.json has no reason.device_taken", lang)
	}
	waitFor(t, other, "the device_taken message", `document.querySelector('[data-test=login-msg]').textContent.includes(`+jsString(want)+`)`, 10*time.Second)
	if owner, hash := device(); owner != "s.staff2" || hash != wantHash {
		t.Fatalf("device after the refused login: %s %s, want it unchanged", owner, hash)
	}
}
