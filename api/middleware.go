package api

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"prodays"
)

// loggerKey is the echo.Context key of the request's *slog.Logger.
const loggerKey = "prodays.logger"

// log returns the logger of the request: Server.Logger with the request
// id (and, once known, nothing else: the access line adds the rest). Use
// it in handlers so that every line of a request can be found by its id.
func (s *Server) log(c echo.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey).(*slog.Logger); ok {
		return l
	}
	return s.Logger
}

// requestID returns the caller's X-Request-ID when it is a plausible id
// (1–64 characters of [A-Za-z0-9._-], as a proxy would set), else a new
// random one: a client cannot write arbitrary text into every log line.
func requestID(r *http.Request) string {
	if id := r.Header.Get(echo.HeaderXRequestID); len(id) > 0 && len(id) <= 64 {
		ok := true
		for _, ch := range id {
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
				ok = false
				break
			}
		}
		if ok {
			return id
		}
	}
	b := make([]byte, 8)
	crand.Read(b)
	return hex.EncodeToString(b)
}

// quietRoutes are logged at debug level: probes and scrapes every few
// seconds would bury the rest.
var quietRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// observe is the outermost middleware: it gives the request its id (the
// X-Request-ID header of the answer) and logger, renders the handler's
// error (so that the status is known here), then writes one access line
// (method, route, status, duration_ms, bytes, request_id, user when
// authenticated) and records the request's metrics.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		id := requestID(req)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		l := s.Logger.With("request_id", id)
		c.Set(loggerKey, l)
		if err := next(c); err != nil {
			c.Error(err)
		}
		d := time.Since(start)
		res := c.Response()
		route := c.Path() // a registered pattern, or "" when none matched
		s.Metrics.Request(req.Method, route, res.Status, d)
		level := slog.LevelInfo
		switch {
		case res.Status >= 500:
			level = slog.LevelError
		case quietRoutes[route] && res.Status < 400:
			level = slog.LevelDebug
		}
		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("route", route),
			slog.String("path", req.URL.Path),
			slog.Int("status", res.Status),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.Int64("bytes", res.Size),
			slog.String("ip", c.RealIP()),
		}
		if p := principal(c); p != nil {
			attrs = append(attrs, slog.String("user", p.Username), slog.String("device_id", p.DeviceID))
		}
		l.LogAttrs(req.Context(), level, "request", attrs...)
		return nil
	}
}

// errPanic is what a recovered panic becomes: an internal error, shown
// without internals.
var errPanic = errors.New("handler panicked")

// recoverPanics turns a handler's panic into a 500 problem+json; the
// panic value and stack go to the log only. http.ErrAbortHandler is
// re-panicked (net/http's way to abort a response).
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.Metrics.Panic()
			s.log(c).Error("panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = errPanic
		}()
		return next(c)
	}
}

// HSTS is the Strict-Transport-Security value sent over HTTPS (RFC 6797):
// two years, without includeSubDomains (the domain may host other sites).
const HSTS = "max-age=63072000"

// APIContentSecurityPolicy is sent with every /api/ answer: JSON is never
// a document to render or frame. The PWA's routes get their own policy.
const APIContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'"

// securityHeaders sets the headers every answer carries (errors
// included): no MIME sniffing, no referrer, no framing, the camera for
// this origin only (QR scanning), a separate browsing context group, HSTS
// over HTTPS (direct TLS, or a trusted proxy's X-Forwarded-Proto: https),
// and on /api/ a deny-all CSP and Cache-Control: no-store.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "camera=(self)")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		r := c.Request()
		if r.TLS != nil || s.TLS || (s.fromTrustedProxy(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")) {
			h.Set("Strict-Transport-Security", HSTS)
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Content-Security-Policy", APIContentSecurityPolicy)
			// API answers carry tokens and personal data: never cached.
			h.Set(echo.HeaderCacheControl, "no-store")
		}
		return next(c)
	}
}

// refuseCORS keeps cross-origin access closed: no answer carries
// Access-Control-Allow-Origin, and a preflight (any OPTIONS request) gets
// 405 problem+json, so a browser never lets another origin's script call
// the API. The PWA is served from the API's own origin and needs none.
func (s *Server) refuseCORS(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodOptions {
			return prodays.Errorf(prodays.EMethodNotAllowed, "Cross-origin requests are not allowed.")
		}
		return next(c)
	}
}

