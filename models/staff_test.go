package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
)

// Step 11 creates the sign-in links and sessions on a database that lacks them, and runs
// again without harm.
func TestStaffSessionsStep(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		m := s.DB.Migrator()
		for _, model := range []any{&models.SignInLink{}, &models.StaffSession{}} {
			if err := m.DropTable(model); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DB.Where("version = ?", 11).Delete(&models.SchemaMigration{}).Error; err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for _, model := range []any{&models.SignInLink{}, &models.StaffSession{}} {
			if !m.HasTable(model) {
				t.Errorf("step 11 did not create %T", model)
			}
		}
	})
}

// A sign-in link works once, and not after it expires.
func TestSignInLinkOnce(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		for _, l := range []models.SignInLink{
			{Hash: "h-ok", EmployeeID: "e1", CreatedAt: now, ExpiresAt: now.Add(15 * time.Minute)},
			{Hash: "h-old", EmployeeID: "e1", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-45 * time.Minute)},
		} {
			if err := s.CreateSignInLink(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		if id, err := s.UseSignInLink(ctx, "h-ok", now); err != nil || id != "e1" {
			t.Fatalf("first use: %q, %v", id, err)
		}
		if _, err := s.UseSignInLink(ctx, "h-ok", now); !errors.Is(err, models.ErrLinkUsed) {
			t.Errorf("second use: %v, want ErrLinkUsed", err)
		}
		if _, err := s.UseSignInLink(ctx, "h-old", now); !errors.Is(err, models.ErrLinkUsed) {
			t.Errorf("expired link: %v, want ErrLinkUsed", err)
		}
		if n, err := s.RecentSignInLinks(ctx, "e1", now.Add(-time.Minute)); err != nil || n != 1 {
			t.Errorf("recent links %d, %v; want 1", n, err)
		}
		// Dead links and sessions are forgotten; live ones stay.
		for _, ss := range []models.StaffSession{
			{Hash: "s-live", EmployeeID: "e1", CreatedAt: now, LastSeenAt: now},
			{Hash: "s-dead", EmployeeID: "e1", CreatedAt: now.Add(-48 * time.Hour), LastSeenAt: now.Add(-47 * time.Hour)},
		} {
			if err := s.CreateStaffSession(ctx, ss); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.ForgetStaffSignIns(ctx, now.Add(-10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		var links, sessions []string
		s.DB.Model(&models.SignInLink{}).Order("hash").Pluck("hash", &links)
		s.DB.Model(&models.StaffSession{}).Order("hash").Pluck("hash", &sessions)
		if len(links) != 1 || links[0] != "h-ok" || len(sessions) != 1 || sessions[0] != "s-live" {
			t.Errorf("after forgetting: links %v, sessions %v; want [h-ok] [s-live]", links, sessions)
		}
	})
}
