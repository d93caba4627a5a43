// Package api is the HTTP adapter of prodays: the Echo server that exposes
// the JSON API under /api/v1, the health endpoints, and the embedded PWA.
// Handlers return errors; one HTTPErrorHandler renders them as RFC 9457
// problem+json with a stable code.
package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"prodays"
	"prodays/auth/limiter"
	"prodays/metrics"
)

// Server holds the dependencies of the HTTP API. Fill the fields, then call
// Handler. Fields are read-only after Handler is called.
type Server struct {
	// DB holds accounts, devices, editions and the audit log (*store.DB).
	DB     Store
	Logger *slog.Logger
	// Auth logs users in and verifies bearer tokens (*auth.Service).
	Auth Authenticator
	// InsecureCookies drops the Secure attribute of the refresh cookie, for
	// a plain-HTTP deployment on a closed network (never on the Internet).
	InsecureCookies bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Sync is the sync engine on DB (*engine.Engine).
	Sync SyncEngine
	// Documents writes the bilan and the exports (export.Documents).
	Documents Documents
	// Importer imports the office's files (importer.Service).
	Importer Importer
	// LoginLimiter throttles failed logins (default: limiter.NewLoginLimiter
	// with the default figures and the clock Now).
	LoginLimiter *limiter.LoginLimiter
	// IPExtractor says which address a request comes from, for the login
	// limiter, the logs and the audit log. The default is built from
	// TrustedProxies: X-Forwarded-For only from those peers, the direct
	// peer otherwise (no header trusted when there are none).
	IPExtractor echo.IPExtractor
	// ImportMaxBytes caps an uploaded import file, in bytes (default
	// prodays.DefaultImportMaxBytes, 50 MB); larger uploads get 413 too_large.
	ImportMaxBytes int64
	// ImportMaxInflatedBytes caps what an uploaded XLSX workbook inflates
	// to, in bytes (default prodays.DefaultImportMaxInflatedBytes, 64 MiB);
	// past it, 413 too_large naming the limit, before inflating.
	ImportMaxInflatedBytes int64
	// ImportConcurrent is how many imports run at once (default
	// DefaultImportConcurrent); the others get 503 unavailable.
	ImportConcurrent int

	// Metrics records requests and serves /metrics (default: a new
	// metrics.Metrics reading DB).
	Metrics *metrics.Metrics
	// MetricsPublic opens /metrics to everyone; by default it answers
	// MetricsToken or an admin's access token only, sent as a bearer token
	// (from loopback too: a proxy on the same host may add no header).
	MetricsPublic bool
	// MetricsToken is the scrape token of /metrics ("" for none): a
	// Prometheus sends it as Authorization: Bearer <token>.
	MetricsToken string
	// TrustedProxies are the peers whose X-Forwarded-For (client address)
	// and X-Forwarded-Proto (HSTS) are believed; none by default.
	TrustedProxies []*net.IPNet
	// TLS says the server listens with TLS itself (HSTS on every answer).
	TLS bool
	// MaxBodyBytes caps request bodies of routes that set no cap of their
	// own (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Shed tunes the load shedding of write routes (shedWrites).
	Shed ShedOptions
	// Replicas reports the replicas of the database (nil: no replication):
	// /readyz lists them and /metrics has their lag and last success.
	Replicas func() []prodays.ReplicaStatus

	echo    *echo.Echo
	shed    *shedder
	imports chan struct{} // importSlot's semaphore
}

