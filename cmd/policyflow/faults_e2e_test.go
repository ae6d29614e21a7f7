package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/internal/testenv"
)

// Fault tests (issue 8): the built binary on the real services, while a piece fails. Each
// test says what it proves; all of them end by checking the ledger (checkLedger): every
// process closed as expected, one decision per task in the register and one accepted decide
// Update per task in Temporal, exactly one mail in Mailpit for every notification the
// register holds, and no mail whose link does not work.
//
// They stop shared services (testenv.Stop), so none of them runs in parallel.

const (
	reviewSubject   = "例外措置申請の審査"
	revisionSubject = "差し戻された例外措置申請の修正と再提出"
)

// rig is a running system with a directory, tokens and the means to read what it did: the
// register (MariaDB), the mailbox (Mailpit) and the histories (Temporal).
type rig struct {
	*system
	t                 *testing.T
	officer, auditor  string
	cisoMail, ismMail string
	cisoName, ismName string
	db                *sql.DB
	mp                *testenv.MailpitClient
	tc                client.Client
	http              *http.Client
	processes         []string // every process started, in order
	processesMu       sync.Mutex
	expectDecisions   map[string][]string // process → choices decided, in order
	expectDecisionsMu sync.Mutex
	refused           map[string]bool // links a POST on which was answered 503 or not at all
	refusedMu         sync.Mutex
	// killed is set when the test SIGKILLs the worker: a mail being sent at that moment may
	// go out twice (see checkLedger).
	killed bool
	// unreachable holds the employee IDs whose address the mail server refuses for good:
	// their notifications are to be recorded as undeliverable, with no mail (see checkLedger).
	unreachable map[string]bool
}

// newRig starts a system on the package's dev server and fills its directory. edit, if
// given, may change the people (by employee ID) before they are put.
func newRig(t *testing.T, edit ...func(people map[string]map[string]any)) *rig {
	return newRigOn(t, startSystem(t), testenv.TemporalClient(t), edit...)
}

// newRigOn is newRig on a system already started, whose Temporal tc reaches.
func newRigOn(t *testing.T, s *system, tc client.Client, edit ...func(people map[string]map[string]any)) *rig {
	tag := strings.ToLower(strings.TrimPrefix(t.Name(), "TestFault")) + "-" + randHex(3)
	r := &rig{
		system: s, t: t,
		officer:  s.run("token", "create", "fault-officer", "officer"),
		auditor:  s.run("token", "create", "fault-auditor", "auditor"),
		cisoMail: "ciso-" + tag + "@faults.example", ismMail: "ism-" + tag + "@faults.example",
		cisoName: "副町長 障害試験", ismName: "係長 障害試験",
		mp: testenv.Mailpit(t),
		tc: tc,
		// Longer than any answer the API may take (its Update timeout is 10 s).
		http:            &http.Client{Timeout: 90 * time.Second},
		expectDecisions: map[string][]string{},
		refused:         map[string]bool{},
		unreachable:     map[string]bool{},
	}
	directory := s.run("token", "create", "fault-directory", "directory")
	people := map[string]map[string]any{
		"F-CISO": {"name": r.cisoName, "email": r.cisoMail, "department": "mayor", "roles": []string{"ciso"}},
		"F-GISO": {"name": "総務部長 障害試験", "email": "giso-" + tag + "@faults.example", "department": "general", "roles": []string{"giso", "diso"}},
		"F-DISO": {"name": "住民課長 障害試験", "email": "diso-" + tag + "@faults.example", "department": "residents", "roles": []string{"diso"}},
		"F-ISM":  {"name": r.ismName, "email": r.ismMail, "department": "residents", "roles": []string{"ism"}},
	}
	for _, e := range edit {
		e(people)
	}
	s.putPeople(directory, people)
	if code := s.call(directory, "PUT", "/api/v1/systems/registry", map[string]any{"name": "住民基本台帳", "department": "residents", "ism": "F-ISM", "classification": 1}, nil); code != http.StatusCreated {
		t.Fatalf("PUT system: %d", code)
	}
	dsn := ""
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, "POLICYFLOW_DATABASE_URL=mysql://"); ok {
			dsn = v
		}
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Closed before the test's database is dropped (clean-ups run last in, first out).
	t.Cleanup(func() { db.Close() })
	r.db = db
	// The package's tests share Temporal and its task queue: a failed test's processes must
	// not run on in the next test's worker (against the next test's database).
	t.Cleanup(func() {
		if !t.Failed() {
			return // every process completed
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, id := range r.processes {
			_ = r.tc.TerminateWorkflow(ctx, id, "", "the fault test failed")
		}
	})
	// The tests stop workers that have started: one stopped during its start-up is
	// another matter.
	eventually(t, time.Minute, "the worker to poll", func() bool { return r.workerPolling() > 0 })
	return r
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startExceptions starts n exception requests through the API, a few at a time, and
// returns their process IDs.
func (r *rig) startExceptions(n int) []string {
	r.t.Helper()
	today := time.Now().In(tokyo(r.t)).Format("2006-01-02")
	end := time.Now().In(tokyo(r.t)).AddDate(0, 3, 0).Format("2006-01-02")
	ids := make([]string, n)
	errs := make(chan error, n)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				var started struct{ ID string }
				code, err := r.callErr(r.officer, "POST", "/api/v1/exceptions", map[string]any{
					"requester": "F-ISM", "clauses": []string{"6.2(1)"}, "alternative": "操作ログを毎日確認する",
					"reason": fmt.Sprintf("障害試験 %d", i), "systems": []string{"registry"}, "classification": 1,
					"start_date": today, "end_date": end,
				}, &started)
				if err != nil || code != http.StatusCreated || started.ID == "" {
					errs <- fmt.Errorf("POST /exceptions #%d: %d %v", i, code, err)
					continue
				}
				ids[i] = started.ID
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		r.t.Fatal(err)
	}
	r.processesMu.Lock()
	r.processes = append(r.processes, ids...)
	r.processesMu.Unlock()
	return ids
}