// fromTrustedProxy reports whether the direct peer of r is one of the
// trusted proxies.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	if len(s.TrustedProxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	for _, n := range s.TrustedProxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// ipExtractor is how c.RealIP() finds the client: X-Forwarded-For only
// from the trusted proxies (and none by default: loopback, link-local and
// private peers are not trusted unless listed), else the direct peer.
func (s *Server) ipExtractor() echo.IPExtractor {
	if len(s.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range s.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// DefaultMaxBodyBytes is the default cap of a request body (1 MiB).
const DefaultMaxBodyBytes = 1 << 20

// bodyKey is the echo.Context key of the request's *cappedBody.
const bodyKey = "prodays.body"

// cappedBody caps a request body. The limit is applied at the first Read,
// so that a route can change it before (bodyLimit, or decodeJSON with its
// own limit); a declared Content-Length over the limit fails at once.
// Errors are *http.MaxBytesError.
type cappedBody struct {
	w     http.ResponseWriter
	req   *http.Request
	orig  io.ReadCloser
	limit int64
	route bool // limit is the route's own (bodyLimit, handlerCapsBody)
	r     io.ReadCloser
}

// most is the largest body the request's route may still accept: its own
// cap, or, under the default one, also what decodeJSON lifts it to.
func (b *cappedBody) most() int64 {
	if b.route {
		return b.limit
	}
	return max(b.limit, maxJSONBody+1)
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.r == nil {
		if b.req.ContentLength > b.limit {
			// Have net/http close the connection after the answer instead
			// of reading up to 256 KiB of a body nobody will use, which a
			// client may never send: MaxBytesReader's signal, from a
			// reader of one byte past a cap of none.
			http.MaxBytesReader(b.w, io.NopCloser(strings.NewReader("x")), 0).Read(make([]byte, 1))
			return 0, &http.MaxBytesError{Limit: b.limit}
		}
		b.r = http.MaxBytesReader(b.w, b.orig, b.limit)
	}
	return b.r.Read(p)
}

func (b *cappedBody) Close() error { return b.orig.Close() }

// capBodies caps every request body at Server.MaxBodyBytes unless the
// route sets its own limit.
func (s *Server) capBodies(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		orig := r.Body
		cb := &cappedBody{w: c.Response().Writer, req: r, orig: orig, limit: s.MaxBodyBytes}
		r.Body = cb
		c.Set(bodyKey, cb)
		// net/http looks at the request's body once the handler is done:
		// its own body type lets it close a connection whose unread rest is
		// large instead of reading 256 KiB of it before the answer.
		defer func() { r.Body = orig }()
		return next(c)
	}
}

// setBodyLimit sets the cap of the request's body to n bytes (larger or
// smaller than the default), as long as nothing has read it yet: the
// route's own cap (bodyLimit, handlerCapsBody), which a later default
// (setDefaultBodyLimit) does not replace.
func setBodyLimit(c echo.Context, n int64) {
	if cb, ok := c.Get(bodyKey).(*cappedBody); ok && cb.r == nil {
		cb.limit, cb.route = n, true
	}
}

// setDefaultBodyLimit replaces the default cap of the request's body by
// n bytes (decodeJSON's), unless the route set its own.
func setDefaultBodyLimit(c echo.Context, n int64) {
	if cb, ok := c.Get(bodyKey).(*cappedBody); ok && cb.r == nil && !cb.route {
		cb.limit = n
	}
}

// bodyLimit is the route middleware of a route that takes bodies larger
// (or smaller) than the default cap: e.g. an upload,
// v1.POST("/imports", s.upload, bodyLimit(32<<20)).
func bodyLimit(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			setBodyLimit(c, n)
			return next(c)
		}
	}
}

// handlerCapsBody is the route middleware of a route whose handler caps
// its body itself (the import upload: Server.ImportMaxBytes): the default
// cap is lifted.
func handlerCapsBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		setBodyLimit(c, math.MaxInt64)
		return next(c)
	}
}

// The defaults of ShedOptions, measured at the day's end
// (docs/performance.md, issue #17).
const (
	DefaultWriteConcurrent = 128
	DefaultWriteQueue      = 512
	DefaultWriteWait       = 2 * time.Second
)

// ShedOptions tune the load shedding of write routes. Zero fields take the
// defaults.
type ShedOptions struct {
	// Concurrent is how many write requests run at once (default
	// DefaultWriteConcurrent).
	// SQLite has one writer, but the pushes waiting for it are applied
	// together (group commit, sync/engine/group.go): the more wait, the
	// fewer commits (issue #17).
	Concurrent int
	// Queue is how many may wait for a slot (default DefaultWriteQueue);
	// the next ones are refused at once.
	Queue int
	// Wait is how long a request waits for a slot (default
	// DefaultWriteWait) before being refused: with Concurrent, it bounds
	// the latency of an accepted push.
	Wait time.Duration
	// RetryAfter is the range of the Retry-After answer, in whole seconds
	// (default 1 to 5, chosen at random so that refused phones do not come
	// back together).
	RetryAfterMin, RetryAfterMax int
	// BodyBudget is the most bytes of request bodies read ahead of their
	// slots at once (default DefaultBodyBudget; api/readahead.go).
	BodyBudget int64
}

// shedder is the bounded semaphore and queue of write requests.
type shedder struct {
	opt     ShedOptions
	slots   chan struct{}
	waiting atomic.Int64
	bodies  *bodyBudget // of the bodies read ahead (readAhead)
}

