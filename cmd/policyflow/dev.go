package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/policyflow/policyflow/config"
	"github.com/policyflow/policyflow/metrics"
	"github.com/policyflow/policyflow/worker"
	"github.com/policyflow/policyflow/workflows"
)

// runDev starts the whole system in one process on embedded defaults: a Temporal dev server
// (unless TEMPORAL_ADDRESS names one on this machine), SQLite under the data dir, the worker
// and the API, with mail kept in the outbox at /dev/mailbox. It listens on loopback only, and
// its admin token lives in memory only. Another database or a Temporal server elsewhere is
// refused without POLICYFLOW_DEV_ALLOW_EXTERNAL=1 (config.Load).
func runDev(ctx context.Context, log *slog.Logger) error {
	cfg, err := load(config.Dev)
	if err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(cfg.HTTPAddr)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("POLICYFLOW_HTTP_ADDR: dev mode listens on loopback only (got %s); use policyflow serve in production", cfg.HTTPAddr)
	}
	if host, _, _ := net.SplitHostPort(cfg.MetricsAddr); cfg.MetricsAddr != "" && host != "localhost" && (net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback()) {
		return fmt.Errorf("POLICYFLOW_METRICS_ADDR: dev mode listens on loopback only (got %s)", cfg.MetricsAddr)
	}
	if cfg.DevAllowExternal {
		log.Warn("POLICYFLOW_DEV_ALLOW_EXTERNAL is set: dev mode may use a database or Temporal server that is not its own, and its worker polls that server's task queue",
			"temporal", cfg.TemporalAddress)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("POLICYFLOW_DATA_DIR: %w", err)
	}
	if cfg.TemporalAddress == "" {
		cfg.TemporalAddress = "127.0.0.1:7233"
		stop, err := startDevServer(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	if err := seedDemo(ctx, store); err != nil {
		return fmt.Errorf("seed the demo directory: %w", err)
	}
	reg := metrics.New()
	tc, err := dialTemporal(ctx, cfg, log, reg)
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := setRetention(ctx, tc, cfg); err != nil {
		log.Warn("could not set the namespace's retention", "err", err)
	}
	acts, err := newActivities(cfg, store, tc, log)
	if err != nil {
		return err
	}
	// The API and the worker share the key dev mode made in memory.
	workflows.UseDecisionVerifier(cfg.DecisionKeys)
	w := worker.New(tc, acts)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()
	if err := worker.EnsureReconciliationSchedule(ctx, tc, worker.ReconciliationSchedule{Cron: cfg.ReconciliationCron, TimeZone: cfg.TimeZone, UnusedAfter: cfg.UnusedAfter}); err != nil {
		log.Warn("could not set up the reconciliation schedule", "err", err)
	}
	if err := worker.EnsureInspectionSchedule(ctx, tc, worker.InspectionSchedule{Start: cfg.InspectionStart, TimeZone: cfg.TimeZone}); err != nil {
		log.Warn("could not set up the self-inspection schedule", "err", err)
	}
	if err := worker.EnsureDigestSchedule(ctx, tc, worker.DigestSchedule{Day: cfg.DigestDay, TimeZone: cfg.TimeZone}); err != nil {
		log.Warn("could not set up the monthly digest schedule", "err", err)
	}
	// The API's and the worker's metrics, one registry, on their own loopback listener.
	stopMetrics, err := serveMetrics(cfg, reg, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	metricsAt := "off"
	if cfg.MetricsAddr != "" {
		metricsAt = "http://" + cfg.MetricsAddr + "/"
	}
	mail := cfg.PublicURL + "/dev/mailbox"
	if cfg.SMTPURL != "" {
		mail = "sent through POLICYFLOW_SMTP_URL"
	}
	fmt.Printf(`
policyflow dev is running (loopback only). Demo data: the fictional town of Midori (みどり町).
  API            %s/api/v1   (token: %s)
  Temporal UI    http://127.0.0.1:8233   (namespace %s, retention %d days)
  Dev mailbox    %s
  Metrics        %s
  Data           %s
Try:  curl -H 'Authorization: Bearer %s' %s/api/v1/processes
Stop with Ctrl-C.

`, cfg.PublicURL, cfg.DevToken, cfg.TemporalNamespace, int(cfg.Retention.Hours()/24), mail, metricsAt, cfg.DataDir, cfg.DevToken, cfg.PublicURL)
	return serveHTTP(ctx, cfg, newAPI(cfg, store, tc, log, true, reg), log)
}

// startDevServer runs `temporal server start-dev` with policyflow's search attributes, its
// history in the data dir, and the transfer-queue poll rate raised (the default 20/s adds
// ~45 ms to every task it hands out).
func startDevServer(ctx context.Context, cfg config.Config, log *slog.Logger) (func(), error) {
	bin, err := findTemporalCLI()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(cfg.DataDir, "temporal.log"))
	if err != nil {
		return nil, err
	}
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1", "--port", "7233", "--ui-port", "8233",
		"--db-filename", filepath.Join(cfg.DataDir, "temporal.db"),
		"--namespace", cfg.TemporalNamespace,
		"--search-attribute", "PolicyProcess=Keyword",
		"--search-attribute", "PolicyStage=Keyword",
		"--search-attribute", "Department=Keyword",
		"--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000",
		"--log-level", "warn"}
	if cfg.CodecKeys != nil {
		// The UI decrypts history through the API's codec endpoint.
		args = append(args, "--ui-codec-endpoint", cfg.PublicURL+"/codec")
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the Temporal dev server: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		logFile.Close()
	}
	log.Info("starting the Temporal dev server", "binary", bin, "log", logFile.Name())
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		c, err := client.DialContext(wctx, client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, Logger: quietLogger{}})
		if err == nil {
			c.Close()
			return stop, nil
		}
		select {
		case <-wctx.Done():
			stop()
			return nil, fmt.Errorf("the Temporal dev server did not start within a minute; see %s", logFile.Name())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// findTemporalCLI looks for the Temporal CLI on PATH, then in Go's bin directory.
func findTemporalCLI() (string, error) {
	if p, err := exec.LookPath("temporal"); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	p := filepath.Join(gopath, "bin", "temporal")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", errors.New("the Temporal CLI is not installed: run `make tools` (go install github.com/temporalio/cli/cmd/temporal@v1.5.1), or set TEMPORAL_ADDRESS")
}

// setRetention sets how long Temporal keeps closed processes, on purpose: the town keeps
// records for years and the CISO reads them in the Temporal UI.
func setRetention(ctx context.Context, tc client.Client, cfg config.Config) error {
	_, err := tc.WorkflowService().UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
		Namespace: cfg.TemporalNamespace,
		Config:    &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(cfg.Retention)},
	})
	return err
}

// quietLogger silences the SDK while the dev server is still starting.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