// callErr is call without failing the test, for goroutines.
func (r *rig) callErr(token, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, r.baseURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %s", method, path, b)
		}
	}
	return resp.StatusCode, nil
}

// subjectProcess finds the process ID a subject ends with: "… (EXC-20261127-ABCDEFGH)".
var subjectProcess = regexp.MustCompile(`\(([A-Za-z0-9-]+)\)$`)

// links waits until each process has a mail to `to` whose subject contains part, and returns
// the task link of each, by process.
func (r *rig) links(pids []string, to, part string, limit time.Duration) map[string]string {
	r.t.Helper()
	want := map[string]bool{}
	for _, id := range pids {
		want[id] = true
	}
	found := map[string]string{}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for {
		list, err := r.mp.Messages(ctx)
		if err == nil {
			for _, m := range list {
				id := processOf(m.Subject)
				if !want[id] || found[id] != "" || !strings.Contains(m.Subject, part) || !sentTo(m, to) {
					continue
				}
				msg, err := r.mp.Message(ctx, m.ID)
				if err != nil {
					break
				}
				for _, l := range testenv.Links(msg.Text) {
					if strings.Contains(l, "/tasks/") {
						found[id] = l
					}
				}
			}
		}
		if len(found) == len(want) {
			return found
		}
		select {
		case <-ctx.Done():
			r.t.Fatalf("after %v only %d of %d mails %q to %s have arrived (last error: %v)", limit, len(found), len(want), part, to, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func processOf(subject string) string {
	if m := subjectProcess.FindStringSubmatch(subject); m != nil {
		return m[1]
	}
	return ""
}

func sentTo(m testenv.MessageSummary, addr string) bool {
	for _, a := range m.To {
		if strings.EqualFold(a.Address, addr) {
			return true
		}
	}
	return false
}

// outcome is how a decision POST went.
type outcome struct {
	codes []int // every answer, in order (0: no answer, the connection failed)
	err   error // the last connection error
	body  string
}

func (o outcome) String() string {
	return fmt.Sprintf("answers %v (last error %v): %s", o.codes, o.err, brief(o.body))
}

var pageTitle = regexp.MustCompile(`<title>([^<]*)</title>`)

// brief is the gist of an answer: a page's title, or the start of a JSON body.
func brief(body string) string {
	if m := pageTitle.FindStringSubmatch(body); m != nil {
		return "page " + strings.TrimSpace(m[1])
	}
	if len(body) > 300 {
		return body[:300]
	}
	return body
}

// post sends a decision on a link as the task page's form does.
func (r *rig) post(link, choice string) (int, string, error) {
	var code int
	var body string
	resp, err := r.http.PostForm(link, url.Values{"decision": {choice}, "comment": {"障害試験"}})
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		code, body = resp.StatusCode, string(b)
	}
	if code == 0 || code == http.StatusServiceUnavailable {
		r.refusedMu.Lock()
		r.refused[link] = true
		r.refusedMu.Unlock()
	}
	return code, body, err
}

// wasRefused reports whether a POST on link was answered 503, or not at all: its decision
// may since have gone through.
func (r *rig) wasRefused(link string) bool {
	r.refusedMu.Lock()
	defer r.refusedMu.Unlock()
	return r.refused[link]
}

// decideUntilRecorded posts a decision and, as a person told "try again" would, posts it
// again while the answer is 503 or none, until limit. It ends recorded with a 200, or with a
// 410 that names this very decision when an earlier POST on the link, answered 503 or not
// at all, went through after all (the retry then finds the task decided).
func (r *rig) decideUntilRecorded(link, choice, who string, limit time.Duration) (outcome, bool) {
	var o outcome
	deadline := time.Now().Add(limit)
	for {
		code, body, err := r.post(link, choice)
		o.codes, o.err, o.body = append(o.codes, code), err, body
		switch {
		case code == http.StatusOK:
			return o, true
		case code == http.StatusGone && r.wasRefused(link) &&
			strings.Contains(body, "既に記録済み") && strings.Contains(body, activities.ChoiceLabel(choice, "ja")) && strings.Contains(body, who):
			return o, true
		case code != 0 && code != http.StatusServiceUnavailable:
			return o, false
		}
		if time.Now().After(deadline) {
			return o, false
		}
		time.Sleep(time.Second)
	}
}

// batch is decisions being posted in parallel.
type batch struct {
	answered atomic.Int32 // decisions whose POSTs are over (recorded or failed)
	done     chan struct{}
	mu       sync.Mutex
	failed   []string
	retried  int // decisions that needed more than one POST
}

// decideAll posts choice(process) on every link, `parallel` at a time, each until recorded.
func (r *rig) decideAll(links map[string]string, choice func(pid string) string, who string, parallel int) *batch {
	b := &batch{done: make(chan struct{})}
	pids := make([]string, 0, len(links))
	for id := range links {
		pids = append(pids, id)
	}
	sort.Strings(pids)
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				c := choice(id)
				o, ok := r.decideUntilRecorded(links[id], c, who, 3*time.Minute)
				b.mu.Lock()
				if !ok {
					b.failed = append(b.failed, fmt.Sprintf("%s %s: %v", id, c, o))
				} else {
					r.expectDecisionsMu.Lock()
					r.expectDecisions[id] = append(r.expectDecisions[id], c)
					r.expectDecisionsMu.Unlock()
				}
				if len(o.codes) > 1 {
					b.retried++
				}
				b.mu.Unlock()
				b.answered.Add(1)
			}
		}()
	}
	go func() {
		for _, id := range pids {
			jobs <- id
		}
		close(jobs)
		wg.Wait()
		close(b.done)
	}()
	return b
}

