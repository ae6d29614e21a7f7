package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/worker"
)

// memSample is the process's memory with a number of processes waiting on people.
type memSample struct {
	N          int
	RSS        int64 // VmRSS after a GC that returns freed memory to the OS
	HWM        int64 // VmHWM: the peak so far
	HeapInuse  uint64
	Goroutines int
	Took       time.Duration // to start the processes of this step
}

func readMem() memSample {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	out := memSample{HeapInuse: m.HeapInuse, Goroutines: runtime.NumGoroutine()}
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "VmRSS:":
				out.RSS = kb << 10
			case "VmHWM:":
				out.HWM = kb << 10
			}
		}
	}
	return out
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// workerMemory is scenario 5: the resident memory of the process that runs the worker with
// N exception requests waiting for the CISO, for N = 1,000, 5,000 and 10,000. The worker is
// restarted with an empty workflow cache first, so the processes of earlier scenarios are
// not in it.
func (s *system) workerMemory(b *testing.B) *scenarioResult {
	res := &scenarioResult{}
	ctx := context.Background()
	steps := []int{scaled(1000, 20), scaled(5000, 50), scaled(10000, 100)}

	// Processes that will not be in the cache: started now, before the worker restarts with
	// an empty cache; decided at the end beside as many cached ones.
	m := scaled(50, 10)
	cold := make([]string, m)
	if err := parallel(m, 8, func(i int) error {
		var err error
		cold[i], err = s.start(ctx, "/api/v1/exceptions", exceptionRequest())
		return err
	}); err != nil {
		b.Fatalf("scenario 5: %v", err)
	}
	coldLinks, err := s.openLinks(ctx, cold, "scenario 5 (not cached)")
	if err != nil {
		b.Fatalf("scenario 5: %v", err)
	}
	if err := s.waitQuiet(ctx); err != nil {
		b.Fatalf("scenario 5: %v", err)
	}

	s.stopWorkers()
	sdkworker.PurgeStickyWorkflowCache()
	if err := s.startWorkers(); err != nil {
		b.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	base := readMem()
	progress("  baseline with the worker idle and its cache empty: RSS %s, Go heap %s, %d goroutines", mib(base.RSS), mib(int64(base.HeapInuse)), base.Goroutines)

	var samples []memSample
	startedAt := time.Now()
	total := 0
	var ids, lastLinks []string
	budget := settings().MemBudget
	stopped := ""
	for _, target := range steps {
		t0 := time.Now()
		from := total
		// In chunks of 500, each to its mailed task, so that the budget counts the whole
		// start and the server never holds a long backlog.
		for total < target && stopped == "" {
			if time.Since(startedAt) > budget {
				stopped = fmt.Sprintf("stopped at %d on the way to %d: the %v budget (BENCH_MEMORY_BUDGET) for starting processes was spent", total, target, budget)
				break
			}
			add := min(500, target-total)
			newIDs := make([]string, add)
			if err := parallel(add, 16, func(i int) error {
				var err error
				newIDs[i], err = s.start(ctx, "/api/v1/exceptions", exceptionRequest())
				return err
			}); err != nil {
				b.Fatalf("scenario 5: %v", err)
			}
			links, err := s.openLinks(ctx, newIDs, fmt.Sprintf("scenario 5 (%d)", total+add))
			if err != nil {
				b.Fatalf("scenario 5: %v", err)
			}
			lastLinks = links
			ids = append(ids, newIDs...)
			total += add
			progress("  %d/%d waiting (%.1f/s over this step)", total, target, float64(total-from)/time.Since(t0).Seconds())
		}
		if total == from {
			break
		}
		if err := s.waitQuiet(ctx); err != nil {
			b.Fatalf("scenario 5: %v", err)
		}
		m := readMem()
		m.N, m.Took = total, time.Since(t0)
		samples = append(samples, m)
		progress("  %d waiting: RSS %s (+%s), Go heap %s, %d goroutines; %d started in %v (%.1f/s)", total, mib(m.RSS), mib(m.RSS-base.RSS),
			mib(int64(m.HeapInuse)), m.Goroutines, total-from, m.Took.Round(time.Second), float64(total-from)/m.Took.Seconds())
		if stopped != "" {
			break
		}
	}
	dir := profileDir()
	heapTop := ""
	if f, err := os.Create(filepath.Join(dir, "s5-heap.pprof")); err == nil {
		_ = pprof.WriteHeapProfile(f)
		f.Close()
		heapTop = pprofTop(filepath.Join(dir, "s5-heap.pprof"), "-sample_index=inuse_space")
	}

	// Decisions on workflows the worker does not have in memory (replayed from history) and
	// on ones it has (the most recently started), interleaved.
	var coldLat, warmLat []time.Duration
	for i := range min(m, len(lastLinks)) {
		for _, c := range []struct {
			link string
			into *[]time.Duration
		}{{coldLinks[i], &coldLat}, {lastLinks[len(lastLinks)-1-i], &warmLat}} {
			t := time.Now()
			r, err := postDecision(ctx, c.link, url.Values{"decision": {"reject"}, "comment": {"benchmark"}})
			if err != nil || r.Status != http.StatusOK {
				b.Fatalf("scenario 5: decision: %v %s", err, r)
			}
			*c.into = append(*c.into, time.Since(t))
		}
	}
	res.add(fmt.Sprintf("decision on a cached workflow, %d", len(warmLat)), pcts(warmLat), "", "")
	res.add(fmt.Sprintf("decision on a workflow not in the cache (replayed), %d", len(coldLat)), pcts(coldLat), "", "")

	last := samples[len(samples)-1]
	perProc := float64(last.RSS-base.RSS) / float64(last.N)
	res.metric("s5_rss_mib", float64(last.RSS)/(1<<20))
	res.metric("s5_kib_per_process", perProc/1024)
	for _, m := range samples {
		res.add(fmt.Sprintf("RSS with %d processes waiting", m.N), fmt.Sprintf("%s (+%s over idle; Go heap %s, %d goroutines)", mib(m.RSS), mib(m.RSS-base.RSS), mib(int64(m.HeapInuse)), m.Goroutines),
			"< 400 MiB", verdict(m.RSS < 400<<20))
	}
	target := steps[len(steps)-1]
	// Growth between the last two steps: with more processes waiting than the cache holds,
	// a flat worker adds nothing.
	slope := perProc
	if len(samples) >= 2 {
		a, z := samples[len(samples)-2], samples[len(samples)-1]
		slope = float64(z.RSS-a.RSS) / float64(z.N-a.N)
		res.add(fmt.Sprintf("growth from %d to %d", a.N, z.N), fmt.Sprintf("%.1f KiB per additional waiting process", slope/1024), "flat", verdict(slope < 2048))
		res.metric("s5_kib_per_process_last_step", slope/1024)
	}
	if last.N < target {
		est := last.RSS + int64(slope*float64(target-last.N))
		res.add(fmt.Sprintf("RSS with %d (extrapolated, linear)", target), mib(est), "< 400 MiB", verdict(est < 400<<20)+" (extrapolated)")
		res.note("**Extrapolated:** %s. The figure for %d is the RSS at %d plus %d × the %.1f KiB per process measured over the last step.", stopped, target, last.N, target-last.N, slope/1024)
	}
	res.note("RSS is the whole benchmark process (API, worker, load generator), read from /proc/self/status after `runtime.GC` and `debug.FreeOSMemory`; idle, with the worker restarted and its workflow cache purged, it was %s (Go heap %s, %d goroutines). The peak RSS (VmHWM) over the whole run so far was %s. Each process is an exception request waiting for the CISO's review (one open task, one pending reminder timer), started through the API 16 at a time; the step to %d took %v.",
		mib(base.RSS), mib(int64(base.HeapInuse)), base.Goroutines, mib(last.HWM), last.N, last.Took.Round(time.Second))
	res.note("Why it grows: the Go SDK keeps the workflows it ran in its sticky cache, each with its coroutine's goroutine and state, so that the next workflow task needs no replay. The worker sets the cache to %d workflows (`worker.StickyCacheSize`; the SDK's default is 10,000): below that, memory grows with the number of waiting processes; above it, the least recently used are evicted and replayed from history when their timer or decision comes, so RSS levels off. The price of a smaller cache is a replay (a GetWorkflowExecutionHistory call and re-running the workflow code) on the next workflow task of an evicted process; the last two rows measure it on a decision, cached and evicted processes interleaved.", worker.StickyCacheSize)
	if heapTop != "" {
		res.note("Heap in use with %d processes waiting (`go tool pprof -top -sample_index=inuse_space`, profile in %s):\n\n```\n%s\n```", last.N, dir, heapTop)
	}
	return res
}

// waitQuiet waits until the worker has nothing in flight: no task open without its mail and
// nothing pending in the register's mail, for two consecutive looks.
func (s *system) waitQuiet(ctx context.Context) error {
	deadline := time.Now().Add(5 * time.Minute)
	quiet := 0
	for quiet < 2 {
		var unsent int64
		if err := s.store.DB.WithContext(ctx).Model(&models.Notification{}).Where("status <> ?", models.NotificationSent).Count(&unsent).Error; err != nil {
			return err
		}
		if unsent == 0 {
			quiet++
		} else {
			quiet = 0
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d mails still unsent after 5 minutes", unsent)
		}
		time.Sleep(time.Second)
	}
	return nil
}

var profileDirOnce = func() func() string {
	var dir string
	return func() string {
		if dir == "" {
			dir = filepath.Join(os.TempDir(), fmt.Sprintf("policyflow-bench-profiles-%d", os.Getpid()))
			_ = os.MkdirAll(dir, 0o755)
		}
		return dir
	}
}()

func profileDir() string { return profileDirOnce() }

// pprofTop runs `go tool pprof -top` on a profile and keeps the first lines.
func pprofTop(path string, extra ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Go profiles carry their symbols: no binary needed.
	args := append([]string{"tool", "pprof", "-top", "-nodecount=15"}, extra...)
	args = append(args, path)
	out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	re := regexp.MustCompile(`^(File|Build ID|Type|Time|Duration|Showing|Dropped)\b`)
	var keep []string
	for _, l := range lines {
		if re.MatchString(l) && !strings.HasPrefix(l, "Showing nodes") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}
