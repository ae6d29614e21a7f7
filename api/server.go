// Package api is policyflow's HTTP edge: the Echo routes of API.md, request validation,
// bearer-token auth with scopes, and the pages that emailed task links open.
package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/metrics"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/proof"
)

// Server holds what the handlers need.
type Server struct {
	Store    *models.Store
	Temporal client.Client
	Loc      *time.Location
	TimeZone string
	Log      *slog.Logger
	// DevMode serves /dev/mailbox.
	DevMode bool
	// DevToken, in dev mode only, is an admin API token held in memory and never stored
	// (POLICYFLOW_DEV_TOKEN), so no database that `serve` could use ever accepts it.
	DevToken string
	// UpdateTimeout bounds how long a decision POST waits for the workflow to accept it
	// before answering 503 (the worker may be down).
	UpdateTimeout time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Codec, when set, is served at /codec for the Temporal UI (POLICYFLOW_CODEC_KEYS).
	Codec converter.PayloadCodec
	// UIOrigins are the Temporal UI origins allowed to call /codec from a browser.
	UIOrigins []string
	// DecisionKeys sign every decision the API sends to a workflow, which refuses one without
	// this proof (POLICYFLOW_DECISION_KEYS, shared with the worker). Required.
	DecisionKeys *proof.Keyring
	// Metrics, when set, counts requests. It is served on a listener of its own
	// (POLICYFLOW_METRICS_ADDR, see cmd/policyflow), never on this one.
	Metrics *metrics.Registry
	// Dates are the town's bounds on the dates requests name; zero means DefaultDateBounds.
	Dates DateBounds
	// PublicReportCeiling is how many requests the public reporting window takes from all
	// addresses together per minute, counted across every API process sharing the database
	// (POLICYFLOW_PUBLIC_REPORTS_PER_MINUTE); zero means DefaultPublicReportCeiling.
	PublicReportCeiling int
	// Mailer sends the staff pages' sign-in links (the worker's mailer: SMTP, or the outbox
	// in dev mode). PublicURL is where the links point (POLICYFLOW_PUBLIC_URL).
	Mailer    activities.Mailer
	PublicURL string
	// Staff are the town's settings of the staff pages' sessions; zero means defaults.
	Staff StaffSettings
	// SignInPerMinute is how many sign-in requests one address prefix may send per minute
	// (as the public window's PublicReportBurst, which is the default when zero).
	SignInPerMinute int

	bg            sync.WaitGroup
	signInLimiter *publicLimiter
}

// untrustedForwardWarnEvery is how often the log warns about one peer sending
// X-Forwarded-For without being a trusted proxy.
const untrustedForwardWarnEvery = 10 * time.Minute

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// maxBody is the largest request body accepted (a CSV roster of a few thousand people).
const maxBody = 4 << 20

