package activities_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
)

// A task for a vendor's contact, who is not in the directory, is mailed to the contact's
// address with a link bound to the contact; its decision's form values become the
// disposal record of §3(2)9(イ), once, however often the activity is retried.
func TestContactTaskAndDisposalRecord(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, mb, _ := setup(t, store)
		ctx := context.Background()
		p := models.Process{ID: "OUT-1", Kind: "outsourcing_review", Status: "in_effect", Stage: "contract_running", WorkflowID: "OUT-1", Summary: "Outsourcing"}
		if err := store.CreateProcess(ctx, &p); err != nil {
			t.Fatal(err)
		}
		contact := models.ExternalContact{ID: models.ContactPrefix + "OUT-1", ProcessID: "OUT-1", Organisation: "Vendor K.K.", Name: "Yamada", Email: "yamada@vendor.example", Locale: "en"}
		if err := store.SaveOutsourcingReview(ctx, models.OutsourcingReview{ProcessID: "OUT-1", DepartmentID: "residents", RequesterID: "C1",
			VendorName: "Vendor K.K.", CorporateNumber: "7000012050002", ContactID: contact.ID, ContractStart: "2027-04-01", ContractEnd: "2028-03-31",
			AuditStatus: "passed", ReportIntervalMonths: 3}, contact); err != nil {
			t.Fatal(err)
		}
		due := time.Date(2027, 5, 8, 8, 15, 0, 0, time.UTC)
		spec := activities.TaskSpec{ID: "OUT-1/periodic_report/1", ProcessID: "OUT-1", WorkflowID: "OUT-1", Step: "periodic_report",
			Title: activities.Text{Ja: "定期報告", En: "Periodic report"}, AssigneeID: contact.ID, Choices: []string{"submit"}, DueAt: due, ExpiresAt: due}
		if err := a.OpenTask(ctx, spec); err != nil {
			t.Fatal(err)
		}
		if len(mb.sent) != 1 || mb.sent[0].To != "yamada@vendor.example" || !strings.Contains(mb.sent[0].Text, "Dear Vendor K.K. Yamada") {
			t.Fatalf("mail to the contact: %+v", mb.sent)
		}
		ls := links(t, store)
		if len(ls) != 1 || ls[0].PersonID != contact.ID {
			t.Fatalf("links = %+v", ls)
		}
		if err := a.SendNotice(ctx, activities.Notice{Key: "OUT-1/report-missing/1", ProcessID: "OUT-1", RecipientID: contact.ID,
			Kind: activities.NoticeReportMissing, Params: map[string]string{"period_from": "2027-04-01", "period_to": "2027-06-30"}}); err != nil {
			t.Fatal(err)
		}
		if len(mb.sent) != 2 || mb.sent[1].To != "yamada@vendor.example" {
			t.Fatalf("notice to the contact: %+v", mb.sent)
		}

		// The disposal task's decision, with its form values (free text included).
		values := `{"electronic_method":"erased","electronic_date":"2028-04-02","electronic_person":"Suzuki (Vendor K.K.)","electronic_note":"certificate E-123","paper_method":"returned","paper_date":"2028-04-03","paper_person":"Tanaka"}`
		if err := store.SaveDecisionRequest(ctx, models.DecisionRequest{RequestID: "req-d", TaskID: "OUT-1/disposal_record/1", Choice: "done", DeciderID: "C1", Values: values}); err != nil {
			t.Fatal(err)
		}
		if err := store.RecordDecision(ctx, models.Decision{TaskID: "OUT-1/disposal_record/1", ProcessID: "OUT-1", Step: "disposal_record", Choice: "done", DeciderID: "C1", DecidedAt: time.Now()}, "req-d"); err != nil {
			t.Fatal(err)
		}
		req := activities.DisposalRequest{ProcessID: "OUT-1", TaskID: "OUT-1/disposal_record/1", Classes: []string{"electronic", "paper"}}
		for range 2 {
			if err := a.RecordDisposal(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		ds, err := store.Disposals(ctx, "OUT-1")
		if err != nil || len(ds) != 2 {
			t.Fatalf("disposals = %+v, %v", ds, err)
		}
		if ds[0].AssetClass != "electronic" || ds[0].Method != "erased" || ds[0].Date != "2028-04-02" || ds[0].Person != "Suzuki (Vendor K.K.)" || ds[0].RecordedBy != "C1" ||
			ds[1].Method != "returned" || ds[1].Person != "Tanaka" {
			t.Errorf("disposals = %+v", ds)
		}
		// A class without its record is bad input, never retried.
		req.Classes = []string{"device"}
		if err := a.RecordDisposal(ctx, req); err == nil || !strings.Contains(err.Error(), "incomplete") {
			t.Errorf("incomplete disposal: %v", err)
		}
	})
}

