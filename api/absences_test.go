package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/api"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/workflows"
)

// absenceReply is an absence as the API answers it.
type absenceReply struct {
	ID           uint       `json:"id"`
	EmployeeID   string     `json:"employee_id"`
	From         time.Time  `json:"from"`
	To           time.Time  `json:"to"`
	DeputyID     string     `json:"deputy_id"`
	Status       string     `json:"status"`
	Reason       string     `json:"reason"`
	RegisteredBy string     `json:"registered_by"`
	CancelledAt  *time.Time `json:"cancelled_at"`
}

func absencesPath(employeeID string) string { return "/api/v1/people/" + employeeID + "/absences" }

// reassessSignals lists the reassess signals in a workflow's history, as "person why".
func (s *system) reassessSignals(t testing.TB, workflowID string) []string {
	t.Helper()
	var out []string
	it := s.Temporal.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", workflowID, err)
		}
		a := e.GetWorkflowExecutionSignaledEventAttributes()
		if e.EventType != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED || a.GetSignalName() != workflows.SignalReassess {
			continue
		}
		var r workflows.Reassess
		if err := converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &r); err != nil {
			t.Fatalf("reassess signal of %s: %v", workflowID, err)
		}
		out = append(out, r.PersonID+" "+r.Why)
	}
	return out
}

// waitSignal waits until the workflow's history holds the reassess signal "person why".
func (s *system) waitSignal(t testing.TB, workflowID, want string) {
	t.Helper()
	eventually(t, "signal "+want+" to "+workflowID, func() (bool, string) {
		got := s.reassessSignals(t, workflowID)
		for _, g := range got {
			if g == want {
				return true, ""
			}
		}
		return false, fmt.Sprint(got)
	})
}

// offboardingWithOneTask starts a late offboarding of a leaver with no account and no
// asset: its one task, the secrecy acknowledgement, is the leaver's own and opens at once.
func (s *system) offboardingWithOneTask(t testing.TB) (leaver models.Person, processID string, task models.Task) {
	t.Helper()
	leaver, _ = s.leaver(t)
	processID = startedID(t, call(t, http.MethodPost, "/api/v1/offboardings", s.token("hr"), offboardingRequest(leaver.EmployeeID, "retirement", date(-3))), 201)
	tasks := s.openTasks(t, processID, 1)
	if tasks[0].AssigneeID != leaver.EmployeeID {
		t.Fatalf("the one task is %s's, want the leaver's", tasks[0].AssigneeID)
	}
	return leaver, processID, tasks[0]
}

func (s *system) absenceCount(t testing.TB, employeeID string) int64 {
	t.Helper()
	return s.countRows(t, &models.Absence{}, "employee_id = ?", employeeID)
}

