package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/internal/testenv"
	"github.com/policyflow/policyflow/models"
)

// BenchmarkOffboardingBulk measures the April 1 reshuffle on the real services (the built
// binary's serve and worker, MariaDB, Mailpit, the Temporal dev server): 1,000 offboardings
// through POST /offboardings/bulk, the time until all are started and until all wait for
// their effective date, then more until POLICYFLOW_BENCH_WAITING (10,000 by default)
// wait, and the worker's memory then. It is not a timed test: run it by hand and write the
// figures to BENCHMARKS.md.
//
//	go test ./cmd/policyflow/ -run '^$' -bench OffboardingBulk -benchtime 1x -timeout 60m
func BenchmarkOffboardingBulk(b *testing.B) {
	waiting := 10000
	if v := os.Getenv("POLICYFLOW_BENCH_WAITING"); v != "" {
		waiting, _ = strconv.Atoi(v)
	}
	for range b.N {
		benchOnce(b, 1000, waiting)
	}
}

func benchOnce(b *testing.B, first, total int) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "policyflow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	host, port := testenv.SMTPAddr(b)
	dsn := "mysql://" + testenv.MariaDB(b)
	env := append(os.Environ(), "POLICYFLOW_DATABASE_URL="+dsn, "TEMPORAL_ADDRESS="+testenv.TemporalAddress(b),
		"TEMPORAL_NAMESPACE="+testenv.TemporalNamespace(b), "POLICYFLOW_HTTP_ADDR="+addr, "POLICYFLOW_PUBLIC_URL=http://"+addr,
		fmt.Sprintf("POLICYFLOW_SMTP_URL=smtp://%s:%d", host, port), "POLICYFLOW_MAIL_FROM=policyflow@town.example",
		"POLICYFLOW_RECONCILIATION_CRON=off", "POLICYFLOW_DECISION_KEYS="+testDecisionKeys)
	run := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("policyflow %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	start := func(sub string) *exec.Cmd {
		f, _ := os.Create(filepath.Join(dir, sub+".log"))
		cmd := exec.Command(bin, sub)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
		return cmd
	}
	run("migrate")
	start("serve")
	worker := start("worker")
	base := "http://" + addr
	waitFor(b, 60*time.Second, func() bool {
		r, err := http.Get(base + "/readyz")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == 200
	})
	directory := run("token", "create", "bench-directory", "directory")
	hr := run("token", "create", "bench-hr", "hr")

	// The roster: a CISO, a GISO, 20 departments with a security officer each, and the
	// leavers spread over them.
	var csv strings.Builder
	csv.WriteString("employee_id,name,email,department,roles,locale,employment_status\n")
	csv.WriteString("B-CISO,CISO,ciso@town.example,mayor,ciso,ja,employed\nB-GISO,GISO,giso@town.example,general,giso,ja,employed\n")
	for d := range 20 {
		fmt.Fprintf(&csv, "B-DISO-%d,DISO %d,diso%d@town.example,dept-%d,diso,ja,employed\n", d, d, d, d)
	}
	for i := range total {
		fmt.Fprintf(&csv, "B-%05d,Staff %d,s%d@town.example,dept-%d,staff,ja,employed\n", i, i, i, i%20)
	}
	if code, body := send(b, "POST", base+"/api/v1/people/import", directory, "text/csv", []byte(csv.String())); code != 200 {
		b.Fatalf("import: %d %s", code, body)
	}
	effective := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
	bulk := func(from, to int) string {
		items := make([]map[string]string, 0, to-from)
		for i := from; i < to; i++ {
			items = append(items, map[string]string{"employee_id": fmt.Sprintf("B-%05d", i), "reason": "retirement", "effective_date": effective})
		}
		body, _ := json.Marshal(map[string]any{"items": items})
		code, out := send(b, "POST", base+"/api/v1/offboardings/bulk", hr, "application/json", body)
		if code != 202 && code != 200 {
			b.Fatalf("bulk: %d %s", code, out)
		}
		var ans struct {
			BatchID string `json:"batch_id"`
		}
		_ = json.Unmarshal(out, &ans)
		return ans.BatchID
	}
	batchDone := func(id string) func() bool {
		return func() bool {
			_, out := send(b, "GET", base+"/api/v1/offboardings/bulk/"+id, hr, "", nil)
			var ans struct {
				Status string
				Counts map[string]int
			}
			_ = json.Unmarshal(out, &ans)
			if ans.Status == "done" && ans.Counts["started"] == 0 {
				b.Fatalf("batch %s started nothing: %v", id, ans.Counts)
			}
			return ans.Status == "done"
		}
	}
	store, err := models.Open(dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	waitingCount := func() int64 {
		var n int64
		store.DB.Model(&models.Process{}).Where("kind = ? AND stage = ?", "offboarding", "awaiting_effective_date").Count(&n)
		return n
	}

	b.ResetTimer()
	t0 := time.Now()
	id := bulk(0, first)
	accepted := time.Since(t0)
	waitFor(b, 30*time.Minute, batchDone(id))
	started := time.Since(t0)
	waitFor(b, 30*time.Minute, func() bool { return waitingCount() >= int64(first) })
	allWaiting := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(accepted.Seconds(), "s-to-202")
	b.ReportMetric(started.Seconds(), "s-all-started")
	b.ReportMetric(allWaiting.Seconds(), "s-all-waiting")
	b.Logf("%d offboardings: 202 after %s, all started after %s, all waiting for their date after %s; worker RSS %s",
		first, accepted, started, allWaiting, rss(worker.Process.Pid))

	if total > first {
		t1 := time.Now()
		for from := first; from < total; from += 5000 {
			waitFor(b, 60*time.Minute, batchDone(bulk(from, min(from+5000, total))))
		}
		waitFor(b, 60*time.Minute, func() bool { return waitingCount() >= int64(total) })
		b.Logf("%d more started and waiting after %s", total-first, time.Since(t1))
		time.Sleep(30 * time.Second) // let the worker settle: nothing runs while they wait
		b.Logf("with %d offboardings waiting: worker %s", total, rss(worker.Process.Pid))
		b.ReportMetric(float64(rssKB(worker.Process.Pid, "VmRSS:"))/1024, "MiB-worker-rss-waiting")
	}
}

func waitFor(b *testing.B, limit time.Duration, ok func() bool) {
	b.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			b.Fatalf("gave up after %s", limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func send(b *testing.B, method, url, token, contentType string, body []byte) (int, []byte) {
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func rssKB(pid int, field string) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

func rss(pid int) string {
	return fmt.Sprintf("RSS %d MiB (peak %d MiB)", rssKB(pid, "VmRSS:")/1024, rssKB(pid, "VmHWM:")/1024)
}
