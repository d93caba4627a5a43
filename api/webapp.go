package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"prodays/webapp"
)

// ContentSecurityPolicy is the policy of every page of the web app. It
// allows nothing that is not served by prodays itself: no inline script
// or style (the app has none), no framing, no foreign connection.
// 'wasm-unsafe-eval' lets the page compile WebAssembly (the vendored QR
// decoder, /vendor/barcode-detector/zxing_reader.wasm, fetched from our
// own origin); it allows no eval() of JavaScript.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"img-src 'self' data: blob:; connect-src 'self'; media-src 'self' blob:; worker-src 'self'; " +
	"manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Shell is the PWA as served: every file of webapp/static with its
// precomputed gzip form, the precache list of the service worker and the
// version (a content hash of all the shell's files). It is computed once at
// start from the embedded files, so there is no build step.
type Shell struct {
	// Version is the first 16 hex digits of a SHA-256 over every file's
	// path and content; it changes whenever any shell file changes.
	Version string
	// Precache lists the URLs the service worker caches on install.
	Precache []string
	// Lazy lists the vendored code under /vendor/ (.js and .wasm: the QR
	// decoder, 467 KiB gzip): not part of the shell; the service worker
	// caches it in a cache of its own when the page asks (a browser
	// without a native BarcodeDetector) and on first use.
	Lazy []string
	// LazyVersion is the first 16 hex digits of a SHA-256 over the Lazy
	// files: their cache is fetched again only when they change.
	LazyVersion string
	// Console lists the supervisors' and admins' screens (consolePrefixes,
	// imported on demand by the app): not part of the staff phones' first
	// load; the service worker caches each on first use, with the shell's
	// version (the consoles need the network for their data anyway).
	Console []string

	files map[string]*shellFile // by URL path ("/index.html")
	// notRouted answers what is not the shell's (404 or 405).
	notRouted echo.HandlerFunc
}

type shellFile struct {
	body, gz []byte
	ctype    string
	etag     string
}

// swPath is the service worker; it is generated (the precache list and the
// version are inlined) and never precached itself.
const swPath = "/sw.js"

// LoadShell reads fsys (the app, index.html at its top) into a Shell.
func LoadShell(fsys fs.FS) (*Shell, error) {
	sh := &Shell{files: map[string]*shellFile{}}
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("webapp files: %w", err)
	}
	sort.Strings(paths)
	sum, lazySum := sha256.New(), sha256.New()
	var swSource []byte
	for _, p := range paths {
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("webapp file %s: %w", p, err)
		}
		url := "/" + p
		fmt.Fprintf(sum, "%s\x00%d\x00", url, len(body))
		sum.Write(body)
		if url == swPath {
			swSource = body
			continue
		}
		sh.files[url] = newShellFile(url, body)
		if strings.HasPrefix(url, lazyPrefix) {
			// Its code is cached apart; its licences and notes are served
			// but cached nowhere.
			if ext := path.Ext(url); ext == ".js" || ext == ".wasm" {
				fmt.Fprintf(lazySum, "%s\x00%d\x00", url, len(body))
				lazySum.Write(body)
				sh.Lazy = append(sh.Lazy, url)
			}
			continue
		}
		if isConsole(url) {
			sh.Console = append(sh.Console, url)
			continue
		}
		sh.Precache = append(sh.Precache, url)
	}
	index, ok := sh.files["/index.html"]
	if !ok {
		return nil, fmt.Errorf("webapp files: no index.html")
	}
	// The module graph of the entry module, preloaded by index.html: the
	// browser then asks for every module at once instead of discovering
	// them level by level (each level a round trip through the service
	// worker).
	if i := bytes.Index(index.body, []byte(preloadMarker)); i >= 0 {
		var links bytes.Buffer
		for _, u := range moduleGraph(sh.files, entryModule) {
			if u != entryModule {
				fmt.Fprintf(&links, "<link rel=\"modulepreload\" href=\"%s\">\n", u)
			}
		}
		body := append(append(append([]byte{}, index.body[:i]...), links.Bytes()...), index.body[i+len(preloadMarker):]...)
		sh.files["/index.html"] = newShellFile("/index.html", body)
	}
	if swSource == nil {
		return nil, fmt.Errorf("webapp files: no sw.js")
	}
	sh.Version = hex.EncodeToString(sum.Sum(nil))[:16]
	sh.LazyVersion = hex.EncodeToString(lazySum.Sum(nil))[:16]
	head, err := json.Marshal(map[string]any{"version": sh.Version, "files": sh.Precache,
		"lazy": map[string]any{"version": sh.LazyVersion, "files": sh.Lazy}, "console": consolePrefixes})
	if err != nil {
		return nil, err
	}
	sw := append([]byte("// Generated at server start: version and precache list of the shell.\nself.PRECACHE = "), head...)
	sw = append(sw, ";\n"...)
	sh.files[swPath] = newShellFile(swPath, append(sw, swSource...))
	return sh, nil
}

