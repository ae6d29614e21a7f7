package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// §6.1(1), §6.2(1)2(イ)(ウ): after a transfer between two sections (課室) of one department,
// an ID the person still holds on the former section's system is a finding of its own
// ("former_section") for that system's manager; their IDs on the new section's system and on
// the department's systems without a section are not, nor is a transfer cancelled, or one
// back to the section.
func TestReconciliationFindsAnIDLeftOnTheFormerSectionsSystem(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		a, _, _ := setup(t, store)
		for _, sec := range []models.Section{{ID: "tax-assess", DepartmentID: "zeimu", NameJa: "課税課"}, {ID: "tax-collect", DepartmentID: "zeimu", NameJa: "収納課"}} {
			if _, err := store.PutSection(ctx, sec); err != nil {
				t.Fatal(err)
			}
		}
		person := func(id, section string) models.Person {
			return models.Person{EmployeeID: id, Name: id, Email: id + "@town.example", DepartmentID: "zeimu", SectionID: section, Locale: "ja",
				Status: models.StatusEmployed, Roles: []models.PersonRole{{EmployeeID: id, Role: "staff"}}}
		}
		// P1 moved from assessment to collection; P2 has always been in collection; P3 moved
		// out of assessment and back; P4's move was cancelled; P5's is not effective yet.
		if _, err := store.PutPeople(ctx, []models.Person{person("I1", "tax-assess"), person("P1", "tax-collect"), person("P2", "tax-collect"),
			person("P3", "tax-assess"), person("P4", "tax-collect"), person("P5", "tax-collect")}); err != nil {
			t.Fatal(err)
		}
		for _, sys := range []models.System{
			{ID: "assess", Name: "assess", DepartmentID: "zeimu", SectionID: "tax-assess", ISMEmployeeID: "I1", Classification: 2},
			{ID: "collect", Name: "collect", DepartmentID: "zeimu", SectionID: "tax-collect", ISMEmployeeID: "I1", Classification: 2},
			{ID: "portal", Name: "portal", DepartmentID: "zeimu", ISMEmployeeID: "I1", Classification: 3},
		} {
			if _, err := store.PutSystem(ctx, sys); err != nil {
				t.Fatal(err)
			}
		}
		for _, x := range []struct{ sys, holder string }{
			{"assess", "P1"}, {"collect", "P1"}, {"portal", "P1"}, {"assess", "P2"}, {"assess", "P3"}, {"assess", "P4"}, {"assess", "P5"},
		} {
			h := x.holder
			if _, err := store.PutAccount(ctx, models.Account{SystemID: x.sys, AccountID: h, HolderEmployeeID: &h}); err != nil {
				t.Fatal(err)
			}
		}
		for _, x := range []struct{ id, who, date, status, from, to string }{
			{"OFB-1", "P1", "2026-03-31", "completed", "tax-assess", "tax-collect"},
			{"OFB-2", "P3", "2025-03-31", "completed", "tax-assess", "tax-collect"},
			{"OFB-3", "P3", "2026-03-31", "completed", "tax-collect", "tax-assess"},
			{"OFB-4", "P4", "2026-03-31", "cancelled", "tax-assess", "tax-collect"},
			{"OFB-5", "P5", "2026-06-30", "waiting", "tax-assess", "tax-collect"},
		} {
			if err := store.DB.Create(&models.Process{ID: x.id, Kind: models.KindOffboarding, Status: x.status, Stage: "x", WorkflowID: x.id, EmployeeID: x.who}).Error; err != nil {
				t.Fatal(err)
			}
			if err := store.DB.Create(&models.Offboarding{ProcessID: x.id, EmployeeID: x.who, EffectiveDate: x.date, OriginalDate: x.date,
				Reason: "transfer", FormerDepartment: "zeimu", NewDepartment: "zeimu", FormerSection: x.from, NewSection: x.to}).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := store.CreateProcess(ctx, &models.Process{ID: "REC-1", Kind: models.KindReconciliation, Status: "in_progress", Stage: "x", WorkflowID: "REC-1"}); err != nil {
			t.Fatal(err)
		}
		f, err := a.FindReconciliationFindings(ctx, activities.FindingsRequest{ProcessID: "REC-1", UnusedAfter: 90 * 24 * time.Hour,
			At: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		want := activities.FindingRef{SystemID: "assess", AccountID: "P1", Kind: policy.FindingFormerSection}
		if len(f.Managers) != 1 || f.Managers[0].ISM != "I1" || len(f.Managers[0].Findings) != 1 || f.Managers[0].Findings[0] != want {
			t.Fatalf("findings %+v, want only %+v for I1", f.Managers, want)
		}
		stored, err := store.Findings(ctx, "REC-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 1 || stored[0].Kind != policy.FindingFormerSection || stored[0].Holder != "P1" || stored[0].ISMID != "I1" {
			t.Errorf("stored findings %+v", stored)
		}
	})
}
