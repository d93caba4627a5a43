package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"prodays/api"
	"prodays/auth"
	"prodays/importer"
	"prodays/replicate"
	"prodays/sync/engine"
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
	Pprof           string        // --pprof, PRODAYS_PPROF: loopback address of net/http/pprof ("" = off)
	TrustProxy      bool          // --trust-proxy, PRODAYS_TRUST_PROXY=1

	// HTTP server timeouts (net/http.Server fields of the same names).
	ReadHeaderTimeout time.Duration // --read-header-timeout, PRODAYS_READ_HEADER_TIMEOUT
	ReadTimeout       time.Duration // --read-timeout, PRODAYS_READ_TIMEOUT
	WriteTimeout      time.Duration // --write-timeout, PRODAYS_WRITE_TIMEOUT
	IdleTimeout       time.Duration // --idle-timeout, PRODAYS_IDLE_TIMEOUT

	TLSCert        string       // --tls-cert, PRODAYS_TLS_CERT (PEM; with TLSKey: serve HTTPS)
	TLSKey         string       // --tls-key, PRODAYS_TLS_KEY
	TrustedProxies []*net.IPNet // --trusted-proxies, PRODAYS_TRUSTED_PROXIES (CIDR or IP, comma-separated)
	MetricsPublic  bool         // --metrics-public, PRODAYS_METRICS_PUBLIC=1
	MetricsToken   string       // --metrics-token, PRODAYS_METRICS_TOKEN: scrape token of /metrics ("" = none)
	MaxBodyBytes   int64        // --max-body-bytes, PRODAYS_MAX_BODY_BYTES

	// Imports (serve's upload route and the import command).
	ImportMaxInflatedMB int64 // --import-max-inflated-mb, PRODAYS_IMPORT_MAX_INFLATED_MB: what one XLSX may inflate to
	ImportConcurrent    int   // --import-concurrent, PRODAYS_IMPORT_CONCURRENT: imports at once (serve)

	// Replicate are the replica URLs the database is streamed to
	// (--replicate, repeatable; PRODAYS_REPLICATE, separated by commas or
	// spaces); none by default. Package replicate lists the schemes.
	Replicate []string
	// Day's end (issue #17).
	GroupMaxMutations int           // --group-max-mutations, PRODAYS_GROUP_MAX_MUTATIONS: mutations of one group commit (0 = off)
	GroupMaxWait      time.Duration // --group-max-wait, PRODAYS_GROUP_MAX_WAIT: how long a group with company waits to fill
	MaxConnections    int           // --max-connections, PRODAYS_MAX_CONNECTIONS: open connections at once (about 18 KB each)
	WriteConcurrent   int           // --write-concurrent, PRODAYS_WRITE_CONCURRENT: write requests at once (pushes, uploads)
	WriteQueue        int           // --write-queue, PRODAYS_WRITE_QUEUE: write requests waiting beyond those
	WriteWait         time.Duration // --write-wait, PRODAYS_WRITE_WAIT: how long one waits before 503 with Retry-After
	WriteBodyBudgetMB int64         // --write-body-budget-mb, PRODAYS_WRITE_BODY_BUDGET_MB: bodies read ahead of their write slots at once
	LoginConcurrent   int           // --login-concurrent, PRODAYS_LOGIN_CONCURRENT: argon2id checks at once (0 = the cores)
	LoginQueue        int           // --login-queue, PRODAYS_LOGIN_QUEUE: logins waiting beyond those (0 = 64 × concurrent)
	MemoryLimitMB     int64         // --memory-limit-mb, PRODAYS_MEMORY_LIMIT_MB: soft limit of the Go heap (0 = none)
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

		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxBodyBytes:      api.DefaultMaxBodyBytes,

		ImportMaxInflatedMB: importer.DefaultMaxInflatedBytes >> 20,
		ImportConcurrent:    api.DefaultImportConcurrent,

		GroupMaxMutations: engine.DefaultGroupMaxMutations,
		GroupMaxWait:      engine.DefaultGroupMaxWait,
		MaxConnections:    1024,
		WriteConcurrent:   api.DefaultWriteConcurrent,
		WriteQueue:        api.DefaultWriteQueue,
		WriteWait:         api.DefaultWriteWait,
		WriteBodyBudgetMB: api.DefaultBodyBudget >> 20,
		MemoryLimitMB:     80,
	}
}

