package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Load accounting: how busy the machine was during a scenario and who used it. Other
// engineers run tests on the same machine, so a scenario's timings are read beside these.

// clockTicks is USER_HZ, 100 on every Linux the benchmark runs on.
const clockTicks = 100

// servicePIDs are the service processes whose CPU time is counted apart (0: unknown, e.g.
// a server from the environment or on another machine).
type servicePIDs struct {
	temporal, db int
}

// findServicePIDs finds the dev server listening on temporalAddr's port and the mariadbd
// listening on the register's port, by their command lines.
func findServicePIDs(temporalAddr, dbURL string) servicePIDs {
	var out servicePIDs
	tport := temporalAddr[strings.LastIndex(temporalAddr, ":")+1:]
	dport := ""
	if m := regexp.MustCompile(`tcp\([^)]*:(\d+)\)`).FindStringSubmatch(dbURL); m != nil {
		dport = m[1]
	}
	// A Temporal server the suite did not start (TEMPORAL_ADDRESS) is found by its PID.
	if v, err := strconv.Atoi(os.Getenv("BENCH_TEMPORAL_PID")); err == nil && v > 0 {
		out.temporal = v
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		pid, _ := strconv.Atoi(filepath.Base(d))
		joined := strings.Join(args, " ")
		switch {
		case strings.Contains(joined, "start-dev") && containsPair(args, "--port", tport):
			out.temporal = pid
		case dport != "" && len(args) > 0 && strings.HasSuffix(args[0], "mariadbd") && strings.Contains(joined, "--port="+dport):
			out.db = pid
		}
	}
	return out
}

func containsPair(args []string, flag, value string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag && args[i+1] == value {
			return true
		}
	}
	return false
}

// cpuSeconds is the CPU time (user + system) a process has used; pid 0 is "self".
func cpuSeconds(pid int) float64 {
	path := "/proc/self/stat"
	if pid > 0 {
		path = fmt.Sprintf("/proc/%d/stat", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / clockTicks
}

// machineBusy is the busy CPU time of the whole machine (all cores), in seconds.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line := strings.SplitN(string(b), "\n", 2)[0]
	f := strings.Fields(line)
	var total, idle float64
	for i, v := range f[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		if i >= 8 { // guest time is already counted in user
			break
		}
		total += x
		if i == 3 || i == 4 { // idle, iowait
			idle += x
		}
	}
	return (total - idle) / clockTicks
}

func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return v
}

// Load is who kept the machine's cores busy during a scenario, in cores (CPU seconds per
// second of wall time).
type Load struct {
	Wall                               time.Duration
	Bench, Temporal, DB, Others, Total float64
	LoadAvg                            float64
}

func (l Load) summary() string {
	return fmt.Sprintf("cores busy: this process %.2f, Temporal %.2f, MariaDB %.2f, others %.2f of %d; load average %.1f",
		l.Bench, l.Temporal, l.DB, l.Others, cores(), l.LoadAvg)
}

type watcher struct {
	s                       *system
	t0                      time.Time
	self, temporal, db, all float64
}

func (s *system) watch() *watcher {
	return &watcher{s: s, t0: time.Now(), self: cpuSeconds(0), temporal: cpuSeconds(s.pids.temporal),
		db: cpuSeconds(s.pids.db), all: machineBusy()}
}

func (w *watcher) stop() Load {
	wall := time.Since(w.t0)
	sec := wall.Seconds()
	l := Load{Wall: wall, LoadAvg: loadAvg()}
	l.Bench = (cpuSeconds(0) - w.self) / sec
	if w.s.pids.temporal > 0 {
		l.Temporal = (cpuSeconds(w.s.pids.temporal) - w.temporal) / sec
	}
	if w.s.pids.db > 0 {
		l.DB = (cpuSeconds(w.s.pids.db) - w.db) / sec
	}
	l.Total = (machineBusy() - w.all) / sec
	l.Others = max(0, l.Total-l.Bench-l.Temporal-l.DB)
	return l
}
