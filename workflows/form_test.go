package workflows

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/policy"
)

// formWorkflow asks one step with a form, as the incident triage will.
func formWorkflow(ctx workflow.Context) (map[string]string, error) {
	p, err := begin(ctx, Header{ProcessID: "P1", Kind: "test", Department: "d", TimeZone: "Asia/Tokyo"})
	if err != nil {
		return nil, err
	}
	d, err := p.ask(ctx, Step{
		Name: "triage", Assignee: "A1", Choices: []string{"done"}, Deadline: Deadline{Clock: time.Hour},
		Form: []activities.Field{
			{Name: "severity", Kind: activities.FieldSelect, Required: true, Options: []activities.Option{{Value: "low"}, {Value: "high"}}},
			{Name: "notes", Kind: activities.FieldTextarea},
		},
	})
	return d.Values, err
}

func TestFormValuesReachTheWorkflow(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(formWorkflow)
	var opened activities.TaskSpec
	for name, fn := range map[string]any{
		"OpenTask":        func(_ context.Context, s activities.TaskSpec) error { opened = s; return nil },
		"RecordDecision":  func(context.Context, activities.DecisionRecord) error { return nil },
		"CloseTask":       func(context.Context, activities.TaskClosure) error { return nil },
		"RecordStage":     func(context.Context, activities.StageChange) error { return nil },
		"DelegationRules": func(context.Context, string) (policy.Delegation, error) { return policy.Delegation{}, nil },
		"AssignTask": func(_ context.Context, r activities.AssignRequest) (activities.Assignment, error) {
			return activities.Assignment{AssigneeID: r.AssigneeID, HolderID: r.AssigneeID}, nil
		},
	} {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	var rejected []error
	send := func(id string, after time.Duration, values map[string]string) {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(UpdateDecide, id, &testsuite.TestUpdateCallback{
				OnReject: func(err error) { rejected = append(rejected, err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
			}, SignForTest(DecideRequest{TaskID: "P1/triage/1", Choice: "done", DeciderID: "A1", Values: values, RequestID: id}))
		}, after)
	}
	send("missing", time.Minute, map[string]string{})
	send("wrong", 2*time.Minute, map[string]string{"severity": "extreme"})
	send("free-text", 3*time.Minute, map[string]string{"severity": "low", "notes": "free text must stay in the register"})
	send("good", 4*time.Minute, map[string]string{"severity": "high"})
	env.ExecuteWorkflow(formWorkflow)
	var got map[string]string
	if err := env.GetWorkflowResult(&got); err != nil {
		t.Fatal(err)
	}
	if got["severity"] != "high" || len(rejected) != 3 {
		t.Errorf("values = %v, %d rejected", got, len(rejected))
	}
	if len(opened.Form) != 2 {
		t.Errorf("the task was opened without its form: %+v", opened)
	}
}
