package e2e_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"prodays/internal/dbtest"
)

// sqlValue runs a query of one value on the test database.
func sqlValue[T any](t *testing.T, srv *server, q string, args ...any) T {
	t.Helper()
	return dbtest.Value[T](t, srv.DB, q, args...)
}

// tempFile writes content to a file name of a temporary folder and
// returns its path.
func tempFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// messages returns the app's messages in lang (webapp/static/i18n).
func messages(t *testing.T, lang string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "webapp", "static", "i18n", lang+".json"))
	if err != nil {
		t.Fatalf("messages of %q: %v", lang, err)
	}
	var msgs map[string]string
	if err := json.Unmarshal(raw, &msgs); err != nil {
		t.Fatal(err)
	}
	return msgs
}