// TestRegisterSubcontractor: the subcontractor's contact named in a report becomes an
// external contact the briefing can reach (§5.1(3)); an unusable address registers nobody.
func TestRegisterSubcontractor(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, _, _ := setup(t, store)
		ctx := context.Background()
		p := models.Process{ID: "OUT-2", Kind: "outsourcing_review", Status: "in_effect", Stage: "contract_running", WorkflowID: "OUT-2", Summary: "Outsourcing"}
		if err := store.CreateProcess(ctx, &p); err != nil {
			t.Fatal(err)
		}
		for i, c := range []struct{ email, want string }{{"sato@sub.example", "ext:OUT-2-S1"}, {"Sato <sato@sub.example>", ""}} {
			task := fmt.Sprintf("OUT-2/periodic_report/%d", i+1)
			values := fmt.Sprintf(`{"subcontracting_changes":"some","subcontractor_name":"Sub K.K.","subcontractor_contact_name":"Sato","subcontractor_contact_email":%q}`, c.email)
			if err := store.SaveDecisionRequest(ctx, models.DecisionRequest{RequestID: "req-s" + task, TaskID: task, Choice: "submit", DeciderID: "ext:OUT-2", Values: values}); err != nil {
				t.Fatal(err)
			}
			if err := store.RecordDecision(ctx, models.Decision{TaskID: task, ProcessID: "OUT-2", Step: "periodic_report", Choice: "submit", DeciderID: "ext:OUT-2", DecidedAt: time.Now()}, "req-s"+task); err != nil {
				t.Fatal(err)
			}
			got, err := a.RegisterSubcontractor(ctx, activities.Subcontractor{ProcessID: "OUT-2", TaskID: task, ContactID: "ext:OUT-2-S1"})
			if err != nil || got != c.want {
				t.Fatalf("%q: got %q, %v; want %q", c.email, got, err, c.want)
			}
		}
		r, err := store.Recipient(ctx, "ext:OUT-2-S1")
		if err != nil || r.Email != "sato@sub.example" || r.Name != "Sub K.K. Sato" {
			t.Fatalf("recipient = %+v, %v", r, err)
		}
	})
}

// TestFileIncidentTakesTheVendorsDetails: an incident named in a periodic report is filed
// with the vendor's own words from the report (§5.3(1)), which never enter history; filing
// twice files once.
func TestFileIncidentTakesTheVendorsDetails(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, _, _ := setup(t, store)
		ctx := context.Background()
		task := "OUT-3/periodic_report/2"
		values := `{"incidents":"some","incident_category":"leak","incident_discovered_on":"2027-06-20","incident_details":"作業用PCの紛失"}`
		if err := store.SaveDecisionRequest(ctx, models.DecisionRequest{RequestID: "req-i", TaskID: task, Choice: "submit", DeciderID: "ext:OUT-3", Values: values}); err != nil {
			t.Fatal(err)
		}
		if err := store.RecordDecision(ctx, models.Decision{TaskID: task, ProcessID: "OUT-3", Step: "periodic_report", Choice: "submit", DeciderID: "ext:OUT-3", DecidedAt: time.Now()}, "req-i"); err != nil {
			t.Fatal(err)
		}
		f := activities.IncidentFiling{ProcessID: "INC-3-R2", Department: "residents", RequesterID: "C1", DetailsFrom: task,
			Summary: "Incident: reported by the vendor", Report: activities.IncidentReport{Source: "staff", Reporter: "ext:OUT-3", Department: "residents",
				Category: "leak", Description: "The vendor's periodic report 2 names a security incident."}}
		for range 2 {
			if err := a.FileIncident(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		p, err := store.Process(ctx, "INC-3-R2")
		if err != nil || !strings.Contains(p.Input, "作業用PCの紛失") || !strings.Contains(p.Input, "periodic report 2") {
			t.Fatalf("filed incident = %+v, %v", p, err)
		}
	})
}
