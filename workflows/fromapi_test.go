package workflows_test

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/policyflow/policyflow/proof"
	"github.com/policyflow/policyflow/workflows"
)

// A decision reaches a workflow only with the API's proof (issue 12, item 7): one sent
// straight to Temporal without it, with another key's, or with a proof made for another
// decision is refused, and leaves the task open for the real one.
func TestDecisionWithoutTheAPIsProofIsRefused(t *testing.T) {
	r := newRegister(t, monday)
	other, err := proof.Generate("test") // same key ID, other key
	if err != nil {
		t.Fatal(err)
	}
	at := monday.Add(time.Hour)
	base := workflows.DecideRequest{TaskID: review1, Choice: "approve", DeciderID: "C1", RequestID: "req-forged", DecidedAt: at.UTC()}
	forOther := signed(workflows.DecideRequest{TaskID: review2, Choice: "approve", DeciderID: "C1", RequestID: "req-forged", DecidedAt: at.UTC()})
	forOther.TaskID = review1
	rejected := map[string]error{}
	for name, req := range map[string]workflows.DecideRequest{
		"no proof":                  base,
		"another key":               func() workflows.DecideRequest { q := base; q.Proof = other.Sign(q); return q }(),
		"a proof for another task":  forOther,
		"a proof for another party": func() workflows.DecideRequest { q := signed(base); q.Choice = "reject"; return q }(),
	} {
		r.env.RegisterDelayedCallback(func() {
			r.env.UpdateWorkflow(workflows.UpdateDecide, name, &testsuite.TestUpdateCallback{
				OnReject: func(err error) { rejected[name] = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
			}, req)
		}, at.Sub(monday))
	}
	r.decideAt(monday.Add(2*time.Hour), review1, "reject", "C1")
	res := r.run(normal())
	equal(t, "status", res.Status, "rejected")
	for _, name := range []string{"no proof", "another key", "a proof for another task", "a proof for another party"} {
		var app *temporal.ApplicationError
		if err := rejected[name]; !errors.As(err, &app) || app.Type() != "NotFromAPI" {
			t.Errorf("%s: rejected with %v, want NotFromAPI", name, rejected[name])
		}
	}
	equal(t, "one decision", len(r.decisions), 1)
	equal(t, "by the real one", r.decisions[0].RequestID, "req-"+review1+"-C1")
}