// wait waits for the batch and fails the test if a decision was not recorded.
func (b *batch) wait(t *testing.T) {
	t.Helper()
	<-b.done
	for _, f := range b.failed {
		t.Errorf("decision not recorded: %s", f)
	}
	if len(b.failed) > 0 {
		t.FailNow()
	}
}

// waitAnswered waits until n decisions of the batch have their answer.
func (b *batch) waitAnswered(t *testing.T, n int) {
	t.Helper()
	eventually(t, 5*time.Minute, fmt.Sprintf("%d decisions to be answered", n), func() bool {
		return int(b.answered.Load()) >= n
	})
}

// waitClosed waits until every process is closed in the register, and checks its status.
func (r *rig) waitClosed(status map[string]string, limit time.Duration) {
	r.t.Helper()
	var last map[string][2]string
	deadline := time.Now().Add(limit)
	for {
		last = r.registerStatus()
		closed := 0
		for id := range status {
			if last[id][1] == "closed" {
				closed++
			}
		}
		if closed == len(status) {
			break
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("after %v only %d of %d processes are closed", limit, closed, len(status))
		}
		time.Sleep(250 * time.Millisecond)
	}
	for id, want := range status {
		if got := last[id][0]; got != want {
			r.t.Errorf("process %s closed as %q, want %q", id, got, want)
		}
	}
}

// registerStatus reads the status and stage of every process in the register.
func (r *rig) registerStatus() map[string][2]string {
	r.t.Helper()
	rows, err := r.db.Query("SELECT id, status, stage FROM processes")
	if err != nil {
		r.t.Fatalf("reading the register: %v", err)
	}
	defer rows.Close()
	out := map[string][2]string{}
	for rows.Next() {
		var id, status, stage string
		if err := rows.Scan(&id, &status, &stage); err != nil {
			r.t.Fatal(err)
		}
		out[id] = [2]string{status, stage}
	}
	return out
}

// ledger is what checkLedger counted, for tests that look further.
type ledger struct {
	decisions, mails, retriedActivities int
	killDuplicates                      int // mails sent twice because the worker was killed sending them
}

