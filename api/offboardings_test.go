package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/policyflow/policyflow/models"
)

// leaver puts an employed staff member into a new department, with a DISO there.
func (s *system) leaver(t testing.TB) (models.Person, string) {
	t.Helper()
	dept := uid("dept")
	s.addPerson(t, dept, "diso")
	return s.addPerson(t, dept, "staff"), dept
}

func offboardingRequest(emp, reason, date string) map[string]any {
	b := map[string]any{"employee_id": emp, "reason": reason, "effective_date": date}
	if reason == "transfer" {
		b["new_department"] = uid("newdept")
	}
	return b
}

func startedID(t testing.TB, r reply, status int) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r)
	}
	var b struct {
		ID, Kind, WorkflowID, Status string
	}
	r.decode(t, &b)
	if !strings.HasPrefix(b.ID, "OFB-") || b.Kind != "offboarding" {
		t.Fatalf("not an offboarding: %s", r)
	}
	if loc := r.Header.Get("Location"); loc != "/api/v1/processes/"+b.ID {
		t.Errorf("Location %q", loc)
	}
	return b.ID
}

// Every refused offboarding answers API.md's error shape: malformed fields are 400, an
// unknown or departed employee and a transfer to the same department are 422.
func TestStartOffboardingRefused(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("hr")
	p, dept := s.leaver(t)
	retired := s.addPerson(t, dept, "staff")
	retired.Status = models.StatusRetired
	if _, err := s.Store.PutPeople(context.Background(), []models.Person{retired}); err != nil {
		t.Fatal(err)
	}
	with := func(kv ...any) map[string]any {
		b := offboardingRequest(p.EmployeeID, "retirement", date(30))
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(b, kv[i].(string))
			} else {
				b[kv[i].(string)] = kv[i+1]
			}
		}
		return b
	}
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"missing employee", with("employee_id", nil), 400, "validation_failed", "employee_id"},
		{"employee not an ID", with("employee_id", "a b"), 400, "validation_failed", "employee_id"},
		{"unknown reason", with("reason", "fired"), 400, "validation_failed", "reason"},
		{"no reason", with("reason", nil), 400, "validation_failed", "reason"},
		{"no date", with("effective_date", nil), 400, "validation_failed", "effective_date"},
		{"date not a date", with("effective_date", "2027/04/01"), 400, "validation_failed", "effective_date"},
		{"transfer without new department", with("reason", "transfer"), 400, "validation_failed", "new_department"},
		{"new department on a retirement", with("new_department", "welfare"), 400, "validation_failed", "new_department"},
		{"note too long", with("note", strings.Repeat("n", 1001)), 400, "validation_failed", "note"},
		{"unknown field", with("name", "x"), 400, "bad_request", ""},
		{"not JSON", "{", 400, "bad_request", ""},
		{"unknown employee", with("employee_id", uid("nobody")), 422, "policy_violation", "employee_id"},
		{"departed employee", with("employee_id", retired.EmployeeID), 422, "policy_violation", "employee_id"},
		{"transfer to the same department", with("reason", "transfer", "new_department", dept), 422, "policy_violation", "new_department"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := call(t, "POST", "/api/v1/offboardings", tok, c.body).wantError(t, c.status, c.code)
			if c.field != "" && e.Fields[c.field] == "" {
				t.Errorf("error does not name %s: %+v", c.field, e)
			}
		})
	}
	call(t, "POST", "/api/v1/offboardings", s.token("officer"), with()).wantError(t, 403, "forbidden")
	call(t, "POST", "/api/v1/offboardings", "", with()).wantError(t, 401, "unauthorized")
	if n := s.countRows(t, &models.Offboarding{}, "employee_id = ?", p.EmployeeID); n != 0 {
		t.Errorf("a refused request registered %d offboardings", n)
	}
}

