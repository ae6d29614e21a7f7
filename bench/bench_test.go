package bench

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/policyflow/policyflow/internal/testenv"
)

// TestMain starts services only when benchmarks run (`make bench`): a plain `go test
// ./...` runs the cheap unit tests of this package and starts nothing.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	// A finer heap profile than the default one sample per 512 KiB (scenario 5 reads it).
	runtime.MemProfileRate = 16 << 10
	// The names the brief gives (TEMPORAL_ADDRESS, a MySQL DSN) map onto testenv's.
	if v := os.Getenv("TEMPORAL_ADDRESS"); v != "" && os.Getenv(testenv.EnvTemporalAddress) == "" {
		_ = os.Setenv(testenv.EnvTemporalAddress, v)
	}
	if v := os.Getenv("BENCH_MYSQL_DSN"); v != "" && os.Getenv(testenv.EnvMySQLDSN) == "" {
		_ = os.Setenv(testenv.EnvMySQLDSN, v)
	}
	needs := []testenv.Need{testenv.NeedTemporal}
	if settings().DB == "mariadb" {
		needs = append(needs, testenv.NeedMariaDB)
	}
	os.Exit(testenv.Main(m, needs...))
}

// config is what the environment chooses.
type config struct {
	Scale       float64       // BENCH_SCALE: multiplies every count (default 1)
	DB          string        // BENCH_DB: mariadb (default) or sqlite
	Out         string        // BENCH_OUT: where the report goes (default ../BENCHMARKS.md)
	Only        map[int]bool  // BENCH_ONLY: e.g. "1,6" runs scenarios 1 and 6 (and 4's setup)
	ReadFor     time.Duration // BENCH_READ_SECONDS: length of scenario 6 (default 20 s)
	MemBudget   time.Duration // BENCH_MEMORY_BUDGET: the longest scenario 5 may spend starting processes
	ProfileDir  string        // where pprof profiles are written
	TemporalCLI string
}

var (
	cfgOnce sync.Once
	cfg     config
)

func settings() config {
	cfgOnce.Do(func() {
		cfg = config{Scale: 1, DB: "mariadb", Out: filepath.Join("..", "BENCHMARKS.md"), ReadFor: 20 * time.Second, MemBudget: 6 * time.Minute}
		if v := os.Getenv("BENCH_SCALE"); v != "" {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
				cfg.Scale = f
			}
		}
		if v := strings.ToLower(os.Getenv("BENCH_DB")); v == "sqlite" {
			cfg.DB = "sqlite"
		}
		if v := os.Getenv("BENCH_OUT"); v != "" {
			cfg.Out = v
		}
		if v := os.Getenv("BENCH_ONLY"); v != "" {
			cfg.Only = map[int]bool{}
			for _, s := range strings.Split(v, ",") {
				if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
					cfg.Only[n] = true
				}
			}
		}
		if v := os.Getenv("BENCH_READ_SECONDS"); v != "" {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				cfg.ReadFor = time.Duration(n) * time.Second
			}
		}
		if v := os.Getenv("BENCH_MEMORY_BUDGET"); v != "" {
			if d, err := time.ParseDuration(v); err == nil && d > 0 {
				cfg.MemBudget = d
			}
		}
		cfg.TemporalCLI = os.Getenv(testenv.EnvTemporalCLI)
	})
	return cfg
}

// scaled is n times BENCH_SCALE, at least min.
func scaled(n, min int) int {
	v := int(float64(n)*settings().Scale + 0.5)
	if v < min {
		return min
	}
	return v
}

func (c config) runs(scenario int) bool { return c.Only == nil || c.Only[scenario] }

var started = time.Now()

// progress prints a line while the benchmark runs (go test streams a benchmark's output).
func progress(format string, args ...any) {
	el := time.Since(started).Round(time.Second)
	fmt.Printf("[%02d:%02d] %s\n", int(el.Minutes()), int(el.Seconds())%60, fmt.Sprintf(format, args...))
}

var benchOnce sync.Once

// BenchmarkPolicyflow runs every scenario once, prints the table and writes BENCHMARKS.md.
// It is not a timed pass/fail test: it fails only if the system under test breaks.
func BenchmarkPolicyflow(b *testing.B) {
	ran := false
	benchOnce.Do(func() {
		ran = true
		started = time.Now()
		runAll(b)
	})
	if !ran {
		b.Skip("the suite runs once per process")
	}
}

func runAll(b *testing.B) {
	c := settings()
	progress("policyflow benchmark: scale %.2g, register on %s; starting services", c.Scale, c.DB)
	s := build(b)
	r := &report{Machine: describeMachine(s), Scale: c.Scale, DB: s.dbDescription, Started: time.Now()}
	progress("system up: Temporal at %s, %s; API at %s", s.temporalAddr, s.dbDescription, s.url)

	step := func(n int, name string, f func() *scenarioResult) {
		if !c.runs(n) {
			return
		}
		progress("scenario %d: %s", n, name)
		w := s.watch()
		res := f()
		res.Number, res.Name = n, name
		res.Load = w.stop()
		r.Scenarios = append(r.Scenarios, res)
		progress("scenario %d done in %v (%s)", n, res.Load.Wall.Round(time.Second), res.Load.summary())
	}
	step(4, "cost per process", func() *scenarioResult { return s.costPerProcess(b) })
	var startRate float64
	step(1, "decision latency", func() *scenarioResult {
		res := s.decisionLatency(b)
		startRate = res.startRate
		return res
	})
	step(3, "timer lateness", func() *scenarioResult { return s.timerLateness(b, startRate) })
	step(2, "bulk start", func() *scenarioResult { return s.bulkStart(b) })
	step(5, "worker memory", func() *scenarioResult { return s.workerMemory(b) })
	step(6, "read load", func() *scenarioResult { return s.readLoad(b) })

	r.Finished = time.Now()
	table := r.table()
	fmt.Println()
	fmt.Println(table)
	if err := r.write(c.Out); err != nil {
		b.Errorf("writing %s: %v", c.Out, err)
	} else {
		progress("wrote %s", c.Out)
	}
	for _, sc := range r.Scenarios {
		for k, v := range sc.Metrics {
			b.ReportMetric(v, k)
		}
	}
}
