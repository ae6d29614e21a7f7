package report_test

import (
	"context"
	"strings"
	"testing"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/report"
)

// The digest of December 2026: overdue steps by department and person, an exception ending
// within 30 days, a certificate and a reassessment coming due, and the absences registered;
// what is not due yet, or was withdrawn, is left out.
func TestMonthlyDigest(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := jst("2026-12-01 09:00")
	_, err := s.PutPeople(ctx, []models.Person{
		{EmployeeID: "C1", Name: "山田 花子", Email: "c@x", DepartmentID: "mayor", Status: models.StatusEmployed},
		{EmployeeID: "D1", Name: "佐藤 一郎", Email: "d@x", DepartmentID: "soumu", Status: models.StatusEmployed},
		{EmployeeID: "D2", Name: "鈴木 次郎", Email: "e@x", DepartmentID: "kenko", Status: models.StatusEmployed},
	})
	must(t, err)
	task := func(id, process, dept, who, status, due string) {
		must(t, s.DB.FirstOrCreate(&models.Process{ID: process, Kind: models.KindException, Status: "pending", Stage: "x", WorkflowID: process, DepartmentID: dept}).Error)
		must(t, s.DB.Create(&models.Task{ID: id, ProcessID: process, WorkflowID: process, Step: "ciso_review", TitleJa: "審査", TitleEn: "Review",
			AssigneeID: who, Choices: "approve", Status: status, DueAt: jst(due), ExpiresAt: jst(due).AddDate(0, 0, 3)}).Error)
	}
	task("T1", "EXC-1", "soumu", "D1", models.TaskOpen, "2026-11-20 17:15")
	task("T2", "EXC-2", "soumu", "D1", models.TaskOpen, "2026-11-28 17:15")
	task("T3", "EXC-3", "kenko", "D2", models.TaskOpen, "2026-11-30 17:15")
	task("T4", "EXC-4", "kenko", "D2", models.TaskOpen, "2026-12-05 17:15")    // not due yet
	task("T5", "EXC-5", "kenko", "D2", models.TaskDecided, "2026-11-01 17:15") // decided
	exception(t, s, "EXC-END", "in_effect", jst("2026-04-01 10:00"), map[string]any{"clauses": []string{"6.2(1)"}, "systems": []string{"juki"}, "start_date": "2026-04-07", "end_date": "2026-12-20"})
	exception(t, s, "EXC-LATER", "in_effect", jst("2026-04-01 10:00"), map[string]any{"clauses": []string{"6.2(1)"}, "start_date": "2026-04-07", "end_date": "2027-03-31"})
	seedYear(t, s) // OUT-1's certificate lapses 2026-12-20; CLD-1 is reassessed 2027-04-01
	must(t, s.DB.Model(&models.CloudService{}).Where("process_id = ?", "CLD-1").Update("next_reassessment", "2026-12-15").Error)
	must(t, s.CreateAbsence(ctx, &models.Absence{EmployeeID: "C1", From: jst("2026-12-10 00:00"), To: jst("2026-12-14 00:00"), DeputyID: "G1", RegisteredBy: "t"}))
	withdrawn := models.Absence{EmployeeID: "D1", From: jst("2026-12-10 00:00"), To: jst("2026-12-14 00:00"), RegisteredBy: "t", CancelledAt: ptr(jst("2026-11-30 00:00"))}
	must(t, s.CreateAbsence(ctx, &withdrawn))

	d, err := report.BuildDigest(ctx, s, now, tokyo)
	if err != nil {
		t.Fatal(err)
	}
	if d.Month != "2026-12" || len(d.Overdue) != 2 || d.Overdue[0].Department != "kenko" || len(d.Overdue[0].Tasks) != 1 ||
		d.Overdue[1].PersonID != "D1" || len(d.Overdue[1].Tasks) != 2 || d.Overdue[1].Tasks[0].DaysOver != 10 {
		t.Errorf("overdue = %+v", d.Overdue)
	}
	if len(d.Ending) != 1 || d.Ending[0].ID != "EXC-END" {
		t.Errorf("exceptions ending = %+v", d.Ending)
	}
	if len(d.Certificates) != 1 || d.Certificates[0].ID != "OUT-1" || len(d.Reviews) != 1 || d.Reviews[0].ID != "CLD-1" {
		t.Errorf("certificates %+v, reviews %+v", d.Certificates, d.Reviews)
	}
	if len(d.Absences) != 1 || d.Absences[0].PersonID != "C1" || d.Absences[0].DeputyID != "G1" {
		t.Errorf("absences = %+v", d.Absences)
	}
	subject, body := d.Text("ja", tokyo, "山田 花子 様")
	for _, w := range []string{"[kenko]", "[soumu]", "佐藤 一郎 (D1)", "EXC-1 審査: 期限 2026-11-20 17:15 (10日超過)", "2026-12-20 EXC-END §6.2(1) juki",
		"2026-12-20 OUT-1 ISMS みどりシステム株式会社", "2026-12-15 CLD-1 みどりクラウド", "山田 花子 (C1): 2026-12-10 00:00 – 2026-12-14 00:00　代理：G1"} {
		if !strings.Contains(body, w) {
			t.Errorf("the digest lacks %q:\n%s", w, body)
		}
	}
	if !strings.Contains(subject, "2026-12") || strings.Contains(body, "EXC-4") || strings.Contains(body, "EXC-LATER") || strings.Contains(body, "D1): 2026-12-10") {
		t.Errorf("subject %q, or something not due is listed:\n%s", subject, body)
	}
	if subject, body := d.Text("en", tokyo, "Dear Ichiro,"); !strings.Contains(subject, "[Monthly digest]") || !strings.Contains(body, "EXC-1 Review: due 2026-11-20 17:15 (10 days over)") {
		t.Errorf("English digest: %s\n%s", subject, body)
	}
}
