package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/policyflow/policyflow/models"
)

// Every refused exception request answers API.md's error shape and starts nothing:
// malformed fields are 400, a well-formed request that breaks a policy rule is 422.
func TestStartExceptionRefused(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("officer")
	dept := uid("dept")
	requester := s.addPerson(t, dept, "diso")
	staff := s.addPerson(t, dept, "staff")
	retired := s.addPerson(t, dept, "ism")
	retired.Status = models.StatusRetired
	if _, err := s.Store.PutPeople(context.Background(), []models.Person{retired}); err != nil {
		t.Fatal(err)
	}
	unknown := uid("emp")

	with := func(kv ...any) map[string]any {
		b := exceptionRequest(requester.EmployeeID)
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
		field  string // the field the error names, if any
	}{
		// Malformed fields: 400 validation_failed, naming the field.
		{"missing requester", with("requester", nil), 400, "validation_failed", "requester"},
		{"requester not an ID", with("requester", "a b"), 400, "validation_failed", "requester"},
		{"no clauses", with("clauses", []string{}), 400, "validation_failed", "clauses"},
		{"unknown clause", with("clauses", []string{"6.1(5)", "99.9(9)"}), 400, "validation_failed", "clauses"},
		{"no alternative", with("alternative", " "), 400, "validation_failed", "alternative"},
		{"no reason", with("reason", nil), 400, "validation_failed", "reason"},
		{"reason too long", with("reason", strings.Repeat("r", 4001)), 400, "validation_failed", "reason"},
		{"system not an ID", with("systems", []string{"a/b"}), 400, "validation_failed", "systems"},
		{"classification 0", with("classification", 0), 400, "validation_failed", "classification"},
		{"no start date", with("start_date", nil), 400, "validation_failed", "start_date"},
		{"start date not a date", with("start_date", "2026/05/01"), 400, "validation_failed", "start_date"},
		{"no end date", with("end_date", nil), 400, "validation_failed", "end_date"},
		{"end before start", with("start_date", date(10), "end_date", date(5)), 400, "validation_failed", "end_date"},
		{"end on the start day", with("start_date", date(10), "end_date", date(10)), 400, "validation_failed", "end_date"},
		{"start in the past", with("start_date", date(-1)), 400, "validation_failed", "start_date"},
		{"emergency starting later", with("emergency", true, "start_date", date(2)), 400, "validation_failed", "start_date"},
		{"department not an ID", with("department", "総務課"), 400, "validation_failed", "department"},
		// Well-formed but against the policy: 422 policy_violation.
		{"more than a year", with("start_date", date(1), "end_date", date(1+367)), 422, "policy_violation", "end_date"},
		// §7.4(2) 「事後速やかに」 names no number: reporting more than 7 days late is the town's rule.
		{"emergency taken too long ago", with("emergency", true, "start_date", date(-8), "end_date", date(10)), 422, "policy_violation", "start_date"},
		{"requester not in the directory", with("requester", unknown), 422, "policy_violation", "requester"},
		{"requester neither diso nor ism", with("requester", staff.EmployeeID), 422, "policy_violation", "requester"},
		{"requester retired", with("requester", retired.EmployeeID), 422, "policy_violation", "requester"},
		{"unknown system", with("systems", []string{uid("sys")}), 422, "policy_violation", "systems"},
		// Not a well-formed request at all: 400 bad_request.
		{"malformed JSON", `{"requester": "x", `, 400, "bad_request", ""},
		{"unknown field", with("approver", "x"), 400, "bad_request", ""},
		{"wrong type", with("classification", "2"), 400, "bad_request", ""},
		{"clauses not a list", with("clauses", "6.1(5)"), 400, "bad_request", ""},
		{"invalid UTF-8", "{\"requester\": \"" + requester.EmployeeID + "\", \"reason\": \"\xc3\x28\"}", 400, "bad_request", ""},
		{"empty body", "", 400, "bad_request", ""},
		{"trailing data", `{} []`, 400, "bad_request", ""},
	}
	people := []string{requester.EmployeeID, staff.EmployeeID, retired.EmployeeID, unknown}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := call(t, http.MethodPost, "/api/v1/exceptions", tok, c.body).wantError(t, c.status, c.code)
			if c.field != "" && e.Fields[c.field] == "" {
				t.Errorf("no message for %s: %+v", c.field, e)
			}
		})
	}
	t.Run("the CISO asks", func(t *testing.T) {
		// Nobody decides their own case: the refusal says why, not merely "wrong role".
		e := call(t, http.MethodPost, "/api/v1/exceptions", tok, with("requester", sharedCISO)).wantError(t, 422, "policy_violation")
		if e.Fields["requester"] != "holds ciso" {
			t.Errorf("refusal = %+v, want it to name the CISO's post", e)
		}
	})
	t.Run("too large", func(t *testing.T) {
		big := with("reason", strings.Repeat("x", 5<<20))
		call(t, http.MethodPost, "/api/v1/exceptions", tok, big).wantError(t, http.StatusRequestEntityTooLarge, "too_large")
	})
	t.Run("not JSON", func(t *testing.T) {
		call(t, http.MethodPost, "/api/v1/exceptions", tok, "requester=x", "Content-Type", "application/x-www-form-urlencoded").
			wantError(t, http.StatusBadRequest, "bad_request")
	})

	if n := s.countRows(t, &models.Process{}, "requester_id IN ? OR department_id = ?", people, dept); n != 0 {
		t.Errorf("refused requests registered %d processes", n)
	}
	list := call(t, http.MethodGet, "/api/v1/processes?department="+dept, s.token("auditor"), nil)
	var page struct{ Items []any }
	list.decode(t, &page)
	if list.Status != http.StatusOK || len(page.Items) != 0 {
		t.Errorf("the process list shows refused requests: %s", list)
	}
}