// lazyPrefix is the folder of vendored files kept out of the shell (Lazy).
const lazyPrefix = "/vendor/"

// consolePrefixes are the folders of the consoles' screens (Console).
var consolePrefixes = []string{"/js/views/admin/", "/js/views/supervisor/", "/js/views/console/"}

// isConsole tells whether url is one of the consoles' screens.
func isConsole(url string) bool {
	for _, p := range consolePrefixes {
		if strings.HasPrefix(url, p) {
			return true
		}
	}
	return false
}

// entryModule is the app's entry module; preloadMarker, a line of
// index.html that the server replaces by a <link rel="modulepreload"> for
// every module that the entry module imports, directly or not.
const (
	entryModule   = "/js/app.js"
	preloadMarker = "<!-- modulepreload -->\n"
)

// importRE finds the static imports (and re-exports) of relative modules;
// import() (a module loaded on demand) does not match.
var importRE = regexp.MustCompile(`(?m)^\s*(?:import|export)\s+(?:[\w*{}\s,$]+?\s+from\s+)?['"](\.{1,2}/[^'"]+)['"]`)

// moduleGraph returns the URL of entry and of every module it imports
// statically, directly or not, in breadth-first order.
func moduleGraph(files map[string]*shellFile, entry string) []string {
	seen := map[string]bool{entry: true}
	order := []string{entry}
	for i := 0; i < len(order); i++ {
		f, ok := files[order[i]]
		if !ok {
			continue
		}
		for _, m := range importRE.FindAllSubmatch(f.body, -1) {
			u := path.Join(path.Dir(order[i]), string(m[1]))
			if _, ok := files[u]; ok && !seen[u] {
				seen[u] = true
				order = append(order, u)
			}
		}
	}
	return order
}

func newShellFile(url string, body []byte) *shellFile {
	ctype := mime.TypeByExtension(path.Ext(url))
	switch path.Ext(url) {
	case ".webmanifest":
		ctype = "application/manifest+json"
	case ".js", ".mjs":
		ctype = "text/javascript; charset=utf-8"
	case ".json":
		ctype = "application/json; charset=utf-8"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h := sha256.Sum256(body)
	f := &shellFile{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(h[:8]) + `"`}
	if compressible(ctype) {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		w.Write(body)
		w.Close()
		if b.Len() < len(body) {
			f.gz = b.Bytes()
		}
	}
	return f
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "json") ||
		strings.Contains(ctype, "javascript") || strings.Contains(ctype, "svg") ||
		ctype == "application/wasm" // the QR decoder: 1.1 MB, 0.45 MB gzip
}

// GzipSize is the sum of the gzip sizes of the precached files (the
// download of a first install; a file that gzip does not shrink counts at
// its own size).
func (sh *Shell) GzipSize() int { return sh.gzipSize(sh.Precache) }