// HR retrying gets the same process (200), even concurrently; another date while one is
// open is a 409 that names it.
func TestStartOffboardingIdempotent(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("hr")
	p, _ := s.leaver(t)
	body := offboardingRequest(p.EmployeeID, "retirement", date(60))

	var wg sync.WaitGroup
	replies := make([]reply, 10)
	for i := range replies {
		wg.Add(1)
		go func() { defer wg.Done(); replies[i] = call(t, "POST", "/api/v1/offboardings", tok, body) }()
	}
	wg.Wait()
	var created int
	var id string
	for _, r := range replies {
		got := startedID(t, r, r.Status)
		if r.Status == http.StatusCreated {
			created++
		} else if r.Status != http.StatusOK {
			t.Errorf("concurrent start: %s", r)
		}
		if id == "" {
			id = got
		} else if got != id {
			t.Errorf("two processes: %s and %s", id, got)
		}
	}
	if created != 1 {
		t.Errorf("%d starts answered 201, want 1", created)
	}
	// A retry with another reason or note is still the same offboarding.
	again := offboardingRequest(p.EmployeeID, "secondment", date(60))
	again["note"] = "retry"
	if got := startedID(t, call(t, "POST", "/api/v1/offboardings", tok, again), 200); got != id {
		t.Errorf("retry gave %s, want %s", got, id)
	}
	e := call(t, "POST", "/api/v1/offboardings", tok, offboardingRequest(p.EmployeeID, "retirement", date(61))).wantError(t, 409, "conflict")
	if !strings.Contains(e.Message, id) || !strings.Contains(e.Fields["effective_date"], id) {
		t.Errorf("409 does not point at the open offboarding %s: %+v", id, e)
	}
	if n := s.countRows(t, &models.Process{}, "employee_id = ? AND kind = ?", p.EmployeeID, "offboarding"); n != 1 {
		t.Errorf("%d processes, want 1", n)
	}
	// The ID (also the workflow's, listed in the Temporal UI) says nothing of who leaves when:
	// neither the effective date nor anything derived from the employee and the date.
	eff := strings.ReplaceAll(date(60), "-", "")
	sum := sha256.Sum256([]byte(p.EmployeeID + "\n" + date(60)))
	if strings.Contains(id, eff) || strings.Contains(id, p.EmployeeID) || strings.Contains(id, base32.StdEncoding.EncodeToString(sum[:])[:12]) {
		t.Errorf("offboarding ID %s can be traced to the employee or the effective date", id)
	}
}

// HR moves the date while the process waits, then cancels it; afterwards the employee may
// be offboarded again.
func TestOffboardingMoveDateAndCancel(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("hr")
	p, _ := s.leaver(t)
	id := startedID(t, call(t, "POST", "/api/v1/offboardings", tok, offboardingRequest(p.EmployeeID, "retirement", date(40))), 201)
	eventually(t, "the process to wait for its date", func() (bool, string) {
		got := s.process(t, id)
		return got.Process.Stage == "awaiting_effective_date", got.Process.Stage
	})

	move := func(body map[string]any) reply {
		return call(t, "POST", "/api/v1/offboardings/"+id+"/move-date", tok, body)
	}
	move(map[string]any{"effective_date": "soon", "reason": "x"}).wantError(t, 400, "validation_failed")
	move(map[string]any{"effective_date": date(50)}).wantError(t, 400, "validation_failed")
	if r := move(map[string]any{"effective_date": date(50), "reason": "辞令の変更"}); r.Status != 200 {
		t.Fatalf("move: %s", r)
	}
	eventually(t, "the new date in the register", func() (bool, string) {
		o, err := s.Store.OffboardingOf(context.Background(), id)
		return err == nil && o.EffectiveDate == date(50), o.EffectiveDate
	})
	// Retrying with either date is the same process.
	for _, d := range []string{date(40), date(50)} {
		if got := startedID(t, call(t, "POST", "/api/v1/offboardings", tok, offboardingRequest(p.EmployeeID, "retirement", d)), 200); got != id {
			t.Errorf("retry with %s gave %s", d, got)
		}
	}
	call(t, "POST", "/api/v1/offboardings/"+id+"/cancel", s.token("officer"), map[string]any{"reason": "x"}).wantError(t, 403, "forbidden")
	call(t, "POST", "/api/v1/offboardings/OFB-nope/cancel", tok, map[string]any{"reason": "x"}).wantError(t, 404, "not_found")
	if r := call(t, "POST", "/api/v1/offboardings/"+id+"/cancel", tok, map[string]any{"reason": "採用内定の取消しにより在職継続"}); r.Status != 200 {
		t.Fatalf("cancel: %s", r)
	}
	eventually(t, "the cancellation", func() (bool, string) {
		got := s.process(t, id)
		return got.Process.Status == "cancelled", got.Process.Status
	})
	move(map[string]any{"effective_date": date(55), "reason": "x"}).wantError(t, 409, "conflict")
	eventually(t, "the employee to be free again", func() (bool, string) {
		_, err := s.Store.OpenOffboarding(context.Background(), p.EmployeeID)
		return err != nil, "still open"
	})
	startedID(t, call(t, "POST", "/api/v1/offboardings", tok, offboardingRequest(p.EmployeeID, "retirement", date(70))), 201)
}