// A directory-scope token registers absences, the auditor lists them newest first with
// their status, and a withdrawal cancels the absence's workflow.
func TestAbsenceRegisteredListedAndWithdrawn(t *testing.T) {
	t.Parallel()
	s := sys(t)
	ctx := context.Background()
	dir := s.token("directory")
	dept := uid("dept")
	p := s.addPerson(t, dept, "diso")
	deputy := s.addPerson(t, dept, "staff")

	r := call(t, http.MethodPost, absencesPath(p.EmployeeID), dir, map[string]any{
		"from": date(30), "to": date(34), "deputy_id": deputy.EmployeeID, "reason": "年次休暇"})
	if r.Status != http.StatusCreated {
		t.Fatalf("register: %s", r)
	}
	var later absenceReply
	r.decode(t, &later)
	// Dates: from the start of the first day to the end of the last, in Tokyo.
	wantFrom, _ := time.ParseInLocation("2006-01-02", date(30), tokyo)
	wantTo, _ := time.ParseInLocation("2006-01-02", date(35), tokyo)
	if later.ID == 0 || later.EmployeeID != p.EmployeeID || !later.From.Equal(wantFrom) || !later.To.Equal(wantTo) ||
		later.DeputyID != deputy.EmployeeID || later.Status != "upcoming" {
		t.Errorf("registered %+v; want from %v to %v, deputy %s, upcoming", later, wantFrom, wantTo, deputy.EmployeeID)
	}
	if _, off := later.From.Zone(); off != 9*3600 {
		t.Errorf("from is given in offset %d, want +09:00", off)
	}
	var row models.Absence
	if err := s.Store.DB.First(&row, later.ID).Error; err != nil || row.RegisteredBy != "token:test-directory" || row.Reason != "年次休暇" {
		t.Errorf("the register has %+v (%v)", row, err)
	}
	wf := workflows.AbsenceWorkflowID(later.ID)
	d, err := s.Temporal.DescribeWorkflowExecution(ctx, wf, "")
	if err != nil {
		t.Fatalf("the absence's workflow %s: %v", wf, err)
	}
	if st := d.WorkflowExecutionInfo.Status; st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("the absence's workflow is %v, want running", st)
	}
	var kind string
	_ = converter.GetDefaultDataConverter().FromPayload(d.WorkflowExecutionInfo.SearchAttributes.GetIndexedFields()["PolicyProcess"], &kind)
	if kind != workflows.KindAbsence {
		t.Errorf("PolicyProcess = %q, want absence", kind)
	}

	// An RFC 3339 absence already in force.
	now := time.Now().In(tokyo)
	r = call(t, http.MethodPost, absencesPath(p.EmployeeID), dir, map[string]any{
		"from": now.Add(-time.Hour).Format(time.RFC3339), "to": now.Add(3 * time.Hour).Format(time.RFC3339)})
	if r.Status != http.StatusCreated {
		t.Fatalf("register the second: %s", r)
	}
	var current absenceReply
	r.decode(t, &current)
	if current.Status != "in_force" || current.DeputyID != "" {
		t.Errorf("second absence %+v, want in force without a deputy", current)
	}

	var list struct{ Items []absenceReply }
	for _, scope := range []string{"auditor", "directory"} {
		r = call(t, http.MethodGet, absencesPath(p.EmployeeID), s.token(scope), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list with %s: %s", scope, r)
		}
	}
	r.decode(t, &list)
	if len(list.Items) != 2 || list.Items[0].ID != later.ID || list.Items[1].ID != current.ID {
		t.Errorf("list %+v, want the later absence first", list.Items)
	}
	call(t, http.MethodGet, absencesPath(p.EmployeeID), s.token("officer"), nil).wantError(t, http.StatusForbidden, "forbidden")
	call(t, http.MethodGet, absencesPath(uid("nobody")), s.token("auditor"), nil).wantError(t, http.StatusNotFound, "not_found")

	// Withdrawn: the register says so and the workflow is cancelled; again, the same answer.
	del := fmt.Sprintf("%s/%d", absencesPath(p.EmployeeID), later.ID)
	call(t, http.MethodDelete, del, s.token("auditor"), nil).wantError(t, http.StatusForbidden, "forbidden")
	for range 2 {
		r = call(t, http.MethodDelete, del, dir, nil)
		var w absenceReply
		r.decode(t, &w)
		if r.Status != http.StatusOK || w.Status != "cancelled" || w.CancelledAt == nil {
			t.Errorf("withdraw: %s", r)
		}
	}
	eventually(t, "the withdrawn absence's workflow to be cancelled", func() (bool, string) {
		d, err := s.Temporal.DescribeWorkflowExecution(ctx, wf, "")
		if err != nil {
			return false, err.Error()
		}
		st := d.WorkflowExecutionInfo.Status
		return st == enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, st.String()
	})
	r = call(t, http.MethodGet, absencesPath(p.EmployeeID), s.token("auditor"), nil)
	r.decode(t, &list)
	if list.Items[0].Status != "cancelled" || list.Items[1].Status != "in_force" {
		t.Errorf("after the withdrawal: %+v", list.Items)
	}
	if _, err := s.Store.AbsenceAt(ctx, p.EmployeeID, wantFrom.Add(time.Hour)); err == nil {
		t.Error("the withdrawn absence is still in force in the register")
	}
}