// checkLedger checks that nothing was lost or done twice, across the register, Temporal and
// Mailpit, for every process the rig started:
//   - the register holds exactly the decisions that were answered as recorded, one per
//     task, and no task is left open;
//   - each process's workflow completed, with exactly one accepted decide Update per task
//     (the task's ID is the Update's ID) and no other;
//   - every notification of these processes is marked sent, and Mailpit holds exactly one
//     message for each (matched by the Message-ID the notification's key gives) and no
//     other message about these processes; no two messages share a process and subject;
//   - except that a notification to someone in r.unreachable is marked undeliverable, and
//     Mailpit holds no message for it.
func (r *rig) checkLedger() ledger {
	r.t.Helper()
	t := r.t
	var l ledger
	procs := map[string]bool{}
	for _, id := range r.processes {
		procs[id] = true
	}

	// The register: decisions and tasks.
	rows, err := r.db.Query("SELECT task_id, process_id, choice, decider_id FROM decisions ORDER BY decided_at, id")
	if err != nil {
		t.Fatal(err)
	}
	gotDecisions := map[string][]string{}
	decidedTasks := map[string]int{}
	for rows.Next() {
		var task, proc, choice, decider string
		if err := rows.Scan(&task, &proc, &choice, &decider); err != nil {
			t.Fatal(err)
		}
		decidedTasks[task]++
		gotDecisions[proc] = append(gotDecisions[proc], choice)
		l.decisions++
		if !procs[proc] {
			t.Errorf("a decision on task %s of a process the test did not start: %s by %s", task, choice, decider)
		}
	}
	rows.Close()
	for task, n := range decidedTasks {
		if n != 1 {
			t.Errorf("task %s has %d decisions in the register", task, n)
		}
	}
	for _, id := range r.processes {
		if fmt.Sprint(gotDecisions[id]) != fmt.Sprint(r.expectDecisions[id]) {
			t.Errorf("process %s: decisions in the register %v, answered as recorded %v", id, gotDecisions[id], r.expectDecisions[id])
		}
	}
	var open int
	if err := r.db.QueryRow("SELECT COUNT(*) FROM tasks WHERE status = 'open'").Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open != 0 {
		t.Errorf("%d tasks are still open", open)
	}

	// Temporal: one accepted decide Update per task.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, id := range r.processes {
		// The register closes a process in its last activity; the workflow completes just
		// after.
		if err := r.tc.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
			t.Errorf("workflow %s: %v", id, err)
		}
		accepted := map[string]int{}
		completed := false
		it := r.tc.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				t.Fatalf("history of %s: %v", id, err)
			}
			switch e.GetEventType() {
			case enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
				req := e.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest()
				if req.GetInput().GetName() == "decide" {
					accepted[req.GetMeta().GetUpdateId()]++
				}
			case enums.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				if e.GetActivityTaskStartedEventAttributes().GetAttempt() > 1 {
					l.retriedActivities++
				}
			case enums.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
				completed = true
			}
		}
		if !completed {
			t.Errorf("workflow %s did not complete", id)
		}
		if len(accepted) != len(r.expectDecisions[id]) {
			t.Errorf("workflow %s accepted decide Updates for %d tasks, want %d: %v", id, len(accepted), len(r.expectDecisions[id]), accepted)
		}
		for task, n := range accepted {
			if n != 1 {
				t.Errorf("workflow %s accepted %d decide Updates for task %s", id, n, task)
			}
			if decidedTasks[task] != 1 {
				t.Errorf("workflow %s accepted a decision on %s that the register lacks", id, task)
			}
		}
	}

	// Mail: one message per notification, none else, and no dead link in any of them.
	type note struct {
		key, proc, subject, status, recipient string
		attempts                              int
	}
	notes := map[string]note{} // by Message-ID
	rows, err = r.db.Query("SELECT `key`, process_id, subject, status, recipient_id, attempts FROM notifications")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n note
		if err := rows.Scan(&n.key, &n.proc, &n.subject, &n.status, &n.recipient, &n.attempts); err != nil {
			t.Fatal(err)
		}
		notes[url.PathEscape(n.key)+"@policyflow"] = n
	}
	rows.Close()
	list, err := r.mp.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byMessageID := map[string]int{}
	bySubject := map[string]map[string]int{} // subject → Message-ID → mails
	for _, m := range list {
		if !procs[processOf(m.Subject)] {
			continue // another test's mail
		}
		l.mails++
		mid := strings.Trim(m.MessageID, "<>")
		byMessageID[mid]++
		if bySubject[m.Subject] == nil {
			bySubject[m.Subject] = map[string]int{}
		}
		bySubject[m.Subject][mid]++
		if dead := r.deadLink(ctx, m.ID); dead != "" {
			t.Errorf("the mail %q (Message-ID %s) carries a dead link: %s", m.Subject, m.MessageID, dead)
		}
	}
	for mid, n := range notes {
		if !procs[n.proc] {
			t.Errorf("a notification for an unknown process: %+v", n)
			continue
		}
		if r.unreachable[n.recipient] {
			if n.status != "undeliverable" || byMessageID[mid] != 0 {
				t.Errorf("notification %s to %s, whose address is refused: %s with %d mail(s) in Mailpit, want undeliverable and none",
					n.key, n.recipient, n.status, byMessageID[mid])
			}
			continue
		}
		if n.status != "sent" {
			t.Errorf("notification %s is %s", n.key, n.status)
		}
		switch got := byMessageID[mid]; {
		case got == 1:
		case got == 2 && r.killed && n.attempts > 1:
			// SMTP shares no transaction with the register: a worker killed between the
			// server's "250 OK" and the register's "sent" leaves a mail that was sent but
			// not recorded, and the retry sends it again. Both copies carry the same
			// Message-ID (and, checked above, a working link).
			l.killDuplicates++
			t.Logf("notification %s was sent twice: the worker was killed while sending it", n.key)
		default:
			t.Errorf("notification %s (%q, %d attempts): %d mails in Mailpit, want 1", n.key, n.subject, n.attempts, got)
		}
	}
	for mid, got := range byMessageID {
		if _, ok := notes[mid]; !ok {
			t.Errorf("%d mail(s) with Message-ID %s, which no notification has", got, mid)
		}
	}
	for subject, ids := range bySubject {
		// Two mails for one task and step are two notifications (a bug), or one sent twice
		// (tolerated above only when the worker was killed sending it).
		if len(ids) > 1 {
			t.Errorf("mails with the subject %q under %d Message-IDs: %v", subject, len(ids), ids)
		}
	}
	t.Logf("ledger: %d processes, %d decisions, %d mails, %d activity attempts after the first",
		len(r.processes), l.decisions, l.mails, l.retriedActivities)
	return l
}

