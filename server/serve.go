package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"

	"prodays/api"
	"prodays/auth"
	"prodays/export"
	"prodays/importer"
	"prodays/metrics"
	"prodays/replicate"
	"prodays/store"
	"prodays/sync/engine"
)

func runServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("serve", stderr)
	fs.StringVar(&cfg.Addr, "addr", envString("PRODAYS_ADDR", cfg.Addr), "listen address (env PRODAYS_ADDR)")
	bindDB(fs, &cfg)
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", envDuration("PRODAYS_SHUTDOWN_TIMEOUT", cfg.ShutdownTimeout), "how long in-flight requests may finish after SIGTERM")
	fs.DurationVar(&cfg.AccessTTL, "access-ttl", envDuration("PRODAYS_ACCESS_TTL", cfg.AccessTTL), "lifetime of access tokens")
	fs.DurationVar(&cfg.RefreshTTL, "refresh-ttl", envDuration("PRODAYS_REFRESH_TTL", cfg.RefreshTTL), "lifetime of refresh tokens (a session that survives days offline)")
	fs.BoolVar(&cfg.InsecureCookies, "insecure-cookies", os.Getenv("PRODAYS_INSECURE_COOKIES") == "1", "drop the Secure attribute of the refresh cookie (plain HTTP on a closed network only)")
	fs.StringVar(&cfg.Pprof, "pprof", envString("PRODAYS_PPROF", ""), "serve net/http/pprof on this loopback address, e.g. 127.0.0.1:6060 (env PRODAYS_PPROF; off by default)")
	fs.BoolVar(&cfg.TrustProxy, "trust-proxy", os.Getenv("PRODAYS_TRUST_PROXY") == "1", "trust reverse proxies on loopback, link-local and private addresses (shorthand for --trusted-proxies with those ranges)")
	fs.DurationVar(&cfg.ReadHeaderTimeout, "read-header-timeout", envDuration("PRODAYS_READ_HEADER_TIMEOUT", cfg.ReadHeaderTimeout), "how long a client may take to send the request headers")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", envDuration("PRODAYS_READ_TIMEOUT", cfg.ReadTimeout), "how long a client may take to send a whole request (headers and body)")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", envDuration("PRODAYS_WRITE_TIMEOUT", cfg.WriteTimeout), "how long the server may take to answer, from the end of the request headers")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", envDuration("PRODAYS_IDLE_TIMEOUT", cfg.IdleTimeout), "how long an idle keep-alive connection stays open")
	fs.StringVar(&cfg.TLSCert, "tls-cert", envString("PRODAYS_TLS_CERT", ""), "PEM certificate (chain) file: serve HTTPS directly (with --tls-key)")
	fs.StringVar(&cfg.TLSKey, "tls-key", envString("PRODAYS_TLS_KEY", ""), "PEM private key file of --tls-cert")
	if env := os.Getenv("PRODAYS_TRUSTED_PROXIES"); env != "" {
		nets, err := parseCIDRs(env)
		if err != nil {
			fmt.Fprintln(stderr, "PRODAYS_TRUSTED_PROXIES:", err)
			return errUsageShown
		}
		cfg.TrustedProxies = nets
	}
	fs.Var(cidrFlag{&cfg.TrustedProxies}, "trusted-proxies", "comma-separated CIDR blocks or addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (env PRODAYS_TRUSTED_PROXIES)")
	fs.BoolVar(&cfg.MetricsPublic, "metrics-public", os.Getenv("PRODAYS_METRICS_PUBLIC") == "1", "serve /metrics to everyone (default: to the --metrics-token or an admin's access token only)")
	fs.StringVar(&cfg.MetricsToken, "metrics-token", envString("PRODAYS_METRICS_TOKEN", ""), "scrape token of /metrics, sent as Authorization: Bearer <token> (env PRODAYS_METRICS_TOKEN; prefer the environment: flags show in ps)")
	fs.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", envInt64("PRODAYS_MAX_BODY_BYTES", cfg.MaxBodyBytes), "cap of request bodies, in bytes, for routes without a cap of their own")
	bindImportInflated(fs, &cfg)
	fs.IntVar(&cfg.ImportConcurrent, "import-concurrent", envInt("PRODAYS_IMPORT_CONCURRENT", cfg.ImportConcurrent), "imports run at once (env PRODAYS_IMPORT_CONCURRENT); more get 503 with Retry-After")
	cfg.Replicate = replicate.SplitURLs(os.Getenv("PRODAYS_REPLICATE"))
	fs.Var(&urlsFlag{urls: &cfg.Replicate}, "replicate", "stream the database to this replica URL (repeatable; env PRODAYS_REPLICATE, comma-separated): file:///path, s3://bucket/path[?endpoint=URL], … (docs/operations.md)")
	fs.IntVar(&cfg.GroupMaxMutations, "group-max-mutations", envInt("PRODAYS_GROUP_MAX_MUTATIONS", cfg.GroupMaxMutations), "most mutations of one group commit: the pushes waiting for the writer share one transaction (env PRODAYS_GROUP_MAX_MUTATIONS; 0 = one transaction per push)")
	fs.DurationVar(&cfg.GroupMaxWait, "group-max-wait", envDuration("PRODAYS_GROUP_MAX_WAIT", cfg.GroupMaxWait), "how long a group commit of at least two pushes waits for more (env PRODAYS_GROUP_MAX_WAIT; a lone push never waits)")
	fs.IntVar(&cfg.MaxConnections, "max-connections", envInt("PRODAYS_MAX_CONNECTIONS", cfg.MaxConnections), "open connections at once, about 18 KB of memory each; past it the longest-idle keep-alive is closed and new ones wait in the kernel's queue (env PRODAYS_MAX_CONNECTIONS)")
	fs.IntVar(&cfg.WriteConcurrent, "write-concurrent", envInt("PRODAYS_WRITE_CONCURRENT", cfg.WriteConcurrent), "write requests (pushes, outbox uploads) run at once; the pushes among them share group commits (env PRODAYS_WRITE_CONCURRENT)")
	fs.IntVar(&cfg.WriteQueue, "write-queue", envInt("PRODAYS_WRITE_QUEUE", cfg.WriteQueue), "write requests waiting beyond --write-concurrent; more get 503 with Retry-After at once (env PRODAYS_WRITE_QUEUE)")
	fs.DurationVar(&cfg.WriteWait, "write-wait", envDuration("PRODAYS_WRITE_WAIT", cfg.WriteWait), "how long a waiting write request waits for its turn before 503 with Retry-After: a bound of the push latency at the day's end (env PRODAYS_WRITE_WAIT)")
	fs.Int64Var(&cfg.WriteBodyBudgetMB, "write-body-budget-mb", envInt64("PRODAYS_WRITE_BODY_BUDGET_MB", cfg.WriteBodyBudgetMB), "MiB of write requests' bodies read before they take a write slot, at once (one user, or all anonymous requests, an eighth of it); past it 503 with Retry-After (env PRODAYS_WRITE_BODY_BUDGET_MB)")
	fs.IntVar(&cfg.LoginConcurrent, "login-concurrent", envInt("PRODAYS_LOGIN_CONCURRENT", cfg.LoginConcurrent), "password checks (argon2id, 19 MiB each) at once (env PRODAYS_LOGIN_CONCURRENT; 0 = the number of cores)")
	fs.Int64Var(&cfg.MemoryLimitMB, "memory-limit-mb", envInt64("PRODAYS_MEMORY_LIMIT_MB", cfg.MemoryLimitMB), "soft limit of the Go heap in MB (runtime/debug.SetMemoryLimit: the GC runs sooner near it; env PRODAYS_MEMORY_LIMIT_MB; 0 = none; GOMEMLIMIT, when set, wins)")
	fs.IntVar(&cfg.LoginQueue, "login-queue", envInt("PRODAYS_LOGIN_QUEUE", cfg.LoginQueue), "logins waiting for a password check; more get 503 with Retry-After (env PRODAYS_LOGIN_QUEUE; 0 = 64 per check at once)")
	if err := checkEnvNumbers(fs); err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return errUsageShown
	}
	if err := fs.Parse(args); err != nil {
		return errUsageShown
	}
	if cfg.GroupMaxMutations < 0 || cfg.GroupMaxWait < 0 || cfg.LoginConcurrent < 0 || cfg.LoginQueue < 0 || cfg.MemoryLimitMB < 0 {
		fmt.Fprintln(stderr, "serve: --group-max-mutations, --group-max-wait, --login-concurrent, --login-queue and --memory-limit-mb must not be negative")
		return errUsageShown
	}
	if cfg.MaxConnections <= 0 || cfg.WriteConcurrent <= 0 || cfg.WriteQueue <= 0 || cfg.WriteWait <= 0 || cfg.WriteBodyBudgetMB <= 0 {
		fmt.Fprintln(stderr, "serve: --max-connections, --write-concurrent, --write-queue, --write-wait and --write-body-budget-mb must be positive")
		return errUsageShown
	}
	if cfg.MemoryLimitMB > 0 && os.Getenv("GOMEMLIMIT") == "" {
		// The argon2id buffers of a login storm are garbage at once: a
		// soft limit has the GC reclaim them before the heap doubles.
		debug.SetMemoryLimit(cfg.MemoryLimitMB << 20)
	}
	if cfg.ImportMaxInflatedMB <= 0 || cfg.ImportConcurrent <= 0 {
		fmt.Fprintln(stderr, "serve: --import-max-inflated-mb and --import-concurrent must be positive")
		return errUsageShown
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		fmt.Fprintln(stderr, "serve: --tls-cert and --tls-key go together")
		return errUsageShown
	}
	cfg.AdminPassword = os.Getenv("PRODAYS_ADMIN_PASSWORD")
	logger := newLogger(stderr)

	db, err := store.Open(ctx, cfg.DB, store.Options{NoAutoCheckpoint: len(cfg.Replicate) > 0, BackgroundCheckpoint: true})
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			logger.Error("close database", "err", err)
		} else {
			logger.Info("database closed")
		}
	}()
	var rep *replicate.Replicator
	if len(cfg.Replicate) > 0 {
		if rep, err = replicate.Open(ctx, cfg.DB, cfg.Replicate, logger); err != nil {
			return err
		}
		// Runs before db.Close (defers run last in, first out): the
		// replicas get every write, then the database closes.
		defer rep.Close(context.Background())
	}

	keys, err := auth.LoadKeyring(os.Getenv("PRODAYS_JWT_KEY"), cfg.JWTKeyFile())
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	pw, err := auth.EnsureAdmin(ctx, db, cfg.AdminPassword)
	if err != nil {
		return err
	}
	if pw != "" && cfg.AdminPassword == "" {
		// Printed once, on the first start; only a hash is kept.
		logger.Warn("created the first admin account; change its password", "username", "admin", "password", pw)
	} else if pw != "" {
		logger.Info("created the first admin account from PRODAYS_ADMIN_PASSWORD", "username", "admin")
	}
	authSvc := &auth.Service{DB: db, Logger: logger, RefreshTTL: cfg.RefreshTTL,
		Tokens: &auth.Tokens{Keys: keys, AccessTTL: cfg.AccessTTL}, Gate: &auth.HashGate{Concurrent: cfg.LoginConcurrent, Queue: cfg.LoginQueue}}
	if cfg.TrustProxy && len(cfg.TrustedProxies) == 0 {
		cfg.TrustedProxies = localNetworks()
	}
	eng, err := engine.New(db)
	if err != nil {
		return err
	}
	eng.Logger = logger
	eng.Group = engine.GroupOptions{MaxMutations: cfg.GroupMaxMutations, MaxWait: cfg.GroupMaxWait}
	srv := &api.Server{DB: db, Logger: logger, Auth: authSvc, Sync: eng, InsecureCookies: cfg.InsecureCookies,
		Documents: export.Documents{DB: db}, Importer: importer.Service{DB: db},
		MetricsPublic: cfg.MetricsPublic, MetricsToken: cfg.MetricsToken, TrustedProxies: cfg.TrustedProxies, TLS: cfg.TLSCert != "",
		MaxBodyBytes: cfg.MaxBodyBytes, ImportMaxInflatedBytes: cfg.ImportMaxInflatedMB << 20, ImportConcurrent: cfg.ImportConcurrent,
		Shed: api.ShedOptions{Concurrent: cfg.WriteConcurrent, Queue: cfg.WriteQueue, Wait: cfg.WriteWait, BodyBudget: cfg.WriteBodyBudgetMB << 20}}
	if rep != nil {
		srv.Replicas = rep.Status
	}
	handler := srv.Handler()
	srv.Metrics.WatchPushGroups(func() metrics.PushGroups {
		g := eng.GroupStats()
		return metrics.PushGroups{Groups: g.Groups, Batches: g.Batches, Mutations: g.Mutations, Failed: g.Failed, Savepoints: g.Savepoints, Queued: g.Queued}
	})
	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		// HTTP/2 (with --tls-cert) serves many requests on one connection:
		// bound them, so that --max-connections bounds the requests (and
		// the bodies they hold) of one client. The app has a few at once.
		HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 16},
	}
	if cfg.TLSCert != "" {
		// Load now, so that a bad file stops the start with a clear error.
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	conns := newConnLimit(cfg.MaxConnections)
	ln, hs.ConnState = conns.Listener(ln), conns.ConnState
	scheme := "http"
	if hs.TLSConfig != nil {
		scheme = "https"
	}
	if cfg.Pprof != "" {
		stopPprof, err := servePprof(cfg.Pprof, logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopPprof()
	}
	logger.Info("prodays listening", "addr", ln.Addr().String(), "scheme", scheme, "db", cfg.DB,
		"trusted_proxies", cidrFlag{&cfg.TrustedProxies}.String(), "metrics_public", cfg.MetricsPublic, "metrics_token", cfg.MetricsToken != "")
	fmt.Fprintf(stdout, "prodays listening on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() {
		if hs.TLSConfig != nil {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("shutdown", "err", err)
	}
	return nil
}

// newLogger writes JSON lines, or text on a terminal, at the level named
// by PRODAYS_LOG_LEVEL (debug, info, warn, error; default info).
func newLogger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(envString("PRODAYS_LOG_LEVEL", "info"))); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(w, opts))
		}
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