// Every refusal names what is wrong and registers nothing.
func TestAbsenceValidation(t *testing.T) {
	t.Parallel()
	s := sys(t)
	ctx := context.Background()
	dir := s.token("directory")
	dept := uid("dept")
	p := s.addPerson(t, dept, "staff")
	other := s.addPerson(t, dept, "staff")
	retired := s.addPerson(t, dept, "staff")
	retired.Status = models.StatusRetired
	vendor := s.addPerson(t, dept, "vendor")
	if _, err := s.Store.PutPeople(ctx, []models.Person{retired}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(tokyo)
	rfc := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	ok := map[string]any{"from": date(10), "to": date(12)}
	with := func(k string, v any) map[string]any {
		b := map[string]any{}
		for k, v := range ok {
			b[k] = v
		}
		b[k] = v
		return b
	}
	for _, c := range []struct {
		name   string
		person string
		token  string
		body   any
		status int
		code   string
		field  string
	}{
		{"no token", p.EmployeeID, "", ok, 401, "unauthorized", ""},
		{"officer token", p.EmployeeID, s.token("officer"), ok, 403, "forbidden", ""},
		{"auditor token", p.EmployeeID, s.token("auditor"), ok, 403, "forbidden", ""},
		{"not JSON", p.EmployeeID, dir, "from=tomorrow", 400, "bad_request", ""},
		{"unknown field", p.EmployeeID, dir, with("deputy", other.EmployeeID), 400, "bad_request", ""},
		{"no from", p.EmployeeID, dir, map[string]any{"to": date(12)}, 400, "validation_failed", "from"},
		{"no to", p.EmployeeID, dir, map[string]any{"from": date(10)}, 400, "validation_failed", "to"},
		{"from not a time", p.EmployeeID, dir, with("from", "tomorrow"), 400, "validation_failed", "from"},
		{"to without offset", p.EmployeeID, dir, with("to", now.Add(48*time.Hour).Format("2006-01-02T15:04:05")), 400, "validation_failed", "to"},
		{"no such date", p.EmployeeID, dir, with("to", "2031-02-30"), 400, "validation_failed", "to"},
		{"deputy not an ID", p.EmployeeID, dir, with("deputy_id", "a b"), 400, "validation_failed", "deputy_id"},
		{"reason too long", p.EmployeeID, dir, with("reason", strings.Repeat("休", 1001)), 400, "validation_failed", "reason"},
		{"unknown person", uid("nobody"), dir, ok, 404, "not_found", ""},
		{"to before from", p.EmployeeID, dir, map[string]any{"from": date(12), "to": date(10)}, 422, "policy_violation", "to"},
		{"to equals from", p.EmployeeID, dir, map[string]any{"from": rfc(time.Hour), "to": rfc(time.Hour)}, 422, "policy_violation", "to"},
		{"longer than 366 days", p.EmployeeID, dir, map[string]any{"from": date(1), "to": date(367)}, 422, "policy_violation", "to"},
		{"already ended", p.EmployeeID, dir, map[string]any{"from": date(-5), "to": date(-2)}, 422, "policy_violation", "to"},
		{"person not employed", retired.EmployeeID, dir, ok, 422, "policy_violation", "employee_id"},
		{"deputy unknown", p.EmployeeID, dir, with("deputy_id", uid("nobody")), 422, "policy_violation", "deputy_id"},
		{"deputy not employed", p.EmployeeID, dir, with("deputy_id", retired.EmployeeID), 422, "policy_violation", "deputy_id"},
		{"deputy is the person", p.EmployeeID, dir, with("deputy_id", p.EmployeeID), 422, "policy_violation", "deputy_id"},
		{"deputy is a vendor", p.EmployeeID, dir, with("deputy_id", vendor.EmployeeID), 422, "policy_violation", "deputy_id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := call(t, http.MethodPost, absencesPath(c.person), c.token, c.body).wantError(t, c.status, c.code)
			if c.field != "" && e.Fields[c.field] == "" {
				t.Errorf("no message for %s: %+v", c.field, e)
			}
		})
	}
	for _, who := range []string{p.EmployeeID, retired.EmployeeID} {
		if n := s.absenceCount(t, who); n != 0 {
			t.Errorf("refused requests registered %d absences of %s", n, who)
		}
	}
	// 366 days exactly is allowed.
	if r := call(t, http.MethodPost, absencesPath(p.EmployeeID), dir, map[string]any{"from": date(1), "to": date(366)}); r.Status != http.StatusCreated {
		t.Errorf("an absence of 366 days: %s", r)
	}
}

