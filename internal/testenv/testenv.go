// Package testenv runs the real services that policyflow's integration and
// end-to-end tests talk to: a Temporal dev server, MariaDB and Mailpit (an
// SMTP server with an HTTP API to read the mail back).
//
// The services are started once per test binary, from TestMain, and shared
// by all tests of the package:
//
//	func TestMain(m *testing.M) {
//		os.Exit(testenv.Main(m, testenv.NeedTemporal, testenv.NeedMariaDB, testenv.NeedMailpit))
//	}
//
//	func TestSomething(t *testing.T) {
//		dsn := testenv.MariaDB(t)         // a fresh, empty database for this test
//		c := testenv.TemporalClient(t)    // client for the shared dev server
//		mp := testenv.Mailpit(t)          // read the mail the code under test sent
//		...
//	}
//
// Main starts the services in the background while the tests begin; a test
// that needs one waits until it is ready. Binaries are found in PATH, in
// $(go env GOPATH)/bin and in the usual system directories; `make tools`
// installs them. A missing binary or a service that does not come up fails
// the tests that need it, with a message saying how to fix it: integration
// tests are never skipped.
//
// A test about the production shape itself calls StartTemporalSQL for a Temporal of its
// own with SQL persistence (temporal-server on PostgreSQL 15), instead of the shared dev
// server; see temporal_sql.go.
//
// Fault tests stop a service and start it again with Stop and Start (or
// Restart): it comes back on the same ports with the same data (see
// outage.go). Such tests must not run in parallel with others of the package.
//
// Mailpit refuses for good (550 5.1.0 at RCPT TO) every address with a '+' in
// it, and takes every other: a test that needs a mailbox the mail server
// refuses, as a town's server refuses a deleted one, gets its address from
// RefusedAddress (which adds RefusedMailbox, "+refused", before the '@' and
// checks that Mailpit does refuse it). No other test address may contain a
// '+'.
//
// Instead of starting a service, tests can use one that is already running,
// named by these environment variables (services from the environment cannot
// be stopped):
//
//	POLICYFLOW_TEST_TEMPORAL_ADDRESS    host:port of a Temporal frontend
//	POLICYFLOW_TEST_TEMPORAL_NAMESPACE  its namespace (default "default")
//	POLICYFLOW_TEST_MYSQL_DSN           server DSN, e.g. root@tcp(127.0.0.1:3307)/
//	POLICYFLOW_TEST_SMTP_ADDR           host:port of Mailpit's SMTP server, together with
//	POLICYFLOW_TEST_MAILPIT_URL         the base URL of its HTTP API, e.g. http://127.0.0.1:8025
//	                                    (start it with --smtp-allowed-recipients '^[^+]+$',
//	                                    or RefusedAddress fails the tests that use it)
//
// and these choose the binaries:
//
//	POLICYFLOW_TEMPORAL_CLI   path of the temporal CLI
//	POLICYFLOW_MAILPIT_BIN    path of mailpit
//	POLICYFLOW_MARIADBD       path of mariadbd (mariadb-install-db is looked up next to it and in PATH)
//
// The services' logs are written to a temporary directory, which is kept and
// printed when a test fails (set POLICYFLOW_TEST_KEEP_LOGS=1 to always keep it).
package testenv

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Need names a service that a test package needs.
type Need int

// The services Main can start.
const (
	NeedTemporal Need = iota + 1
	NeedMariaDB
	NeedMailpit
)

func (n Need) String() string {
	switch n {
	case NeedTemporal:
		return "temporal"
	case NeedMariaDB:
		return "mariadb"
	case NeedMailpit:
		return "mailpit"
	}
	return "Need(" + strconv.Itoa(int(n)) + ")"
}

func (n Need) constName() string {
	switch n {
	case NeedTemporal:
		return "testenv.NeedTemporal"
	case NeedMariaDB:
		return "testenv.NeedMariaDB"
	case NeedMailpit:
		return "testenv.NeedMailpit"
	}
	return n.String()
}

// Environment variables read by this package.
const (
	EnvTemporalAddress   = "POLICYFLOW_TEST_TEMPORAL_ADDRESS"
	EnvTemporalNamespace = "POLICYFLOW_TEST_TEMPORAL_NAMESPACE"
	EnvMySQLDSN          = "POLICYFLOW_TEST_MYSQL_DSN"
	EnvSMTPAddr          = "POLICYFLOW_TEST_SMTP_ADDR"
	EnvMailpitURL        = "POLICYFLOW_TEST_MAILPIT_URL"
	EnvKeepLogs          = "POLICYFLOW_TEST_KEEP_LOGS"

	EnvTemporalCLI = "POLICYFLOW_TEMPORAL_CLI"
	EnvMailpitBin  = "POLICYFLOW_MAILPIT_BIN"
	EnvMariaDBD    = "POLICYFLOW_MARIADBD"
)

