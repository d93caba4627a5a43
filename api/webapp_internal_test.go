package api

import (
	"regexp"
	"strings"
	"testing"

	"prodays/webapp"
)

// TestModulePreload: the served index.html preloads every module that the
// entry module imports statically (directly or not), each one a shell
// file, and not the console's modules, which the app imports on demand.
func TestModulePreload(t *testing.T) {
	sh, err := LoadShell(webapp.FS())
	if err != nil {
		t.Fatal(err)
	}
	html := string(sh.files["/index.html"].body)
	if strings.Contains(html, preloadMarker) {
		t.Error("the marker is still in index.html")
	}
	got := map[string]bool{}
	for _, m := range regexp.MustCompile(`<link rel="modulepreload" href="([^"]+)">`).FindAllStringSubmatch(html, -1) {
		got[m[1]] = true
		if _, ok := sh.files[m[1]]; !ok {
			t.Errorf("preload of %s, not a shell file", m[1])
		}
	}
	for _, want := range []string{"/js/i18n.js", "/js/db.js", "/js/roster.js", "/js/search.js", "/js/views/activity.js", "/js/actions.js", "/js/presence.js"} {
		if !got[want] {
			t.Errorf("index.html does not preload %s", want)
		}
	}
	for u := range got {
		if strings.Contains(u, "/console/") || strings.Contains(u, "/admin/") || strings.Contains(u, "/supervisor/") {
			t.Errorf("index.html preloads %s (a console module)", u)
		}
	}
	if got[entryModule] {
		t.Errorf("index.html preloads its own entry module")
	}
	if g := moduleGraph(sh.files, entryModule); len(g) != len(got)+1 {
		t.Errorf("%d preloads for a graph of %d modules", len(got), len(g))
	}
}
