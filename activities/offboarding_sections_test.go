package activities_test

import (
	"context"
	"slices"
	"testing"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// §6.2(1)3(イ)(エ), §6.1(1): the directory's answer for a leaver names, for each system a
// section owns, that section's members (whom a designee is named among), and whether each
// system's manager is a vendor's person, wherever the directory lists them.
func TestOffboardingFactsReadTheSystemsSections(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		a, _, _ := setup(t, store)
		for _, sec := range []models.Section{{ID: "tax-assess", DepartmentID: "zeimu", NameJa: "課税課"}, {ID: "tax-collect", DepartmentID: "zeimu", NameJa: "収納課"}} {
			if _, err := store.PutSection(ctx, sec); err != nil {
				t.Fatal(err)
			}
		}
		person := func(id, dept, section, role string) models.Person {
			return models.Person{EmployeeID: id, Name: id, Email: id + "@town.example", DepartmentID: dept, SectionID: section, Locale: "ja",
				Status: models.StatusEmployed, Roles: []models.PersonRole{{EmployeeID: id, Role: role}}}
		}
		if _, err := store.PutPeople(ctx, []models.Person{person("L1", "zeimu", "tax-assess", "staff"), person("I1", "zeimu", "tax-assess", "ism"),
			person("S1", "zeimu", "tax-collect", "staff"), person("S2", "zeimu", "tax-assess", "staff"), person("V9", "outside", "", "vendor")}); err != nil {
			t.Fatal(err)
		}
		for _, sys := range []models.System{
			{ID: "assess", Name: "assess", DepartmentID: "zeimu", SectionID: "tax-assess", ISMEmployeeID: "I1", Classification: 2},
			{ID: "portal", Name: "portal", DepartmentID: "zeimu", ISMEmployeeID: "V9", Classification: 3},
		} {
			if _, err := store.PutSystem(ctx, sys); err != nil {
				t.Fatal(err)
			}
		}
		l1 := "L1"
		for _, sys := range []string{"assess", "portal"} {
			if _, err := store.PutAccount(ctx, models.Account{SystemID: sys, AccountID: "l1", HolderEmployeeID: &l1}); err != nil {
				t.Fatal(err)
			}
		}
		f, err := a.OffboardingFacts(ctx, activities.OffboardingFactsRequest{EmployeeID: "L1", FormerDepartment: "zeimu"})
		if err != nil {
			t.Fatal(err)
		}
		want := []activities.SystemFacts{{ID: "assess", Department: "zeimu", Section: "tax-assess", ISM: "I1"},
			{ID: "portal", Department: "zeimu", ISM: "V9", ISMVendor: true}}
		if !slices.Equal(f.Systems, want) {
			t.Errorf("systems %+v, want %+v", f.Systems, want)
		}
		var ids []string
		for _, c := range f.SectionCandidates["tax-assess"] {
			ids = append(ids, c.EmployeeID+"/"+c.SectionID)
		}
		if !slices.Equal(ids, []string{"I1/tax-assess", "L1/tax-assess", "S2/tax-assess"}) || len(f.SectionCandidates) != 1 {
			t.Errorf("section candidates %v (of %d sections), want the members of tax-assess", ids, len(f.SectionCandidates))
		}
		if i := slices.IndexFunc(f.Candidates["zeimu"], func(c policy.Candidate) bool { return c.EmployeeID == "S1" }); i < 0 || f.Candidates["zeimu"][i].SectionID != "tax-collect" {
			t.Errorf("department candidates %+v: S1 of tax-collect missing", f.Candidates["zeimu"])
		}
	})
}