// Handler builds the Echo instance with every route.
func (s *Server) Handler() *echo.Echo {
	if s.UpdateTimeout == 0 {
		s.UpdateTimeout = 10 * time.Second
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = s.clientIP
	e.Use(s.recoverPanics, s.logRequests, newProxyWarner(s.TrustedProxies, untrustedForwardWarnEvery, s.now, s.Log).middleware,
		securityHeaders, limitBody(maxBody))

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/api/openapi.yaml", serveOpenAPI)
	e.GET("/tasks/:token", s.taskPage)
	e.HEAD("/tasks/:token", s.taskPage)
	e.POST("/tasks/:token", s.decide)
	e.GET("/tasks/:token/absence", s.absencePage)
	e.POST("/tasks/:token/absence", s.postAbsencePage)
	e.GET("/reports/:token", s.reportPage)
	e.HEAD("/reports/:token", s.reportPage)
	ceiling := s.PublicReportCeiling
	if ceiling == 0 {
		ceiling = DefaultPublicReportCeiling
	}
	e.POST("/public/incident-reports", s.reportIncident,
		newPublicLimiter(s.Store, PublicReportBurst, ceiling, PublicReportEvery, s.now, s.Log).middleware, limitBody(PublicReportMaxBody))
	perPrefix := s.SignInPerMinute
	if perPrefix == 0 {
		perPrefix = PublicReportBurst
	}
	s.signInLimiter = newPublicLimiter(s.Store, perPrefix, ceiling, PublicReportEvery, s.now, s.Log)
	s.signInLimiter.name = "signin:"
	s.staffRoutes(e)
	if s.DevMode {
		e.GET("/dev/mailbox", s.mailbox)
	}
	if s.Codec != nil {
		s.codecRoutes(e)
	}

	v1 := e.Group("/api/v1")
	v1.GET("/people", s.listPeople, s.auth(scopeDirectory, scopeAuditor))
	v1.GET("/people/:employee_id", s.getPerson, s.auth(scopeDirectory, scopeAuditor))
	v1.PUT("/people/:employee_id", s.putPerson, s.auth(scopeDirectory))
	v1.POST("/people/import", s.importPeople, s.auth(scopeDirectory))
	v1.POST("/people/:employee_id/absences", s.postAbsence, s.auth(scopeDirectory))
	v1.GET("/people/:employee_id/absences", s.listAbsences, s.auth(scopeDirectory, scopeAuditor))
	v1.DELETE("/people/:employee_id/absences/:absence_id", s.deleteAbsence, s.auth(scopeDirectory))
	v1.PUT("/systems/:system_id", s.putSystem, s.auth(scopeDirectory))
	v1.PUT("/sections/:section_id", s.putSection, s.auth(scopeDirectory))
	v1.GET("/sections", s.listSections, s.auth(scopeDirectory, scopeAuditor))
	v1.PUT("/systems/:system_id/accounts/:account_id", s.putAccount, s.auth(scopeDirectory))
	v1.POST("/exceptions", s.startException, s.auth(scopeOfficer))
	v1.POST("/incidents", s.startIncident, s.auth(scopeOfficer))
	v1.GET("/incidents/:id", s.getIncident, s.auth(scopeAuditor))
	v1.PUT("/emergency-contacts/:id", s.putEmergencyContact, s.auth(scopeDirectory))
	v1.POST("/cloud-assessments", s.startCloudAssessment, s.auth(scopeOfficer))
	v1.POST("/cloud-assessments/:id/terminate", s.terminateCloudService, s.auth(scopeOfficer))
	v1.GET("/cloud-services", s.listCloudServices, s.auth(scopeAuditor))
	v1.POST("/outsourcing-reviews", s.startOutsourcingReview, s.auth(scopeOfficer))
	v1.PUT("/people/:employee_id/assets/:asset_id", s.putAsset, s.auth(scopeDirectory))
	v1.PUT("/systems/:system_id/accounts/:account_id/known-by/:employee_id", s.putAccountAccess, s.auth(scopeDirectory))
	v1.DELETE("/systems/:system_id/accounts/:account_id/known-by/:employee_id", s.deleteAccountAccess, s.auth(scopeDirectory))
	v1.POST("/offboardings", s.startOffboarding, s.auth(scopeHR))
	v1.POST("/offboardings/bulk", s.startOffboardingsBulk, s.auth(scopeHR))
	v1.GET("/offboardings/bulk/:batch_id", s.getOffboardingBatch, s.auth(scopeHR))
	v1.POST("/offboardings/bulk/:batch_id/cancel", s.cancelOffboardingBatch, s.auth(scopeHR))
	v1.POST("/offboardings/:id/move-date", s.moveOffboardingDate, s.auth(scopeHR))
	v1.POST("/offboardings/:id/cancel", s.cancelOffboarding, s.auth(scopeHR))
	v1.PUT("/systems/:system_id/accounts/:account_id/last-use", s.putAccountUse, s.auth(scopeDirectory))
	v1.POST("/reconciliations", s.startReconciliation, s.auth(scopeHR))
	v1.POST("/inspections", s.startInspection, s.auth(scopeOfficer))
	v1.GET("/inspections/:id", s.getInspection, s.auth(scopeAuditor))
	v1.GET("/processes", s.listProcesses, s.auth(scopeAuditor))
	v1.GET("/processes/:id", s.getProcess, s.auth(scopeAuditor))
	v1.POST("/processes/:id/cancel", s.cancelProcess, s.auth(scopeAdmin))
	v1.GET("/registers/:name", s.exportRegister, s.auth(scopeAuditor))
	v1.GET("/reports/fiscal-year/:fy", s.fiscalYearReport, s.auth(scopeAuditor))
	v1.POST("/reports/fiscal-year/:fy/revoke-links", s.revokeReportLinks, s.auth(scopeAdmin))
	return e
}

// clientIP is the decider's address: the peer's, or the first untrusted hop of
// X-Forwarded-For when the peer is a trusted proxy.
func (s *Server) clientIP(r *http.Request) string {
	if len(s.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()(r)
	}
	opts := make([]echo.TrustOption, 0, len(s.TrustedProxies)+1)
	opts = append(opts, echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false))
	for _, n := range s.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)(r)
}

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.Log.Error("panic in handler", slog.String("route", c.Path()), slog.Any("panic", r))
				err = apiError("internal", "internal error")
			}
		}()
		return next(c)
	}
}

// logRequests logs each request by its route pattern, never its URL: a task link's token
// is in the URL and must not reach a log.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		took := time.Since(start)
		attrs := []any{slog.String("method", c.Request().Method), slog.String("route", c.Path()),
			slog.Int("status", c.Response().Status), slog.Duration("took", took)}
		// The process a request was about, so its log lines can be found with the rest of it
		// (the workflow ID is the process ID).
		if id, ok := c.Get(logProcessKey).(string); ok && id != "" {
			attrs = append(attrs, slog.String("process_id", id), slog.String("workflow_id", id))
		} else if id := c.Param("id"); id != "" && validID(id) {
			attrs = append(attrs, slog.String("process_id", id))
		}
		s.Log.Info("http", attrs...)
		if s.Metrics != nil {
			s.Metrics.HTTPRequests.WithLabelValues(c.Path(), c.Request().Method, strconv.Itoa(c.Response().Status)).Inc()
			s.Metrics.HTTPDuration.WithLabelValues(c.Path(), c.Request().Method).Observe(took.Seconds())
		}
		return nil
	}
}

// logProcessKey is where a handler leaves the ID of the process a request was about.
const logProcessKey = "policyflow.process_id"

// securityHeaders keep pages from leaking a token (no Referer, no caching, no framing) and
// forbid scripts altogether: the task pages work without JavaScript.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		return next(c)
	}
}

func limitBody(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > n {
				return apiError("too_large", "the request body is too large")
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, n)
			return next(c)
		}
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz checks the database and Temporal; a load balancer takes the API out while either
// is unreachable.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "temporal": "ok"}
	ready := true
	if err := s.Store.Ping(ctx); err != nil {
		checks["database"], ready = "unreachable", false
	}
	if _, err := s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], ready = "unreachable", false
	}
	if !ready {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "checks": checks})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "checks": checks})
}
