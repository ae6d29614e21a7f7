package bench

import (
	"context"
	"fmt"
	"sort"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/policyflow/policyflow/internal/testenv"
)

// readOnlyActivities only read the directory: run as ordinary activities (as processes
// started before workflows.changeLocalRegister do) each is three activity events and the
// next workflow task's three, where a local activity is one marker event.
var readOnlyActivities = map[string]bool{"ResolveRoster": true, "ClauseReviewer": true, "OffboardingFacts": true}

func (s *system) history(ctx context.Context, id string) ([]*historypb.HistoryEvent, error) {
	it := s.tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []*historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// cost is what one history spends.
type cost struct {
	Events     int
	Actions    int
	ByType     map[string]int // event type -> count
	Activities map[string]int // activity type -> times scheduled
	Local      map[string]int // local activity type -> times recorded (MarkerRecorded)
	ActionsBy  map[string]int // action kind -> count
	ReadOnly   int            // read-only activities scheduled
	// StaleReminders are reminder timers left pending after their step ended: the SDK's
	// AwaitWithOptions does not cancel its timer when the condition holds (unless SDK flag 6,
	// SDKFlagCancelAwaitTimerOnCondition, is on), so in a process that runs on each fires
	// later into a workflow task that does nothing.
	StaleReminders int
}

// countCost counts a history's events and its Temporal Cloud actions. The counting rule,
// after https://docs.temporal.io/cloud/actions: one action for the workflow's start, each
// activity attempt (ActivityTaskStarted carries the attempt number), each timer started
// (AwaitWithOptions' timers included), each UpsertWorkflowSearchAttributes command (search
// attributes given at start are free), each Update accepted by the worker (rejected ones
// leave no event; the happy path has none), each signal, each side-effect marker, and one
// for all local activities of one workflow task. Workflow tasks, activity scheduling and
// completion, and the closing event are not actions.
func countCost(events []*historypb.HistoryEvent) cost {
	c := cost{Events: len(events), ByType: map[string]int{}, Activities: map[string]int{}, Local: map[string]int{}, ActionsBy: map[string]int{}}
	localByTask := map[int64]bool{}
	reminders := map[string]bool{} // pending reminder timers by timer ID
	for _, e := range events {
		c.ByType[shortType(e.EventType)]++
		switch e.EventType {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			c.ActionsBy["workflow started"]++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			name := e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
			c.Activities[name]++
			if readOnlyActivities[name] {
				c.ReadOnly++
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			c.ActionsBy["activity attempts"] += int(max(1, e.GetActivityTaskStartedEventAttributes().GetAttempt()))
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			c.ActionsBy["timers started"]++
			var summary string
			if p := e.GetUserMetadata().GetSummary(); p != nil {
				_ = converter.GetDefaultDataConverter().FromPayload(p, &summary)
			}
			if strings.HasPrefix(summary, "Reminder ") {
				reminders[e.GetTimerStartedEventAttributes().GetTimerId()] = true
			}
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			delete(reminders, e.GetTimerFiredEventAttributes().GetTimerId())
		case enumspb.EVENT_TYPE_TIMER_CANCELED:
			delete(reminders, e.GetTimerCanceledEventAttributes().GetTimerId())
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			c.ActionsBy["search attribute upserts"]++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			c.ActionsBy["updates"]++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			c.ActionsBy["signals"]++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			a := e.GetMarkerRecordedEventAttributes()
			if a.GetMarkerName() == "LocalActivity" {
				localByTask[a.GetWorkflowTaskCompletedEventId()] = true
				c.Local[testenv.LocalActivityType(e)]++
			} else if a.GetMarkerName() == "SideEffect" || a.GetMarkerName() == "MutableSideEffect" {
				c.ActionsBy["side effects"]++
			}
		}
	}
	c.StaleReminders = len(reminders)
	if len(localByTask) > 0 {
		c.ActionsBy["local activity batches"] = len(localByTask)
	}
	for _, n := range c.ActionsBy {
		c.Actions += n
	}
	return c
}

// shortType is "ActivityTaskScheduled" for EVENT_TYPE_ACTIVITY_TASK_SCHEDULED (the enum's
// String form).
func shortType(t enumspb.EventType) string { return t.String() }

// breakdown lists where the events go, grouped as a person reads a history.
func (c cost) breakdown() string {
	t := c.ByType
	wft := t["WorkflowTaskScheduled"] + t["WorkflowTaskStarted"] + t["WorkflowTaskCompleted"] + t["WorkflowTaskFailed"] + t["WorkflowTaskTimedOut"]
	act := t["ActivityTaskScheduled"] + t["ActivityTaskStarted"] + t["ActivityTaskCompleted"] + t["ActivityTaskFailed"] + t["ActivityTaskTimedOut"]
	tim := t["TimerStarted"] + t["TimerFired"] + t["TimerCanceled"]
	upd := t["WorkflowExecutionUpdateAccepted"] + t["WorkflowExecutionUpdateCompleted"] + t["WorkflowExecutionUpdateAdmitted"]
	parts := []string{
		fmt.Sprintf("workflow tasks %d (%d tasks)", wft, t["WorkflowTaskCompleted"]),
		fmt.Sprintf("activities %d (%d run)", act, t["ActivityTaskScheduled"]),
	}
	if tim > 0 {
		parts = append(parts, fmt.Sprintf("timers %d (%d started, %d fired, %d cancelled)", tim, t["TimerStarted"], t["TimerFired"], t["TimerCanceled"]))
	}
	if upd > 0 {
		parts = append(parts, fmt.Sprintf("updates %d (%d decisions)", upd, t["WorkflowExecutionUpdateAccepted"]))
	}
	if n := t["MarkerRecorded"]; n > 0 {
		local := 0
		for _, v := range c.Local {
			local += v
		}
		parts = append(parts, fmt.Sprintf("markers %d (%d local activities)", n, local))
	}
	if n := t["UpsertWorkflowSearchAttributes"]; n > 0 {
		parts = append(parts, fmt.Sprintf("search attribute upserts %d", n))
	}
	other := c.Events - wft - act - tim - upd - t["UpsertWorkflowSearchAttributes"] - t["MarkerRecorded"]
	if other > 0 {
		var names []string
		for k, v := range t {
			switch {
			case strings.HasPrefix(k, "WorkflowTask"), strings.HasPrefix(k, "ActivityTask"), strings.HasPrefix(k, "Timer"),
				strings.HasPrefix(k, "WorkflowExecutionUpdate"), k == "UpsertWorkflowSearchAttributes", k == "MarkerRecorded":
			default:
				names = append(names, fmt.Sprintf("%s %d", k, v))
			}
		}
		sort.Strings(names)
		parts = append(parts, "other: "+strings.Join(names, ", "))
	}
	return strings.Join(parts, "; ")
}

// activityList names the activities run, "(local)" marking local ones.
func (c cost) activityList() string {
	var names []string
	add := func(m map[string]int, suffix string) {
		for k, v := range m {
			name := k + suffix
			if v > 1 {
				name += fmt.Sprintf(" ×%d", v)
			}
			names = append(names, name)
		}
	}
	add(c.Activities, "")
	add(c.Local, " (local)")
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func (c cost) actionList() string {
	var names []string
	for k, v := range c.ActionsBy {
		names = append(names, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
