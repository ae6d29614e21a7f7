package models_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/policyflow/policyflow/models"
)

// The reconciliation learns which departments an account's holder was transferred out of
// (§6.2(1)2(イ), §6.1(1)): transfers effective by the day of the run, not cancelled.
func TestActiveAccountsKnowTheHoldersFormerDepartments(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.PutPeopleChanges(ctx, []models.Person{withRoles("P1", "welfare", "employed", "staff")}); err != nil {
			t.Fatal(err)
		}
		for _, sys := range []models.System{{ID: "tax", Name: "Tax", DepartmentID: "taxation"}, {ID: "mail", Name: "Mail", DepartmentID: "general"}} {
			if _, err := s.PutSystem(ctx, sys); err != nil {
				t.Fatal(err)
			}
		}
		p1 := "P1"
		for _, a := range []models.Account{{SystemID: "tax", AccountID: "p1", HolderEmployeeID: &p1}, {SystemID: "mail", AccountID: "p1", HolderEmployeeID: &p1}} {
			if _, err := s.PutAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		for _, x := range []struct{ id, former, date, status string }{
			{"OFB-1", "taxation", "2026-03-31", "completed"},
			{"OFB-2", "general", "2026-03-31", "cancelled"}, // cancelled: no transfer
			{"OFB-3", "planning", "2026-06-30", "waiting"},  // not yet effective
		} {
			if err := s.DB.Create(&models.Process{ID: x.id, Kind: models.KindOffboarding, Status: x.status, Stage: "x", WorkflowID: x.id, EmployeeID: "P1"}).Error; err != nil {
				t.Fatal(err)
			}
			if err := s.DB.Create(&models.Offboarding{ProcessID: x.id, EmployeeID: "P1", EffectiveDate: x.date, OriginalDate: x.date,
				Reason: "transfer", FormerDepartment: x.former, NewDepartment: "welfare"}).Error; err != nil {
				t.Fatal(err)
			}
		}
		got := map[string]models.ReconciledAccount{}
		if err := s.ActiveAccounts(ctx, "2026-04-01", func(page []models.ReconciledAccount) error {
			for _, a := range page {
				got[a.SystemID+"/"+a.AccountID] = a
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		tax := got["tax/p1"]
		if tax.SystemDepartment != "taxation" || tax.HolderDepartment != "welfare" || !slices.Equal(tax.HolderLeft, []string{"taxation"}) {
			t.Errorf("tax/p1 = system %q, holder %q, left %v; want taxation, welfare, [taxation]", tax.SystemDepartment, tax.HolderDepartment, tax.HolderLeft)
		}
		if got["mail/p1"].SystemDepartment != "general" {
			t.Errorf("mail/p1 system department = %q", got["mail/p1"].SystemDepartment)
		}
	})
}

// A town with more active accounts than one page: every active account is visited once, in
// key order, and none that is disabled (the pages follow the two-column key).
func TestActiveAccountsVisitsEveryPage(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for _, sys := range []models.System{{ID: "a", Name: "A", DepartmentID: "general"}, {ID: "b", Name: "B", DepartmentID: "general"}} {
			if _, err := s.PutSystem(ctx, sys); err != nil {
				t.Fatal(err)
			}
		}
		var accounts []models.Account
		for i := range 1300 {
			status := "active"
			if i%10 == 0 {
				status = "disabled"
			}
			accounts = append(accounts, models.Account{SystemID: []string{"a", "b"}[i%2], AccountID: fmt.Sprintf("u%04d", i), Status: status})
		}
		if err := s.DB.CreateInBatches(accounts, 200).Error; err != nil {
			t.Fatal(err)
		}
		var seen []string
		pages := 0
		if err := s.ActiveAccounts(ctx, "2026-04-01", func(page []models.ReconciledAccount) error {
			pages++
			for _, r := range page {
				seen = append(seen, r.SystemID+"/"+r.AccountID)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 1170 || pages != 3 {
			t.Fatalf("visited %d accounts in %d pages, want 1170 in 3", len(seen), pages)
		}
		if !slices.IsSorted(seen) || len(slices.Compact(slices.Clone(seen))) != len(seen) {
			t.Error("accounts not visited once each in key order")
		}
	})
}
