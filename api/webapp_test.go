package api_test

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"testing"

	"prodays/api"
	"prodays/internal/testenv"
	"prodays/webapp"
)

func fetchShell(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableCompression: true}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		if r, err = gzip.NewReader(resp.Body); err != nil {
			t.Fatal(err)
		}
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestWebappServing(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	for _, tc := range []struct {
		name, path, accept string
		status             int
		ctype, contains    string
	}{
		{"root is the shell", "/", "text/html", 200, "text/html", `<script type="module" src="/js/app.js">`},
		{"index", "/index.html", "", 200, "text/html", "id=\"main\""},
		{"navigation to an app route", "/activity/MTG-0001", "text/html", 200, "text/html", "id=\"main\""},
		{"module", "/js/search.js", "*/*", 200, "text/javascript", "export function fold"},
		{"manifest", "/manifest.webmanifest", "", 200, "application/manifest+json", "icon-512.png"},
		{"service worker is generated", "/sw.js", "", 200, "text/javascript", "self.PRECACHE = {"},
		{"the QR decoder's module", "/vendor/barcode-detector/ponyfill.js", "*/*", 200, "text/javascript", "BarcodeDetector"},
		{"the QR decoder's wasm", "/vendor/barcode-detector/zxing_reader.wasm", "*/*", 200, "application/wasm", "\x00asm"},
		{"missing asset", "/js/nope.js", "*/*", 404, "application/problem+json", "not_found"},
		{"api is never the shell", "/api/v1/nope", "text/html", 404, "application/problem+json", "not_found"},
		{"a route of another method keeps its 405", "/api/v1/auth/login", "text/html", 405, "application/problem+json", "method_not_allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := fetchShell(t, env.URL+tc.path, map[string]string{"Accept": tc.accept, "Accept-Encoding": "gzip"})
			if resp.StatusCode != tc.status {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("content type: got %q, want %q", ct, tc.ctype)
			}
			if !strings.Contains(body, tc.contains) {
				t.Errorf("body does not contain %q", tc.contains)
			}
			if tc.status == 200 {
				if got := resp.Header.Get("Content-Security-Policy"); got != api.ContentSecurityPolicy {
					t.Errorf("CSP: got %q", got)
				}
				if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
					t.Errorf("security headers: %v", resp.Header)
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
					t.Errorf("Cache-Control: got %q, want no-cache", cc)
				}
			}
		})
	}
	t.Run("other methods are not the shell", func(t *testing.T) {
		for _, p := range []string{"/", "/index.html", "/api/v1/nope"} {
			resp, err := http.Post(env.URL+p, "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("POST %s: got %d, want 404", p, resp.StatusCode)
			}
		}
	})
	t.Run("etag revalidation", func(t *testing.T) {
		resp, _ := fetchShell(t, env.URL+"/js/app.js", nil)
		etag := resp.Header.Get("ETag")
		resp2, _ := fetchShell(t, env.URL+"/js/app.js", map[string]string{"If-None-Match": etag})
		if etag == "" || resp2.StatusCode != http.StatusNotModified {
			t.Fatalf("etag %q: got %d, want 304", etag, resp2.StatusCode)
		}
	})
}

func TestShellPrecacheAndVersion(t *testing.T) {
	sh, err := api.LoadShell(webapp.FS())
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, u := range sh.Precache {
		has[u] = true
		if strings.HasPrefix(u, "/api/") || u == "/sw.js" {
			t.Errorf("precache holds %s", u)
		}
	}
	for _, want := range []string{"/index.html", "/js/app.js", "/css/app.css", "/i18n/fr.json", "/i18n/ar.json", "/manifest.webmanifest", "/icons/icon-192.png", "/icons/icon-512.png"} {
		if !has[want] {
			t.Errorf("precache lacks %s", want)
		}
	}
	if len(sh.Version) != 16 {
		t.Errorf("version %q", sh.Version)
	}
	// The vendored QR decoder and the consoles' screens are cached apart
	// (the decoder lazily, the screens on first use), never with the shell.
	for _, apart := range []struct {
		name  string
		list  []string
		wants []string
	}{
		{"lazy", sh.Lazy, []string{"/vendor/barcode-detector/ponyfill.js", "/vendor/barcode-detector/zxing-exported.js", "/vendor/barcode-detector/zxing_reader.wasm"}},
		{"console", sh.Console, []string{"/js/views/console/router.js", "/js/views/supervisor/review.js", "/js/views/admin/users.js"}},
	} {
		for _, want := range apart.wants {
			if in := slices.Contains(apart.list, want); has[want] || !in {
				t.Errorf("%s: in the shell %v, in the %s list %v; want only the %s list", want, has[want], apart.name, in, apart.name)
			}
		}
	}
	if len(sh.LazyVersion) != 16 {
		t.Errorf("lazy version %q", sh.LazyVersion)
	}
	if n := sh.GzipSize(); n >= 100*1024 {
		t.Errorf("app shell: %d bytes gzip, want < 100 KB (first-load budget)", n)
	}
	t.Logf("app shell: %d files, %d bytes gzip in total (target < 100 KB), version %s; QR decoder (lazy): %d files, %d bytes gzip; consoles (on first use): %d files, %d bytes gzip",
		len(sh.Precache), sh.GzipSize(), sh.Version, len(sh.Lazy), sh.LazyGzipSize(), len(sh.Console), sh.ConsoleGzipSize())
}

// TestNoInlineScriptOrStyle keeps the CSP honest: no inline script, no
// style attribute or element, no inline handler anywhere in the app.
func TestNoInlineScriptOrStyle(t *testing.T) {
	b, err := io.ReadAll(mustOK(webapp.FS().Open("index.html")))
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, bad := range []string{"<style", "style=", " onclick=", " onload=", "javascript:"} {
		if strings.Contains(html, bad) {
			t.Errorf("index.html contains %q", bad)
		}
	}
	if strings.Count(html, "<script") != strings.Count(html, "<script type=\"module\" src=") {
		t.Error("index.html has an inline script")
	}
	err = fs.WalkDir(webapp.FS(), "js", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(webapp.FS(), p)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function", ".style."} {
			if strings.Contains(string(src), bad) {
				t.Errorf("%s uses %s", p, bad)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustOK[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestCSPWasmOnly: the app's policy lets the page compile WebAssembly (the
// vendored QR decoder) and nothing more: no eval of JavaScript, no inline
// script, no other origin.
func TestCSPWasmOnly(t *testing.T) {
	directives := map[string]string{}
	for _, d := range strings.Split(api.ContentSecurityPolicy, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	if got, want := directives["script-src"], "'self' 'wasm-unsafe-eval'"; got != want {
		t.Errorf("script-src %q, want %q", got, want)
	}
	if got := directives["connect-src"]; got != "'self'" {
		t.Errorf("connect-src %q, want 'self' (the wasm is fetched from our origin)", got)
	}
	if got := directives["default-src"]; got != "'self'" {
		t.Errorf("default-src %q", got)
	}
}