// Withdrawing: only the person's own absence, only one that has not ended.
func TestAbsenceWithdrawalRefusals(t *testing.T) {
	t.Parallel()
	s := sys(t)
	ctx := context.Background()
	dir := s.token("directory")
	dept := uid("dept")
	p, q := s.addPerson(t, dept, "staff"), s.addPerson(t, dept, "staff")
	r := call(t, http.MethodPost, absencesPath(q.EmployeeID), dir, map[string]any{"from": date(3), "to": date(4)})
	if r.Status != http.StatusCreated {
		t.Fatalf("register: %s", r)
	}
	var qs absenceReply
	r.decode(t, &qs)
	ended := models.Absence{EmployeeID: p.EmployeeID, From: time.Now().Add(-72 * time.Hour), To: time.Now().Add(-time.Hour), RegisteredBy: "test"}
	if err := s.Store.CreateAbsence(ctx, &ended); err != nil {
		t.Fatal(err)
	}
	base := absencesPath(p.EmployeeID) + "/"
	call(t, http.MethodDelete, base+fmt.Sprint(qs.ID), dir, nil).wantError(t, http.StatusNotFound, "not_found")
	call(t, http.MethodDelete, base+"x1", dir, nil).wantError(t, http.StatusNotFound, "not_found")
	call(t, http.MethodDelete, base+"999999999", dir, nil).wantError(t, http.StatusNotFound, "not_found")
	call(t, http.MethodDelete, base+fmt.Sprint(ended.ID), dir, nil).wantError(t, http.StatusConflict, "conflict")
	if a, _ := s.Store.PersonAbsence(ctx, q.EmployeeID, qs.ID); a.CancelledAt != nil {
		t.Error("another person's withdrawal cancelled q's absence")
	}
	if a, _ := s.Store.PersonAbsence(ctx, p.EmployeeID, ended.ID); a.CancelledAt != nil {
		t.Error("an ended absence was withdrawn")
	}
}