type batchAnswer struct {
	BatchID string         `json:"batch_id"`
	Status  string         `json:"status"`
	Total   int            `json:"total"`
	Done    int            `json:"done"`
	Counts  map[string]int `json:"counts"`
	Items   []struct {
		Index     int       `json:"index"`
		Result    string    `json:"result"`
		ProcessID string    `json:"process_id"`
		Error     *apiError `json:"error"`
	} `json:"items"`
}

// A bulk request settles each item on its own: good items start, repeats find their
// process, bad items are rejected with the single route's error.
func TestBulkOffboardingsMixed(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("hr")
	a, dept := s.leaver(t)
	b := s.addPerson(t, dept, "staff")
	existing := startedID(t, call(t, "POST", "/api/v1/offboardings", tok, offboardingRequest(b.EmployeeID, "retirement", date(20))), 201)
	items := []any{
		offboardingRequest(a.EmployeeID, "transfer", date(20)),
		offboardingRequest(b.EmployeeID, "retirement", date(20)),
		offboardingRequest(uid("nobody"), "retirement", date(20)),
		offboardingRequest(a.EmployeeID, "fired", date(20)),
		map[string]any{"employee_id": a.EmployeeID, "surprise": true},
		offboardingRequest(b.EmployeeID, "retirement", date(21)),
	}
	r := call(t, "POST", "/api/v1/offboardings/bulk", tok, map[string]any{"items": items})
	if r.Status != 200 {
		t.Fatalf("bulk: %s", r)
	}
	var ans batchAnswer
	r.decode(t, &ans)
	want := []string{"started", "existing", "rejected", "rejected", "rejected", "rejected"}
	codes := []string{"", "", "policy_violation", "validation_failed", "bad_request", "conflict"}
	if ans.Status != "done" || len(ans.Items) != len(want) {
		t.Fatalf("batch: %s", r)
	}
	for i, it := range ans.Items {
		if it.Result != want[i] {
			t.Errorf("item %d: %s, want %s", i, it.Result, want[i])
		}
		if codes[i] != "" && (it.Error == nil || it.Error.Code != codes[i]) {
			t.Errorf("item %d: error %+v, want %s", i, it.Error, codes[i])
		}
	}
	if ans.Items[1].ProcessID != existing {
		t.Errorf("existing item names %s, want %s", ans.Items[1].ProcessID, existing)
	}
	if ans.Counts["started"] != 1 || ans.Counts["existing"] != 1 || ans.Counts["rejected"] != 4 {
		t.Errorf("counts %v", ans.Counts)
	}

	call(t, "POST", "/api/v1/offboardings/bulk", tok, map[string]any{"items": []any{}}).wantError(t, 400, "validation_failed")
	call(t, "GET", "/api/v1/offboardings/bulk/BATCH-NOPE", tok, nil).wantError(t, 404, "not_found")
}

