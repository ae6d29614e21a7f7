package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
)

type processPage struct {
	Items []struct {
		ID          string `json:"id"`
		Kind        string `json:"kind"`
		Status      string `json:"status"`
		Department  string `json:"department"`
		RequesterID string `json:"requester_id"`
	} `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func (p processPage) ids() []string {
	out := make([]string, 0, len(p.Items))
	for _, it := range p.Items {
		out = append(out, it.ID)
	}
	slices.Sort(out)
	return out
}

func (s *system) list(t testing.TB, q url.Values) processPage {
	t.Helper()
	r := call(t, http.MethodGet, "/api/v1/processes?"+q.Encode(), s.token("auditor"), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /processes?%s: %s", q.Encode(), r)
	}
	var p processPage
	r.decode(t, &p)
	return p
}

func TestListProcesses(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	diso := s.addPerson(t, dept, "diso")
	ism := s.addPerson(t, dept, "ism")
	a := s.startException(t, exceptionRequest(diso.EmployeeID))
	b := s.startException(t, exceptionRequest(ism.EmployeeID))
	s.waitForOpenTask(t, a)
	s.waitForOpenTask(t, b)
	both := []string{a, b}
	slices.Sort(both)

	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	filters := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"department", q("department", dept), both},
		{"kind and department", q("kind", "exception", "department", dept), both},
		{"another kind", q("kind", "offboarding", "department", dept), []string{}},
		{"status", q("status", "pending", "department", dept), both},
		{"another status", q("status", "cancelled", "department", dept), []string{}},
		{"employee_id (requester)", q("employee_id", diso.EmployeeID), []string{a}},
		{"employee_id and department", q("employee_id", ism.EmployeeID, "department", dept), []string{b}},
		{"employee_id in another department", q("employee_id", ism.EmployeeID, "department", uid("dept")), []string{}},
		{"unknown employee", q("employee_id", uid("emp")), []string{}},
		{"unknown department", q("department", uid("dept")), []string{}},
		{"from the future", q("department", dept, "from", time.Now().Add(time.Hour).In(tokyo).Format(time.RFC3339)), []string{}},
		{"to the past", q("department", dept, "to", time.Now().Add(-time.Hour).Format(time.RFC3339)), []string{}},
		{"from the past to the future", q("department", dept, "from", time.Now().Add(-time.Hour).In(tokyo).Format(time.RFC3339),
			"to", time.Now().Add(time.Hour).Format(time.RFC3339)), both},
	}
	for _, f := range filters {
		t.Run(f.name, func(t *testing.T) {
			got := s.list(t, f.query)
			if !slices.Equal(got.ids(), f.want) {
				t.Errorf("GET /processes?%s: %v, want %v", f.query.Encode(), got.ids(), f.want)
			}
			for _, it := range got.Items {
				if it.Kind != "exception" || it.Department != dept {
					t.Errorf("item %+v", it)
				}
			}
		})
	}

	bad := []struct {
		query url.Values
		field string
	}{
		{q("kind", "holiday"), "kind"},
		{q("status", "no such status!"), "status"},
		{q("department", "a b"), "department"},
		{q("employee_id", "x/y"), "employee_id"},
		{q("from", "yesterday"), "from"},
		{q("to", "2026-04-01"), "to"},
		{q("limit", "0"), "limit"},
		{q("limit", "201"), "limit"},
		{q("limit", "ten"), "limit"},
		{q("cursor", "not-a-cursor"), "cursor"},
		{q("cursor", "bm90IGEgY3Vyc29y"), "cursor"}, // base64 of "not a cursor"
	}
	for _, c := range bad {
		t.Run("bad "+c.query.Encode(), func(t *testing.T) {
			e := call(t, http.MethodGet, "/api/v1/processes?"+c.query.Encode(), s.token("auditor"), nil).wantError(t, http.StatusBadRequest, "validation_failed")
			if e.Fields[c.field] == "" {
				t.Errorf("no message for %s: %+v", c.field, e)
			}
		})
	}

	t.Run("cursor paging", func(t *testing.T) {
		first := s.list(t, q("department", dept, "limit", "1"))
		if len(first.Items) != 1 || first.NextCursor == "" {
			t.Fatalf("first page: %+v, want one item and a cursor", first)
		}
		second := s.list(t, q("department", dept, "limit", "1", "cursor", first.NextCursor))
		if len(second.Items) != 1 {
			t.Fatalf("second page: %+v, want one item", second)
		}
		if first.Items[0].ID == second.Items[0].ID {
			t.Fatalf("both pages show %s", first.Items[0].ID)
		}
		if got := []string{first.Items[0].ID, second.Items[0].ID}; !slices.Equal(sorted(got), both) {
			t.Errorf("pages show %v, want %v", got, both)
		}
		if second.NextCursor != "" {
			if third := s.list(t, q("department", dept, "limit", "1", "cursor", second.NextCursor)); len(third.Items) != 0 {
				t.Errorf("third page: %+v, want none", third.Items)
			}
		}
		// Newest first.
		if first.Items[0].ID != b {
			t.Errorf("first page shows %s, want the newest, %s", first.Items[0].ID, b)
		}
		// A cursor that was tampered with is refused.
		tampered := first.NextCursor[:len(first.NextCursor)-2] + "!!"
		call(t, http.MethodGet, "/api/v1/processes?"+q("department", dept, "cursor", tampered).Encode(), s.token("auditor"), nil).
			wantError(t, http.StatusBadRequest, "validation_failed")
	})
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// Cancelling records the reason, cancels the open task (its link then answers 410) and
// closes the process; a closed process cannot be cancelled again.
func TestCancelProcess(t *testing.T) {
	t.Parallel()
	s := sys(t)
	admin := s.token("admin")
	o := s.newOpenTask(t)
	cancel := "/api/v1/processes/" + o.ProcessID + "/cancel"

	// Refused requests change nothing.
	before := s.snapshot(t, o.ProcessID)
	for name, body := range map[string]any{
		"missing reason":  map[string]any{},
		"blank reason":    map[string]any{"reason": "   "},
		"reason too long": map[string]any{"reason": strings.Repeat("x", 1001)},
	} {
		if e := call(t, http.MethodPost, cancel, admin, body).wantError(t, http.StatusBadRequest, "validation_failed"); e.Fields["reason"] == "" {
			t.Errorf("%s: no message for reason: %+v", name, e)
		}
	}
	call(t, http.MethodPost, cancel, admin, `{"reason": 1}`).wantError(t, http.StatusBadRequest, "bad_request")
	call(t, http.MethodPost, cancel, admin, `{"reason": "x", "force": true}`).wantError(t, http.StatusBadRequest, "bad_request")
	call(t, http.MethodPost, "/api/v1/processes/EXC-20200101-AAAAAAAA/cancel", admin, map[string]any{"reason": "x"}).
		wantError(t, http.StatusNotFound, "not_found")
	if after := s.snapshot(t, o.ProcessID); after != before {
		t.Errorf("refused cancellations changed the register:\nbefore %s\nafter %s", before, after)
	}

	r := call(t, http.MethodPost, cancel, admin, map[string]any{"reason": "Submitted twice by mistake."})
	if r.Status != http.StatusOK {
		t.Fatalf("cancel: %s", r)
	}
	if got := r.object(t); got["status"] != "cancelled" || got["id"] != o.ProcessID {
		t.Errorf("cancel answered %v, want the process with status cancelled", got)
	}
	d := s.process(t, o.ProcessID)
	if d.Process.Status != "cancelled" || d.Process.Stage != "closed" || d.Process.ClosedAt == nil || d.Process.WorkflowID != o.ProcessID {
		t.Errorf("process after cancel: %+v", d.Process)
	}
	if len(d.Tasks) != 1 || d.Tasks[0].Status != models.TaskCancelled {
		t.Errorf("tasks after cancel: %+v, want the one task cancelled", d.Tasks)
	}
	if d.Cancellation["reason"] != "Submitted twice by mistake." || d.Cancellation["by"] != "test-admin" {
		t.Errorf("cancellation recorded as %v", d.Cancellation)
	}
	if len(d.Decisions) != 0 {
		t.Errorf("decisions after cancel: %+v", d.Decisions)
	}

	e := post(t, o.Link, decision("approve", "too late"), true).wantError(t, http.StatusGone, "gone")
	if !strings.Contains(e.Message, "cancelled") {
		t.Errorf("the cancelled task's link says %q, want that the process was cancelled", e.Message)
	}
	call(t, http.MethodGet, o.Link, "", nil, "Accept", "application/json").wantError(t, http.StatusGone, "gone")

	e = call(t, http.MethodPost, cancel, admin, map[string]any{"reason": "again"}).wantError(t, http.StatusConflict, "conflict")
	if !strings.Contains(e.Message, "closed") {
		t.Logf("conflict message: %q", e.Message)
	}
	if got := s.process(t, o.ProcessID).Cancellation["reason"]; got != "Submitted twice by mistake." {
		t.Errorf("a refused second cancellation changed the reason to %q", got)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	sys(t) // build the system: readiness checks its database and Temporal
	for _, path := range []string{"/healthz", "/readyz"} {
		r := call(t, http.MethodGet, path, "", nil)
		if r.Status != http.StatusOK {
			t.Errorf("GET %s: %s", path, r)
		}
	}
	got := call(t, http.MethodGet, "/readyz", "", nil).object(t)
	if got["status"] != "ready" {
		t.Errorf("readyz: %v", got)
	}
	checks, _ := got["checks"].(map[string]any)
	if checks["database"] != "ok" || checks["temporal"] != "ok" {
		t.Errorf("readyz checks: %v", checks)
	}
}
