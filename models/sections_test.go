package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
)

// Step 9 adds the directory's second level, the sections (課室) of a department (§2(4)1), to a
// database from before it: people and systems without a section keep working, and the step
// is re-runnable.
func TestSectionsStep(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutPeople(ctx, []models.Person{withRoles("OLD", "tax", "employed", "staff")}); err != nil {
			t.Fatal(err)
		}
		// Back to before step 9. (SQLite rebuilds a table to drop a column, which the people's
		// roles' foreign key would refuse.)
		if s.DB.Dialector.Name() == "sqlite" {
			if err := s.DB.Exec("PRAGMA foreign_keys = OFF").Error; err != nil {
				t.Fatal(err)
			}
			defer s.DB.Exec("PRAGMA foreign_keys = ON")
		}
		m := s.DB.Migrator()
		for _, c := range []struct {
			model any
			field string
		}{{&models.Person{}, "SectionID"}, {&models.System{}, "SectionID"}, {&models.Offboarding{}, "FormerSection"}, {&models.Offboarding{}, "NewSection"}} {
			if err := m.DropColumn(c.model, c.field); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.DropTable(&models.Section{}); err != nil {
			t.Fatal(err)
		}
		if err := s.DB.Where("version = 9").Delete(&models.SchemaMigration{}).Error; err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var step models.Migration
		for _, x := range models.Migrations {
			if x.Version == 9 {
				step = x
			}
		}
		if err := step.Up(s.DB); err != nil {
			t.Fatalf("step 9 again: %v", err)
		}
		old, err := s.Person(ctx, "OLD")
		if err != nil || old.SectionID != "" || old.DepartmentID != "tax" {
			t.Fatalf("a person from before sections: %+v %v", old, err)
		}
		if _, err := s.PutSection(ctx, models.Section{ID: "tax-assess", DepartmentID: "tax", NameJa: "課税課"}); err != nil {
			t.Fatal(err)
		}
		p := withRoles("OLD", "tax", "employed", "staff")
		p.SectionID = "tax-assess"
		if _, err := s.PutPeople(ctx, []models.Person{p}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Person(ctx, "OLD"); got.SectionID != "tax-assess" {
			t.Errorf("section after step 9: %q", got.SectionID)
		}
	})
}

// A section belongs to one department for good; a roster without a section column keeps the
// sections the directory holds unless the department changes; a transfer's end moves the
// person to the new section.
func TestSectionsInTheDirectory(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for _, sec := range []models.Section{
			{ID: "tax-assess", DepartmentID: "tax", NameJa: "課税課", NameEn: "Assessment"},
			{ID: "tax-collect", DepartmentID: "tax", NameJa: "収納課"},
		} {
			if created, err := s.PutSection(ctx, sec); err != nil || !created {
				t.Fatalf("put %s: %v %v", sec.ID, created, err)
			}
		}
		if created, err := s.PutSection(ctx, models.Section{ID: "tax-assess", DepartmentID: "tax", NameJa: "税務課 課税係"}); err != nil || created {
			t.Fatalf("rename: %v %v", created, err)
		}
		if _, err := s.PutSection(ctx, models.Section{ID: "tax-assess", DepartmentID: "welfare", NameJa: "x"}); !errors.Is(err, models.ErrSectionMoved) {
			t.Fatalf("a section moved to another department: %v", err)
		}
		list, err := s.Sections(ctx)
		if err != nil || len(list) != 2 || list[0].NameJa != "税務課 課税係" || list[1].ID != "tax-collect" {
			t.Fatalf("sections %+v %v", list, err)
		}

		a, b := withRoles("A", "tax", "employed", "staff"), withRoles("B", "tax", "employed", "staff")
		a.SectionID, b.SectionID = "tax-assess", "tax-collect"
		if _, _, err := s.PutPeopleChanges(ctx, []models.Person{a, b}); err != nil {
			t.Fatal(err)
		}
		// A roster without sections: A stays in tax-assess, B moves department and loses hers.
		if _, _, err := s.PutRosterChanges(ctx, []models.Person{withRoles("A", "tax", "employed", "staff"), withRoles("B", "welfare", "employed", "staff")}, false); err != nil {
			t.Fatal(err)
		}
		ga, _ := s.Person(ctx, "A")
		gb, _ := s.Person(ctx, "B")
		if ga.SectionID != "tax-assess" || gb.SectionID != "" || gb.DepartmentID != "welfare" {
			t.Errorf("after a roster without sections: A in %q, B in %q/%q", ga.SectionID, gb.DepartmentID, gb.SectionID)
		}
		// A PUT replaces: no section given is none.
		if _, _, err := s.PutPeopleChanges(ctx, []models.Person{withRoles("A", "tax", "employed", "staff")}); err != nil {
			t.Fatal(err)
		}
		if ga, _ = s.Person(ctx, "A"); ga.SectionID != "" {
			t.Errorf("after a PUT without a section: %q", ga.SectionID)
		}

		// The end of a transfer between two sections of tax.
		c := withRoles("C", "tax", "employed", "staff", "ism", "diso")
		c.SectionID = "tax-assess"
		if _, err := s.PutPeople(ctx, []models.Person{c}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateProcess(ctx, &models.Process{ID: "OFB-C", Kind: models.KindOffboarding, Status: "in_progress", Stage: "offboarding", WorkflowID: "OFB-C"}); err != nil {
			t.Fatal(err)
		}
		to := "tax-collect"
		note, err := s.EndLeaverPosts(ctx, models.LeaverPosts{ProcessID: "OFB-C", EmployeeID: "C", Status: "employed", Department: "tax", Section: &to,
			EndRoles: []string{"ism"}, At: time.Date(2026, 4, 1, 1, 0, 0, 0, time.UTC)})
		if err != nil || !strings.Contains(note, "tax (section tax-collect)") || !strings.Contains(note, "roles ended: ism") {
			t.Fatalf("end posts: %q %v", note, err)
		}
		gc, _ := s.Person(ctx, "C")
		if gc.SectionID != "tax-collect" || gc.DepartmentID != "tax" || !gc.HasRole("diso") || gc.HasRole("ism") {
			t.Errorf("C after the section transfer: %s/%s %v", gc.DepartmentID, gc.SectionID, gc.RoleNames())
		}
	})
}
