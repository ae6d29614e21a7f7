package testenv

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// Outages: fault tests stop a service and start it again, as an operator or a
// crash would, and watch the code under test ride it out.
//
//	testenv.Stop(t, testenv.NeedMariaDB)  // clients now get "connection refused"
//	... check that the API answers 503, that nothing is lost ...
//	testenv.Start(t, testenv.NeedMariaDB) // same address, same data
//
// A restarted service listens on the same ports and keeps its data: MariaDB
// its data directory, Mailpit its message database, and the Temporal dev
// server its SQLite file (every workflow's history). While a service is down
// its TCP ports stay reserved: a socket bound to each port (never listening,
// so connections are refused as with a stopped server) keeps other test
// binaries, which pick ports with bind(":0"), from being handed them.
//
// Only services started by this package can be stopped; a test that calls
// Stop fails when the service comes from the environment. The services are
// shared by the package's tests, so a test that stops one must not run in
// parallel with tests that use it.

// stopGrace is how long a stopped service gets to shut down cleanly (MariaDB
// flushes its buffers, the Temporal dev server closes its database) before
// it is killed.
const stopGrace = 30 * time.Second

// Stop stops service n until Start (or the end of the test, whose clean-up
// starts it again): gracefully with SIGTERM, then SIGKILL after 30 seconds.
// Its ports stay reserved and its data is kept.
func Stop(tb testing.TB, n Need) {
	tb.Helper()
	s := get(tb, n)
	if s.external {
		tb.Fatalf("testenv: cannot stop %v: it runs outside the tests (set by the environment); fault tests need services started by testenv", n)
	}
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped {
		tb.Fatalf("testenv: %v is shutting down with the test binary", n)
	}
	if s.down {
		tb.Fatalf("testenv: %v is already stopped", n)
	}
	if s.relaunch == nil {
		tb.Fatalf("testenv: %v cannot be restarted", n)
	}
	t0 := time.Now()
	graceful := s.proc.terminate(stopGrace)
	s.down = true
	s.reserved = reservePorts(s.ports)
	how := "stopped"
	if !graceful {
		how = fmt.Sprintf("killed (it did not stop within %v of SIGTERM)", stopGrace)
	}
	tb.Logf("testenv: %v %s in %v; ports %v held while it is down", n, how, time.Since(t0).Round(time.Millisecond), s.ports)
	tb.Cleanup(func() {
		s.stopMu.Lock()
		down := s.down && !s.stopped
		s.stopMu.Unlock()
		if down {
			tb.Logf("testenv: the test ended with %v stopped: starting it again for the next tests", n)
			Start(tb, n)
		}
	})
}

// Start starts service n, stopped by Stop, again on the same ports with the
// same data, and waits until it is ready. It fails tb if the service does
// not come back.
func Start(tb testing.TB, n Need) {
	tb.Helper()
	s := get(tb, n)
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped {
		tb.Fatalf("testenv: %v is shutting down with the test binary", n)
	}
	if !s.down {
		tb.Fatalf("testenv: %v is not stopped", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout(n))
	defer cancel()
	t0 := time.Now()
	releasePorts(s.reserved)
	s.reserved = nil
	p, err := s.relaunch(ctx)
	if err != nil {
		// The next test would find it down: keep the ports for a later Start.
		s.reserved = reservePorts(s.ports)
		tb.Fatalf("testenv: restarting %v: %v", n, withLog(err, s.logPath))
	}
	s.proc, s.down = p, false
	tb.Logf("testenv: %v started again in %v", n, time.Since(t0).Round(time.Millisecond))
}

// Restart stops service n, keeps it down for downFor, and starts it again.
// Use Stop and Start to act while it is down.
func Restart(tb testing.TB, n Need, downFor time.Duration) {
	tb.Helper()
	Stop(tb, n)
	time.Sleep(downFor)
	Start(tb, n)
}

// terminate stops the process group with SIGTERM and waits up to grace for
// the process to exit, then kills it. It reports whether it exited in time.
func (p *process) terminate(grace time.Duration) bool {
	if p == nil {
		return true
	}
	select {
	case <-p.done:
		return true
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(grace):
		p.kill()
		return false
	}
}

// reservePorts binds a TCP socket to each port on 127.0.0.1 without
// listening: connections to the port are refused, as with the server
// stopped, and the kernel never hands the port to a bind(":0") of another
// test binary. SO_REUSEADDR lets the bind succeed while connections of the
// stopped server linger in TIME_WAIT. A port that cannot be held is skipped:
// the reservation only lowers the odds of a collision.
func reservePorts(ports []int) []int {
	var fds []int
	for _, port := range ports {
		fd, err := reservePort(port)
		if err == nil {
			fds = append(fds, fd)
		}
	}
	return fds
}

func reservePort(port int) (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	addr := &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	if err := syscall.Bind(fd, addr); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

func releasePorts(fds []int) {
	for _, fd := range fds {
		_ = syscall.Close(fd)
	}
}

// relaunchWith returns a relaunch function that starts the service's process
// again with the same binary and arguments, and waits until check passes.
func relaunchWith(s *service, name, bin string, args, env []string, check func(context.Context) error) func(context.Context) (*process, error) {
	return func(ctx context.Context) (*process, error) {
		p, err := startProcess(name, s.logPath, bin, args, env)
		if err != nil {
			return nil, err
		}
		if err := waitReady(ctx, p, check); err != nil {
			p.kill()
			if isExitedEarly(err) {
				err = fmt.Errorf("%w (did another program take its port while it was down?)", err)
			}
			return nil, err
		}
		return p, nil
	}
}