// Handler builds the Echo instance with every route.
func (s *Server) Handler() *echo.Echo {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Metrics == nil {
		var src metrics.Source
		if s.DB != nil {
			src = s.DB
		}
		s.Metrics = metrics.New(src)
	}
	s.MaxBodyBytes = orDefault(s.MaxBodyBytes, DefaultMaxBodyBytes)
	if s.shed == nil {
		s.shed = newShedder(s.Shed)
		sh := s.shed
		s.Metrics.WatchWriteQueue(func() float64 { return float64(len(sh.slots)) }, func() float64 { return float64(sh.waiting.Load()) },
			func() float64 { return float64(sh.bodies.inUse()) })
		if s.Replicas != nil {
			s.Metrics.WatchReplicas(s.Replicas)
		}
	}
	s.ImportConcurrent = orDefault(s.ImportConcurrent, DefaultImportConcurrent)
	if s.imports == nil {
		s.imports = make(chan struct{}, s.ImportConcurrent)
	}
	if s.LoginLimiter == nil {
		s.LoginLimiter = limiter.NewLoginLimiter(limiter.LimiterConfig{}, func() time.Time { return s.Now() })
	}
	if s.IPExtractor == nil {
		s.IPExtractor = s.ipExtractor()
	}
	e := echo.New()
	e.IPExtractor = s.IPExtractor
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	// Outermost first: the access log and metrics see the final status;
	// security headers are on every answer, panics included.
	e.Use(s.observe, s.securityHeaders, s.recoverPanics, s.refuseCORS, s.capBodies)
	s.echo = e
	s.routes(e)
	return e
}

