package replicate

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/benbjohnson/litestream"
	"github.com/benbjohnson/litestream/file"
	"github.com/superfly/ltx"
)

// TestCompactedAfter: on a file replica whose level 0 keeps transactions
// 6 to 9 and whose level 1 holds 1 to 5 and 6 to 12, a state ending at 5
// is exact (transaction 6 has its level-0 file), one ending at 9 is not
// (10 is only inside 6-12), and the newest state (12) has nothing after.
func TestCompactedAfter(t *testing.T) {
	root := t.TempDir()
	files := map[int][][2]ltx.TXID{0: {{6, 6}, {7, 9}}, 1: {{1, 5}, {6, 12}}}
	for level, ranges := range files {
		dir := litestream.LTXLevelDir(root, level)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		for _, r := range ranges {
			if err := os.WriteFile(filepath.Join(dir, ltx.FormatFilename(r[0], r[1])), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := file.NewReplicaClient(root)
	for _, tc := range []struct {
		txid ltx.TXID
		want bool
	}{{5, false}, {6, false}, {9, true}, {12, false}} {
		got, err := compactedAfter(context.Background(), c, tc.txid)
		if err != nil || got != tc.want {
			t.Errorf("compactedAfter(%d) = %v, %v; want %v", tc.txid, got, err, tc.want)
		}
	}
}
