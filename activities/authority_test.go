package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// TestAssignTaskDeputyPosts resolves deputies against the real directory: the GISO, a
// town-wide post, stands in whatever department the process is about (§2(2)5 for an absent
// CISO), while a department security officer stands in only for their own department.
func TestAssignTaskDeputyPosts(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		person := func(id, dept, role string) models.Person {
			return models.Person{EmployeeID: id, Name: id, Email: id + "@town.example", DepartmentID: dept, Locale: "ja",
				Status: models.StatusEmployed, Roles: []models.PersonRole{{EmployeeID: id, Role: role}}}
		}
		if _, _, err := store.PutPeopleChanges(ctx, []models.Person{
			person("CISO", "mayor", "ciso"), person("GISO", "general", "giso"),
			// DISO-G sorts first: a diso deputy found without the department would be them.
			person("DISO-G", "general", "diso"), person("DISO-R", "residents", "diso"),
			person("REQ", "residents", "staff"),
		}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		if err := store.CreateAbsence(ctx, &models.Absence{EmployeeID: "CISO", From: now.Add(-time.Hour), To: now.Add(time.Hour), RegisteredBy: "test"}); err != nil {
			t.Fatal(err)
		}
		a := &activities.Activities{Store: store, Loc: time.UTC}
		incident := policy.DefaultDelegation().ForKind("incident").DeputyFor("incident", "ciso_instruction")
		ciso := activities.AssignRequest{ProcessID: "INC-1", Post: policy.Post{Role: policy.RoleCISO}, Deputy: incident,
			DeputyScope: "residents", At: now}

		got, err := a.AssignTask(ctx, ciso)
		if err != nil || got.AssigneeID != "GISO" || got.HolderID != "CISO" || got.Occasion != policy.OnAbsence {
			t.Errorf("absent CISO: %+v, %v; want the GISO for the CISO (absence)", got, err)
		}
		ciso.Escalation = true
		if got, err := a.AssignTask(ctx, ciso); err != nil || got.AssigneeID != "GISO" || got.Nobody {
			t.Errorf("silent CISO: %+v, %v; want the GISO", got, err)
		}

		revision := policy.DefaultDelegation().ForKind("exception").DeputyFor("exception", "requester_revision")
		got, err = a.AssignTask(ctx, activities.AssignRequest{ProcessID: "EXC-1", AssigneeID: "REQ", Deputy: revision,
			DeputyScope: "residents", Escalation: true, At: now})
		if err != nil || got.AssigneeID != "DISO-R" || got.HolderID != "REQ" {
			t.Errorf("silent requester in residents: %+v, %v; want DISO-R", got, err)
		}
	})
}