// LazyGzipSize is GzipSize of the Lazy files (the QR decoder's download
// on a browser without a native BarcodeDetector).
func (sh *Shell) LazyGzipSize() int { return sh.gzipSize(sh.Lazy) }

// ConsoleGzipSize is GzipSize of the Console files.
func (sh *Shell) ConsoleGzipSize() int { return sh.gzipSize(sh.Console) }

func (sh *Shell) gzipSize(urls []string) int {
	n := 0
	for _, u := range urls {
		f := sh.files[u]
		if f.gz != nil {
			n += len(f.gz)
		} else {
			n += len(f.body)
		}
	}
	return n
}

// webappRoutes serves the PWA at /: the generated service worker, the
// shell's files, and index.html for any other navigation (the app routes
// on the client). /api/ is never answered from here.
func (s *Server) webappRoutes(e *echo.Echo) {
	sh, err := LoadShell(webapp.FS())
	if err != nil {
		panic(err) // the embedded files are part of the binary: a bug, not a condition
	}
	// The shell answers where no route does (RouteNotFound, not GET "/*",
	// which would turn every other method's 404 into a 405). Echo prefers
	// this handler to its own 405, so notRouted gives that answer back.
	sh.notRouted = notRouted(e)
	e.RouteNotFound("/*", sh.serve, webappHeaders)
	// A group with middleware (review, admin, exports) registers catch-alls
	// of its own, which Echo also prefers to its 405: a wrong method on one
	// of its routes got 404 (after the group's authentication). They are
	// replaced by notRouted, without the group's middleware, as for the
	// other routes: 405 with Allow, or 404.
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound && r.Path != "/*" {
			e.RouteNotFound(r.Path, sh.notRouted)
		}
	}
}

// notRouted answers a request that reached the shell's fallback but is not
// for the shell, as Echo would without the fallback: 405 with Allow when
// the path has a route for other methods, 404 otherwise.
func notRouted(e *echo.Echo) echo.HandlerFunc {
	var once sync.Once
	routes := map[string]bool{}
	return func(c echo.Context) error {
		once.Do(func() { // every route is registered by the first request
			for _, r := range e.Routes() {
				if r.Method != echo.RouteNotFound {
					routes[r.Method+" "+r.Path] = true
				}
			}
		})
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := e.NewContext(c.Request(), nil)
			e.Router().Find(m, echo.GetPath(c.Request()), probe)
			if routes[m+" "+probe.Path()] {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
			return echo.ErrMethodNotAllowed
		}
		return echo.ErrNotFound
	}
}

// webappHeaders sets the strict CSP and its companions on the app's pages.
func webappHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		return next(c)
	}
}

// serve answers a shell file, or index.html for a navigation to a path
// that is not a file. URLs are not versioned, so every answer is
// "no-cache" with a strong ETag: the browser revalidates (a 304 is a few
// bytes) and the service worker, not the HTTP cache, keeps the app offline.
func (sh *Shell) serve(c echo.Context) error {
	p := c.Request().URL.Path
	if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead {
		return sh.notRouted(c)
	}
	if strings.HasPrefix(p, "/api/") || p == "/api" {
		return sh.notRouted(c)
	}
	if p == "/" {
		p = "/index.html"
	}
	f, ok := sh.files[p]
	if !ok {
		if path.Ext(p) != "" && !strings.Contains(c.Request().Header.Get("Accept"), "text/html") {
			return sh.notRouted(c)
		}
		f = sh.files["/index.html"]
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Add("Vary", "Accept-Encoding")
	if p == swPath {
		h.Set("Service-Worker-Allowed", "/")
	}
	if match := c.Request().Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	body := f.body
	if f.gz != nil && acceptsGzip(c.Request().Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	if c.Request().Method == http.MethodHead {
		h.Set("Content-Type", f.ctype)
		return c.NoContent(http.StatusOK)
	}
	return c.Blob(http.StatusOK, f.ctype, body)
}

func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
