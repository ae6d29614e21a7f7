package activities_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
)

// §6.2(1)3(ウ): when the CISO approves a designee, the GISO, the security officer of the
// department owning the system and the system's manager are told, by a notice without a
// link naming the designee, once each, even when the activity is retried; one person holding
// two of the posts gets one mail; a vacant post is named as such.
func TestDesigneeNoticesGoToThePostsTheClauseNames(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		a, mb, _ := setup(t, store)
		people := []models.Person{
			{EmployeeID: "D1", Name: "税務部長", Email: "diso@town.example", DepartmentID: "zeimu", Locale: "ja", Status: models.StatusEmployed,
				Roles: []models.PersonRole{{EmployeeID: "D1", Role: "diso"}}},
			{EmployeeID: "I1", Name: "Tax Manager", Email: "ism@town.example", DepartmentID: "zeimu", Locale: "en", Status: models.StatusEmployed,
				Roles: []models.PersonRole{{EmployeeID: "I1", Role: "ism"}}},
			{EmployeeID: "S1", Name: "代行 太郎", Email: "s1@town.example", DepartmentID: "zeimu", Locale: "ja", Status: models.StatusEmployed,
				Roles: []models.PersonRole{{EmployeeID: "S1", Role: "staff"}}},
		}
		if _, err := store.PutPeople(ctx, people); err != nil {
			t.Fatal(err)
		}
		if _, err := store.PutSystem(ctx, models.System{ID: "tax", Name: "tax", DepartmentID: "zeimu", ISMEmployeeID: "I1", Classification: 2}); err != nil {
			t.Fatal(err)
		}
		if err := store.CreateProcess(ctx, &models.Process{ID: "OFB-1", Kind: models.KindOffboarding, Status: "in_progress", Stage: "offboarding", WorkflowID: "OFB-1"}); err != nil {
			t.Fatal(err)
		}
		d := activities.DesigneeApproval{ProcessID: "OFB-1", TaskID: "OFB-1/approve_rotation_designee/1", SystemID: "tax", AccountID: "admin",
			SystemDepartment: "zeimu", Designee: "S1", NamedBy: "I1", ApprovedBy: "C1"}
		for range 2 { // the second run is a retry: nothing more is sent
			told, err := a.SendDesigneeNotices(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"the GISO (G1)", "the security officer of zeimu (D1)", "the manager of tax (I1)"}
			if !slices.Equal(told, want) {
				t.Errorf("told %q, want %q", told, want)
			}
		}
		var to []string
		for _, m := range mb.sent {
			to = append(to, m.To)
			if strings.Contains(m.Text, "/tasks/") {
				t.Errorf("the notice to %s carries a link", m.To)
			}
			if !strings.Contains(m.Text, "S1") || !strings.Contains(m.Text, "admin") {
				t.Errorf("the notice to %s does not name the designee and the ID:\n%s", m.To, m.Text)
			}
		}
		slices.Sort(to)
		if !slices.Equal(to, []string{"diso@town.example", "giso@town.example", "ism@town.example"}) {
			t.Errorf("mails to %v", to)
		}
		for _, m := range mb.sent {
			if m.To == "diso@town.example" && !strings.Contains(m.Text, "代行 太郎 (S1)") {
				t.Errorf("the Japanese notice:\n%s", m.Text)
			}
			if m.To == "ism@town.example" && !strings.Contains(m.Subject, "The CISO approved a designee") {
				t.Errorf("the English subject: %s", m.Subject)
			}
		}

		// The GISO also manages the system, and its department has no officer: one mail to
		// the GISO; the vacant post is named.
		if _, err := store.PutSystem(ctx, models.System{ID: "mail", Name: "mail", DepartmentID: "nodept", ISMEmployeeID: "G1", Classification: 2}); err != nil {
			t.Fatal(err)
		}
		mb.sent = nil
		d.TaskID, d.SystemID, d.SystemDepartment = "OFB-1/approve_rotation_designee/2", "mail", "nodept"
		told, err := a.SendDesigneeNotices(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(told, []string{"the GISO (G1)", "the security officer of nodept (vacant)", "the manager of mail (G1)"}) || len(mb.sent) != 1 {
			t.Errorf("told %q, %d mails", told, len(mb.sent))
		}
	})
}
