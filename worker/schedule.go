package worker

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// schedule is one of policyflow's Temporal Schedules as every worker keeps it at start: the
// reconciliation, the self-inspection, the monthly digest.
type schedule struct {
	// id is the Schedule's ID; what names it in errors ("the digest schedule").
	id, what string
	// note is the Schedule's note in the Temporal UI, naming the setting behind it.
	note    string
	spec    client.ScheduleSpec
	action  *client.ScheduleWorkflowAction
	overlap enumspb.ScheduleOverlapPolicy
}

// ensureSchedule creates the Schedule, or updates an existing one to the spec, action and
// overlap policy: idempotent, so that every worker may call it at start (one that another
// worker creates at the same moment is left as created).
func ensureSchedule(ctx context.Context, c client.Client, s schedule) error {
	h := c.ScheduleClient().GetHandle(ctx, s.id)
	_, err := h.Describe(ctx)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		_, err = c.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID: s.id, Spec: s.spec, Action: s.action, Overlap: s.overlap, Note: s.note,
		})
		if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
			return nil // another worker created it just now
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", s.what, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("describe %s: %w", s.what, err)
	}
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		sched := in.Description.Schedule
		sched.Spec = &s.spec
		sched.Action = s.action
		if sched.Policy != nil {
			sched.Policy.Overlap = s.overlap
		}
		return &client.ScheduleUpdate{Schedule: &sched}, nil
	}})
	if err != nil {
		return fmt.Errorf("update %s: %w", s.what, err)
	}
	return nil
}

// removeSchedule deletes the Schedule if there is one (a setting turned "off").
func removeSchedule(ctx context.Context, c client.Client, id, what string) error {
	err := c.ScheduleClient().GetHandle(ctx, id).Delete(ctx)
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("remove %s: %w", what, err)
	}
	return nil
}
