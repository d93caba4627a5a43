package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"

	"prodays/api"
	"prodays/auth"
	"prodays/store"
)

func runServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", envString("PRODAYS_ADDR", cfg.Addr), "listen address (env PRODAYS_ADDR)")
	bindDB(fs, &cfg)
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", envDuration("PRODAYS_SHUTDOWN_TIMEOUT", cfg.ShutdownTimeout), "how long in-flight requests may finish after SIGTERM")
	fs.DurationVar(&cfg.AccessTTL, "access-ttl", envDuration("PRODAYS_ACCESS_TTL", cfg.AccessTTL), "lifetime of access tokens")
	fs.DurationVar(&cfg.RefreshTTL, "refresh-ttl", envDuration("PRODAYS_REFRESH_TTL", cfg.RefreshTTL), "lifetime of refresh tokens (a session that survives days offline)")
	fs.BoolVar(&cfg.InsecureCookies, "insecure-cookies", os.Getenv("PRODAYS_INSECURE_COOKIES") == "1", "drop the Secure attribute of the refresh cookie (plain HTTP on a closed network only)")
	fs.BoolVar(&cfg.TrustProxy, "trust-proxy", os.Getenv("PRODAYS_TRUST_PROXY") == "1", "take the client address from X-Forwarded-For set by a reverse proxy on a private or loopback address")
	if err := fs.Parse(args); err != nil {
		return errUsageShown
	}
	cfg.AdminPassword = os.Getenv("PRODAYS_ADMIN_PASSWORD")
	logger := newLogger(stderr)

	db, err := store.Open(ctx, cfg.DB, store.Options{})
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
		Tokens: &auth.Tokens{Keys: keys, AccessTTL: cfg.AccessTTL}}
	srv := &api.Server{DB: db, Logger: logger, Auth: authSvc, InsecureCookies: cfg.InsecureCookies}
	if cfg.TrustProxy {
		srv.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("prodays listening", "addr", ln.Addr().String(), "db", cfg.DB)
	fmt.Fprintf(stdout, "prodays listening on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
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

// newLogger writes JSON lines, or text on a terminal.
func newLogger(w io.Writer) *slog.Logger {
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(w, nil))
		}
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}
