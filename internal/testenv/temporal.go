package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
)

// temporalSearchAttributes are the custom search attributes policyflow's
// workflows set; the dev server registers them at start-up.
var temporalSearchAttributes = []string{"PolicyProcess", "PolicyStage", "Department"}

// temporalDynamicConfig are dynamic config values for the dev server, chosen
// to make tests fast. Measured on a 2-core machine, a workflow running one
// activity takes 127ms with the defaults and 25-50ms with these; one that
// also sleeps 10ms takes 1050ms without the timer time shift setting and
// 52ms with it.
//   - The history task processors poll at most 20 times per second by
//     default, which adds tens of milliseconds to every workflow task,
//     activity, timer and visibility update.
//   - Timer tasks are scheduled at least timerProcessorMaxTimeShift (1s) in
//     the future, so every workflow.Sleep, timeout or retry took >= 1s.
//   - Tests that list workflows easily exceed the default visibility rate
//     limit of 10 requests per second per namespace.
//   - With a single task queue partition, tasks are never forwarded between
//     partitions.
var temporalDynamicConfig = []string{
	"frontend.enableServerVersionCheck=false",
	"history.transferProcessorMaxPollRPS=1000",
	"history.timerProcessorMaxPollRPS=1000",
	"history.visibilityProcessorMaxPollRPS=1000",
	"history.outboundProcessorMaxPollRPS=1000",
	`history.timerProcessorMaxTimeShift="20ms"`,
	"frontend.namespaceRPS.visibility=1000",
	"matching.numTaskqueueReadPartitions=1",
	"matching.numTaskqueueWritePartitions=1",
}

const temporalInstallHint = "run `make tools`, or `GOFLAGS= go install github.com/temporalio/cli/cmd/temporal@v1.5.1` and make sure $(go env GOPATH)/bin is in PATH"

type temporalInfo struct {
	hostPort  string
	namespace string
}

func startTemporal(ctx context.Context, e *env, s *service) error {
	ns := os.Getenv(EnvTemporalNamespace)
	if ns == "" {
		ns = "default"
	}
	if addr := os.Getenv(EnvTemporalAddress); addr != "" {
		s.external = true
		s.temporal = temporalInfo{hostPort: addr, namespace: ns}
		err := waitReady(ctx, nil, func(ctx context.Context) error { return checkTemporal(ctx, addr, ns, true) })
		if err != nil {
			return fmt.Errorf("Temporal at $%s=%s: %w", EnvTemporalAddress, addr, err)
		}
		return nil
	}

	bin, err := lookBinary(EnvTemporalCLI, []string{"temporal"}, goBinDirs())
	if err != nil {
		return fmt.Errorf("%s: %s", notFound("temporal CLI", err, "temporal", goBinDirs()), temporalInstallHint)
	}
	s.logPath = filepath.Join(e.dir, "temporal.log")
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		hostPort := "127.0.0.1:" + itoa(port)
		args := []string{
			"server", "start-dev",
			"--headless",
			"--ip", "127.0.0.1", "--port", itoa(port),
			"--log-level", "warn",
			// History in a file, so that a restart (Stop, Start) keeps every
			// workflow; without fsync, as durability beyond the process is
			// pointless for a throwaway server.
			"--db-filename", filepath.Join(e.dir, "data", "temporal.db"),
			"--sqlite-pragma", "journal_mode=wal",
			"--sqlite-pragma", "synchronous=off",
		}
		if ns != "default" { // "default" always exists
			args = append(args, "--namespace", ns)
		}
		for _, sa := range temporalSearchAttributes {
			args = append(args, "--search-attribute", sa+"=Keyword")
		}
		for _, dc := range temporalDynamicConfig {
			args = append(args, "--dynamic-config-value", dc)
		}
		for _, suffix := range []string{"", "-wal", "-shm"} { // from an attempt that lost its port
			_ = os.Remove(filepath.Join(e.dir, "data", "temporal.db"+suffix))
		}
		p, err := startProcess("temporal dev server", s.logPath, bin, args, childEnv("TEMPORAL_"))
		if err != nil {
			return fmt.Errorf("%w: %s", err, temporalInstallHint)
		}
		s.proc = p
		err = waitReady(ctx, p, func(ctx context.Context) error { return checkTemporal(ctx, hostPort, ns, false) })
		if err == nil {
			s.temporal = temporalInfo{hostPort: hostPort, namespace: ns}
			s.ports = []int{port}
			s.relaunch = relaunchWith(s, "temporal dev server", bin, args, childEnv("TEMPORAL_"),
				func(ctx context.Context) error { return checkTemporal(ctx, hostPort, ns, false) })
			return nil
		}
		p.kill()
		s.proc = nil
		if isExitedEarly(err) && attempt < 3 && ctx.Err() == nil {
			continue // most likely another test binary took the port
		}
		return withLog(err, s.logPath)
	}
}

// checkTemporal checks that the frontend answers, the namespace exists and
// has policyflow's search attributes. With register, it adds missing
// search attributes (for a server from the environment).
func checkTemporal(ctx context.Context, hostPort, ns string, register bool) error {
	c, err := client.DialContext(ctx, client.Options{HostPort: hostPort, Namespace: ns, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns}); err != nil {
		return fmt.Errorf("describing namespace %q: %w", ns, err)
	}
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		return fmt.Errorf("listing search attributes: %w", err)
	}
	missing := map[string]enums.IndexedValueType{}
	for _, sa := range temporalSearchAttributes {
		if _, ok := resp.GetCustomAttributes()[sa]; !ok {
			missing[sa] = enums.INDEXED_VALUE_TYPE_KEYWORD
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if register {
		if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: ns, SearchAttributes: missing,
		}); err != nil {
			return fmt.Errorf("registering search attributes: %w", err)
		}
	}
	return fmt.Errorf("search attributes not registered yet in namespace %q: %v", ns, keys(missing))
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func quietLogger() tlog.Logger {
	return tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))
}

// TemporalAddress returns the host:port of the Temporal frontend, waiting
// for the dev server to be ready. It fails tb if Temporal is unavailable.
func TemporalAddress(tb testing.TB) string {
	tb.Helper()
	s := get(tb, NeedTemporal)
	tb.Log(s.describe("Temporal at " + s.temporal.hostPort))
	return s.temporal.hostPort
}

// TemporalNamespace returns the namespace tests should use ("default" unless
// POLICYFLOW_TEST_TEMPORAL_NAMESPACE says otherwise).
func TemporalNamespace(tb testing.TB) string {
	tb.Helper()
	return get(tb, NeedTemporal).temporal.namespace
}

// TemporalClient returns a client for the test's Temporal server and
// namespace, closed when the test ends. The dev server is shared by the
// package's tests, so use task queues and workflow IDs unique to the test.
func TemporalClient(tb testing.TB) client.Client {
	tb.Helper()
	hostPort := TemporalAddress(tb)
	ns := TemporalNamespace(tb)
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: hostPort, Namespace: ns, Logger: quietLogger()})
	if err != nil {
		tb.Fatalf("testenv: connecting to Temporal at %s: %v", hostPort, err)
	}
	tb.Cleanup(c.Close)
	return c
}
