// Package replicate streams the prodays database to one or more replicas
// with Litestream (github.com/benbjohnson/litestream, used as a library)
// and restores a database from a replica, newest or at a point in time.
//
// A replica is named by a URL, parsed by Litestream:
// file:///path, s3://bucket/path (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_REGION; ?endpoint=http://host:9000 or LITESTREAM_S3_ENDPOINT for an
// S3-compatible store such as MinIO or Garage, ?region=, ?forcePathStyle=),
// sftp:// and webdav://; gs://, abs://, nats:// and oss:// in a build with
// -tags cloudreplicas (backends.go). Each replica has
// its own Litestream state beside the database (.NAME-litestream-HASH).
//
// Replication never stops writes: a failing replica is reported by Status
// (and so by /readyz and the metrics) and logged once per change of state.
package replicate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"prodays"
	"strings"
	"sync"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/benbjohnson/litestream/file"
)

// Timing of replication: Litestream copies new WAL frames into local LTX
// files every MonitorInterval and uploads them every SyncInterval, so a
// commit normally reaches the replica within about half a second.
const (
	MonitorInterval = 250 * time.Millisecond
	SyncInterval    = 250 * time.Millisecond
	watchInterval   = 100 * time.Millisecond
)

// L0Retention is how long the replica keeps its level-0 files (one per
// upload, each with its commit time) after they were compacted into
// level 1 (30 s steps). restore --at is exact to the transaction within
// this window; older, it gives the newest compacted state before the
// time asked (30 s, 5 min, then 1 h steps). Litestream's default is 5 min;
// an hour bounds the level-0 files to about 14,400 (one per 250 ms upload
// while writes go on), which keeps an object store's listings cheap.
const L0Retention = time.Hour

// Status is prodays.ReplicaStatus.
type Status = prodays.ReplicaStatus

