package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

// TemporalServerVersion is the temporal-server that TemporalSQL runs; scripts/tools.sh and
// scripts/temporal-postgres.sh build the same one.
const TemporalServerVersion = "v1.29.1"

const temporalSQLInstallHint = "run `make tools` (or `scripts/tools.sh temporal-server`): it installs postgresql-15 with apt-get and builds temporal-server " +
	TemporalServerVersion + " and its sql tool into ~/.cache/policyflow/temporal-server-" + TemporalServerVersion

// TemporalSQL is a production-shaped Temporal for one test: temporal-server (its four
// services in one process, as the compose file's image runs them) with its history and
// its visibility on PostgreSQL 15, as scripts/temporal-postgres.sh starts it, on free
// ports, in a directory of its own. The namespace has a retention and policyflow's search
// attributes; both are stopped when the test ends.
//
// It takes 20-40 s to start, so only a test that is about the production shape itself
// uses it; the others share the package's dev server (TemporalAddress). PostgreSQL runs as
// the postgres user when the test runs as root (as in CI), else as the test's user.
// Nothing is skipped: a missing piece fails the test with how to install it.
type TemporalSQL struct {
	HostPort  string
	Namespace string
	// Dir holds PostgreSQL's data and the logs (temporal.log, pg.log, schema.log).
	Dir string
}

// StartTemporalSQL starts a TemporalSQL for tb and stops it when tb ends.
func StartTemporalSQL(tb testing.TB) *TemporalSQL {
	tb.Helper()
	script, err := repoFile("scripts/temporal-postgres.sh")
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	home, _ := os.UserHomeDir()
	bin := filepath.Join(home, ".cache", "policyflow", "temporal-server-"+TemporalServerVersion)
	for _, need := range []string{"/usr/lib/postgresql/15/bin/postgres", filepath.Join(bin, "server"), filepath.Join(bin, "sql")} {
		if !isExecutable(need) {
			tb.Fatalf("testenv: %s not found: %s", need, temporalSQLInstallHint)
		}
	}
	cli, err := lookBinary(EnvTemporalCLI, []string{"temporal"}, goBinDirs())
	if err != nil {
		tb.Fatalf("testenv: %s: %s", notFound("the temporal CLI (it registers the namespace and the search attributes)", err, "temporal", goBinDirs()), temporalInstallHint)
	}
	// The script runs the temporal CLI it finds in PATH.
	env := append(childEnv("TEMPORAL_", "PORT_BASE", "PATH="), "PATH="+filepath.Dir(cli)+string(filepath.ListSeparator)+os.Getenv("PATH"))

	// PostgreSQL, as the postgres user, must reach its data: not under t.TempDir (0700
	// and owned by root).
	dir, err := os.MkdirTemp("", "policyflow-temporal-sql-")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	ts := &TemporalSQL{Namespace: "default", Dir: dir}
	stop := func() {
		cmd := exec.Command(script, dir, "stop")
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Errorf("testenv: stopping the SQL-backed Temporal: %v\n%s", err, out)
		}
	}
	tb.Cleanup(func() {
		stop()
		if tb.Failed() || os.Getenv(EnvKeepLogs) != "" {
			tb.Logf("testenv: the SQL-backed Temporal's logs are kept in %s", dir)
			_ = os.RemoveAll(filepath.Join(dir, "pg"))
			return
		}
		_ = os.RemoveAll(dir)
	})
	// Should the test binary die without its clean-ups (a `go test -timeout` panic, a
	// SIGKILL), a watchdog stops the server and PostgreSQL, which the script runs in the
	// background, and removes PostgreSQL's data (about 60 MB), keeping the logs.
	watchdog := exec.Command("sh", "-c", `while kill -0 "$1" 2>/dev/null; do sleep 1; done; "$2" "$3" stop; rm -rf "$3/pg"`,
		"watchdog", itoa(os.Getpid()), script, dir)
	watchdog.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := watchdog.Start(); err != nil {
		tb.Fatalf("testenv: starting the watchdog: %v", err)
	}
	tb.Cleanup(func() { _ = watchdog.Process.Kill(); _ = watchdog.Wait() })

	logPath := filepath.Join(dir, "start.log")
	t0 := time.Now()
	for attempt := 1; ; attempt++ {
		base, err := freePortBase()
		if err != nil {
			tb.Fatalf("testenv: %v", err)
		}
		ts.HostPort, err = runTemporalSQLScript(script, dir, append(env, "PORT_BASE="+itoa(base)), logPath)
		if err == nil {
			break
		}
		stop()
		if attempt < 3 && strings.Contains(strings.ToLower(tailFile(filepath.Join(dir, "temporal.log"), 40)+tailFile(logPath, 40)), "address already in use") {
			continue // another program took one of the ports since freePortBase
		}
		tb.Fatalf("testenv: the SQL-backed Temporal failed to start: %v\n%s\ntemporal.log:\n%s", err,
			indent(tailFile(logPath, 20)), indent(tailFile(filepath.Join(dir, "temporal.log"), 20)))
	}

	// The script registered the namespace and the search attributes; wait until the
	// frontend lists them (and add any that are missing, as for a server from the
	// environment).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := waitReady(ctx, nil, func(ctx context.Context) error { return checkTemporal(ctx, ts.HostPort, ts.Namespace, true) }); err != nil {
		tb.Fatalf("testenv: the SQL-backed Temporal at %s: %v", ts.HostPort, err)
	}
	tb.Logf("testenv: temporal-server %s on PostgreSQL 15 at %s (started in %v, logs in %s)",
		TemporalServerVersion, ts.HostPort, time.Since(t0).Round(time.Millisecond), dir)
	return ts
}

