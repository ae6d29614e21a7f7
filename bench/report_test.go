package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// scenarioResult is what one scenario found: table rows, notes for BENCHMARKS.md, and the
// load on the machine while it ran.
type scenarioResult struct {
	Number  int
	Name    string
	Rows    []row
	Notes   []string
	Load    Load
	Metrics map[string]float64
	// Skipped, when set, says why the scenario did not run (it is printed, never silent).
	Skipped string

	startRate float64 // scenario 1's start rate, which sizes scenario 3's window
}

// row is one figure of the table.
type row struct {
	Figure, Value, Goal, Verdict string
}

func (r *scenarioResult) add(figure, value, goal, verdict string) {
	r.Rows = append(r.Rows, row{figure, value, goal, verdict})
}

func (r *scenarioResult) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func (r *scenarioResult) metric(name string, v float64) {
	if r.Metrics == nil {
		r.Metrics = map[string]float64{}
	}
	r.Metrics[name] = v
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// ---- statistics ----

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of xs.
func percentile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(k, len(s)-1))]
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
}

func pcts(xs []time.Duration) string {
	return fmt.Sprintf("p50 %s, p95 %s, p99 %s", ms(percentile(xs, 50)), ms(percentile(xs, 95)), ms(percentile(xs, 99)))
}

// span is min … max.
func span(xs []time.Duration) string {
	return fmt.Sprintf("min %s, max %s", ms(percentile(xs, 0.0001)), ms(percentile(xs, 100)))
}

// ---- the machine ----

type machine struct {
	CPU, Memory, Go, TemporalCLI, TemporalServer, SDK, DB, DevServer, Kernel string
	Cores                                                                    int
}

func cores() int { return runtime.NumCPU() }

func describeMachine(s *system) machine {
	m := machine{Cores: cores(), Go: runtime.Version(), DB: s.dbDescription}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if mm := regexp.MustCompile(`MemTotal:\s+(\d+) kB`).FindSubmatch(b); mm != nil {
			var kb int
			fmt.Sscan(string(mm[1]), &kb)
			m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/1024/1024)
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.SDK = sdkVersion()
	m.TemporalCLI, m.TemporalServer = temporalVersions(s)
	m.DevServer = "a server from the environment (TEMPORAL_ADDRESS): its persistence and dynamic config are its own"
	if s.pids.temporal > 0 {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", s.pids.temporal))
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		var persist, dyn []string
		for i := 0; i+1 < len(args); i++ {
			switch args[i] {
			case "--db-filename":
				persist = append(persist, "SQLite file")
			case "--sqlite-pragma":
				persist = append(persist, args[i+1])
			case "--dynamic-config-value":
				dyn = append(dyn, "`"+args[i+1]+"`")
			}
		}
		if len(persist) == 0 {
			persist = []string{"in-memory SQLite"}
		}
		m.DevServer = fmt.Sprintf("`temporal server start-dev` started by internal/testenv, persistence %s; dynamic config %s",
			strings.Join(persist, ", "), strings.Join(dyn, ", "))
	}
	return m
}

// temporalVersions reads the CLI's module version (`go version -m`) and the server version
// it embeds (`temporal --version`).
func temporalVersions(s *system) (cli, server string) {
	bin := settings().TemporalCLI
	if bin == "" {
		if s.pids.temporal > 0 {
			bin, _ = os.Readlink(fmt.Sprintf("/proc/%d/exe", s.pids.temporal))
		}
		if bin == "" {
			bin, _ = exec.LookPath("temporal")
		}
	}
	if bin == "" {
		return "unknown", "unknown"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, server = "unknown", "unknown"
	if out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output(); err == nil {
		if mm := regexp.MustCompile(`mod\s+github.com/temporalio/cli\s+(\S+)`).FindSubmatch(out); mm != nil {
			cli = string(mm[1])
		}
	}
	if out, err := exec.CommandContext(ctx, bin, "--version").Output(); err == nil {
		if mm := regexp.MustCompile(`Server ([0-9.]+)`).FindSubmatch(out); mm != nil {
			server = string(mm[1])
		}
		if cli == "unknown" {
			cli = strings.TrimSpace(string(out))
		}
	}
	return cli, server
}

func (s *system) describeDB() string {
	var v string
	if strings.HasPrefix(s.dbURL, "sqlite") {
		_ = s.store.DB.Raw("SELECT sqlite_version()").Scan(&v).Error
		return "SQLite " + v + " (glebarez/sqlite, pure Go; WAL, one connection)"
	}
	_ = s.store.DB.Raw("SELECT VERSION()").Scan(&v).Error
	return "MariaDB " + v + " (testenv's: innodb_flush_log_at_trx_commit=0, doublewrite off, 64 MB buffer pool; GORM pool of 20)"
}

// ---- the report ----

type report struct {
	Machine           machine
	Scale             float64
	DB                string
	Started, Finished time.Time
	Scenarios         []*scenarioResult
}

func (r *report) table() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tfigure\tvalue\tgoal\tverdict")
	for _, s := range r.Scenarios {
		if s.Skipped != "" {
			fmt.Fprintf(tw, "%d\t%s\t%s\t\tskipped\n", s.Number, s.Name, s.Skipped)
			continue
		}
		for _, row := range s.Rows {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", s.Number, row.Figure, row.Value, row.Goal, row.Verdict)
		}
	}
	tw.Flush()
	return b.String()
}

