package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
)

// The registers are read a page at a time, every row once, in order, also when many rows
// share an instant (a bulk start) or a system: the keyset steps over ties.
func TestRegisterPaging(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		var ps []models.Process
		for i := range 1234 {
			// Runs of 7 processes filed at the same instant, IDs not in filing order.
			created := at.Add(time.Duration(i/7) * time.Second)
			id := fmt.Sprintf("EXC-%04d", (i*37)%1234)
			ps = append(ps, models.Process{ID: id, Kind: models.KindException, Status: "pending", Stage: "x", WorkflowID: id, CreatedAt: created})
		}
		ps = append(ps, models.Process{ID: "INC-1", Kind: models.KindIncident, Status: "open", Stage: "x", WorkflowID: "INC-1", CreatedAt: at})
		if err := s.DB.CreateInBatches(ps, 200).Error; err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		pages := 0
		var last models.Process
		err := s.EachProcess(ctx, models.KindException, 100, func(page []models.Process) error {
			pages++
			for _, p := range page {
				if seen[p.ID] || p.Kind != models.KindException {
					t.Fatalf("%s visited twice, or of another kind", p.ID)
				}
				if p.CreatedAt.Before(last.CreatedAt) || p.CreatedAt.Equal(last.CreatedAt) && p.ID < last.ID {
					t.Fatalf("%s after %s: out of order", p.ID, last.ID)
				}
				seen[p.ID], last = true, p
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 1234 || pages != 13 {
			t.Errorf("%d processes in %d pages, want 1234 in 13", len(seen), pages)
		}

		var as []models.Account
		for i := range 1000 {
			as = append(as, models.Account{SystemID: fmt.Sprintf("sys-%d", i%3), AccountID: fmt.Sprintf("u%04d", i), Status: "active"})
		}
		if err := s.DB.CreateInBatches(as, 200).Error; err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		if err := s.EachAccount(ctx, 64, func(page []models.Account) error {
			for _, a := range page {
				got[a.SystemID+"/"+a.AccountID] = true
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1000 {
			t.Errorf("%d accounts visited, want 1000", len(got))
		}
	})
}

// A report link works until it expires or is revoked; revoking counts the links that worked.
func TestReportLinks(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2027, 4, 20, 0, 0, 0, 0, time.UTC)
		n := models.Notification{Key: "committee-report/2026/x/M1", Kind: "committee_report", RecipientID: "M1", To: "m1@x", Subject: "s", Status: models.NotificationPending}
		if err := s.PrepareReportMail(ctx, n, models.ReportLink{TokenHash: "h1", FiscalYear: 2026, PersonID: "M1", NotificationKey: n.Key, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		l, err := s.ReportLinkByHash(ctx, "h1")
		if err != nil || !l.ActiveAt(now) || l.ActiveAt(now.Add(time.Hour)) {
			t.Fatalf("link %+v, %v", l, err)
		}
		if _, err := s.ReportLinkByHash(ctx, "nope"); err != models.ErrNotFound {
			t.Errorf("unknown hash: %v", err)
		}
		for i, want := range []int64{1, 0} {
			if got, err := s.RevokeReportLinks(ctx, 2026, now); err != nil || got != want {
				t.Errorf("revoke %d: %d, %v; want %d", i, got, err, want)
			}
		}
		if l, _ := s.ReportLinkByHash(ctx, "h1"); l.ActiveAt(now) {
			t.Error("a revoked link works")
		}
	})
}
