package api

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/policyflow/policyflow/workflows"
)

// reassessParallel bounds the signals in flight for one directory change (a roster import
// may change the posts of many people at once).
const reassessParallel = 8

// reassess tells every process with an open task of one of these people (assigned or
// escalated to them, or held for them by a deputy) that their post may have changed
// (workflows.SignalReassess, Why "directory"), so the task follows the post to its new
// holder. It runs after the directory's commit and is best effort: a failure is logged and
// the rest go on, since the task engine checks the post again at escalation anyway. A
// process that ended meanwhile is skipped. It returns how many processes were told.
func (s *Server) reassess(ctx context.Context, people []string) int {
	if len(people) == 0 {
		return 0
	}
	// The directory has changed already: finish telling even if the caller hangs up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	byPerson, err := s.Store.OpenTaskWorkflowsOf(ctx, people)
	if err != nil {
		s.Log.Warn("directory changed, but the open tasks to reassess could not be read", slog.Int("people", len(people)), slog.Any("err", err))
		return 0
	}
	type signal struct{ person, workflow string }
	var todo []signal
	ids := make([]string, 0, len(byPerson))
	for id := range byPerson {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		for _, wf := range byPerson[id] {
			todo = append(todo, signal{id, wf})
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		told int
		sem  = make(chan struct{}, reassessParallel)
	)
	for _, sg := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
			defer scancel()
			err := s.Temporal.SignalWorkflow(sctx, sg.workflow, "", workflows.SignalReassess,
				workflows.Reassess{PersonID: sg.person, Why: workflows.ReassessDirectory})
			var gone *serviceerror.NotFound
			switch {
			case errors.As(err, &gone):
				s.Log.Info("reassess: the process has ended", slog.String("workflow_id", sg.workflow))
			case err != nil:
				s.Log.Warn("reassess: could not tell the process of a directory change", slog.String("workflow_id", sg.workflow),
					slog.String("employee_id", sg.person), slog.Any("err", err))
			default:
				mu.Lock()
				told++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return told
}
