package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

// decisionLatency is scenario 1: n sequential decisions through POST /tasks/{token} (HTTP,
// token check, database, the decide Update, the answer page), interleaved one for one with
// n bare UpdateWorkflow calls on a trivial workflow, so that both see the same load.
func (s *system) decisionLatency(b *testing.B) *scenarioResult {
	res := &scenarioResult{}
	ctx := context.Background()
	const warmup = 10
	n := scaled(500, 20)
	total := n + warmup
	// On MySQL/MariaDB, half as many decisions again go through a second API server whose
	// driver setting (interpolateParams) is the opposite of the product's, interleaved.
	var variantURL, variantName string
	nv := 0
	if strings.HasPrefix(s.dbURL, "mysql://") {
		interp := !s.productInterpolates()
		st, closeStore, err := s.tunedStore(interp, nil)
		if err != nil {
			b.Fatalf("scenario 1: %v", err)
		}
		srv := httptest.NewServer(s.newAPI(st).Handler())
		defer func() { srv.Close(); closeStore() }()
		variantURL, variantName = srv.URL, fmt.Sprintf("interpolateParams=%v", interp)
		nv = total / 2
	}

	progress("  starting %d exception requests through the API (8 at a time)", total)
	t0 := time.Now()
	ids := make([]string, total+nv)
	if err := parallel(total+nv, 8, func(i int) error {
		id, err := s.start(ctx, "/api/v1/exceptions", exceptionRequest())
		ids[i] = id
		return err
	}); err != nil {
		b.Fatalf("scenario 1: %v", err)
	}
	links, err := s.openLinks(ctx, ids, "scenario 1")
	if err != nil {
		b.Fatalf("scenario 1: %v", err)
	}
	startTook := time.Since(t0)
	res.startRate = float64(total+nv) / startTook.Seconds()
	progress("  %d processes waiting for the CISO in %v (%.1f processes/s to the first mailed task)", total+nv, startTook.Round(time.Second), res.startRate)
	vlinks := links[total:]
	links = links[:total]

	run := time.Now().UnixNano()
	trivial := make([]string, total)
	if err := parallel(total, 8, func(i int) error {
		trivial[i] = fmt.Sprintf("bench-trivial-%d-%d", run, i)
		_, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: trivial[i], TaskQueue: baselineQueue}, "BenchTrivialUpdate")
		return err
	}); err != nil {
		b.Fatalf("scenario 1: start trivial workflows: %v", err)
	}
	// Each trivial workflow must have run its first workflow task (its Update handler is
	// registered), as each process is waiting with its task open.
	if err := parallel(total, 8, func(i int) error {
		for {
			d, err := s.tc.DescribeWorkflowExecution(ctx, trivial[i], "")
			if err != nil {
				return err
			}
			if d.PendingWorkflowTask == nil {
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
	}); err != nil {
		b.Fatalf("scenario 1: %v", err)
	}

	progress("  %d decisions, each followed by a bare Update (first %d of each are warm-up)", total, warmup)
	var pf, bare, variant []time.Duration
	for i := range total {
		t := time.Now()
		r, err := postDecision(ctx, links[i], url.Values{"decision": {"reject"}, "comment": {"benchmark decision"}})
		took := time.Since(t)
		if err != nil || r.Status != http.StatusOK || !strings.Contains(string(r.Body), "記録しました") {
			b.Fatalf("scenario 1: decision %d on %s: %v %s", i, ids[i], err, r)
		}
		t = time.Now()
		h, err := s.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{UpdateID: "decide-1", WorkflowID: trivial[i],
			UpdateName: "decide", Args: []any{"reject"}, WaitForStage: client.WorkflowUpdateStageCompleted})
		var out string
		if err == nil {
			err = h.Get(ctx, &out)
		}
		bareTook := time.Since(t)
		if err != nil || out != "reject" {
			b.Fatalf("scenario 1: bare update %d: %v", i, err)
		}
		if i >= warmup {
			pf = append(pf, took)
			bare = append(bare, bareTook)
		}
		if i%2 == 0 && i/2 < len(vlinks) {
			link := variantURL + vlinks[i/2][strings.Index(vlinks[i/2], "/tasks/"):]
			t = time.Now()
			r, err := postDecision(ctx, link, url.Values{"decision": {"reject"}, "comment": {"benchmark decision"}})
			if err != nil || r.Status != http.StatusOK {
				b.Fatalf("scenario 1: decision through the %s server: %v %s", variantName, err, r)
			}
			if i >= warmup {
				variant = append(variant, time.Since(t))
			}
		}
		if (i+1)%100 == 0 {
			progress("  %d/%d: policyflow %s; bare Update %s", i+1, total, pcts(pf), pcts(bare))
		}
	}

	p99, b99 := percentile(pf, 99), percentile(bare, 99)
	ratio := float64(p99) / float64(b99)
	res.metric("s1_p99_ratio", ratio)
	res.add(fmt.Sprintf("decision POST /tasks/{token}, %d sequential", n), pcts(pf), "", "")
	res.add(fmt.Sprintf("bare UpdateWorkflow on a trivial workflow, %d", n), pcts(bare), "", "")
	res.add("decision p99 / bare Update p99", fmt.Sprintf("%.2f (p50 ratio %.2f)", ratio, float64(percentile(pf, 50))/float64(percentile(bare, 50))), "≤ 1.5", verdict(ratio <= 1.5))
	if len(variant) > 0 {
		res.add(fmt.Sprintf("same decisions through an API server with %s, %d", variantName, len(variant)), pcts(variant), "", "")
		res.note("The %d decisions through a second API server differ from the product only in the MySQL driver's `%s` (GORM and pool unchanged), interleaved with the others: p50 %s against the product's %s, mean %s against %s.",
			len(variant), variantName, ms(percentile(variant, 50)), ms(percentile(pf, 50)), ms(mean(variant)), ms(mean(pf)))
	}
	res.add("processes started through the API, to the first mailed task", fmt.Sprintf("%.1f /s (%d in %v, 8 clients)", res.startRate, total+nv, startTook.Round(time.Second)), "", "")
	res.note("Each decision is a person's form post on the emailed link, answered with the HTML page: the link's token is hashed and looked up (link, task, process, the people), the request is stored, the `decide` Update waits for the workflow's validator and handler (WaitForStage completed), and the decision is written to the register. Each one is followed by one bare `UpdateWorkflow` (no validator, no database) on its own trivial workflow that waits for it, on the same server, so both series see the same load. The decision rejects the request, so each process goes on to record the decision and close while the next pair runs (the trivial workflow completes at once). %d warm-up pairs are not counted.", warmup)
	res.note("Mean of the sequential series: policyflow %s, bare Update %s. The difference (%s) is what policyflow adds around the Update: HTTP and the page, the token and its joins, the stored request, and the register write.",
		ms(mean(pf)), ms(mean(bare)), ms(mean(pf)-mean(bare)))
	return res
}

func mean(xs []time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	var t time.Duration
	for _, x := range xs {
		t += x
	}
	return t / time.Duration(len(xs))
}