// deadLink returns the task link of a mail if it no longer opens its task (404: the link
// was replaced or never stored), "" if it does (200 for an open task, 410 once decided).
func (r *rig) deadLink(ctx context.Context, mailpitID string) string {
	r.t.Helper()
	m, err := r.mp.Message(ctx, mailpitID)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, l := range testenv.Links(m.Text) {
		if !strings.Contains(l, "/tasks/") {
			continue
		}
		resp, err := r.http.Get(l)
		if err != nil {
			r.t.Fatalf("GET a mail's link: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusGone {
			return fmt.Sprintf("GET answers %d", resp.StatusCode)
		}
	}
	return ""
}

// phase logs how long each phase of a test took.
type phase struct {
	t    *testing.T
	last time.Time
}

func newPhase(t *testing.T) *phase { return &phase{t: t, last: time.Now()} }

func (p *phase) done(what string) {
	p.t.Logf("%6.1fs  %s", time.Since(p.last).Seconds(), what)
	p.last = time.Now()
}

// TestFaultWorkerKilled proves that killing the worker (SIGKILL) while decisions are posted
// and mails go out loses nothing and doubles nothing that can be kept single: with many
// processes in flight, half of the CISO's decisions are posted, then the worker is killed at
// the worst moment for a mail (the SMTP server has accepted it, the register does not know
// yet) and started again while the other half are posted (those that reach no worker wait
// for the new one, or are answered 503 and posted again). The returned requests' requesters
// withdraw them through the mail that went out meanwhile, and every process closes as
// decided, with one decision and one accepted Update per task, and one mail per task and
// step, except the mail caught by the kill: it goes out twice, under one Message-ID, and
// the link in each copy works (SMTP shares no transaction with the register; see
// checkLedger).
//
// With the 200 processes it takes 90-105 s on a shared 2-core machine, most of it
// waiting for the activities that died with the worker: they are retried once their
// one-minute start-to-close timeout has passed.
func TestFaultWorkerKilled(t *testing.T) {
	const n = 200
	r := newRig(t)
	ph := newPhase(t)
	proxy := newSMTPProxy(t, 0)
	r.restartWorker(proxy.env())
	pids := r.startExceptions(n)
	ph.done(fmt.Sprintf("started %d processes", n))
	review := r.links(pids, r.cisoMail, reviewSubject, 5*time.Minute)
	ph.done("the CISO's mails arrived")

	// Every other request is rejected; the rest are returned, so that the requester is
	// mailed while the worker dies.
	choice := func(pid string) string {
		if indexOf(pids, pid)%2 == 0 {
			return "reject"
		}
		return "return"
	}
	b := r.decideAll(review, choice, r.cisoName, 8)
	b.waitAnswered(t, n/2)
	proxy.armed.Store(true)
	select {
	case <-proxy.delivered:
	case <-time.After(time.Minute):
		t.Fatal("no mail went out within a minute of half the decisions")
	}
	r.killed = true
	if err := r.worker.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = r.worker.Wait()
	ph.done(fmt.Sprintf("%d decisions answered; worker killed as a mail went out", b.answered.Load()))
	r.startWorker(proxy.env())
	b.wait(t)
	ph.done(fmt.Sprintf("worker restarted; all %d decisions recorded (%d posted more than once)", n, b.retried))

	// Every mail goes out, the one caught by the kill included (it is sent again once its
	// activity times out).
	eventually(t, 3*time.Minute, "every mail to be sent", func() bool {
		var pending int
		return r.db.QueryRow("SELECT COUNT(*) FROM notifications WHERE status <> 'sent'").Scan(&pending) == nil && pending == 0
	})
	ph.done("every mail sent")
	var returned []string
	status := map[string]string{}
	for _, id := range pids {
		if choice(id) == "return" {
			returned = append(returned, id)
			status[id] = "withdrawn"
		} else {
			status[id] = "rejected"
		}
	}
	revision := r.links(returned, r.ismMail, revisionSubject, time.Minute)
	r.decideAll(revision, func(string) string { return "withdraw" }, r.ismName, 8).wait(t)
	ph.done("the requesters withdrew")
	r.waitClosed(status, 5*time.Minute)
	ph.done("every process closed")
	if l := r.checkLedger(); l.killDuplicates == 0 {
		t.Error("the mail caught by the kill was not sent again")
	}
	ph.done("ledger checked")
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// decide posts one decision until it is recorded (see decideUntilRecorded) and fails the
// test otherwise.
func (r *rig) decide(pid, link, choice, who string) outcome {
	r.t.Helper()
	o, ok := r.decideUntilRecorded(link, choice, who, 3*time.Minute)
	if !ok {
		r.t.Fatalf("%s on %s not recorded: %v", choice, pid, o)
	}
	r.expectDecisionsMu.Lock()
	r.expectDecisions[pid] = append(r.expectDecisions[pid], choice)
	r.expectDecisionsMu.Unlock()
	return o
}

// readyz returns the status code of GET /readyz, 0 if the API does not answer.
func (r *rig) readyz() int {
	resp, err := r.http.Get(r.baseURL + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// running fails the test unless p, started by the test, still runs. (A signal 0 would
// not do: it reaches a process that exited but was not waited for.)
func running(t *testing.T, what string, p *os.Process) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid))
	if i := strings.LastIndexByte(string(b), ')'); err != nil || i < 0 || i+2 >= len(b) || strings.ContainsRune("ZXx", rune(b[i+2])) {
		t.Fatalf("the %s (pid %d) is no longer running: %q %v", what, p.Pid, b, err)
	}
}

// waitExit waits for a piece to exit after a signal and returns how long that took and its
// exit error.
func waitExit(t *testing.T, cmd *exec.Cmd, limit time.Duration) (time.Duration, error) {
	t.Helper()
	t0 := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return time.Since(t0), err
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not exit within %v", cmd.Args[1], limit)
		return 0, nil
	}
}

// restartWorker stops the worker (SIGTERM, which it must survive cleanly) and starts it
// again with extra settings (KEY=VALUE, overriding the system's).
func (r *rig) restartWorker(env ...string) {
	r.t.Helper()
	_ = r.worker.Process.Signal(syscall.SIGTERM)
	if _, err := waitExit(r.t, r.worker, 45*time.Second); err != nil {
		r.t.Fatalf("the worker's exit after SIGTERM: %v", err)
	}
	r.startWorker(env...)
}

// startWorker starts a worker with extra settings and waits until it polls.
func (r *rig) startWorker(env ...string) {
	r.t.Helper()
	before := r.workerPolling()
	saved := r.env
	r.env = append(append([]string(nil), saved...), env...)
	r.worker = r.start("worker")
	r.env = saved
	eventually(r.t, time.Minute, "the worker to poll", func() bool { return r.workerPolling() > before })
}

// workerPolling counts the workers started so far that have begun polling, from the log.
func (r *rig) workerPolling() int {
	b, _ := os.ReadFile(filepath.Join(r.logs, "worker.log"))
	return bytes.Count(b, []byte(`"msg":"worker polling"`))
}

