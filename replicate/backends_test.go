//go:build !cloudreplicas

package replicate

import (
	"strings"
	"testing"
)

// TestDefaultBackends: the default build takes file, s3, sftp and webdav
// replica URLs, and refuses a cloud scheme with an error that names the
// build tag that adds it.
func TestDefaultBackends(t *testing.T) {
	for _, u := range []string{"file:///tmp/replica", "s3://bucket/path?endpoint=http://127.0.0.1:9000", "sftp://user@host/path", "webdav://host/path"} {
		if _, err := NewClient(u); err != nil {
			t.Errorf("NewClient(%q): %v", u, err)
		}
	}
	for _, u := range []string{"gs://bucket/path", "abs://account@container/path", "nats://host/bucket", "oss://bucket/path"} {
		_, err := NewClient(u)
		if err == nil || !strings.Contains(err.Error(), "-tags cloudreplicas") {
			t.Errorf("NewClient(%q) = %v, want an error naming -tags cloudreplicas", u, err)
		}
	}
}
