package bench

import (
	"os"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/policyflow/policyflow/models"
)

// These run with `go test ./...`: they check the benchmark's arithmetic, start nothing.

func TestPercentile(t *testing.T) {
	var xs []time.Duration
	for i := 100; i >= 1; i-- {
		xs = append(xs, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {95, 95 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}} {
		if got := percentile(xs, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("p99 of one = %v", got)
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("p99 of none = %v", got)
	}
}

func TestCountCost(t *testing.T) {
	ev := func(t enumspb.EventType) *historypb.HistoryEvent { return &historypb.HistoryEvent{EventType: t} }
	act := &historypb.HistoryEvent{EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
		Attributes: &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{Attempt: 2}}}
	events := []*historypb.HistoryEvent{
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED), ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED), ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
		ev(enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
		ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), act, ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED),
		ev(enumspb.EVENT_TYPE_TIMER_STARTED), ev(enumspb.EVENT_TYPE_TIMER_CANCELED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED), ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED),
	}
	c := countCost(events)
	// start 1 + activity attempts 2 + timer 1 + upsert 1 + update 1
	if c.Events != 13 || c.Actions != 6 {
		t.Errorf("events %d, actions %d (%s); want 13, 6", c.Events, c.Actions, c.actionList())
	}
	if c.ByType["TimerCanceled"] != 1 || c.ByType["WorkflowExecutionUpdateAccepted"] != 1 {
		t.Errorf("by type: %v", c.ByType)
	}
}

func TestFill(t *testing.T) {
	task := models.Task{Step: "triage", Choices: "record",
		Form: `[{"Name":"severity","Kind":"select","Required":true,"Options":[{"Value":"low"},{"Value":"high"}]},` +
			`{"Name":"plan","Kind":"select","Required":true,"Options":[{"Value":"no"},{"Value":"yes"}]},` +
			`{"Name":"when","Kind":"date","Required":true},{"Name":"notes","Kind":"textarea"},{"Name":"article_x","Kind":"text"}]`}
	f := fill(task, map[string]map[string]string{"triage": {"severity": "high"}, "*": {"article_*": "第3条"}})
	for k, want := range map[string]string{"decision": "record", "severity": "high", "plan": "yes", "when": date(0), "notes": "", "article_x": "第3条"} {
		if got := f.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestSplice(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/BENCHMARKS.md"
	section := func(v string) string { return beginMarker + "\n## make bench\n" + v + "\n" + endMarker + "\n" }
	if got := splice(path, section("a")); got != "# Benchmarks\n\n"+section("a") {
		t.Errorf("new file:\n%s", got)
	}
	other := "# Benchmarks\n\n## Offboarding\n\nby hand\n"
	first := splice(writeFile(t, path, other), section("a"))
	if want := "# Benchmarks\n\n" + section("a") + "\n## Offboarding\n\nby hand\n"; first != want {
		t.Errorf("first splice:\n%s\nwant:\n%s", first, want)
	}
	second := splice(writeFile(t, path, first), section("b"))
	if want := "# Benchmarks\n\n" + section("b") + "\n## Offboarding\n\nby hand\n"; second != want {
		t.Errorf("second splice:\n%s\nwant:\n%s", second, want)
	}
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
