package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is a service process started by this package. Its stdout and
// stderr go to a log file. It runs in its own process group (so a Ctrl-C in
// the terminal reaches only the test binary, which then stops it) and gets
// SIGKILL when the test binary dies (so a `go test -timeout` panic or a
// SIGKILL of the test binary does not leave servers running).
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done is closed
}

// spawnRequests is served by a goroutine locked to its OS thread for the
// lifetime of the test binary. Children are forked from that thread, because
// Linux delivers Pdeathsig when the *thread* that forked the child exits,
// and Go may end threads that other goroutines locked.
var (
	spawnOnce     sync.Once
	spawnRequests chan func()
)

func onSpawnThread(f func()) {
	spawnOnce.Do(func() {
		spawnRequests = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for f := range spawnRequests {
				f()
			}
		}()
	})
	done := make(chan struct{})
	spawnRequests <- func() { defer close(done); f() }
	<-done
}

// startProcess starts bin with args, appending its output to logPath.
func startProcess(name, logPath, bin string, args, env []string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own copy of the descriptor
	fmt.Fprintf(logFile, "=== %s: %s %s\n", time.Now().Format(time.RFC3339), bin, strings.Join(args, " "))

	cmd := exec.Command(bin, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	onSpawnThread(func() { err = cmd.Start() })
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exitError describes how the process ended; call only after done is closed.
func (p *process) exitError() error {
	if p.waitErr == nil {
		return fmt.Errorf("%s exited with status 0", p.name)
	}
	return fmt.Errorf("%s exited: %v", p.name, p.waitErr)
}

// kill stops the process group at once and waits for the process to exit.
// The services hold only throwaway state, so there is nothing to shut down
// gracefully, and SIGKILL keeps the end of every test binary fast.
func (p *process) kill() {
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// defaultTimeout bounds single operations on a service that is up.
const defaultTimeout = 30 * time.Second

// waitReady calls check every 100ms until it succeeds, the process p (if not
// nil) exits or ctx ends.
func waitReady(ctx context.Context, p *process, check func(context.Context) error) error {
	var exited <-chan struct{} // nil (never ready) for a service we did not start
	if p != nil {
		exited = p.done
	}
	name := "service"
	if p != nil {
		name = p.name
	}
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	var lastErr error
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		lastErr = check(attemptCtx)
		cancel()
		if lastErr == nil {
			return nil
		}
		select {
		case <-exited:
			return errExitedEarly{p.exitError()}
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last error: %v)", name, ctx.Err(), lastErr)
		case <-ticker.C:
		}
	}
}

// errExitedEarly marks a process that died while starting, typically because
// another test binary took its port first; the caller retries on a new port.
type errExitedEarly struct{ err error }

func (e errExitedEarly) Error() string { return e.err.Error() }
func (e errExitedEarly) Unwrap() error { return e.err }

func isExitedEarly(err error) bool {
	var e errExitedEarly
	return errors.As(err, &e)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// childEnv returns the environment for a service process without variables
// that would change the service's configuration behind our back.
func childEnv(dropPrefixes ...string) []string {
	var env []string
outer:
	for _, kv := range os.Environ() {
		for _, p := range dropPrefixes {
			if strings.HasPrefix(kv, p) {
				continue outer
			}
		}
		env = append(env, kv)
	}
	return env
}

// tailFile returns the last n lines of a log file, for error messages.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	b = bytes.TrimRight(b, "\n")
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// withLog adds the log file name and its tail to a start-up error.
func withLog(err error, logPath string) error {
	tail := tailFile(logPath, 25)
	if tail == "" {
		return fmt.Errorf("%w\n(log: %s)", err, logPath)
	}
	return fmt.Errorf("%w\nlast lines of %s:\n%s", err, logPath, indent(tail))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// lookBinary finds an executable: first the path in the environment variable
// envVar (if set it must work), then names in PATH, then names in extraDirs.
func lookBinary(envVar string, names []string, extraDirs []string) (string, error) {
	if envVar != "" {
		if p := os.Getenv(envVar); p != "" {
			if isExecutable(p) {
				return p, nil
			}
			return "", fmt.Errorf("$%s=%s is not an executable file", envVar, p) // not errNotFound
		}
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	for _, dir := range extraDirs {
		for _, name := range names {
			if p := filepath.Join(dir, name); dir != "" && isExecutable(p) {
				return p, nil
			}
		}
	}
	return "", errNotFound
}

var errNotFound = errors.New("not found")

// notFound describes a lookBinary error.
func notFound(what string, err error, name string, dirs []string) string {
	if errors.Is(err, errNotFound) {
		return fmt.Sprintf("%s not found (no %s in PATH or in %s)", what, name, strings.Join(dirs, ", "))
	}
	return fmt.Sprintf("%s not found: %v", what, err)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// goBinDirs returns where `go install` puts binaries: $GOBIN, else
// $GOPATH/bin for each GOPATH entry, else ~/go/bin.
func goBinDirs() []string {
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		return []string{gobin}
	}
	var dirs []string
	for _, p := range filepath.SplitList(os.Getenv("GOPATH")) {
		if p != "" {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	if len(dirs) == 0 {
		if home, err := os.UserHomeDir(); err == nil {
			dirs = append(dirs, filepath.Join(home, "go", "bin"))
		}
	}
	return dirs
}

// pidAlive reports whether a process with this pid exists.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func itoa(i int) string { return strconv.Itoa(i) }