// sleepUntil is the deliberate length of an outage.
func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

// TestFaultMariaDBDown proves that a 30-second outage of the database loses nothing and
// doubles nothing: a burst of requests is started and MariaDB stopped while their task mails
// are being sent (a proxy holds each SMTP connection for 2 s), so those mails reach the
// mailbox while the register cannot record them. Meanwhile the worker keeps running, and
// /readyz, the API and a decision answer 503 (the link keeps working). Once MariaDB is back
// on the same address, the activities caught by the outage finish or are retried, every
// mail is in the mailbox exactly once with a link that works, the decision posted during
// the outage is recorded when posted again, and every process closes with its ledger intact.
func TestFaultMariaDBDown(t *testing.T) {
	r := newRig(t)
	ph := newPhase(t)
	early := r.startExceptions(2)
	earlyLinks := r.links(early, r.cisoMail, reviewSubject, time.Minute)
	ph.done("2 processes waiting for the CISO")

	// The worker sends mail through a proxy that holds each SMTP connection for 2 s, so that
	// mails are surely on their way when the database goes down.
	proxy := newSMTPProxy(t, 2*time.Second)
	r.restartWorker(proxy.env())
	burst := r.startExceptions(30)
	select {
	case <-proxy.accepted:
	case <-time.After(time.Minute):
		t.Fatal("no task mail was sent within a minute")
	}
	testenv.Stop(t, testenv.NeedMariaDB)
	down := time.Now()
	ph.done("30 more started; MariaDB stopped while their mails are being sent")

	eventually(t, 30*time.Second, "/readyz to answer 503", func() bool { return r.readyz() == http.StatusServiceUnavailable })
	code, body, err := r.post(earlyLinks[early[0]], "reject")
	if err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("a decision during the outage: %d %v: %s", code, err, brief(body))
	}
	if code, err := r.callErr(r.auditor, "GET", "/api/v1/processes", nil, nil); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("GET /processes during the outage: %d %v", code, err)
	}
	running(t, "worker", r.worker.Process)
	ph.done("during the outage: /readyz, a decision and the API answer 503")
	sleepUntil(down.Add(30 * time.Second))
	running(t, "worker", r.worker.Process)
	testenv.Start(t, testenv.NeedMariaDB)
	ph.done("MariaDB back after 30 s")

	o := r.decide(early[0], earlyLinks[early[0]], "reject", r.cisoName)
	ph.done(fmt.Sprintf("the decision posted during the outage, posted again, is recorded (answers %v)", o.codes))
	review := r.links(burst, r.cisoMail, reviewSubject, 3*time.Minute)
	ph.done("the burst's mails arrived")
	review[early[1]] = earlyLinks[early[1]]
	r.decideAll(review, func(string) string { return "reject" }, r.cisoName, 8).wait(t)
	status := map[string]string{}
	for _, id := range r.processes {
		status[id] = "rejected"
	}
	r.waitClosed(status, 3*time.Minute)
	running(t, "worker", r.worker.Process)
	ph.done("every process rejected and closed; the worker never stopped")
	r.checkLedger()
	ph.done("ledger checked")
}

// TestFaultMailpitDown proves that mail survives a 30-second outage of the SMTP server:
// while Mailpit is down, decisions are still recorded (mail is not on their path), returned
// requests and new requests queue their mails, and once Mailpit is back every one of them
// arrives, exactly once, with a link that works; the mail from before the outage is still in
// the mailbox.
func TestFaultMailpitDown(t *testing.T) {
	r := newRig(t)
	ph := newPhase(t)
	before := r.startExceptions(10)
	review := r.links(before, r.cisoMail, reviewSubject, time.Minute)
	ph.done("10 processes waiting for the CISO")

	testenv.Stop(t, testenv.NeedMailpit)
	down := time.Now()
	returned := before[:5]
	for _, id := range returned {
		if o := r.decide(id, review[id], "return", r.cisoName); len(o.codes) != 1 {
			t.Errorf("returning %s while Mailpit is down: %v", id, o)
		}
	}
	during := r.startExceptions(5)
	running(t, "worker", r.worker.Process)
	ph.done("Mailpit stopped; 5 requests returned and 5 started without it")
	sleepUntil(down.Add(30 * time.Second))
	testenv.Start(t, testenv.NeedMailpit)
	ph.done("Mailpit back after 30 s")

	// The activities retry with a backoff growing to a minute.
	revision := r.links(returned, r.ismMail, revisionSubject, 3*time.Minute)
	late := r.links(during, r.cisoMail, reviewSubject, 3*time.Minute)
	ph.done("every mail queued during the outage arrived")
	status := map[string]string{}
	for _, id := range returned {
		status[id] = "withdrawn"
	}
	for id, l := range late {
		review[id] = l
	}
	for _, id := range returned {
		delete(review, id)
	}
	for id := range review {
		status[id] = "rejected"
	}
	r.decideAll(revision, func(string) string { return "withdraw" }, r.ismName, 4).wait(t)
	r.decideAll(review, func(string) string { return "reject" }, r.cisoName, 4).wait(t)
	r.waitClosed(status, 2*time.Minute)
	ph.done("every process closed")
	r.checkLedger()
	var retried int
	if err := r.db.QueryRow("SELECT COUNT(*) FROM notifications WHERE attempts > 1").Scan(&retried); err != nil {
		t.Fatal(err)
	}
	if retried < len(returned)+len(during) {
		t.Errorf("%d notifications were retried, want at least the %d queued during the outage", retried, len(returned)+len(during))
	}
	ph.done("ledger checked")
}