// bindImportInflated registers --import-max-inflated-mb (serve and
// import).
func bindImportInflated(fs *flag.FlagSet, cfg *Config) {
	fs.Int64Var(&cfg.ImportMaxInflatedMB, "import-max-inflated-mb", envInt64("PRODAYS_IMPORT_MAX_INFLATED_MB", cfg.ImportMaxInflatedMB),
		"largest size an XLSX import may inflate to, all its parts together, in MB (env PRODAYS_IMPORT_MAX_INFLATED_MB); a workbook over it is refused before inflating")
}

// parseCIDRs parses a comma-separated list of CIDR blocks or single
// addresses (a single address is a /32 or /128).
func parseCIDRs(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			ip := net.ParseIP(s)
			if ip == nil {
				return nil, fmt.Errorf("trusted proxies: %q is neither an address nor a CIDR block", s)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxies: %w", err)
		}
		out = append(out, n)
	}
	return out, nil
}

// localNetworks are the ranges --trust-proxy trusts: loopback,
// link-local and private (RFC 1918, RFC 4193) addresses.
func localNetworks() []*net.IPNet {
	nets, err := parseCIDRs("127.0.0.0/8,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,169.254.0.0/16,fc00::/7,fe80::/10")
	if err != nil {
		panic(err)
	}
	return nets
}

// cidrFlag is a flag.Value over a []*net.IPNet.
type cidrFlag struct{ nets *[]*net.IPNet }

func (f cidrFlag) String() string {
	if f.nets == nil {
		return ""
	}
	var s []string
	for _, n := range *f.nets {
		s = append(s, n.String())
	}
	return strings.Join(s, ",")
}

func (f cidrFlag) Set(v string) error {
	n, err := parseCIDRs(v)
	if err != nil {
		return err
	}
	*f.nets = n
	return nil
}

// urlsFlag is a repeatable flag.Value over a []string: the first use
// replaces the list taken from the environment, the next ones add to it.
type urlsFlag struct {
	urls *[]string
	set  bool
}

func (f *urlsFlag) String() string {
	if f == nil || f.urls == nil {
		return ""
	}
	return strings.Join(*f.urls, ",")
}

func (f *urlsFlag) Set(v string) error {
	if !f.set {
		*f.urls, f.set = nil, true
	}
	list := replicate.SplitURLs(v)
	if len(list) == 0 {
		return fmt.Errorf("empty replica URL")
	}
	*f.urls = append(*f.urls, list...)
	return nil
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

func envInt64(name string, def int64) int64 {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
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

// checkEnvNumbers sets every number and duration flag of fs from its
// environment variable (PRODAYS_ and the flag's name in capitals, dashes
// as underscores) when that is set, so that a value that does not parse
// is an error naming the variable, not the default used silently. Call it
// before fs.Parse: the command line still wins.
func checkEnvNumbers(fs *flag.FlagSet) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		g, ok := f.Value.(flag.Getter)
		if !ok {
			return
		}
		switch g.Get().(type) {
		case int, int64, uint, uint64, float64, time.Duration:
		default:
			return
		}
		env := "PRODAYS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: not a valid value of --%s: %w", env, v, f.Name, err))
			}
		}
	})
	return errors.Join(errs...)
}

// newFlagSet returns the flag set of a command: errors returned, not
// exits, and usage and errors written to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// bindDB registers the --db flag (shared by every command that opens the
// database).
func bindDB(fs *flag.FlagSet, cfg *Config) {
	fs.StringVar(&cfg.DB, "db", envString("PRODAYS_DB", cfg.DB), "SQLite database file (env PRODAYS_DB); created with its folder when missing")
}