// The link holder's own page: GET shows a form and changes nothing; POST registers an
// absence of the holder, which hands the holder's open task over at once since it has
// started; the link still decides its task afterwards.
func TestAbsenceLinkPage(t *testing.T) {
	t.Parallel()
	s := sys(t)
	leaver, processID, task := s.offboardingWithOneTask(t)
	link := s.linkOf(t, task)
	token := link[strings.LastIndex(link, "/")+1:]
	s.waitIdle(t, processID)

	taskPage := call(t, http.MethodGet, link, "", nil)
	if !strings.Contains(string(taskPage.Body), `href="./`+token+`/absence"`) {
		t.Errorf("the task page does not link to the absence page:\n%s", taskPage.Body)
	}
	before, history := s.snapshot(t, processID), s.historyLength(t, processID)
	page := call(t, http.MethodGet, link+"/absence", "", nil)
	if page.Status != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET the absence page: %s", page)
	}
	for _, want := range []string{`<html lang="en">`, `<form method="post">`, `name="from"`, `name="to"`, `name="deputy_id"`, `name="reason"`, "Register an absence", `href="../` + token + `"`} {
		if !strings.Contains(string(page.Body), want) {
			t.Errorf("the absence page lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(string(page.Body)), "<script") {
		t.Error("the absence page has a script")
	}
	for _, h := range []string{"Referrer-Policy", "Cache-Control", "X-Frame-Options", "X-Content-Type-Options", "Content-Security-Policy"} {
		if got, want := page.Header.Get(h), taskPage.Header.Get(h); got == "" || got != want {
			t.Errorf("%s: %q, the task page has %q", h, got, want)
		}
	}
	if after := s.snapshot(t, processID); after != before {
		t.Errorf("GET changed the register:\nbefore %s\nafter %s", before, after)
	}
	if h := s.historyLength(t, processID); h != history {
		t.Errorf("GET changed the workflow's history: %d events, then %d", history, h)
	}
	if n := s.absenceCount(t, leaver.EmployeeID); n != 0 {
		t.Errorf("GET registered %d absences", n)
	}

	// Refused: the page again, with what is wrong; nothing registered.
	bad := post(t, link+"/absence", url.Values{"from": {date(3)}, "to": {date(1)}}, false)
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(string(bad.Body), "must be after from") || !strings.Contains(string(bad.Body), `value="`+date(3)+`"`) {
		t.Errorf("a POST with to before from: %s", bad)
	}
	post(t, link+"/absence", url.Values{"from": {"soon"}, "to": {date(1)}}, true).wantError(t, http.StatusBadRequest, "validation_failed")
	if n := s.absenceCount(t, leaver.EmployeeID); n != 0 {
		t.Errorf("refused POSTs registered %d absences", n)
	}

	// Registered from today: in force at once, so the open task is handed over.
	ok := post(t, link+"/absence", url.Values{"from": {date(0)}, "to": {date(2)}, "reason": {"通院"}}, false)
	if ok.Status != http.StatusCreated || !strings.Contains(string(ok.Body), "Your absence is registered") {
		t.Fatalf("register through the link: %s", ok)
	}
	var row models.Absence
	if err := s.Store.DB.Where("employee_id = ?", leaver.EmployeeID).First(&row).Error; err != nil ||
		row.RegisteredBy != "link:"+leaver.EmployeeID || row.Reason != "通院" {
		t.Fatalf("the register has %+v (%v)", row, err)
	}
	s.waitSignal(t, processID, leaver.EmployeeID+" absence")
	asJSON := post(t, link+"/absence", url.Values{"from": {date(20)}, "to": {date(21)}}, true)
	var j absenceReply
	asJSON.decode(t, &j)
	if asJSON.Status != http.StatusCreated || j.EmployeeID != leaver.EmployeeID || j.Status != "upcoming" {
		t.Errorf("register through the link as JSON: %s", asJSON)
	}

	// In the holder's language.
	ja := leaver
	ja.Locale = "ja"
	if _, err := s.Store.PutPeople(context.Background(), []models.Person{ja}); err != nil {
		t.Fatal(err)
	}
	if page := call(t, http.MethodGet, link+"/absence", "", nil); !strings.Contains(string(page.Body), `<html lang="ja">`) || !strings.Contains(string(page.Body), "不在の登録") {
		t.Errorf("the page for a Japanese-speaking holder: %s", page)
	}
	// A link handed over to someone else no longer opens the page.
	links := s.Store.DB.Model(&models.TaskLink{}).Where("token_hash = ?", activities.HashToken(token))
	if err := links.Update("revoked_at", time.Now()).Error; err != nil {
		t.Fatal(err)
	}
	call(t, http.MethodGet, link+"/absence", "", nil, "Accept", "application/json").wantError(t, http.StatusGone, "gone")
	if err := s.Store.DB.Model(&models.TaskLink{}).Where("token_hash = ?", activities.HashToken(token)).Update("revoked_at", nil).Error; err != nil {
		t.Fatal(err)
	}

	// The link is not used up: it still decides the task. Then the absence page is closed too.
	if r := post(t, link, decision("acknowledge", ""), true); r.Status != http.StatusOK {
		t.Fatalf("decide after registering an absence: %s", r)
	}
	call(t, http.MethodGet, link+"/absence", "", nil, "Accept", "application/json").wantError(t, http.StatusGone, "gone")
	if r := post(t, link+"/absence", url.Values{"from": {date(30)}, "to": {date(31)}}, false); r.Status != http.StatusGone {
		t.Errorf("POST on a decided task's absence page: %s", r)
	}
	altered := link[:len(link)-1] + map[bool]string{true: "A", false: "B"}[!strings.HasSuffix(link, "A")]
	call(t, http.MethodGet, altered+"/absence", "", nil, "Accept", "application/json").wantError(t, http.StatusNotFound, "not_found")
	if n := s.absenceCount(t, leaver.EmployeeID); n != 2 {
		t.Errorf("%d absences registered, want 2", n)
	}
}

// A change of roles, department or employment status tells the processes with an open task
// of the person's; a change of name does not.
func TestDirectoryChangeSignalsOpenTasks(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dir := s.token("directory")
	leaver, processID, _ := s.offboardingWithOneTask(t)
	s.waitIdle(t, processID)
	body := func(name, dept string, roles ...string) map[string]any {
		return map[string]any{"name": name, "email": leaver.Email, "department": dept, "roles": roles, "locale": "en"}
	}
	if r := call(t, http.MethodPut, "/api/v1/people/"+leaver.EmployeeID, dir, body("Renamed", leaver.DepartmentID, "staff")); r.Status != http.StatusOK {
		t.Fatalf("rename: %s", r)
	}
	if got := s.reassessSignals(t, processID); len(got) != 0 {
		t.Errorf("a new name signalled %v", got)
	}
	if r := call(t, http.MethodPut, "/api/v1/people/"+leaver.EmployeeID, dir, body("Renamed", leaver.DepartmentID, "staff", "ism")); r.Status != http.StatusOK {
		t.Fatalf("add a role: %s", r)
	}
	// The signal is sent before the PUT answers.
	if got := s.reassessSignals(t, processID); len(got) != 1 || got[0] != leaver.EmployeeID+" directory" {
		t.Errorf("after a role change the process got %v, want one directory signal", got)
	}
	csv := "employee_id,name,email,department,roles\n" + leaver.EmployeeID + ",Renamed," + leaver.Email + "," + uid("dept") + ",staff;ism\n"
	if r := call(t, http.MethodPost, "/api/v1/people/import", dir, csv, "Content-Type", "text/csv"); r.Status != http.StatusOK {
		t.Fatalf("import: %s", r)
	}
	// The signal is sent before the import answers, but a signal that arrives while the
	// workflow is handling the first one is buffered by the server until that workflow task
	// completes, and only then appears in history.
	eventually(t, "a second directory signal", func() (bool, string) {
		got := s.reassessSignals(t, processID)
		return len(got) == 2 && got[1] == leaver.EmployeeID+" directory", fmt.Sprint(got)
	})
}

// When an offboarding completes, the leaver's posts end and the processes with a task of
// theirs still open are told (issue 12, item 1).
func TestOffboardingEndsTheLeaversPosts(t *testing.T) {
	t.Parallel()
	s := sys(t)
	ctx := context.Background()
	dir := s.token("directory")
	// M manages a system on which Y, who leaves first, has an account: Y's offboarding asks
	// M to disable it. M leaves too, before deciding.
	mDept := uid("dept")
	s.addPerson(t, mDept, "diso")
	m := s.addPerson(t, mDept, "staff", "ism")
	y, _ := s.leaver(t)
	sysID := uid("sys")
	if r := call(t, http.MethodPut, "/api/v1/systems/"+sysID, dir, map[string]any{"name": sysID, "department": mDept, "ism": m.EmployeeID, "classification": 2}); r.Status != 201 {
		t.Fatalf("put system: %s", r)
	}
	if r := call(t, http.MethodPut, "/api/v1/systems/"+sysID+"/accounts/"+y.EmployeeID, dir, map[string]any{"holder": y.EmployeeID}); r.Status != 201 {
		t.Fatalf("put account: %s", r)
	}
	yID := startedID(t, call(t, http.MethodPost, "/api/v1/offboardings", s.token("hr"), offboardingRequest(y.EmployeeID, "retirement", date(-3))), 201)
	var disable models.Task
	eventually(t, "M's task in Y's offboarding", func() (bool, string) {
		err := s.Store.DB.Where("process_id = ? AND assignee_id = ? AND status = ?", yID, m.EmployeeID, models.TaskOpen).First(&disable).Error
		return err == nil, fmt.Sprint(err)
	})

	mID := startedID(t, call(t, http.MethodPost, "/api/v1/offboardings", s.token("hr"), offboardingRequest(m.EmployeeID, "retirement", date(-3))), 201)
	tasks := s.openTasks(t, mID, 1)
	s.waitIdle(t, mID)
	if got, _ := s.Store.Person(ctx, m.EmployeeID); got.Status != models.StatusEmployed || len(got.Roles) != 2 {
		t.Fatalf("before the end M is %s with %v", got.Status, got.RoleNames())
	}
	if r := post(t, s.linkOf(t, tasks[0]), decision("acknowledge", ""), true); r.Status != http.StatusOK {
		t.Fatalf("M acknowledges: %s", r)
	}
	eventually(t, "M's offboarding to complete", func() (bool, string) {
		p := s.process(t, mID).Process
		return p.Status == "completed", p.Status
	})
	got, err := s.Store.Person(ctx, m.EmployeeID)
	if err != nil || got.Status != models.StatusRetired || len(got.Roles) != 0 {
		t.Errorf("after the offboarding M is %s with %v (%v), want retired without a role", got.Status, got.RoleNames(), err)
	}
	var ev models.ProcessEvent
	if err := s.Store.DB.Where("`key` = ?", mID+"/leaver-posts").First(&ev).Error; err != nil || !strings.Contains(ev.Note, "ism, staff") {
		t.Errorf("the timeline's entry: %+v (%v)", ev, err)
	}
	s.waitSignal(t, yID, m.EmployeeID+" offboarding")
}

// With Temporal unreachable, registering and withdrawing answer 503 and change nothing; a
// directory change is still stored (telling the processes is best effort).
func TestAbsenceTemporalDownChangesNothing(t *testing.T) {
	t.Parallel()
	s := sys(t)
	ctx := context.Background()
	dir := s.token("directory")
	// A second API on the same register whose Temporal is a closed port.
	dead, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	down := &api.Server{Store: s.Store, Temporal: dead, Loc: tokyo, TimeZone: "Asia/Tokyo", Log: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(down.Handler())
	defer srv.Close()

	dept := uid("dept")
	p := s.addPerson(t, dept, "staff")
	call(t, http.MethodPost, srv.URL+absencesPath(p.EmployeeID), dir, map[string]any{"from": date(3), "to": date(4)}).
		wantError(t, http.StatusServiceUnavailable, "unavailable")
	if n := s.absenceCount(t, p.EmployeeID); n != 0 {
		t.Errorf("a registration that could not start its workflow left %d absences", n)
	}

	r := call(t, http.MethodPost, absencesPath(p.EmployeeID), dir, map[string]any{"from": date(3), "to": date(4)})
	var a absenceReply
	r.decode(t, &a)
	call(t, http.MethodDelete, fmt.Sprintf("%s%s/%d", srv.URL, absencesPath(p.EmployeeID), a.ID), dir, nil).
		wantError(t, http.StatusServiceUnavailable, "unavailable")
	if got, _ := s.Store.PersonAbsence(ctx, p.EmployeeID, a.ID); got.CancelledAt != nil {
		t.Error("a withdrawal that could not cancel the workflow marked the absence withdrawn")
	}

	// The leaver's role changes while the process holding their task cannot be told.
	leaver, processID, _ := s.offboardingWithOneTask(t)
	body := map[string]any{"name": leaver.Name, "email": leaver.Email, "department": leaver.DepartmentID, "roles": []string{"staff", "ism"}}
	if r := call(t, http.MethodPut, srv.URL+"/api/v1/people/"+leaver.EmployeeID, dir, body); r.Status != http.StatusOK {
		t.Errorf("a directory change with Temporal down: %s", r)
	}
	if got, _ := s.Store.Person(ctx, leaver.EmployeeID); !got.HasRole("ism") {
		t.Error("the directory change was not stored")
	}
	if got := s.reassessSignals(t, processID); len(got) != 0 {
		t.Errorf("signals %v through a Temporal that is down", got)
	}
}