func (r *report) write(path string) error {
	var b strings.Builder
	m := r.Machine
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("%s", beginMarker)
	p("## `make bench`: policyflow against Temporal's own floor")
	p("")
	p("Written by `make bench` (bench/, issue 7) on %s, in %v, at BENCH_SCALE=%g.", r.Finished.In(tokyo).Format("2006-01-02 15:04 MST"),
		r.Finished.Sub(r.Started).Round(time.Second), r.Scale)
	p("Every timing is a ratio to a baseline measured in the same run, or a count: the machine is shared")
	p("with other engineers' tests, so absolute milliseconds move from run to run. Nothing here is a")
	p("pass/fail test; a missed goal is explained below.")
	p("")
	p("### Machine and versions")
	p("")
	p("| | |")
	p("|---|---|")
	p("| CPU | %s, %d cores |", m.CPU, m.Cores)
	p("| memory | %s |", m.Memory)
	p("| kernel | Linux %s |", m.Kernel)
	p("| Go | %s |", m.Go)
	p("| Temporal CLI | %s (server %s) |", m.TemporalCLI, m.TemporalServer)
	p("| Temporal Go SDK | %s |", m.SDK)
	p("| Temporal server | %s |", m.DevServer)
	p("| register | %s |", m.DB)
	p("")
	p("### Conditions")
	p("")
	p("The API (`api.Server` behind `httptest`), the worker (`worker.New`: 4 workflow and 4 activity")
	p("pollers, 50 concurrent activities) and the load generator run in one process, as")
	p("api/fixture_test.go builds the system; mail goes to the outbox table. The baselines run on a")
	p("second worker with the same options on their own task queue, on the same Temporal server.")
	p("CPU use during each scenario, in cores (of %d):", m.Cores)
	p("")
	p("| scenario | wall | this process | Temporal dev server | MariaDB | other processes (other engineers) | load average at end |")
	p("|---|---|---|---|---|---|---|")
	for _, s := range r.Scenarios {
		l := s.Load
		p("| %d %s | %v | %.2f | %.2f | %.2f | %.2f | %.1f |", s.Number, s.Name, l.Wall.Round(time.Second), l.Bench, l.Temporal, l.DB, l.Others, l.LoadAvg)
	}
	p("")
	p("### Results")
	p("")
	p("| # | figure | value | goal | verdict |")
	p("|---|---|---|---|---|")
	for _, s := range r.Scenarios {
		if s.Skipped != "" {
			p("| %d | %s | **%s** | | skipped |", s.Number, s.Name, s.Skipped)
			continue
		}
		for _, row := range s.Rows {
			p("| %d | %s | %s | %s | %s |", s.Number, row.Figure, row.Value, row.Goal, row.Verdict)
		}
	}
	for _, s := range r.Scenarios {
		p("")
		p("### %d. %s", s.Number, s.Name)
		p("")
		if s.Skipped != "" {
			p("**%s.**", s.Skipped)
			p("")
		}
		for _, n := range s.Notes {
			p("%s", n)
			p("")
		}
	}
	if extra, err := os.ReadFile("notes.md"); err == nil {
		p("")
		b.Write(extra)
	}
	p("")
	p("%s", endMarker)
	return os.WriteFile(path, []byte(splice(path, strings.TrimRight(b.String(), "\n")+"\n")), 0o644)
}

// The generated section sits between these markers; the rest of BENCHMARKS.md (other
// benchmarks, written by hand) is kept as it is.
const (
	beginMarker = "<!-- make bench: generated by bench/, do not edit by hand -->"
	endMarker   = "<!-- end of make bench -->"
)

// splice puts the generated section into the file at path: in place of the previous one, or
// after the title, before whatever else the file holds.
func splice(path, section string) string {
	old, err := os.ReadFile(path)
	if err != nil || len(strings.TrimSpace(string(old))) == 0 {
		return "# Benchmarks\n\n" + section
	}
	text := string(old)
	if i, j := strings.Index(text, beginMarker), strings.Index(text, endMarker); i >= 0 && j > i {
		return text[:i] + strings.TrimRight(section, "\n") + text[j+len(endMarker):]
	}
	if strings.HasPrefix(text, "# ") {
		title, rest, _ := strings.Cut(text, "\n")
		return title + "\n\n" + section + "\n" + strings.TrimLeft(rest, "\n")
	}
	return "# Benchmarks\n\n" + section + "\n" + text
}

// sdkVersion is the Temporal Go SDK's version: from the build info, or (test binaries may
// carry none) from the module's go.mod.
func sdkVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "go.temporal.io/sdk" && d.Version != "" {
				return d.Version
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join("..", "go.mod")); err == nil {
		if m := regexp.MustCompile(`(?m)^\s*go\.temporal\.io/sdk (v\S+)`).FindSubmatch(b); m != nil {
			return string(m[1])
		}
	}
	return "(unknown)"
}
