package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/policyflow/policyflow/internal/testenv"
)

// TestProductionShapedEndToEnd runs policyflow as production does (issue 15): `migrate`,
// then `serve` and `worker` as separate processes of the built binary, the register on
// MariaDB, and a Temporal server with SQL persistence, temporal-server on PostgreSQL 15 (as
// scripts/temporal-postgres.sh starts it), instead of the dev server the other tests share.
// An exception request is decided through the link mailed to the CISO; the worker is
// killed (SIGKILL) before the click, so the click is answered 503 and the link keeps
// working; once the worker is back the same click is recorded, the process closes as
// rejected in the register, and the workflow is found through visibility on PostgreSQL by
// its search attribute. The ledger check (checkLedger) ends it: one decision, one accepted
// Update, one mail per notification.
func TestProductionShapedEndToEnd(t *testing.T) {
	ph := newPhase(t)
	ts := testenv.StartTemporalSQL(t)
	ph.done("temporal-server on PostgreSQL started")
	tc := ts.Client(t)
	r := newRigOn(t, startSystemOn(t, ts.HostPort, ts.Namespace), tc)
	ph.done("migrate, serve and worker up")
	pid := r.startExceptions(1)[0]
	link := r.links([]string{pid}, r.cisoMail, reviewSubject, 2*time.Minute)[pid]
	ph.done("the CISO's mail arrived")

	r.killed = true
	if err := r.worker.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = r.worker.Wait()
	if code, body, err := r.post(link, "reject"); code != http.StatusServiceUnavailable || !strings.Contains(body, "もう一度") {
		t.Fatalf("a decision with the worker killed: %d %v\n%s", code, err, brief(body))
	}
	if code, body := getPage(t, link); code != http.StatusOK {
		t.Fatalf("the link after the refused decision: %d\n%s", code, brief(body))
	}
	ph.done("worker killed; the click answered 503, the link still valid")

	r.startWorker()
	o := r.decide(pid, link, "reject", r.cisoName)
	ph.done(fmt.Sprintf("worker restarted; the click recorded (%v)", o))

	var got struct {
		Process struct {
			Status   string
			ClosedAt *time.Time `json:"closed_at"`
		}
		Decisions []struct {
			DeciderID string `json:"decider_id"`
			Choice    string `json:"decision"`
		}
	}
	eventually(t, time.Minute, pid+" to close as rejected", func() bool {
		r.call(r.auditor, "GET", "/api/v1/processes/"+pid, nil, &got)
		return got.Process.Status == "rejected" && got.Process.ClosedAt != nil
	})
	if len(got.Decisions) != 1 || got.Decisions[0].Choice != "reject" || got.Decisions[0].DeciderID != "F-CISO" {
		t.Errorf("decisions = %+v", got.Decisions)
	}

	// Visibility on PostgreSQL: the workflow is found by its search attribute.
	eventually(t, 30*time.Second, "the workflow to be visible by PolicyProcess on the SQL server", func() bool {
		resp, err := tc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: ts.Namespace,
			Query:     fmt.Sprintf(`PolicyProcess = "exception" AND WorkflowId = %q AND ExecutionStatus = "Completed"`, pid),
		})
		return err == nil && len(resp.Executions) == 1
	})
	r.checkLedger()
	ph.done("closed as rejected, visible by PolicyProcess, ledger checked")
}
