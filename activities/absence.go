package activities

import (
	"context"
	"fmt"
)

// OpenTaskWorkflows returns the workflow IDs of the processes with an open task assigned or
// escalated to the person, or held for them by a deputy: the processes to tell that the
// person's absence started or ended, or that they left (workflows.HandOver).
func (a *Activities) OpenTaskWorkflows(ctx context.Context, personID string) ([]string, error) {
	if personID == "" {
		return nil, badInput("open tasks: no person given")
	}
	ids, err := a.Store.OpenTaskWorkflows(ctx, personID)
	if err != nil {
		return nil, fmt.Errorf("open tasks of %s: %w", personID, err)
	}
	return ids, nil
}
