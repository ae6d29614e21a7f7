package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// HR and IT see who cannot be mailed (issue 15): one person with their flag, and the list of
// everyone flagged; a new address clears the flag.
func TestPeopleWithRefusedMail(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dir, aud, hr := s.token("directory"), s.token("auditor"), s.token("hr")
	dept := uid("dept")
	gone := s.addPerson(t, dept, "diso")
	fine := s.addPerson(t, dept, "staff")
	if err := s.Store.FlagUndeliverable(context.Background(), gone.EmployeeID, "550 5.1.1", time.Now()); err != nil {
		t.Fatal(err)
	}

	var one struct {
		EmployeeID       string     `json:"employee_id"`
		Roles            []string   `json:"roles"`
		UndeliverableAt  *time.Time `json:"undeliverable_at"`
		UndeliverableWhy string     `json:"undeliverable_why"`
	}
	call(t, http.MethodGet, "/api/v1/people/"+gone.EmployeeID, aud, nil).decode(t, &one)
	if one.EmployeeID != gone.EmployeeID || one.UndeliverableAt == nil || one.UndeliverableWhy != "550 5.1.1" || len(one.Roles) != 1 {
		t.Errorf("GET person = %+v; want the flag and the roles", one)
	}
	one.UndeliverableAt = nil
	call(t, http.MethodGet, "/api/v1/people/"+fine.EmployeeID, dir, nil).decode(t, &one)
	if one.UndeliverableAt != nil {
		t.Errorf("an unflagged person reads as flagged: %+v", one)
	}
	var list struct {
		People []struct {
			EmployeeID string `json:"employee_id"`
		} `json:"people"`
	}
	call(t, http.MethodGet, "/api/v1/people?undeliverable=true", dir, nil).decode(t, &list)
	found := false
	for _, p := range list.People {
		found = found || p.EmployeeID == gone.EmployeeID
		if p.EmployeeID == fine.EmployeeID {
			t.Errorf("the list names %s, whose mail is fine", fine.EmployeeID)
		}
	}
	if !found {
		t.Errorf("the list %+v lacks %s", list, gone.EmployeeID)
	}

	call(t, http.MethodGet, "/api/v1/people", dir, nil).wantError(t, http.StatusBadRequest, "validation_failed")
	call(t, http.MethodGet, "/api/v1/people?undeliverable=true&name=x", dir, nil).wantError(t, http.StatusBadRequest, "validation_failed")
	call(t, http.MethodGet, "/api/v1/people/"+uid("emp"), dir, nil).wantError(t, http.StatusNotFound, "not_found")
	call(t, http.MethodGet, "/api/v1/people/"+gone.EmployeeID, hr, nil).wantError(t, http.StatusForbidden, "forbidden")

	// A corrected address clears the flag.
	body := map[string]any{"name": gone.Name, "email": "new-" + gone.Email, "department": dept, "roles": []string{"diso"}}
	if r := call(t, http.MethodPut, "/api/v1/people/"+gone.EmployeeID, dir, body); r.Status != http.StatusOK {
		t.Fatalf("put: %s", r)
	}
	one.UndeliverableAt = nil
	call(t, http.MethodGet, "/api/v1/people/"+gone.EmployeeID, dir, nil).decode(t, &one)
	if one.UndeliverableAt != nil {
		t.Errorf("a new address did not clear the flag: %+v", one)
	}
}
