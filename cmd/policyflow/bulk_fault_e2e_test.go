package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
)

// TestFaultAPIKilledDuringBulk proves that a bulk batch survives its API (issue 15): a
// 2,000-item batch (one item in three a real leaver, the others unknown employees, in
// turn) is posted to serve, serve is killed (SIGKILL) once the batch is under way, the batch
// goes on while no API runs (the worker works through it), and after serve is started
// again every item has ended started or rejected: none pending, none started twice.
func TestFaultAPIKilledDuringBulk(t *testing.T) {
	const total = 2000
	r := newRig(t)
	ph := newPhase(t)
	directory := r.run("token", "create", "bulk-directory", "directory")
	hr := r.run("token", "create", "bulk-hr", "hr")
	tag := randHex(3)
	var csv strings.Builder
	csv.WriteString("employee_id,name,email,department,roles,locale,employment_status\n")
	leavers := map[string]bool{}
	items := make([]map[string]string, total)
	effective := time.Now().In(tokyo(t)).AddDate(0, 1, 0).Format("2006-01-02")
	for i := range items {
		emp := fmt.Sprintf("BK-%s-%04d", tag, i)
		if i%3 == 0 {
			leavers[emp] = true
			fmt.Fprintf(&csv, "%s,職員 %d,bk-%s-%d@faults.example,residents,staff,ja,employed\n", emp, i, tag, i)
		}
		items[i] = map[string]string{"employee_id": emp, "reason": "retirement", "effective_date": effective}
	}
	if code, body := r.raw(directory, "POST", "/api/v1/people/import", "text/csv", []byte(csv.String())); code != 200 {
		t.Fatalf("import: %d %s", code, body)
	}
	// The leavers' offboardings wait a month for their date: end them with the test, so
	// that they never run on a later test's worker.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		rows, err := r.db.QueryContext(ctx, "SELECT workflow_id FROM processes WHERE employee_id LIKE ?", "BK-"+tag+"-%")
		if err != nil {
			return
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if rows.Scan(&id) == nil {
				_ = r.tc.TerminateWorkflow(ctx, id, "", "end of the bulk fault test")
			}
		}
	})
	ph.done(fmt.Sprintf("%d people imported", len(leavers)))

	body, _ := json.Marshal(map[string]any{"items": items})
	code, out := r.raw(hr, "POST", "/api/v1/offboardings/bulk", "application/json", body)
	if code != http.StatusAccepted {
		t.Fatalf("bulk: %d %s", code, out)
	}
	var ans struct {
		BatchID string `json:"batch_id"`
	}
	_ = json.Unmarshal(out, &ans)
	settled := func() int {
		var n int
		_ = r.db.QueryRow("SELECT COUNT(*) FROM offboarding_batch_items WHERE batch_id = ? AND result <> 'pending'", ans.BatchID).Scan(&n)
		return n
	}
	eventually(t, time.Minute, "the batch to get under way", func() bool { return settled() >= 50 })
	_ = r.serve.Process.Kill()
	_, _ = r.serve.Process.Wait()
	atKill := settled()
	if atKill >= total {
		t.Fatalf("the batch was done before the API could be killed")
	}
	ph.done(fmt.Sprintf("API killed with %d of %d items settled", atKill, total))

	// With no API running, the worker goes on with the batch.
	eventually(t, time.Minute, "the batch to go on without the API", func() bool { return settled() >= atKill+100 || settled() == total })
	ph.done(fmt.Sprintf("the batch went on without the API: %d settled", settled()))

	r.serve = r.start("serve")
	r.waitReady()
	var batch struct {
		Status string         `json:"status"`
		Done   int            `json:"done"`
		Counts map[string]int `json:"counts"`
		Items  []struct {
			Index     int    `json:"index"`
			Result    string `json:"result"`
			ProcessID string `json:"process_id"`
		} `json:"items"`
	}
	eventually(t, 5*time.Minute, "the batch to finish", func() bool {
		code, out := r.raw(hr, "GET", "/api/v1/offboardings/bulk/"+ans.BatchID, "", nil)
		return code == 200 && json.Unmarshal(out, &batch) == nil && batch.Status != "running"
	})
	ph.done(fmt.Sprintf("API back; the batch is %s: %v", batch.Status, batch.Counts))

	if batch.Status != "done" || batch.Done != total || len(batch.Items) != total {
		t.Fatalf("batch %s, done %d, %d items", batch.Status, batch.Done, len(batch.Items))
	}
	for _, it := range batch.Items {
		emp := items[it.Index]["employee_id"]
		want := "rejected"
		if leavers[emp] {
			want = "started"
		}
		if it.Result != want {
			t.Errorf("item %d (%s): %s, want %s", it.Index, emp, it.Result, want)
		}
	}
	// One process per leaver in the register: none started twice.
	var processes int
	_ = r.db.QueryRow("SELECT COUNT(*) FROM processes WHERE employee_id LIKE ? AND kind = 'offboarding'", "BK-"+tag+"-%").Scan(&processes)
	if processes != len(leavers) {
		t.Errorf("%d offboarding processes in the register, want %d", processes, len(leavers))
	}
	// The register says done from the last page, a workflow task before the workflow ends.
	wctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.tc.GetWorkflow(wctx, "offboarding-batch-"+ans.BatchID, "").Get(wctx, nil); err != nil {
		t.Errorf("the batch's workflow did not complete: %v", err)
	}
	d, err := r.tc.DescribeWorkflowExecution(context.Background(), "offboarding-batch-"+ans.BatchID, "")
	if err != nil || d.WorkflowExecutionInfo.Status != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Errorf("the batch's workflow: %v %v", d.GetWorkflowExecutionInfo().GetStatus(), err)
	}
}

// raw sends a request with a bearer token and any body, and returns the status and body.
func (r *rig) raw(token, method, path, contentType string, body []byte) (int, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.baseURL+path, bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}