// Services describes the running services. Fields of services that the
// package did not ask for are empty.
type Services struct {
	// Temporal frontend (gRPC) address and the namespace to use.
	TemporalHostPort  string
	TemporalNamespace string

	// MySQLServerDSN is a go-sql-driver/mysql DSN for the server, without a
	// database name, e.g. "policyflow:policyflow@tcp(127.0.0.1:40123)/".
	// Tests normally use MariaDB(t), which creates a database for them.
	MySQLServerDSN string

	// Mailpit's SMTP server and the base URL of its web UI and HTTP API.
	SMTPHost   string
	SMTPPort   int
	MailpitURL string

	// LogDir holds the logs of the services started by this test binary.
	LogDir string
}

// Main runs the tests of a package that needs the given services. Call it
// from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m, testenv.NeedMariaDB)) }
//
// It starts the services in the background, runs the tests, stops the
// services and returns the exit code for os.Exit. When the test binary only
// lists tests or runs none (-run '^$', as `make bench` does), services start
// only if a benchmark asks for one.
func Main(m *testing.M, need ...Need) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	e, err := newEnv(need)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		return 1
	}
	if cur := current.Swap(e); cur != nil {
		panic("testenv: Main called twice")
	}
	defer current.Store(nil)

	// Best effort on Ctrl-C / kill: stop the services before dying. (Should the
	// binary die without running this, Pdeathsig kills the services.)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	stopSignals := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			fmt.Fprintf(os.Stderr, "testenv: got %v, stopping services (logs in %s)\n", s, e.dir)
			e.stop()
			_ = os.RemoveAll(filepath.Join(e.dir, "data"))
			os.Exit(2)
		case <-stopSignals:
		}
	}()

	if !noTestsWillRun() {
		for _, s := range e.services {
			go s.ensureStarted(e)
		}
	}

	code := 1
	func() {
		defer func() {
			if r := recover(); r != nil { // a panic in TestMain's goroutine: clean up, then re-panic
				signal.Stop(sigs)
				close(stopSignals)
				e.stop()
				e.finish(2)
				panic(r)
			}
		}()
		code = m.Run()
	}()

	signal.Stop(sigs)
	close(stopSignals)
	e.stop()
	e.finish(code)
	return code
}

// noTestsWillRun reports whether the binary only lists tests or selects none
// with -run, so that services need not start before a benchmark asks.
func noTestsWillRun() bool {
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		return true
	}
	if f := flag.Lookup("test.run"); f != nil {
		switch f.Value.String() {
		case "^$", "^$$", "NONE", "none", "XXX":
			return true
		}
	}
	return false
}

// env is the state of one test binary's services.
type env struct {
	dir      string // logs; data in dir/data
	services map[Need]*service
}

// current is the env of the running Main.
var current atomic.Pointer[env]

// service is one service, started at most once.
type service struct {
	need    Need
	once    sync.Once
	ready   chan struct{} // closed when started or failed
	err     error
	started time.Duration // how long the start took
	logPath string        // main log file ("" for an external service)
	proc    *process      // nil for an external service
	stopFn  func()        // extra clean-up (connection pools)

	// Results, valid after ready is closed and err is nil.
	external bool
	temporal temporalInfo
	mariadb  *mariadbInfo
	mailpit  mailpitInfo

	used atomic.Bool // a test asked for the service

	// Restarting (outage.go), for services started by this package: relaunch
	// starts the process again with the same ports and data, ports are the
	// TCP ports it listens on, held by the sockets in reserved while it is
	// down (between Stop and Start).
	relaunch func(context.Context) (*process, error)
	ports    []int
	reserved []int
	down     bool

	stopMu  sync.Mutex // guards stopped, proc once started, down and reserved
	stopped bool
}

func newEnv(need []Need) (*env, error) {
	gcOldDirs()
	dir, err := os.MkdirTemp("", "policyflow-testenv-")
	if err != nil {
		return nil, fmt.Errorf("creating the log directory: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, err
	}
	_ = os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644)
	e := &env{dir: dir, services: map[Need]*service{}}
	for _, n := range need {
		switch n {
		case NeedTemporal, NeedMariaDB, NeedMailpit:
			e.services[n] = &service{need: n, ready: make(chan struct{})}
		default:
			return nil, fmt.Errorf("unknown %v", n)
		}
	}
	return e, nil
}

func (s *service) ensureStarted(e *env) {
	s.once.Do(func() {
		defer close(s.ready)
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout(s.need))
		defer cancel()
		t0 := time.Now()
		switch s.need {
		case NeedTemporal:
			s.err = startTemporal(ctx, e, s)
		case NeedMariaDB:
			s.err = startMariaDB(ctx, e, s)
		case NeedMailpit:
			s.err = startMailpit(ctx, e, s)
		}
		s.started = time.Since(t0)
		if s.err != nil {
			after := ""
			if s.started > time.Second {
				after = fmt.Sprintf(" (after %v)", s.started.Round(time.Millisecond))
			}
			s.err = fmt.Errorf("%v failed to start%s: %w", s.need, after, s.err)
		}
	})
}