// TestFaultTemporalDown proves that the API rides out a restart of the Temporal server
// without a restart of its own: while Temporal is down, /readyz answers 503, a decision
// answers 503 (its link keeps working) and a new request answers 503 and leaves nothing in
// the register; once the server is back (same address, same history), /readyz recovers,
// the decision posted again is recorded, and the processes run on to their end.
func TestFaultTemporalDown(t *testing.T) {
	r := newRig(t)
	ph := newPhase(t)
	pids := r.startExceptions(6)
	review := r.links(pids, r.cisoMail, reviewSubject, time.Minute)
	r.decide(pids[0], review[pids[0]], "reject", r.cisoName)
	delete(review, pids[0])
	serve := r.serve.Process.Pid
	ph.done("6 processes started, one decided")

	testenv.Stop(t, testenv.NeedTemporal)
	eventually(t, 30*time.Second, "/readyz to answer 503", func() bool { return r.readyz() == http.StatusServiceUnavailable })
	t0 := time.Now()
	code, body, err := r.post(review[pids[1]], "return")
	if err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("a decision while Temporal is down: %d %v: %s", code, err, brief(body))
	}
	decisionTook := time.Since(t0)
	registered := len(r.registerStatus())
	t0 = time.Now()
	if code, err := r.callErr(r.officer, "POST", "/api/v1/exceptions", map[string]any{
		"requester": "F-ISM", "clauses": []string{"6.2(1)"}, "alternative": "操作ログを毎日確認する",
		"reason": "障害試験", "systems": []string{"registry"}, "classification": 1,
		"start_date": time.Now().In(tokyo(t)).Format("2006-01-02"), "end_date": time.Now().In(tokyo(t)).AddDate(0, 1, 0).Format("2006-01-02"),
	}, nil); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("POST /exceptions while Temporal is down: %d %v", code, err)
	}
	if got := len(r.registerStatus()); got != registered {
		t.Errorf("a request refused with 503 left %d processes in the register", got-registered)
	}
	ph.done(fmt.Sprintf("Temporal stopped: /readyz, a decision (in %.1fs) and a new request (in %.1fs) answer 503",
		decisionTook.Seconds(), time.Since(t0).Seconds()))
	testenv.Start(t, testenv.NeedTemporal)
	ph.done("Temporal started again")
	eventually(t, 2*time.Minute, "/readyz to recover", func() bool { return r.readyz() == http.StatusOK })
	running(t, "API", r.serve.Process)
	if r.serve.Process.Pid != serve {
		t.Fatal("the API was restarted")
	}
	ph.done("/readyz recovered without restarting the API")
	o := r.decide(pids[1], review[pids[1]], "return", r.cisoName)
	delete(review, pids[1])
	ph.done(fmt.Sprintf("the decision posted again is recorded (answers %v)", o.codes))
	r.decideAll(review, func(string) string { return "reject" }, r.cisoName, 4).wait(t)
	revision := r.links(pids[1:2], r.ismMail, revisionSubject, time.Minute)
	r.decide(pids[1], revision[pids[1]], "withdraw", r.ismName)
	status := map[string]string{}
	for _, id := range pids {
		status[id] = "rejected"
	}
	status[pids[1]] = "withdrawn"
	r.waitClosed(status, 2*time.Minute)
	ph.done("every process closed")
	r.checkLedger()
	ph.done("ledger checked")
}

// smtpProxy stands between the worker and Mailpit's SMTP server, to time a fault to a mail:
//   - it holds every connection for a while before relaying it, so that a mail activity is
//     surely running when the test acts, and reports each connection on accepted;
//   - once armed, it stops relaying the server's answers on the first connection whose
//     message the server has just accepted, right after that "250": the message is in the
//     mailbox, the worker knows it went out, and hangs in the end of the SMTP session
//     before it can record it; the proxy reports it on delivered.
type smtpProxy struct {
	addr      string
	target    string
	hold      time.Duration
	accepted  chan struct{}
	delivered chan struct{}
	armed     atomic.Bool
}

func newSMTPProxy(t *testing.T, hold time.Duration) *smtpProxy {
	host, port := testenv.SMTPAddr(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	p := &smtpProxy{addr: l.Addr().String(), target: net.JoinHostPort(host, fmt.Sprint(port)), hold: hold,
		accepted: make(chan struct{}, 1), delivered: make(chan struct{}, 1)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			select {
			case p.accepted <- struct{}{}:
			default:
			}
			go p.relay(c)
		}
	}()
	return p
}

// env is the worker's setting to send mail through the proxy.
func (p *smtpProxy) env() string { return "POLICYFLOW_SMTP_URL=smtp://" + p.addr }