// runTemporalSQLScript runs scripts/temporal-postgres.sh DIR in env and returns the
// address it prints on its last line.
func runTemporalSQLScript(script, dir string, env []string, logPath string) (string, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return "", err
	}
	defer logFile.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, dir)
	cmd.Env = env
	cmd.Stderr = logFile
	out, err := cmd.Output()
	_, _ = logFile.Write(out)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", script, dir, err)
	}
	var addr string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "TEMPORAL_ADDRESS="); ok {
			addr = v
		}
	}
	if addr == "" {
		return "", errors.New("the script printed no TEMPORAL_ADDRESS")
	}
	return addr, nil
}

// temporalSQLPortOffsets are the ports scripts/temporal-postgres.sh uses, from PORT_BASE:
// the four services' gRPC and membership ports, the frontend's HTTP port and PostgreSQL's.
var temporalSQLPortOffsets = []int{233, 234, 235, 239, 243, 432, 933, 934, 935, 939}

// freePortBase picks a PORT_BASE whose ports are all free, below the ephemeral range that
// freePort's ports (and every client's) come from.
func freePortBase() (int, error) {
	for range 50 {
		base := 20000 + rand.IntN(11000)
		free := true
		for _, off := range temporalSQLPortOffsets {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+off))
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if free {
			return base, nil
		}
	}
	return 0, errors.New("no free PORT_BASE for the SQL-backed Temporal in 50 tries")
}

// repoFile finds a file of the repository from the test's working directory (its package's
// directory), looking upwards for go.mod.
func repoFile(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, rel), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s: no go.mod above the working directory", rel)
		}
		dir = parent
	}
}

// Client returns a client for the server's namespace, closed when tb ends.
func (ts *TemporalSQL) Client(tb testing.TB) client.Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: ts.HostPort, Namespace: ts.Namespace, Logger: quietLogger()})
	if err != nil {
		tb.Fatalf("testenv: connecting to the SQL-backed Temporal at %s: %v", ts.HostPort, err)
	}
	tb.Cleanup(c.Close)
	return c
}