// Replicator replicates one database file to its replicas. Open starts
// it; Close flushes what is left and stops it.
type Replicator struct {
	store    *litestream.Store
	replicas []*replica
	logger   *slog.Logger
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// replica is one replica URL, its Litestream DB and its watched state.
type replica struct {
	name   string
	db     *litestream.DB
	client *watchedClient
	logger *slog.Logger

	mu      sync.Mutex
	pending []seenTX // local transactions not yet on the replica, oldest first
	lag     time.Duration
}

type seenTX struct {
	txid uint64
	at   time.Time
}

// SplitURLs splits a list of replica URLs separated by commas or white
// space (PRODAYS_REPLICATE).
func SplitURLs(list string) []string {
	return strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// Redact returns u without credentials and query, for logs and labels.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable replica URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

// NewClient returns Litestream's client for a replica URL, with an error
// naming the URL (redacted) when it is not one.
func NewClient(raw string) (litestream.ReplicaClient, error) {
	if !strings.Contains(raw, "://") {
		return nil, fmt.Errorf("replica %q: not a URL (want file:///path, s3://bucket/path, …)", Redact(raw))
	}
	c, err := litestream.NewReplicaClientFromURL(raw)
	if err != nil {
		scheme, _, _ := strings.Cut(raw, "://")
		if cloudSchemes[strings.ToLower(scheme)] && !cloudBuild {
			return nil, fmt.Errorf("replica %s: %s:// replicas need a server built with -tags cloudreplicas (the default build has file, s3, sftp and webdav): %w", Redact(raw), scheme, err)
		}
		return nil, fmt.Errorf("replica %s: %w", Redact(raw), err)
	}
	return c, nil
}

// cloudSchemes are the URL schemes of backends_cloud.go.
var cloudSchemes = map[string]bool{"gs": true, "abs": true, "nats": true, "oss": true}

// metaPath is where Litestream keeps its local state for one replica of
// dbPath: a hidden folder beside the database, named after the URL, so
// that each replica keeps its own across restarts.
func metaPath(dbPath, raw string) string {
	sum := sha256.Sum256([]byte(raw))
	dir, base := filepath.Split(dbPath)
	return filepath.Join(dir, "."+base+litestream.MetaDirSuffix+"-"+hex.EncodeToString(sum[:4]))
}

// RemoveLocalState deletes Litestream's local state of every replica of
// dbPath (after a restore it describes another database).
func RemoveLocalState(dbPath string) error {
	dir, base := filepath.Split(dbPath)
	matches, err := filepath.Glob(filepath.Join(dir, "."+base+litestream.MetaDirSuffix+"*"))
	if err != nil {
		return err
	}
	for _, m := range matches {
		if err := os.RemoveAll(m); err != nil {
			return fmt.Errorf("remove replication state %s: %w", m, err)
		}
	}
	return nil
}

// Open starts replicating the database at dbPath to every URL. The
// database must be in WAL mode and its own connections must not
// checkpoint (store.Options.NoAutoCheckpoint): Litestream does. A URL
// that is not a replica URL is an error; a replica that cannot be reached
// is not (it is reported as failing, and retried).
func Open(ctx context.Context, dbPath string, urls []string, logger *slog.Logger) (*Replicator, error) {
	if len(urls) == 0 {
		return nil, errors.New("replicate: no replica URL")
	}
	rp := &Replicator{logger: logger}
	lsLogger := slog.New(quietHandler{logger.Handler()}).With("component", "litestream")
	var dbs []*litestream.DB
	seen := map[string]bool{}
	for _, raw := range urls {
		if seen[raw] {
			return nil, fmt.Errorf("replica %s given twice", Redact(raw))
		}
		seen[raw] = true
		c, err := NewClient(raw)
		if err != nil {
			return nil, err
		}
		db := litestream.NewDB(dbPath)
		db.SetMetaPath(metaPath(dbPath, raw))
		db.MonitorInterval = MonitorInterval
		r := &replica{name: Redact(raw), db: db, logger: logger.With("replica", Redact(raw))}
		r.client = &watchedClient{ReplicaClient: c, r: r}
		lr := litestream.NewReplicaWithClient(db, r.client)
		lr.SyncInterval = SyncInterval
		if fc, ok := c.(*file.ReplicaClient); ok {
			fc.Replica = lr
		}
		db.Replica = lr
		dbs = append(dbs, db)
		rp.replicas = append(rp.replicas, r)
	}
	rp.store = litestream.NewStore(dbs, litestream.DefaultCompactionLevels)
	rp.store.Logger = lsLogger
	rp.store.SetL0Retention(L0Retention)
	for _, db := range dbs {
		db.SetLogger(lsLogger.With("db", filepath.Base(dbPath)))
	}
	if err := rp.store.Open(ctx); err != nil {
		return nil, fmt.Errorf("replicate: %w", err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	rp.cancel = cancel
	for _, r := range rp.replicas {
		rp.wg.Add(1)
		go func() { defer rp.wg.Done(); r.watch(wctx) }()
		logger.Info("replication started", "replica", r.name)
	}
	return rp, nil
}

// Close uploads what the replicas do not have yet (Litestream retries for
// up to 30 s) and stops replicating. Call it after the last write and
// before closing the database.
func (rp *Replicator) Close(ctx context.Context) error {
	if rp == nil {
		return nil
	}
	// Litestream attaches to the database at its first sync (a monitor
	// tick after Open) and its Close flushes only an attached database:
	// sync once here, so that a server stopped right after its start
	// still uploads its last commits.
	for _, r := range rp.replicas {
		if err := r.db.Sync(ctx); err != nil {
			rp.logger.Warn("replication: last sync", "replica", r.name, "err", err)
		}
	}
	err := rp.store.Close(ctx)
	rp.cancel()
	rp.wg.Wait()
	if err != nil {
		rp.logger.Error("replication stopped before the replicas had everything", "err", err)
		return fmt.Errorf("replicate: %w", err)
	}
	rp.logger.Info("replication stopped, replicas up to date")
	return nil
}

// Status returns the state of every replica, in the order of Open's URLs.
func (rp *Replicator) Status() []Status {
	if rp == nil {
		return nil
	}
	out := make([]Status, 0, len(rp.replicas))
	for _, r := range rp.replicas {
		st := r.client.state()
		st.URL = r.name
		r.mu.Lock()
		st.Lag = r.lag
		st.LagSeconds = r.lag.Seconds()
		r.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// watch measures the lag: it notes when each local transaction (an LTX
// file of Litestream) is first seen and forgets it once the replica holds
// it. A replica that has never answered and holds nothing is behind by
// everything since the server started (Litestream may not even write
// local transactions then).
func (r *replica) watch(ctx context.Context) {
	started := time.Now()
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			local, err := r.db.Pos()
			remote := r.db.Replica.Pos()
			r.mu.Lock()
			if err == nil && local.TXID > 0 && (len(r.pending) == 0 || uint64(local.TXID) > r.pending[len(r.pending)-1].txid) {
				r.pending = append(r.pending, seenTX{uint64(local.TXID), now})
			}
			i := 0
			for i < len(r.pending) && r.pending[i].txid <= uint64(remote.TXID) {
				i++
			}
			r.pending = r.pending[i:]
			r.lag = 0
			if len(r.pending) > 0 {
				r.lag = now.Sub(r.pending[0].at)
			}
			r.mu.Unlock()
			if remote.TXID == 0 && r.client.state().LastSuccess.IsZero() {
				r.mu.Lock()
				r.lag = now.Sub(started)
				r.mu.Unlock()
			}
		}
	}
}