// A batch larger than what is answered at once answers 202 and goes on in the background.
func TestBulkOffboardingsLargeBatchInBackground(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("hr")
	_, dept := s.leaver(t)
	var items []any
	for i := 0; i < 150; i++ {
		if i%50 == 0 {
			p := s.addPerson(t, dept, "staff")
			items = append(items, offboardingRequest(p.EmployeeID, "retirement", date(90)))
		} else {
			items = append(items, offboardingRequest(uid("nobody"), "retirement", date(90)))
		}
	}
	r := call(t, "POST", "/api/v1/offboardings/bulk", tok, map[string]any{"items": items})
	if r.Status != 202 {
		t.Fatalf("bulk: %s", r)
	}
	var ans batchAnswer
	r.decode(t, &ans)
	if ans.Total != 150 || r.Header.Get("Location") != "/api/v1/offboardings/bulk/"+ans.BatchID {
		t.Fatalf("202 answer: %s", r)
	}
	eventually(t, "the batch to finish", func() (bool, string) {
		r := call(t, "GET", "/api/v1/offboardings/bulk/"+ans.BatchID, tok, nil)
		ans = batchAnswer{}
		r.decode(t, &ans)
		return ans.Status == "done", ans.Status
	})
	if ans.Counts["started"] != 3 || ans.Counts["rejected"] != 147 || ans.Done != 150 {
		t.Errorf("counts %v, done %d", ans.Counts, ans.Done)
	}
	// It ran as its own workflow, listed apart from the processes, not in the API process.
	d, err := s.Temporal.DescribeWorkflowExecution(context.Background(), "offboarding-batch-"+ans.BatchID, "")
	if err != nil {
		t.Fatalf("the batch's workflow: %v", err)
	}
	if st := d.WorkflowExecutionInfo.Status; st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Errorf("the batch's workflow is %v, want completed", st)
	}
	if kind := string(d.WorkflowExecutionInfo.SearchAttributes.GetIndexedFields()["PolicyProcess"].GetData()); kind != `"offboarding_batch"` {
		t.Errorf("PolicyProcess of the batch's workflow: %s", kind)
	}
	call(t, "POST", "/api/v1/offboardings/bulk/"+ans.BatchID+"/cancel", tok, nil).wantError(t, 409, "conflict")
}

// A large batch is cancelled: its pending items are marked cancelled and never started.
// The worker is stopped while the batch is stored, so that every item is still pending
// when the cancel reaches the workflow (not parallel: it stops the shared worker).
func TestBulkOffboardingsCancel(t *testing.T) {
	s := sys(t)
	tok := s.token("hr")
	_, dept := s.leaver(t)
	var items []any
	var leavers []string
	for i := 0; i < 120; i++ {
		p := s.addPerson(t, dept, "staff")
		leavers = append(leavers, p.EmployeeID)
		items = append(items, offboardingRequest(p.EmployeeID, "retirement", date(90)))
	}
	s.stopWorker()
	restarted := make(chan error, 1)
	defer func() {
		if err := <-restarted; err != nil {
			t.Errorf("restart the worker: %v", err)
		}
	}()
	r := call(t, "POST", "/api/v1/offboardings/bulk", tok, map[string]any{"items": items})
	if r.Status != 202 {
		restarted <- s.startWorker()
		t.Fatalf("bulk: %s", r)
	}
	var ans batchAnswer
	r.decode(t, &ans)
	if ans.Counts["pending"] != 120 {
		restarted <- s.startWorker()
		t.Fatalf("with no worker: %s", r)
	}
	// The cancel waits for the workflow (its Update), which runs once a worker polls.
	time.AfterFunc(time.Second, func() { restarted <- s.startWorker() })
	r = call(t, "POST", "/api/v1/offboardings/bulk/"+ans.BatchID+"/cancel", tok, nil)
	if r.Status != 200 {
		t.Fatalf("cancel: %s", r)
	}
	ans = batchAnswer{}
	r.decode(t, &ans)
	if ans.Status != "cancelled" || ans.Counts["cancelled"] != 120 || ans.Counts["started"] != 0 || ans.Done != 120 {
		t.Fatalf("cancelled batch: %s", r)
	}
	call(t, "POST", "/api/v1/offboardings/bulk/"+ans.BatchID+"/cancel", tok, nil).wantError(t, 409, "conflict")
	call(t, "POST", "/api/v1/offboardings/bulk/BATCH-NOPE/cancel", tok, nil).wantError(t, 404, "not_found")
	call(t, "POST", "/api/v1/offboardings/bulk/"+ans.BatchID+"/cancel", s.token("auditor"), nil).wantError(t, 403, "forbidden")
	// Nothing was started, and the workflow has ended.
	for _, emp := range leavers {
		if _, err := s.Store.OpenOffboarding(context.Background(), emp); err == nil {
			t.Fatalf("%s's offboarding was started by a cancelled batch", emp)
		}
	}
	eventually(t, "the batch's workflow to end", func() (bool, string) {
		d, err := s.Temporal.DescribeWorkflowExecution(context.Background(), "offboarding-batch-"+ans.BatchID, "")
		if err != nil {
			return false, err.Error()
		}
		st := d.WorkflowExecutionInfo.Status
		return st == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, st.String()
	})
}

