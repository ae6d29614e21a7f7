package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm/clause"

	"github.com/policyflow/policyflow/models"
)

// A campaign freezes who inspects what (§9.1(1)), keeps its answers and measures, and the
// report helpers read them back per fiscal year (§9.1(2)).
func TestInspectionRegister(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		// Step 10 runs again on a database that has it: nothing changes.
		if err := models.Migrations[len(models.Migrations)-1].Up(s.DB); err != nil {
			t.Fatalf("step 10 is not re-runnable: %v", err)
		}
		if _, err := s.PutPeople(ctx, []models.Person{
			withRoles("I1", "d1", "employed", "ism"), withRoles("D1", "d1", "employed", "diso"),
			withRoles("U2", "d2", "employed", "staff"), withRoles("G1", "d9", "employed", "giso"),
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.DB.Clauses(clause.OnConflict{DoNothing: true}).Create(&[]models.Department{{ID: "d1"}, {ID: "d2"}, {ID: "d9"}}).Error; err != nil {
			t.Fatal(err)
		}
		for _, sys := range []models.System{{ID: "S1", Name: "tax", DepartmentID: "d1", ISMEmployeeID: "I1"}, {ID: "S2", Name: "mail", DepartmentID: "d2"}} {
			if _, err := s.PutSystem(ctx, sys); err != nil {
				t.Fatal(err)
			}
		}
		pop, err := s.InspectionPopulation(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, x := range pop {
			got += fmt.Sprintf("%s/%s@%s:%s=%s ", x.Kind, x.TargetID, x.DepartmentID, x.InspectorRole, x.InspectorID)
		}
		// §9.1(1)1: a system without a manager and a department without an officer are the GISO's.
		if want := "system/S1@d1:ism=I1 system/S2@d2:giso=G1 department/d1@d1:diso=D1 department/d2@d2:giso=G1 department/d9@d9:giso=G1 "; got != want {
			t.Fatalf("population = %q, want %q", got, want)
		}
		for i := range pop {
			pop[i].ProcessID = "INS-FY2026"
		}
		camp := models.InspectionCampaign{ProcessID: "INS-FY2026", FiscalYear: 2026, Occasion: "yearly", ChecklistVersion: "v1", StartedAt: time.Now().UTC()}
		if _, err := s.CreateInspection(ctx, camp, pop); err != nil {
			t.Fatal(err)
		}
		// Again (an activity's retry): the population frozen the first time stays.
		again, err := s.CreateInspection(ctx, camp, pop[:1])
		if err != nil || len(again) != 5 {
			t.Fatalf("second create: %d targets, %v", len(again), err)
		}
		at := time.Date(2026, 10, 2, 1, 0, 0, 0, time.UTC)
		if err := s.SaveInspectionAnswers(ctx, models.InspectionTarget{ProcessID: "INS-FY2026", Kind: "system", TargetID: "S1", TaskID: "t1", InspectedBy: "I1", InspectedAt: &at},
			[]models.InspectionAnswer{
				{ProcessID: "INS-FY2026", TargetKind: "system", TargetID: "S1", ItemID: "a", Clause: "§6.1(2)", Answer: "compliant"},
				{ProcessID: "INS-FY2026", TargetKind: "system", TargetID: "S1", ItemID: "b", Clause: "§6.2(1)2", Answer: "not", Comment: "old IDs",
					MeasureWhat: "delete them", MeasureOwner: "I1", MeasureDue: "2026-11-30", MeasureStatus: "open"},
			}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveInspectionAnswers(ctx, models.InspectionTarget{ProcessID: "INS-FY2026", Kind: "department", TargetID: "d2", TaskID: "t2", InspectedBy: "U2", InspectedAt: &at},
			[]models.InspectionAnswer{{ProcessID: "INS-FY2026", TargetKind: "department", TargetID: "d2", ItemID: "c", Clause: "§5.2(1)", Answer: "partly",
				MeasureWhat: "train", MeasureOwner: "U2", MeasureDue: "2026-12-01", MeasureStatus: "open"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMeasureStatus(ctx, models.InspectionAnswer{ProcessID: "INS-FY2026", TargetKind: "system", TargetID: "S1", ItemID: "b",
			MeasureStatus: "done", MeasureTaskID: "t3", MeasureDoneAt: &at, MeasureResult: "deleted"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetInspectionTargetStatus(ctx, "INS-FY2026", "system", "S2", models.InspectionOverdue, "t4"); err != nil {
			t.Fatal(err)
		}
		var rows []string
		if err := s.InspectionResults(ctx, 2026, func(r models.InspectionResultRow) error {
			rows = append(rows, fmt.Sprintf("%s %s/%s@%s %s %s %s %s", r.Campaign, r.TargetKind, r.TargetID, r.DepartmentID, r.ItemID, r.Clause, r.Answer, r.MeasureStatus))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint([]string{
			"INS-FY2026 system/S1@d1 a §6.1(2) compliant ",
			"INS-FY2026 system/S1@d1 b §6.2(1)2 not done",
			"INS-FY2026 department/d2@d2 c §5.2(1) partly open",
		})
		if fmt.Sprint(rows) != want {
			t.Fatalf("rows = %v, want %v", rows, want)
		}
		sum, err := s.InspectionSummary(ctx, 2026)
		if err != nil {
			t.Fatal(err)
		}
		got = ""
		for _, d := range sum.Departments {
			got += fmt.Sprintf("%s: targets %d overdue %d compliant %d not %d partly %d open %d measures %v; ", d.DepartmentID, d.Targets, d.Overdue,
				d.Answers["compliant"], d.Answers["not"], d.Answers["partly"], d.OpenMeasures, d.Measures)
		}
		if want := "d1: targets 2 overdue 0 compliant 1 not 1 partly 0 open 0 measures map[done:1]; d2: targets 2 overdue 1 compliant 0 not 0 partly 1 open 1 measures map[open:1]; d9: targets 1 overdue 0 compliant 0 not 0 partly 0 open 0 measures map[]; "; got != want {
			t.Fatalf("summary = %q, want %q", got, want)
		}
		if other, err := s.InspectionSummary(ctx, 2025); err != nil || len(other.Departments) != 0 {
			t.Fatalf("another year: %+v, %v", other, err)
		}
		if n, err := s.ExtraInspections(ctx, "INS-FY2026"); err != nil || n != 0 {
			t.Fatalf("extra campaigns = %d, %v", n, err)
		}
	})
}