// The same Idempotency-Key with the same body is the same process; with another body it is
// a conflict.
func TestStartExceptionIdempotencyKey(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("officer")
	requester := s.addPerson(t, uid("dept"), "ism")
	key := uid("idem-key")
	body := exceptionRequest(requester.EmployeeID)

	first := call(t, http.MethodPost, "/api/v1/exceptions", tok, body, "Idempotency-Key", key)
	if first.Status != http.StatusCreated {
		t.Fatalf("first start: %s", first)
	}
	var a startedBody
	first.decode(t, &a)

	again := call(t, http.MethodPost, "/api/v1/exceptions", tok, body, "Idempotency-Key", key)
	if again.Status != http.StatusOK {
		t.Fatalf("repeat: %s, want 200", again)
	}
	var b startedBody
	again.decode(t, &b)
	if b.ID != a.ID || b.WorkflowID != a.WorkflowID || b.Kind != "exception" {
		t.Errorf("repeat answered %+v, want the first process %+v", b, a)
	}
	if loc := again.Header.Get("Location"); loc != "/api/v1/processes/"+a.ID {
		t.Errorf("repeat's Location %q", loc)
	}

	changed := exceptionRequest(requester.EmployeeID)
	changed["reason"] = "Another reason."
	e := call(t, http.MethodPost, "/api/v1/exceptions", tok, changed, "Idempotency-Key", key).wantError(t, http.StatusConflict, "conflict")
	if !strings.Contains(e.Message, a.ID) {
		t.Logf("conflict message does not name the first process: %q", e.Message)
	}
	call(t, http.MethodPost, "/api/v1/exceptions", tok, body, "Idempotency-Key", "bad key with spaces").
		wantError(t, http.StatusBadRequest, "validation_failed")
	call(t, http.MethodPost, "/api/v1/exceptions", tok, body, "Idempotency-Key", strings.Repeat("k", 151)).
		wantError(t, http.StatusBadRequest, "validation_failed")

	if n := s.countRows(t, &models.Process{}, "requester_id = ?", requester.EmployeeID); n != 1 {
		t.Errorf("%d processes for the requester, want 1", n)
	}
	// The key is the caller's; another key with the same body is another process.
	other := call(t, http.MethodPost, "/api/v1/exceptions", tok, body, "Idempotency-Key", uid("idem-key"))
	var c startedBody
	other.decode(t, &c)
	if other.Status != http.StatusCreated || c.ID == a.ID {
		t.Errorf("another key: %s, want a new process", other)
	}
	s.waitForOpenTask(t, a.ID)
	s.waitForOpenTask(t, c.ID)
}

// Concurrent starts with one Idempotency-Key (a client retrying on a timeout) make one
// process: one 201, the others 200 with its ID.
func TestStartExceptionIdempotencyKeyConcurrent(t *testing.T) {
	t.Parallel()
	s := sys(t)
	requester := s.addPerson(t, uid("dept"), "diso")
	key := uid("idem-key")
	body := exceptionRequest(requester.EmployeeID)

	const n = 10
	replies := make([]reply, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			replies[i] = call(t, http.MethodPost, "/api/v1/exceptions", s.token("officer"), body, "Idempotency-Key", key)
		})
	}
	close(start)
	wg.Wait()

	created, ids := 0, map[string]bool{}
	for i, r := range replies {
		switch r.Status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("start %d: %s, want 201 or 200", i, r)
			continue
		}
		var b startedBody
		r.decode(t, &b)
		ids[b.ID] = true
	}
	if created != 1 || len(ids) != 1 {
		t.Errorf("%d answers 201 and %d process IDs, want one of each: %v", created, len(ids), sortedKeys(ids))
	}
	if n := s.countRows(t, &models.Process{}, "requester_id = ?", requester.EmployeeID); n != 1 {
		t.Errorf("%d processes registered, want 1", n)
	}
	for id := range ids {
		s.waitForOpenTask(t, id)
	}
}

// §7.4(2): an emergency exception is reported after it was taken. A start a few days back is
// accepted (the town's bound, POLICYFLOW_EMERGENCY_REPORT_MAX_DAYS) and the register says how
// late the report came; a longer exception than the town allows names the town's rule.
func TestEmergencyExceptionReportedLate(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("officer")
	requester := s.addPerson(t, uid("dept"), "diso")
	b := exceptionRequest(requester.EmployeeID)
	b["emergency"], b["start_date"] = true, date(-3)
	r := call(t, http.MethodPost, "/api/v1/exceptions", tok, b)
	if r.Status != http.StatusCreated {
		t.Fatalf("an emergency exception taken 3 days ago: %s", r)
	}
	var started struct {
		ID string `json:"id"`
	}
	r.decode(t, &started)
	id := started.ID
	var p struct {
		Process struct {
			Summary string `json:"summary"`
		} `json:"process"`
	}
	call(t, http.MethodGet, "/api/v1/processes/"+id, s.token("auditor"), nil).decode(t, &p)
	if !strings.Contains(p.Process.Summary, "reported 3 days after it was taken") {
		t.Errorf("summary %q does not say how late the report came", p.Process.Summary)
	}
	long := exceptionRequest(requester.EmployeeID)
	long["start_date"], long["end_date"] = date(1), date(1+367)
	e := call(t, http.MethodPost, "/api/v1/exceptions", tok, long).wantError(t, 422, "policy_violation")
	if !strings.Contains(e.Message, "town's rule") || !strings.Contains(e.Message, "POLICYFLOW_EXCEPTION_MAX_DAYS") {
		t.Errorf("refusal %q does not name the town's rule", e.Message)
	}
}
