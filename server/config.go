package main

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"prodays/auth"
)

// Config is the server's configuration: defaults, overridden by
// environment variables, overridden by flags. The README's configuration
// table lists every field.
type Config struct {
	Addr            string        // --addr, PRODAYS_ADDR
	DB              string        // --db, PRODAYS_DB
	ShutdownTimeout time.Duration // --shutdown-timeout, PRODAYS_SHUTDOWN_TIMEOUT
	AdminPassword   string        // PRODAYS_ADMIN_PASSWORD (first start only)
	AccessTTL       time.Duration // --access-ttl, PRODAYS_ACCESS_TTL
	RefreshTTL      time.Duration // --refresh-ttl, PRODAYS_REFRESH_TTL
	InsecureCookies bool          // --insecure-cookies, PRODAYS_INSECURE_COOKIES=1
	TrustProxy      bool          // --trust-proxy, PRODAYS_TRUST_PROXY=1
}

// JWTKeyFile is where the signing keys are kept when PRODAYS_JWT_KEY is
// not set: beside the database.
func (c Config) JWTKeyFile() string {
	return filepath.Join(filepath.Dir(c.DB), "jwt.keys")
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Addr:            ":8080",
		DB:              "./data/prodays.db",
		ShutdownTimeout: 15 * time.Second,
		AccessTTL:       auth.DefaultAccessTTL,
		RefreshTTL:      auth.DefaultRefreshTTL,
	}
}

// envString, envDuration read an environment variable into a default.
func envString(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func envInt(name string, def int) int {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

// bindDB registers the --db flag (shared by every command that opens the
// database).
func bindDB(fs *flag.FlagSet, cfg *Config) {
	fs.StringVar(&cfg.DB, "db", envString("PRODAYS_DB", cfg.DB), "SQLite database file (env PRODAYS_DB); created with its folder when missing")
}
