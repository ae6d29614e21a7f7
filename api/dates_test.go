package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/policyflow/policyflow/models"
)

// An effective date typed 2062 instead of 2026, or a year back, is refused with 422 naming
// the field and the bound, and changes nothing: no process, no batch item started, no date
// moved. The same holds for each bulk item, an exception's start and a contract's start.
func TestDatesOutOfBounds(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("hr")
	p, dept := s.leaver(t)
	processes := func() int64 { return s.countRows(t, &models.Process{}, "employee_id = ?", p.EmployeeID) }
	refused := func(t *testing.T, r reply, field, bound string) {
		t.Helper()
		e := r.wantError(t, http.StatusUnprocessableEntity, "policy_violation")
		if !strings.Contains(e.Fields[field], bound) || !strings.Contains(e.Message, field) {
			t.Errorf("the refusal does not name %s and its bound %s: %+v", field, bound, e)
		}
	}

	for _, d := range []struct{ name, date, bound string }{
		{"2062 for 2026", "2062-04-01", date(366)},
		{"a day past the bound", date(367), date(366)},
		{"too far back", date(-91), date(-90)},
	} {
		t.Run(d.name, func(t *testing.T) {
			refused(t, call(t, "POST", "/api/v1/offboardings", tok, offboardingRequest(p.EmployeeID, "retirement", d.date)), "effective_date", d.bound)
			if n := processes(); n != 0 {
				t.Errorf("a refused offboarding registered %d processes", n)
			}
		})
	}

	t.Run("bulk items", func(t *testing.T) {
		other := s.addPerson(t, dept, "staff")
		r := call(t, "POST", "/api/v1/offboardings/bulk", tok, map[string]any{"items": []any{
			offboardingRequest(p.EmployeeID, "retirement", "2062-04-01"),
			offboardingRequest(other.EmployeeID, "retirement", date(-120)),
		}})
		var ans batchAnswer
		r.decode(t, &ans)
		if r.Status != 200 || len(ans.Items) != 2 {
			t.Fatalf("bulk: %s", r)
		}
		for i, it := range ans.Items {
			if it.Result != "rejected" || it.Error == nil || it.Error.Code != "policy_violation" || it.Error.Fields["effective_date"] == "" {
				t.Errorf("item %d: %+v, want rejected with policy_violation on effective_date", i, it)
			}
		}
		if n := processes() + s.countRows(t, &models.Process{}, "employee_id = ?", other.EmployeeID); n != 0 {
			t.Errorf("refused items registered %d processes", n)
		}
	})

	t.Run("a large batch's items, on the worker", func(t *testing.T) {
		items := []any{offboardingRequest(p.EmployeeID, "retirement", "2062-04-01")}
		for len(items) <= 100 {
			items = append(items, offboardingRequest(uid("nobody"), "retirement", date(30)))
		}
		r := call(t, "POST", "/api/v1/offboardings/bulk", tok, map[string]any{"items": items})
		if r.Status != 202 {
			t.Fatalf("bulk: %s", r)
		}
		var ans batchAnswer
		r.decode(t, &ans)
		eventually(t, "the batch to finish", func() (bool, string) {
			r := call(t, "GET", "/api/v1/offboardings/bulk/"+ans.BatchID, tok, nil)
			ans = batchAnswer{}
			r.decode(t, &ans)
			return ans.Status == "done", ans.Status
		})
		if it := ans.Items[0]; it.Result != "rejected" || it.Error == nil || it.Error.Code != "policy_violation" || it.Error.Fields["effective_date"] == "" {
			t.Errorf("item 0: %+v, want rejected with policy_violation on effective_date", it)
		}
		if n := processes(); n != 0 {
			t.Errorf("a refused item registered %d processes", n)
		}
	})

	t.Run("moving the date", func(t *testing.T) {
		id := startedID(t, call(t, "POST", "/api/v1/offboardings", tok, offboardingRequest(p.EmployeeID, "retirement", date(366))), 201)
		refused(t, call(t, "POST", "/api/v1/offboardings/"+id+"/move-date", tok, map[string]any{"effective_date": date(400), "reason": "typo"}), "effective_date", date(366))
		refused(t, call(t, "POST", "/api/v1/offboardings/"+id+"/move-date", tok, map[string]any{"effective_date": date(-100), "reason": "typo"}), "effective_date", date(-90))
		if o, err := s.Store.OffboardingOf(context.Background(), id); err != nil || o.EffectiveDate != date(366) {
			t.Errorf("a refused move changed the date: %+v, %v", o, err)
		}
		if r := call(t, "POST", "/api/v1/processes/"+id+"/cancel", s.token("admin"), map[string]any{"reason": "test over"}); r.Status != 200 {
			t.Errorf("cancel: %s", r)
		}
	})

	t.Run("exception start", func(t *testing.T) {
		requester := s.addPerson(t, dept, "staff")
		body := exceptionRequest(requester.EmployeeID)
		body["start_date"], body["end_date"] = date(400), date(410)
		refused(t, call(t, "POST", "/api/v1/exceptions", s.token("officer"), body), "start_date", date(366))
	})

	t.Run("contract start", func(t *testing.T) {
		requester := s.addPerson(t, dept, "staff")
		body := with(with(outsourcingRequest(requester.EmployeeID), "contract_start", "2062-04-01"), "contract_end", "2063-04-01")
		refused(t, call(t, "POST", "/api/v1/outsourcing-reviews", s.token("officer"), body), "contract_start", date(366))
	})
}