// orDefault returns v when it is positive, def otherwise: the value of a
// setting whose zero (or negative) value means its default.
func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func newShedder(opt ShedOptions) *shedder {
	opt.Concurrent = orDefault(opt.Concurrent, DefaultWriteConcurrent)
	opt.Queue = orDefault(opt.Queue, DefaultWriteQueue)
	opt.Wait = orDefault(opt.Wait, DefaultWriteWait)
	opt.RetryAfterMin = orDefault(opt.RetryAfterMin, 1)
	if opt.RetryAfterMax < opt.RetryAfterMin {
		opt.RetryAfterMax = max(5, opt.RetryAfterMin)
	}
	opt.BodyBudget = orDefault(opt.BodyBudget, DefaultBodyBudget)
	return &shedder{opt: opt, slots: make(chan struct{}, opt.Concurrent), bodies: newBodyBudget(opt.BodyBudget)}
}

// acquire takes a slot, waiting at most opt.Wait and only when fewer than
// opt.Queue requests already wait; false when refused.
func (sh *shedder) acquire(ctx context.Context) bool {
	select {
	case sh.slots <- struct{}{}:
		return true
	default:
	}
	if sh.waiting.Add(1) > int64(sh.opt.Queue) {
		sh.waiting.Add(-1)
		return false
	}
	defer sh.waiting.Add(-1)
	t := time.NewTimer(sh.opt.Wait)
	defer t.Stop()
	select {
	case sh.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (sh *shedder) release() { <-sh.slots }

// shedWrites is the middleware of routes that write to the database: when
// the single SQLite writer is saturated it refuses early, 503
// problem+json code "unavailable" with Retry-After (RFC 9110 §10.2.3),
// instead of letting requests pile up into timeouts. The body is read
// before the slot is taken (readAhead): a slow client holds no slot. Apply
// it to any route that writes, last: v1.POST("/sync/push", s.push,
// s.requireAuth, s.shedWrites).
func (s *Server) shedWrites(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		done, ok := s.shed.readAhead(c)
		if !ok {
			return s.busy(c)
		}
		defer done()
		if !s.shed.acquire(c.Request().Context()) {
			return s.busy(c)
		}
		defer s.shed.release()
		return next(c)
	}
}

// refuseWhenFull answers a write request as shedWrites would refuse it,
// before authentication, when the write queue is already full (every slot
// taken and Queue requests waiting): a refused push then does not pay the
// access check (issue #17: at ten times the edition three pushes of four
// were refused, and their access checks took a tenth of the server's CPU).
// Otherwise shedWrites decides, after authentication. Put it before
// requireAuth.
func (s *Server) refuseWhenFull(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.shed.full() {
			return s.busy(c)
		}
		return next(c)
	}
}

// full reports whether acquire would refuse at once.
func (sh *shedder) full() bool {
	return len(sh.slots) == cap(sh.slots) && sh.waiting.Load() >= int64(sh.opt.Queue)
}

// busy is the refusal of a write request by load shedding: 503
// problem+json code "unavailable" with a Retry-After of RetryAfterMin to
// RetryAfterMax seconds, counted in the metrics.
func (s *Server) busy(c echo.Context) error {
	o := s.shed.opt
	secs := o.RetryAfterMin + rand.IntN(o.RetryAfterMax-o.RetryAfterMin+1)
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	s.Metrics.Shed(c.Path())
	return &prodays.Error{Code: prodays.EUnavailable, Message: "The server is busy; try again later.",
		Detail: map[string]any{"retry_after": secs}}
}

// metricsAccess guards /metrics: open when MetricsPublic, else to a
// bearer token that is MetricsToken (compared in constant time) or an
// admin's access token. 401 without a token or with a wrong one, 403 for
// another role's token. There is no exemption for loopback peers: behind
// a proxy on the same host that adds no forwarding header, every client
// would be one.
func (s *Server) metricsAccess(next echo.HandlerFunc) echo.HandlerFunc {
	admin := s.requireAuth(requireRole(prodays.RoleAdmin)(next))
	var want [sha256.Size]byte
	if s.MetricsToken != "" {
		want = sha256.Sum256([]byte(s.MetricsToken))
	}
	return func(c echo.Context) error {
		if s.MetricsPublic {
			return next(c)
		}
		scheme, tok, _ := strings.Cut(c.Request().Header.Get("Authorization"), " ")
		tok = strings.TrimSpace(tok)
		if s.MetricsToken != "" && strings.EqualFold(scheme, "Bearer") && tok != "" {
			// Hashes of equal length: the comparison time says nothing of
			// the token, its length included.
			got := sha256.Sum256([]byte(tok))
			if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
				return next(c)
			}
			if strings.Count(tok, ".") != 2 { // not a JWT: a wrong scrape token
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="prodays", error="invalid_token"`)
				return prodays.Errorf(prodays.EUnauthorized, "Wrong metrics token.")
			}
		}
		return admin(c)
	}
}
