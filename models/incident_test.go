package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
)

// A resident's report passed on to the department concerned (§5.3(2)1–2) is that
// department's in the register: the process's row, which the lists filter on, and the
// incident's record. The committee's report is kept with the incident.
func TestMoveIncidentAndCommitteeReport(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		p := models.Process{ID: "INC-1", Kind: models.KindIncident, Status: "pending", Stage: "triage", WorkflowID: "INC-1", DepartmentID: "general"}
		if err := s.CreateProcess(ctx, &p); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateIncident(ctx, models.Incident{ProcessID: "INC-1", Source: "resident", DepartmentID: "general", Category: "other"}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			before, err := s.MoveIncident(ctx, "INC-1", "welfare")
			if err != nil {
				t.Fatal(err)
			}
			if before != "general" && before != "welfare" {
				t.Fatalf("before = %q", before)
			}
		}
		got, err := s.Process(ctx, "INC-1")
		if err != nil {
			t.Fatal(err)
		}
		in, err := s.Incident(ctx, "INC-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.DepartmentID != "welfare" || in.DepartmentID != "welfare" {
			t.Errorf("departments = %q, %q, want welfare", got.DepartmentID, in.DepartmentID)
		}
		if _, err := s.MoveIncident(ctx, "INC-404", "welfare"); err == nil {
			t.Error("moved an incident that does not exist")
		}
		at := time.Date(2026, 4, 27, 3, 0, 0, 0, time.UTC)
		if err := s.SetCommitteeReport(ctx, "INC-1", "報告\n\nreport", at); err != nil {
			t.Fatal(err)
		}
		if in, err = s.Incident(ctx, "INC-1"); err != nil {
			t.Fatal(err)
		}
		if in.CommitteeReport != "報告\n\nreport" || in.CommitteeReportedAt == nil || !in.CommitteeReportedAt.Equal(at) {
			t.Errorf("committee report = %q at %v", in.CommitteeReport, in.CommitteeReportedAt)
		}
	})
}
