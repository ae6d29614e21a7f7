// Command policyflow runs a town's information-security policy processes: `dev` (the whole
// system on embedded defaults), `serve` (the API), `worker` (the Temporal worker),
// `migrate` (the database schema) and `token` (API tokens).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/api"
	"github.com/policyflow/policyflow/codec"
	"github.com/policyflow/policyflow/config"
	"github.com/policyflow/policyflow/internal/offboarding"
	"github.com/policyflow/policyflow/metrics"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/worker"
	"github.com/policyflow/policyflow/workflows"
)

const usage = `policyflow: a town's information-security policy, run as durable processes

usage:
  policyflow dev       the whole system on embedded defaults (Temporal dev server, SQLite, API, worker)
  policyflow serve     the HTTP API
  policyflow worker    the Temporal worker
  policyflow migrate   create or update the database schema, then exit
  policyflow token create NAME SCOPE[,SCOPE...] [--expires 90d|YYYY-MM-DD]
                       create an API token (scopes: hr, officer, directory, auditor, admin);
                       the token is printed once and stored only as a hash
  policyflow token list
                       name, scopes, status, created, expires and revoked of every token
  policyflow token revoke NAME
                       refuse the token from now on

Settings come from the environment: see README.md, "Configuration".
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], newLogger(os.Args[1:])); err != nil {
		fmt.Fprintln(os.Stderr, "policyflow:", err)
		os.Exit(1)
	}
}

// newLogger logs JSON lines for the production pieces (one record per line, for a log
// collector) and text for dev mode, unless POLICYFLOW_LOG_FORMAT says otherwise.
func newLogger(args []string) *slog.Logger {
	format := os.Getenv("POLICYFLOW_LOG_FORMAT")
	if format == "" && (len(args) == 0 || args[0] != "dev") {
		format = "json"
	}
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func run(ctx context.Context, args []string, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "dev":
		return runDev(ctx, log)
	case "serve":
		return runServe(ctx, log)
	case "worker":
		return runWorker(ctx, log)
	case "migrate":
		return runMigrate(ctx, log)
	case "token":
		return runToken(ctx, args[1:], os.Stdout)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func load(mode config.Mode) (config.Config, error) {
	cfg, err := config.Load(mode, os.Getenv)
	if err != nil {
		return cfg, fmt.Errorf("configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	return cfg, nil
}

func openStore(ctx context.Context, cfg config.Config) (*models.Store, error) {
	store, err := models.Open(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		err = store.Ping(pctx)
		if err == nil {
			return store, nil
		}
		select {
		case <-pctx.Done():
			return nil, fmt.Errorf("database unreachable: %w", err)
		case <-time.After(time.Second):
		}
	}
}

func dialTemporal(ctx context.Context, cfg config.Config, log *slog.Logger, reg *metrics.Registry) (client.Client, error) {
	c, err := client.DialContext(ctx, clientOptions(cfg, log, reg))
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	return c, nil
}

// clientOptions connects to Temporal with the payload codec when keys are configured, so
// the server only ever holds ciphertext.
// The SDK's metrics (worker task latencies, pollers, failures) go to reg.
func clientOptions(cfg config.Config, log *slog.Logger, reg *metrics.Registry) client.Options {
	return client.Options{
		HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Logger:           tlog.NewStructuredLogger(log.With("component", "temporal")),
		DataConverter:    codec.DataConverter(cfg.CodecKeys),
		FailureConverter: codec.FailureConverter(cfg.CodecKeys),
		MetricsHandler:   reg.Temporal(),
	}
}

// newActivities builds the worker's activities; tc starts the offboardings of a bulk batch.
func newActivities(cfg config.Config, store *models.Store, tc client.Client, log *slog.Logger) (*activities.Activities, error) {
	var mailer activities.Mailer = activities.Outbox{Store: store}
	if cfg.SMTPURL != "" {
		m, err := activities.NewSMTPMailer(cfg.SMTPURL, cfg.MailFrom)
		if err != nil {
			return nil, err
		}
		mailer = m
	}
	rules, delegation, plan, timings, checklist := cfg.CloudRules, cfg.Delegation, cfg.IncidentPlan, cfg.Timings, cfg.InspectionChecklist
	return &activities.Activities{Store: store, Mailer: mailer, PublicURL: cfg.PublicURL, From: cfg.MailFrom, Loc: cfg.Loc, Log: log,
		CloudRules: &rules, Delegation: &delegation, IncidentPlan: &plan, Timings: &timings, Checklist: &checklist,
		ReportLinkTTL: time.Duration(cfg.ReportLinkDays) * 24 * time.Hour,
		Batches: &offboarding.Starter{Store: store, Temporal: tc, TimeZone: cfg.TimeZone, Log: log,
			DaysAhead: cfg.OffboardingMaxDaysAhead, DaysPast: cfg.OffboardingMaxDaysPast}}, nil
}

func newAPI(cfg config.Config, store *models.Store, tc client.Client, log *slog.Logger, dev bool, reg *metrics.Registry) *api.Server {
	srv := &api.Server{Store: store, Temporal: tc, Loc: cfg.Loc, TimeZone: cfg.TimeZone, Log: log, DevMode: dev,
		TrustedProxies: cfg.TrustedProxies, UIOrigins: cfg.UIOrigins, Metrics: reg, DecisionKeys: cfg.DecisionKeys,
		Dates: api.DateBounds{OffboardingDaysAhead: cfg.OffboardingMaxDaysAhead, OffboardingDaysPast: cfg.OffboardingMaxDaysPast,
			StartDaysAhead: cfg.StartMaxDaysAhead, EmergencyDaysPast: cfg.EmergencyReportMaxDays, ExceptionMaxDays: cfg.ExceptionMaxDays},
		PublicReportCeiling: cfg.PublicReportsPerMinute, PublicURL: cfg.PublicURL,
		Staff: api.StaffSettings{LinkTTL: cfg.StaffLinkTTL, Idle: cfg.StaffIdle, Max: cfg.StaffMax}}
	// The staff pages mail their sign-in links as the worker mails task links.
	// The outbox keeps links in the database, so it is for dev mode only.
	switch {
	case cfg.SMTPURL != "":
		if m, err := activities.NewSMTPMailer(cfg.SMTPURL, cfg.MailFrom); err == nil {
			srv.Mailer = m
		} else {
			log.Error("staff sign-in links cannot be mailed", "err", err)
		}
	case dev:
		srv.Mailer = activities.Outbox{Store: store}
	default:
		log.Warn("POLICYFLOW_SMTP_URL is not set: the staff pages cannot mail sign-in links")
	}
	if dev {
		srv.DevToken = cfg.DevToken // in memory only, never stored
	}
	if cfg.CodecKeys != nil {
		srv.Codec = codec.Codec{Keys: cfg.CodecKeys}
	}
	return srv
}

func runMigrate(ctx context.Context, log *slog.Logger) error {
	cfg, err := load(config.Migrate)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	log.Info("database schema is up to date")
	return nil
}

func runServe(ctx context.Context, log *slog.Logger) error {
	cfg, err := load(config.Serve)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	reg := metrics.New()
	tc, err := client.NewLazyClient(clientOptions(cfg, log, reg))
	if err != nil {
		return fmt.Errorf("TEMPORAL_ADDRESS: %w", err)
	}
	defer tc.Close()
	stopMetrics, err := serveMetrics(cfg, reg, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	return serveHTTP(ctx, cfg, newAPI(cfg, store, tc, log, false, reg), log)
}

// serveMetrics serves the Prometheus metrics on POLICYFLOW_METRICS_ADDR, a listener of their
// own, off the API's public one; with "off" it serves nothing. A listener that cannot be
// opened stops the start, naming the setting.
func serveMetrics(cfg config.Config, reg *metrics.Registry, log *slog.Logger) (stop func(), err error) {
	if cfg.MetricsAddr == "" {
		log.Info("metrics off (POLICYFLOW_METRICS_ADDR=off)")
		return func() {}, nil
	}
	l, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("POLICYFLOW_METRICS_ADDR: %w", err)
	}
	ms := &http.Server{Handler: reg.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := ms.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "addr", l.Addr().String(), "err", err)
		}
	}()
	log.Info("metrics listening", "addr", l.Addr().String(), "path", "/")
	return func() { _ = ms.Close() }, nil
}

func serveHTTP(ctx context.Context, cfg config.Config, srv *api.Server, log *slog.Logger) error {
	e := srv.Handler()
	e.Server.ReadHeaderTimeout = 10 * time.Second
	e.Server.ReadTimeout = time.Minute
	e.Server.WriteTimeout = 2 * time.Minute
	errc := make(chan error, 1)
	go func() { errc <- e.Start(cfg.HTTPAddr) }()
	log.Info("API listening", "addr", cfg.HTTPAddr)
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	case <-ctx.Done():
	}
	// In-flight requests finish; new ones are refused.
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return e.Shutdown(sctx)
}

func runWorker(ctx context.Context, log *slog.Logger) error {
	cfg, err := load(config.Worker)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	reg := metrics.New()
	tc, err := dialTemporal(ctx, cfg, log, reg)
	if err != nil {
		return err
	}
	defer tc.Close()
	acts, err := newActivities(cfg, store, tc, log)
	if err != nil {
		return err
	}
	stopMetrics, err := serveMetrics(cfg, reg, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	// Before any workflow runs: decisions without the API's proof are refused.
	workflows.UseDecisionVerifier(cfg.DecisionKeys)
	w := worker.New(tc, acts)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if err := worker.EnsureReconciliationSchedule(ctx, tc, worker.ReconciliationSchedule{Cron: cfg.ReconciliationCron, TimeZone: cfg.TimeZone, UnusedAfter: cfg.UnusedAfter}); err != nil {
		w.Stop()
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return err
	}
	if err := worker.EnsureInspectionSchedule(ctx, tc, worker.InspectionSchedule{Start: cfg.InspectionStart, TimeZone: cfg.TimeZone}); err != nil {
		w.Stop()
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return err
	}
	if err := worker.EnsureDigestSchedule(ctx, tc, worker.DigestSchedule{Day: cfg.DigestDay, TimeZone: cfg.TimeZone}); err != nil {
		w.Stop()
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return err
	}
	log.Info("worker polling", "task_queue", "policyflow", "temporal", cfg.TemporalAddress)
	<-ctx.Done()
	w.Stop() // waits for running activities up to the worker's stop timeout
	return nil
}