// startTimeout bounds a service's start-up. It is generous because on a
// small CI machine several test binaries start their services while others
// compile.
func startTimeout(n Need) time.Duration {
	switch n {
	case NeedTemporal:
		return 3 * time.Minute
	case NeedMariaDB:
		return 2 * time.Minute
	default:
		return time.Minute
	}
}

func (s *service) stop() {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	if s.stopFn != nil {
		s.stopFn()
	}
	s.proc.kill()
	releasePorts(s.reserved)
	s.reserved = nil
}

// stop stops the services that were started. A start still in progress is
// not waited for: its process dies with the test binary (Pdeathsig).
func (e *env) stop() {
	var wg sync.WaitGroup
	for _, s := range e.services {
		select {
		case <-s.ready:
			wg.Add(1)
			go func() { defer wg.Done(); s.stop() }()
		default:
		}
	}
	wg.Wait()
}

// finish removes the data and, unless a test failed or they are wanted, the
// logs.
func (e *env) finish(code int) {
	_ = os.RemoveAll(filepath.Join(e.dir, "data"))
	var unusedFailures []string
	for _, n := range sortedNeeds(e.services) {
		s := e.services[n]
		select {
		case <-s.ready:
			if s.err != nil && !s.used.Load() { // else a test reported it
				unusedFailures = append(unusedFailures, s.err.Error())
			}
		default:
		}
	}
	if code != 0 || len(unusedFailures) > 0 || os.Getenv(EnvKeepLogs) != "" {
		for _, msg := range unusedFailures {
			fmt.Fprintf(os.Stderr, "testenv: warning (no test used the service): %s\n", msg)
		}
		fmt.Printf("testenv: service logs kept in %s\n", e.dir)
		return
	}
	_ = os.RemoveAll(e.dir)
}

func sortedNeeds(m map[Need]*service) []Need {
	var ns []Need
	for n := range m {
		ns = append(ns, n)
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	return ns
}

// gcOldDirs removes what test binaries that died without cleaning up (e.g.
// killed by `go test -timeout`) left behind: their data at once, their logs
// after three days.
func gcOldDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "policyflow-testenv-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "pid"))
		if err != nil {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if pidAlive(pid) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(d, "data"))
		if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > 72*time.Hour {
			_ = os.RemoveAll(d)
		}
	}
}

// get waits for service n and returns it, failing tb if it is unavailable.
func get(tb testing.TB, n Need) *service {
	tb.Helper()
	e := current.Load()
	if e == nil {
		tb.Fatalf("testenv: %v is not running: the package's TestMain must call testenv.Main(m, %s)", n, n.constName())
	}
	s := e.services[n]
	if s == nil {
		tb.Fatalf("testenv: %v was not requested: add %s to the testenv.Main call in TestMain", n, n.constName())
	}
	s.used.Store(true)
	go s.ensureStarted(e) // no-op if already started
	select {
	case <-s.ready:
	case <-time.After(startTimeout(n) + 10*time.Second):
		tb.Fatalf("testenv: timed out waiting for %v to start (logs in %s)", n, e.dir)
	}
	if s.err != nil {
		tb.Fatalf("testenv: %v", s.err)
	}
	return s
}

// Get returns the services the package asked for, waiting for all of them to
// be ready. It fails tb if one cannot be started.
func Get(tb testing.TB) *Services {
	tb.Helper()
	e := current.Load()
	if e == nil {
		tb.Fatalf("testenv: the package's TestMain must call testenv.Main(m, ...)")
	}
	out := &Services{LogDir: e.dir}
	for _, n := range sortedNeeds(e.services) {
		s := get(tb, n)
		switch n {
		case NeedTemporal:
			out.TemporalHostPort, out.TemporalNamespace = s.temporal.hostPort, s.temporal.namespace
		case NeedMariaDB:
			out.MySQLServerDSN = s.mariadb.serverDSN
		case NeedMailpit:
			out.SMTPHost, out.SMTPPort, out.MailpitURL = s.mailpit.smtpHost, s.mailpit.smtpPort, s.mailpit.url
		}
	}
	return out
}

// describe is logged to the test the first time a service is used, so a
// verbose or failing test shows where the service ran.
func (s *service) describe(what string) string {
	if s.external {
		return fmt.Sprintf("testenv: using %s (from the environment)", what)
	}
	return fmt.Sprintf("testenv: using %s (started in %v, log %s)", what, s.started.Round(time.Millisecond), s.logPath)
}