func (p *smtpProxy) relay(c net.Conn) {
	defer c.Close()
	time.Sleep(p.hold)
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	// The client's side: count the ends of messages ("\r\n.\r\n", which dot-stuffing keeps
	// out of a message's body) before passing them on, so that the server's answer to one
	// is always seen after it is counted.
	var ends atomic.Int32
	go func() {
		defer up.Close()
		var tail []byte
		buf := make([]byte, 32<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				tail = append(tail, buf[:n]...)
				ends.Add(int32(bytes.Count(tail, []byte("\r\n.\r\n"))))
				tail = tail[max(0, len(tail)-4):]
				if _, err := up.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	// The server's side, line by line.
	rd := bufio.NewReader(up)
	answered := int32(0)
	for {
		line, err := rd.ReadString('\n')
		if line != "" {
			if _, err := io.WriteString(c, line); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
		if strings.HasPrefix(line, "250 ") && ends.Load() > answered {
			answered++
			if p.armed.CompareAndSwap(true, false) {
				p.delivered <- struct{}{}
				_, _ = io.Copy(io.Discard, c) // hang until the client goes away
				return
			}
		}
	}
}

// TestFaultGracefulShutdown proves that SIGTERM lets work in progress finish:
//   - the API, stopped while a decision POST is in flight (the worker is down, so the POST
//     waits for its Update until the API's timeout), answers that request (503, "try
//     again") instead of dropping the connection, refuses new connections meanwhile, and
//     exits 0; the decision, posted again once the API and the worker are back, is recorded;
//   - the worker, stopped while a task mail is being sent (through a proxy that holds the
//     SMTP connection for 3 s), finishes the activity: the mail arrives, the register marks
//     it sent on the first attempt before the worker exits 0, and the activity is never
//     retried.
func TestFaultGracefulShutdown(t *testing.T) {
	r := newRig(t)
	ph := newPhase(t)
	pids := r.startExceptions(1)
	review := r.links(pids, r.cisoMail, reviewSubject, time.Minute)
	ph.done("a process waiting for the CISO")

	// The API: SIGTERM with a decision in flight.
	_ = r.worker.Process.Signal(syscall.SIGTERM)
	if took, err := waitExit(t, r.worker, 45*time.Second); err != nil {
		t.Fatalf("the idle worker's exit after SIGTERM: %v", err)
	} else {
		ph.done(fmt.Sprintf("worker stopped (exit 0 in %v)", took.Round(time.Millisecond)))
	}
	type answer struct {
		code int
		body string
		err  error
		at   time.Time
	}
	answered := make(chan answer, 1)
	go func() {
		code, body, err := r.post(review[pids[0]], "reject")
		answered <- answer{code, body, err, time.Now()}
	}()
	eventually(t, 30*time.Second, "the decision to reach the API", func() bool {
		var n int
		_ = r.db.QueryRow("SELECT COUNT(*) FROM decision_requests").Scan(&n)
		return n > 0
	})
	_ = r.serve.Process.Signal(syscall.SIGTERM)
	sigterm := time.Now()
	select {
	case a := <-answered:
		t.Fatalf("the POST was answered before the API could be stopped with it in flight: %d %v", a.code, a.err)
	default:
	}
	eventually(t, 10*time.Second, "the stopping API to refuse new connections", func() bool {
		_, err := http.Get(r.baseURL + "/healthz")
		return err != nil
	})
	a := <-answered
	if a.err != nil || a.code != http.StatusServiceUnavailable || !strings.Contains(a.body, "もう一度送信してください") {
		t.Fatalf("the in-flight POST after SIGTERM: %d %v: %s", a.code, a.err, brief(a.body))
	}
	if _, err := waitExit(t, r.serve, 45*time.Second); err != nil {
		t.Fatalf("the API's exit after SIGTERM: %v", err)
	}
	ph.done(fmt.Sprintf("API stopped with a POST in flight: answered %d %.1fs after SIGTERM, exited 0 %.1fs after SIGTERM",
		a.code, a.at.Sub(sigterm).Seconds(), time.Since(sigterm).Seconds()))
	r.serve = r.start("serve")
	r.startWorker()
	r.waitReady()
	o := r.decide(pids[0], review[pids[0]], "reject", r.cisoName)
	ph.done(fmt.Sprintf("API and worker back; the decision posted again is recorded (answers %v)", o.codes))

	// The worker: SIGTERM while a task mail is being sent.
	const hold = 3 * time.Second
	proxy := newSMTPProxy(t, hold)
	r.restartWorker(proxy.env())
	mailed := r.startExceptions(1)
	select {
	case <-proxy.accepted:
	case <-time.After(time.Minute):
		t.Fatal("the task mail was not sent within a minute")
	}
	_ = r.worker.Process.Signal(syscall.SIGTERM)
	if took, err := waitExit(t, r.worker, 45*time.Second); err != nil {
		t.Fatalf("the worker's exit after SIGTERM during a mail: %v", err)
	} else if took < hold/2 {
		t.Errorf("the worker exited %v after SIGTERM, before the mail it was sending could go out", took)
	} else {
		ph.done(fmt.Sprintf("worker stopped while sending a mail: exit 0 after %v", took.Round(time.Millisecond)))
	}
	var status string
	var attempts int
	if err := r.db.QueryRow("SELECT status, attempts FROM notifications WHERE process_id = ?", mailed[0]).Scan(&status, &attempts); err != nil {
		t.Fatal(err)
	}
	if status != "sent" || attempts != 1 {
		t.Errorf("the mail in flight at SIGTERM: %s after %d attempt(s), want sent after 1", status, attempts)
	}
	r.startWorker()
	link := r.links(mailed, r.cisoMail, reviewSubject, time.Minute)
	r.decide(mailed[0], link[mailed[0]], "reject", r.cisoName)
	r.waitClosed(map[string]string{pids[0]: "rejected", mailed[0]: "rejected"}, time.Minute)
	ph.done("the mail sent during SIGTERM arrived; its link works; both processes closed")
	if l := r.checkLedger(); l.retriedActivities != 0 {
		t.Errorf("%d activity attempts after the first: a stopping worker abandoned work", l.retriedActivities)
	}
}
