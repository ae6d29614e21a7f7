package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

func staff(id, dept, locale string, roles ...string) models.Person {
	p := models.Person{EmployeeID: id, Name: "Name " + id, Email: strings.ToLower(id) + "@town.example", DepartmentID: dept, Locale: locale, Status: models.StatusEmployed}
	for _, r := range roles {
		p.Roles = append(p.Roles, models.PersonRole{EmployeeID: id, Role: r})
	}
	return p
}

// A campaign freezes its population once, records a target's answers from the decision's
// values, and mails the compiled results to every committee member in their language
// (§9.1(2)); with no member in the directory it says so on the timeline instead.
func TestInspectionActivities(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		box := &mailbox{}
		a := &activities.Activities{Store: store, Mailer: box, PublicURL: "https://pf.example", From: "pf@town.example", Loc: time.UTC}
		if _, err := store.PutPeople(ctx, []models.Person{staff("I1", "d1", "ja", "ism"), staff("D1", "d1", "ja", "diso"), staff("U1", "d1", "ja", "staff")}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.PutSystem(ctx, models.System{ID: "S1", Name: "tax", DepartmentID: "d1", ISMEmployeeID: "I1"}); err != nil {
			t.Fatal(err)
		}
		start := activities.InspectionStart{ProcessID: "INS-FY2026", WorkflowID: "INS-FY2026", FiscalYear: 2026, Occasion: "yearly"}
		setup, err := a.OpenInspection(ctx, start)
		if err != nil {
			t.Fatal(err)
		}
		if setup.Skipped || len(setup.Targets) != 2 || setup.Checklist.Version != policy.DefaultChecklist().Version {
			t.Fatalf("setup %+v", setup)
		}
		sysT := setup.Targets[0]
		if sysT.Kind != "system" || sysT.Inspector != "I1" || sysT.DISO != "D1" || strings.Join(sysT.Members, ",") != "D1,I1,U1" {
			t.Errorf("system target %+v", sysT)
		}
		// The Schedule's run of the same year finds the GISO's campaign and leaves it alone.
		if s, err := a.OpenInspection(ctx, activities.InspectionStart{ProcessID: "INS-FY2026", WorkflowID: "INS-scheduled-1", FiscalYear: 2026, Occasion: "yearly"}); err != nil || !s.Skipped {
			t.Errorf("scheduled run: skipped %v, %v", s.Skipped, err)
		}
		items := policy.DefaultChecklist().For("system")
		if err := store.DB.Create(&models.Decision{TaskID: "task-S1", ProcessID: "INS-FY2026", Step: "inspect_system", Choice: "submit", DeciderID: "I1",
			Values:    `{"answer:` + items[0].ID + `":"not","comment:` + items[0].ID + `":"old IDs","measure:` + items[0].ID + `":"delete them","owner:` + items[0].ID + `":"U1","due:` + items[0].ID + `":"2026-11-30","answer:` + items[1].ID + `":"compliant"}`,
			DecidedAt: time.Now().UTC()}).Error; err != nil {
			t.Fatal(err)
		}
		refs := []activities.ItemRef{{ID: items[0].ID, Clause: items[0].Clause}, {ID: items[1].ID, Clause: items[1].Clause}}
		if err := a.RecordInspection(ctx, activities.InspectionRecord{ProcessID: "INS-FY2026", Kind: "system", TargetID: "S1", TaskID: "task-S1",
			DeciderID: "I1", DecidedAt: time.Now(), Items: refs}); err != nil {
			t.Fatal(err)
		}
		as, _ := store.InspectionAnswers(ctx, "INS-FY2026")
		if len(as) != 2 || as[0].MeasureWhat != "delete them" || as[0].MeasureOwner != "U1" || as[0].MeasureStatus != "open" || as[1].MeasureStatus != "" {
			t.Fatalf("answers %+v", as)
		}

		// Nobody on the committee: recorded, not silent.
		if n, err := a.ReportInspection(ctx, activities.InspectionReport{ProcessID: "INS-FY2026", Round: activities.ReportResults}); err != nil || n != 0 {
			t.Fatalf("report without members: %d, %v", n, err)
		}
		var ev models.ProcessEvent
		if err := store.DB.Where("process_id = ? AND `key` = ?", "INS-FY2026", "INS-FY2026/report/results/nobody").First(&ev).Error; err != nil ||
			!strings.Contains(ev.Note, "no member of the security committee") {
			t.Errorf("timeline: %+v, %v", ev, err)
		}
		if len(box.sent) != 0 {
			t.Errorf("mailed %d", len(box.sent))
		}

		if _, err := store.PutPeople(ctx, []models.Person{staff("M1", "d1", "ja", "committee"), staff("M2", "d2", "en", "committee")}); err != nil {
			t.Fatal(err)
		}
		for range 2 { // retried: each member once
			if n, err := a.ReportInspection(ctx, activities.InspectionReport{ProcessID: "INS-FY2026", Round: activities.ReportResults}); err != nil || n != 2 {
				t.Fatalf("report: %d, %v", n, err)
			}
		}
		if len(box.sent) != 2 {
			t.Fatalf("mailed %d, want one per member", len(box.sent))
		}
		ja, en := box.sent[0], box.sent[1]
		if !strings.Contains(ja.Subject, "自己点検の結果と改善策") || !strings.Contains(ja.Text, "9.1(2)") || !strings.Contains(ja.Text, "delete them") || !strings.Contains(ja.Text, "不適合") {
			t.Errorf("Japanese report: %s\n%s", ja.Subject, ja.Text)
		}
		if !strings.Contains(en.Subject, "self-inspection") || !strings.Contains(en.Text, "not compliant") || !strings.Contains(en.Text, "owner: U1") {
			t.Errorf("English report: %s\n%s", en.Subject, en.Text)
		}
		// The second round (how the measures ended) is a mail of its own.
		if n, err := a.ReportInspection(ctx, activities.InspectionReport{ProcessID: "INS-FY2026", Round: activities.ReportMeasures}); err != nil || n != 2 || len(box.sent) != 4 {
			t.Fatalf("measures round: %d, %v, %d mails", n, err, len(box.sent))
		}
		if !strings.Contains(box.sent[3].Text, "how the improvement measures ended") {
			t.Errorf("the final report does not say what it is: %s", box.sent[3].Text)
		}
		if _, err := a.ReportInspection(ctx, activities.InspectionReport{ProcessID: "INS-FY2026", Round: "later"}); err == nil {
			t.Error("an unknown round was accepted")
		}
		c, _ := store.Inspection(ctx, "INS-FY2026")
		if c.CompiledAt == nil || c.ReportedTo != 2 {
			t.Errorf("campaign %+v", c)
		}
	})
}
