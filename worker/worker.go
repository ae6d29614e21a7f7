// Package worker registers policyflow's workflows and activities on a Temporal worker.
package worker

import (
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/workflows"
)

// Options returns the worker options policyflow runs with. More pollers than the SDK's two
// let a burst of timers (hundreds of reminders falling due at 9:00) drain quickly.
func Options() sdkworker.Options {
	return sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers:   4,
		MaxConcurrentActivityTaskPollers:   4,
		MaxConcurrentActivityExecutionSize: 50,
		// A workflow task waits this long on this worker's own (sticky) queue before the
		// server hands it to any worker. The SDK's 5 s is shorter than the queueing in a
		// burst (1,000 reminders at 9:00 on two cores: up to ~10 s), and each task that
		// times out is scheduled twice (BENCHMARKS.md, scenario 3). The cost: after a worker
		// is killed (not stopped: a stop hands its queue over at once), the processes it had
		// in memory take up to this long to move on.
		StickyScheduleToStartTimeout: 15 * time.Second,
		// On SIGTERM, running activities get this long to finish.
		WorkerStopTimeout: 30 * time.Second,
	}
}

// Register adds every workflow and the activities to w.
func Register(w sdkworker.Registry, acts *activities.Activities) {
	w.RegisterWorkflowWithOptions(workflows.ExceptionWorkflow, workflow.RegisterOptions{Name: "ExceptionWorkflow"})
	w.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflow.RegisterOptions{Name: "IncidentWorkflow"})
	w.RegisterWorkflowWithOptions(workflows.CloudWorkflow, workflow.RegisterOptions{Name: "CloudWorkflow"})
	w.RegisterWorkflowWithOptions(workflows.OutsourcingWorkflow, workflow.RegisterOptions{Name: "OutsourcingWorkflow"})
	w.RegisterWorkflowWithOptions(workflows.OffboardingWorkflow, workflow.RegisterOptions{Name: "OffboardingWorkflow"})
	w.RegisterWorkflowWithOptions(workflows.ReconciliationWorkflow, workflow.RegisterOptions{Name: "ReconciliationWorkflow"})
	w.RegisterWorkflowWithOptions(workflows.InspectionWorkflow, workflow.RegisterOptions{Name: "InspectionWorkflow"})
	w.RegisterWorkflowWithOptions(workflows.InspectionTargetWorkflow, workflow.RegisterOptions{Name: "InspectionTargetWorkflow"})
	w.RegisterWorkflowWithOptions(workflows.AbsenceWorkflow, workflow.RegisterOptions{Name: "AbsenceWorkflow"})
	w.RegisterWorkflowWithOptions(workflows.OffboardingBatchWorkflow, workflow.RegisterOptions{Name: "OffboardingBatchWorkflow"})
	w.RegisterWorkflowWithOptions(workflows.MonthlyDigestWorkflow, workflow.RegisterOptions{Name: "MonthlyDigestWorkflow"})
	w.RegisterWorkflowWithOptions(workflows.DigestMonthWorkflow, workflow.RegisterOptions{Name: "DigestMonthWorkflow"})
	w.RegisterActivity(acts)
}

// StickyCacheSize is how many workflows the worker keeps in memory between their workflow
// tasks (the SDK's default is 10,000). policyflow's processes wait days for people, so most
// of them would sit in the cache unused, at about 47 KiB each (BENCHMARKS.md, scenario 5);
// one that is not cached is replayed from its history when its timer fires or a decision
// comes.
const StickyCacheSize = 2000

// New creates a worker on policyflow's task queue with everything registered.
func New(c client.Client, acts *activities.Activities) sdkworker.Worker {
	sdkworker.SetStickyWorkflowCacheSize(StickyCacheSize) // takes effect when no other worker of the process is running
	w := sdkworker.New(c, workflows.TaskQueue, Options())
	Register(w, acts)
	return w
}