// Lent assets and known passwords are registered through the directory scope.
func TestOffboardingDirectoryRoutes(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("directory")
	p, dept := s.leaver(t)
	ism := s.addPerson(t, dept, "ism")
	path := "/api/v1/people/" + p.EmployeeID + "/assets/" + uid("PC")
	if r := call(t, "PUT", path, tok, map[string]any{"kind": "device", "description": "ノートPC"}); r.Status != 201 {
		t.Fatalf("put asset: %s", r)
	}
	if r := call(t, "PUT", path, tok, map[string]any{"kind": "device", "description": "ノートPC", "status": "lent"}); r.Status != 200 {
		t.Fatalf("put asset again: %s", r)
	}
	call(t, "PUT", path, tok, map[string]any{"kind": "spaceship"}).wantError(t, 400, "validation_failed")
	call(t, "PUT", "/api/v1/people/"+uid("nobody")+"/assets/X1", tok, map[string]any{"kind": "media"}).wantError(t, 404, "not_found")
	call(t, "PUT", path, s.token("hr"), map[string]any{"kind": "device"}).wantError(t, 403, "forbidden")

	sysID := uid("sys")
	if r := call(t, "PUT", "/api/v1/systems/"+sysID, tok, map[string]any{"name": "Tax", "department": dept, "ism": ism.EmployeeID, "classification": 2}); r.Status != 201 {
		t.Fatalf("put system: %s", r)
	}
	call(t, "PUT", "/api/v1/systems/"+sysID+"/accounts/admin", tok, map[string]any{"shared": true, "privileged": true})
	call(t, "PUT", "/api/v1/systems/"+sysID+"/accounts/plain", tok, map[string]any{"holder": p.EmployeeID})
	known := "/api/v1/systems/" + sysID + "/accounts/admin/known-by/" + p.EmployeeID
	if r := call(t, "PUT", known, tok, nil); r.Status != 200 {
		t.Fatalf("known-by: %s", r)
	}
	if n := s.countRows(t, &models.AccountAccess{}, "employee_id = ?", p.EmployeeID); n != 1 {
		t.Errorf("%d access rows", n)
	}
	call(t, "PUT", "/api/v1/systems/"+sysID+"/accounts/plain/known-by/"+p.EmployeeID, tok, nil).wantError(t, 422, "policy_violation")
	call(t, "PUT", "/api/v1/systems/"+sysID+"/accounts/none/known-by/"+p.EmployeeID, tok, nil).wantError(t, 404, "not_found")
	if r := call(t, "DELETE", known, tok, nil); r.Status != 204 {
		t.Fatalf("delete known-by: %s", r)
	}
}
