package workflows_test

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/workflows"
)

// TestReplayRecordedHistories replays histories recorded on a real Temporal server
// (testdata/histories, written by the end-to-end tests with POLICYFLOW_RECORD_HISTORY set)
// against the current workflow code. A change that would break processes already running
// fails here: guard it with workflow.GetVersion and record new histories. testdata/histories/v0
// holds those written before the change "local-register" (register activities as ordinary
// activities), testdata/histories/v1 those written before the change "authority" (issue 12) and
// the process changes of issues 13-15, testdata/histories/v2 those written under "authority"
// version 1 (the delegation rules' copy awaited in begin); they must keep replaying for as long
// as such processes may be running. The *_returned_revised_* histories were recorded under the
// change "return-revise" (issue 14: a returned request revised through its form), and
// outsourcing_selection_revised_vendor_incident.json under "outsourcing-selection-revise" (a
// returned vendor selection revised through its form); the others at the top level, before
// them. inspection_completed.json was recorded before the change "inspection-year-report"
// (issue 16: the committee mailed a link to the year's report when a campaign ends),
// inspection_year_report.json under it.
func TestReplayRecordedHistories(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../testdata/histories/*.json", "../testdata/histories/v2/*.json", "../testdata/histories/v1/*.json", "../testdata/histories/v0/*.json"} {
		found, err := filepath.Glob(pattern)
		if err != nil || len(found) == 0 {
			t.Fatalf("no recorded histories in %s: %v", pattern, err)
		}
		files = append(files, found...)
	}
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.ExceptionWorkflow, workflow.RegisterOptions{Name: "ExceptionWorkflow"})
			r.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflow.RegisterOptions{Name: "IncidentWorkflow"})
			r.RegisterWorkflowWithOptions(workflows.CloudWorkflow, workflow.RegisterOptions{Name: "CloudWorkflow"})
			r.RegisterWorkflowWithOptions(workflows.OutsourcingWorkflow, workflow.RegisterOptions{Name: "OutsourcingWorkflow"})
			r.RegisterWorkflowWithOptions(workflows.OffboardingWorkflow, workflow.RegisterOptions{Name: "OffboardingWorkflow"})
			r.RegisterWorkflowWithOptions(workflows.ReconciliationWorkflow, workflow.RegisterOptions{Name: "ReconciliationWorkflow"})
			r.RegisterWorkflowWithOptions(workflows.InspectionWorkflow, workflow.RegisterOptions{Name: "InspectionWorkflow"})
			r.RegisterWorkflowWithOptions(workflows.InspectionTargetWorkflow, workflow.RegisterOptions{Name: "InspectionTargetWorkflow"})
			if err := r.ReplayWorkflowHistoryFromJSONFile(logger, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
