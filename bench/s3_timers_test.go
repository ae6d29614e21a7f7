package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// timerLateness is scenario 3: n exception requests whose CISO reminders fall due at the
// same instant, through the engine's own ask(). Their review deadline is one business day
// (17:15 of the town's next working day, the same instant for every process started the
// same day) and the one reminder goes out `due − T` before it, so every reminder falls due
// at T. Lateness is measured per process against its own reminder instant (the task's due
// time minus the reminder's lead).
func (s *system) timerLateness(b *testing.B, startRate float64) *scenarioResult {
	res := &scenarioResult{}
	ctx := context.Background()
	n := scaled(1000, 20)
	if startRate <= 0 {
		startRate = 20
	}
	cal := policy.NewCalendar(tokyo)
	now := time.Now()
	due := cal.EndOfBusinessDay(now, 1)
	window := time.Duration(float64(n)/startRate*1.25*float64(time.Second)) + 20*time.Second
	at := now.Add(window).Truncate(time.Second)
	lead := due.Sub(at)
	progress("  %d processes, reminders due at %s (in %v), %v before their deadline %s", n, at.In(tokyo).Format("15:04:05"), window.Round(time.Second), lead.Round(time.Second), due.In(tokyo).Format("2006-01-02 15:04"))

	run := time.Now().UnixNano() % 1e9
	ids := make([]string, n)
	t0 := time.Now()
	var startedMu sync.Mutex
	startedCount := 0
	lastReport := time.Now()
	err := parallel(n, 8, func(i int) error {
		ids[i] = fmt.Sprintf("EXC-BENCH-TIMER-%d-%04d", run, i)
		err := s.startDirect(ctx, ids[i], models.KindException, "ExceptionWorkflow", workflows.ExceptionInput{
			Header:      workflows.Header{ProcessID: ids[i], Kind: models.KindException, Department: deptID, TimeZone: townZone},
			RequesterID: disoID, RequesterRole: policy.RoleDISO, StartDate: date(1), EndDate: date(30),
			Timing: workflows.ExceptionTiming{
				Review: workflows.Deadline{BusinessDays: 1}, ReviewGrace: workflows.Deadline{BusinessDays: 1},
				RemindBefore: []time.Duration{lead},
			},
		})
		startedMu.Lock()
		startedCount++
		if time.Since(lastReport) > 10*time.Second {
			progress("  started %d/%d", startedCount, n)
			lastReport = time.Now()
		}
		startedMu.Unlock()
		return err
	})
	if err != nil {
		b.Fatalf("scenario 3: %v", err)
	}
	if _, err := s.openLinks(ctx, ids, "scenario 3"); err != nil {
		b.Fatalf("scenario 3: %v", err)
	}
	ready := time.Since(t0)
	progress("  all %d waiting for the CISO after %v; %v until the reminders fall due", n, ready.Round(time.Second), time.Until(at).Round(time.Second))
	if time.Now().After(at) {
		res.note("**Warning:** the processes took %v to start, longer than the window of %v: reminders whose instant had passed when their task opened were skipped by ask() and are not counted.", ready.Round(time.Second), window.Round(time.Second))
	}
	time.Sleep(time.Until(at.Add(-time.Second)))
	burst := s.watch()
	profPath := filepath.Join(profileDir(), "s3-cpu.pprof")
	profiling := false
	if f, err := os.Create(profPath); err == nil {
		profiling = pprof.StartCPUProfile(f) == nil
		defer f.Close()
	}
	time.Sleep(time.Until(at))

	// Wait for every reminder mail.
	deadline := time.Now().Add(5 * time.Minute)
	var sent int64
	for {
		sent = 0
		for chunk := range chunks(ids, 500) {
			var k int64
			if err := s.store.DB.WithContext(ctx).Model(&models.Notification{}).Where("process_id IN ? AND kind = ? AND status = ?", chunk, "reminder-1", models.NotificationSent).Count(&k).Error; err != nil {
				b.Fatalf("scenario 3: %v", err)
			}
			sent += k
		}
		if int(sent) == n || time.Now().After(deadline) {
			break
		}
		progress("  %d/%d reminders sent, %v after they fell due", sent, n, time.Since(at).Round(time.Second))
		time.Sleep(2 * time.Second)
	}
	allSent := time.Since(at)
	burstLoad := burst.stop()
	if profiling {
		pprof.StopCPUProfile()
	}
	progress("  %d/%d reminders sent; the last %v after they fell due; reading histories", sent, n, allSent.Round(100*time.Millisecond))

	// Per process: the task's due time (register), the reminder mail's creation (register),
	// and from history the timer's firing and the RemindTask activity's start.
	type obs struct {
		fired, started, mailed time.Duration
		// Where the time between the timer firing and the activity starting goes: the
		// workflow task waiting for the worker, the worker running it, the activity task
		// waiting for the worker.
		wftWait, wftRun, actWait time.Duration
	}
	out := make([]obs, n)
	var mu sync.Mutex
	var extra []int // events a fired reminder added: from its TimerFired to the next TimerStarted
	stickyTimeouts := 0
	if err := parallel(n, 8, func(i int) error {
		var t models.Task
		if err := s.store.DB.WithContext(ctx).Where("process_id = ?", ids[i]).First(&t).Error; err != nil {
			return err
		}
		instant := t.DueAt.Add(-lead)
		var note models.Notification
		if err := s.store.DB.WithContext(ctx).Where("process_id = ? AND kind = ?", ids[i], "reminder-1").First(&note).Error; err == nil {
			out[i].mailed = note.CreatedAt.Sub(instant)
		}
		events, err := s.history(ctx, ids[i])
		if err != nil {
			return err
		}
		firedAt, firedIdx := -1, -1
		var wftStarted time.Time
		counted := false
		for j, e := range events {
			at := e.EventTime.AsTime()
			switch e.EventType {
			case enumspb.EVENT_TYPE_TIMER_FIRED:
				if firedIdx < 0 {
					firedIdx = j
					out[i].fired = at.Sub(instant)
				}
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
				if firedIdx >= 0 && wftStarted.IsZero() {
					wftStarted = at
					out[i].wftWait = at.Sub(events[firedIdx].EventTime.AsTime())
				}
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				if firedIdx >= 0 && out[i].wftRun == 0 && !wftStarted.IsZero() {
					out[i].wftRun = at.Sub(wftStarted)
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				sched := e.GetActivityTaskStartedEventAttributes().GetScheduledEventId()
				if firedIdx >= 0 && firedAt < 0 && events[sched-1].GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == "RemindTask" {
					out[i].started = at.Sub(instant)
					out[i].actWait = at.Sub(events[sched-1].EventTime.AsTime())
					firedAt = j
				}
			case enumspb.EVENT_TYPE_TIMER_STARTED:
				if firedIdx >= 0 && firedAt >= 0 && !counted {
					mu.Lock()
					extra = append(extra, j-firedIdx+1)
					mu.Unlock()
					counted = true
				}
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
				mu.Lock()
				stickyTimeouts++
				mu.Unlock()
			}
		}
		return nil
	}); err != nil {
		b.Fatalf("scenario 3: %v", err)
	}
	var fired, started, mailed, wftWait, wftRun, actWait []time.Duration
	for _, o := range out {
		if o.started != 0 {
			wftWait, wftRun, actWait = append(wftWait, o.wftWait), append(wftRun, o.wftRun), append(actWait, o.actWait)
		}
		if o.fired != 0 {
			fired = append(fired, o.fired)
		}
		if o.started != 0 {
			started = append(started, o.started)
		}
		if o.mailed != 0 {
			mailed = append(mailed, o.mailed)
		}
	}
	p99 := percentile(started, 99)
	res.metric("s3_p99_ms", float64(p99)/1e6)
	res.add(fmt.Sprintf("%d reminders due at one instant: timer fired − due", n), pcts(fired), "", "")
	res.add("RemindTask activity started − due", pcts(started)+", max "+ms(percentile(started, 100)), "p99 < 1 s", verdict(p99 < time.Second && len(started) == n))
	res.add("reminder mail recorded − due", pcts(mailed), "", "")
	res.add("  of which: TimerFired → WorkflowTaskStarted", pcts(wftWait)+"; "+span(wftWait), "", "")
	res.add("  of which: WorkflowTaskStarted → Completed", pcts(wftRun), "", "")
	res.add("  of which: ActivityTaskScheduled → Started", pcts(actWait), "", "")
	res.note("%d exception requests were started directly (the API takes no custom timing) with the real ExceptionWorkflow and activities: the CISO's review is due in one business day (%s), with one reminder %v before it, so all %d reminders fell due at %s. %d/%d reminder mails were recorded; the last %v after the instant. `fired` is the TimerFired event's time, `started` the RemindTask ActivityTaskStarted event's time (the worker picked the activity up), `mailed` the reminder's notification row (the activity wrote the mail).",
		n, due.In(tokyo).Format("2006-01-02 15:04 MST"), lead.Round(time.Second), n, at.In(tokyo).Format("15:04:05 MST"), sent, n, allSent.Round(100*time.Millisecond))
	res.note("The dev server runs with testenv's dynamic config: `history.timerProcessorMaxTimeShift=20ms` (default 1 s, which alone delays a timer by up to a second) and the task processors' poll rates raised to 1000/s (the default 20/s adds ~45 ms to every task). The worker has 4 workflow-task and 4 activity-task pollers (worker.Options) and runs at most 50 activities at once. These processes stay open (their deadline is tomorrow) and are left for scenarios 5 and 6 to find in the register.")
	res.note("During the burst (from 1 s before the instant until the last mail) the %s.", burstLoad.summary())
	secs := burstLoad.Wall.Seconds()
	per := func(cores float64) float64 { return cores * secs / float64(n) * 1000 }
	cpuPer := per(burstLoad.Bench) + per(burstLoad.Temporal) + per(burstLoad.DB)
	floor := time.Duration(cpuPer * float64(n) / float64(cores()) * float64(time.Millisecond))
	res.add("CPU per reminder (worker+API / Temporal / MariaDB)", fmt.Sprintf("%.1f / %.1f / %.1f ms", per(burstLoad.Bench), per(burstLoad.Temporal), per(burstLoad.DB)), "", "")
	res.add(fmt.Sprintf("CPU floor for %d reminders on %d idle cores", n, cores()), ms(floor), "", "")
	res.note("CPU per reminder, from the burst's accounting: this process (the worker's workflow task and RemindTask activity, database and mail rendering included) %.1f ms, the Temporal dev server %.1f ms, MariaDB %.1f ms. Spending %.1f ms of CPU per reminder, %d reminders need at least %s on %d cores that nobody else uses; the lateness above also includes the share other processes took (the load average).",
		per(burstLoad.Bench), per(burstLoad.Temporal), per(burstLoad.DB), cpuPer, n, ms(floor), cores())
	if stickyTimeouts > 0 {
		res.note("%d workflow tasks waited longer than the sticky schedule-to-start timeout (5 s) on the worker's sticky queue and were moved to the normal queue (WorkflowTaskTimedOut + WorkflowTaskScheduled: 2 more events in those histories).", stickyTimeouts)
	}
	if top := pprofTop(profPath); top != "" {
		res.note("CPU profile of the benchmark process (API and worker) during the burst (`go tool pprof -top`, profile in %s):\n\n```\n%s\n```", profileDir(), top)
	}
	slices.Sort(extra)
	if len(extra) > 0 {
		res.note("A reminder that fires adds %d events to a history (TimerFired, a workflow task, the RemindTask activity's three events, a workflow task, the next TimerStarted) and 2 actions (the activity, the next timer); a reminder the person beats costs nothing beyond the one pending timer every waiting step has.", extra[0])
		res.add("events a fired reminder adds", fmt.Sprintf("%d events, 2 actions", extra[0]), "", "")
	}
	return res
}