// routes registers every route. Keep this list the one place that says
// which endpoint exists and who may call it.
func (s *Server) routes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(s.Metrics.Handler()), s.metricsAccess)

	v1 := e.Group("/api/v1")
	// Routes that write go through shedWrites (after authentication, so
	// that anonymous requests never take a writer slot).
	// The routes open to anyone take small bodies: what an anonymous
	// client may have read ahead stays small (api/readahead.go).
	v1.POST("/auth/login", s.login, bodyLimit(authMaxBody), s.shedWrites)
	v1.POST("/auth/refresh", s.refresh, bodyLimit(authMaxBody), s.shedWrites)
	v1.POST("/auth/logout", s.logout, bodyLimit(authMaxBody), s.shedWrites)
	v1.GET("/auth/me", s.me, s.requireAuth)

	// Sync (sync protocol v1) and review (issue #4).
	v1.GET("/openapi.json", s.openapi)
	// A push meeting a full write queue is refused before its access
	// check (refuseWhenFull): anonymous requests still never take a slot.
	v1.POST("/sync/push", s.push, s.refuseWhenFull, s.requireAuth, handlerCapsBody, s.shedWrites)
	v1.GET("/sync/pull", s.pull, s.requireAuth)
	reviewer := requireRole(prodays.RoleSupervisor, prodays.RoleAdmin)
	rv := v1.Group("/review", s.requireAuth, reviewer)
	rv.GET("/flags", s.listFlags)
	rv.POST("/flags/:id/accept", s.decide(SyncEngine.DecideFlag, true), s.shedWrites)
	rv.POST("/flags/:id/reject", s.decide(SyncEngine.DecideFlag, false), s.shedWrites)
	rv.GET("/conflicts", s.listConflicts)
	rv.POST("/conflicts/:id/confirm", s.decide(SyncEngine.DecideConflict, true), s.shedWrites)
	rv.POST("/conflicts/:id/reverse", s.decide(SyncEngine.DecideConflict, false), s.shedWrites)
	rv.GET("/quarantine", s.listQuarantine)
	rv.POST("/quarantine/:id/resolve", jsonAction(s.resolveQuarantined), s.shedWrites)
	rv.POST("/quarantine/:id/attach", jsonAction(s.attachTrainee), s.shedWrites)
	rv.GET("/items", s.listReviewItems)
	rv.GET("/trainees", s.searchTrainees)
	rv.POST("/items/decide", s.decideReviewItems, s.shedWrites)
	rv.GET("/merge-proposals", s.listProposals)
	rv.POST("/merge-proposals/:id/merge", s.decide(SyncEngine.DecideProposal, true), s.shedWrites)
	rv.POST("/merge-proposals/:id/dismiss", s.decide(SyncEngine.DecideProposal, false), s.shedWrites)
	rv.GET("/devices", s.listDevices)
	rv.POST("/devices/:id/acknowledge-skew", s.acknowledgeSkew, s.shedWrites)
	rv.POST("/overrides", jsonAction(s.override), s.shedWrites)
	rv.GET("/activities", s.listActivities)
	rv.POST("/outbox-upload", s.outboxUpload, handlerCapsBody, s.shedWrites)
	v1.POST("/activities/:id/close", s.closeActivity, s.requireAuth, reviewer, s.shedWrites)
	v1.POST("/activities/:id/reopen", s.reopenActivity, s.requireAuth, requireRole(prodays.RoleAdmin), s.shedWrites)

	// Admin API (api/admin*.go): admins only; every change is audited.
	admin := v1.Group("/admin", s.requireAuth, requireRole(prodays.RoleAdmin))
	admin.GET("/users", s.listUsersHandler)
	admin.POST("/users", jsonHandler(http.StatusCreated, s.createUser), s.shedWrites)
	admin.GET("/users/:username", s.getUserHandler)
	admin.PATCH("/users/:username", jsonHandler(http.StatusOK, s.updateUser), s.shedWrites)
	admin.PUT("/users/:username/password", jsonAction(s.setPassword), s.shedWrites)
	admin.GET("/users/:username/devices", s.listDevicesHandler)
	admin.POST("/devices/:id/revoke", s.revokeDeviceHandler, s.shedWrites)
	admin.GET("/audit", s.auditHandler)
	admin.GET("/editions", s.listEditionsHandler)
	admin.POST("/editions", jsonHandler(http.StatusCreated, s.createEdition), s.shedWrites)
	admin.PATCH("/editions/:id", s.updateEditionHandler, s.shedWrites)
	admin.POST("/import/:kind", s.importFile, s.importSlot, handlerCapsBody, s.shedWrites)
	// Personal data (law 09-08, api/personal.go): access and erasure.
	admin.GET("/trainees/:id/export", s.exportTraineeHandler, s.shedWrites)
	admin.POST("/trainees/:id/erase", jsonHandler(http.StatusOK, s.eraseTrainee), s.shedWrites)

	v1.GET("/reports/bilan", s.bilan, s.requireAuth, requireRole(prodays.RoleAdmin, prodays.RoleSupervisor))

	// Exports (api/export.go): admins everything, supervisors their region.
	exp := v1.Group("/exports", s.requireAuth, requireRole(prodays.RoleAdmin, prodays.RoleSupervisor))
	exp.GET("/participations.csv", s.exportParticipations("csv"))
	exp.GET("/participations.xlsx", s.exportParticipations("xlsx"))
	exp.GET("/attendance/:file", s.exportAttendance)
	exp.GET("/attendance-day", s.exportAttendanceDay)
	exp.GET("/badges.pdf", s.exportBadges)
	exp.GET("/certificates/:file", s.exportCertificate)
	exp.GET("/certificates.pdf", s.exportCertificates)
	exp.GET("/choices", s.exportChoices)
	exp.GET("/bilan.pdf", s.exportBilan("pdf"))
	exp.GET("/bilan.xlsx", s.exportBilan("xlsx"))

	s.webappRoutes(e)
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	cur, latest, err := s.DB.SchemaVersion(ctx)
	if err != nil {
		s.log(c).Error("readyz", "err", err)
		return prodays.Errorf(prodays.EUnavailable, "The database does not answer.")
	}
	if cur != latest {
		return prodays.Errorf(prodays.EUnavailable, "Schema version %d, want %d.", cur, latest)
	}
	body := map[string]any{"status": "ready", "schema_version": cur}
	if s.Replicas != nil {
		// A failing replica never makes the server unready: phones must
		// keep writing. It is said here, for the operator.
		reps, replication := s.Replicas(), "ok"
		for _, r := range reps {
			if !r.OK {
				replication = "failing"
			}
		}
		body["replication"], body["replicas"] = replication, reps
	}
	return c.JSON(http.StatusOK, body)
}

// principalKey is the echo.Context key of the authenticated *prodays.Principal.
const principalKey = "prodays.principal"

// principal returns the caller set by requireAuth; nil on public routes.
func principal(c echo.Context) *prodays.Principal {
	p, _ := c.Get(principalKey).(*prodays.Principal)
	return p
}
