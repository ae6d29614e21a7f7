package models_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
)

// A returned and revised request keeps every version: the one filed, then each revision
// with who made it, when, and the return (who, comment) that led to it; the process's
// request is the latest, a retried revision records nothing twice, and the diff names the
// fields that changed (issue 14).
func TestRequestVersionsKeepEveryRevision(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		filed := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
		p := models.Process{ID: "EXC-1", Kind: models.KindException, Status: "returned", Stage: "requester_revision", WorkflowID: "EXC-1",
			RequesterID: "E-REQ", Summary: "Exception to §6.2(1), 2026-05-01 to 2026-06-30",
			Input:     `{"alternative":"manual log review","reason":"legacy system","start_date":"2026-05-01","end_date":"2026-06-30","clauses":["6.2(1)"]}`,
			CreatedAt: filed}
		if err := s.CreateProcess(ctx, &p); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateTask(ctx, &models.Task{ID: "EXC-1/ciso_review/1", ProcessID: "EXC-1", WorkflowID: "EXC-1", Step: "ciso_review",
			AssigneeID: "E-CISO", Choices: "approve,reject,return", Status: models.TaskOpen}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveDecisionRequest(ctx, models.DecisionRequest{RequestID: "r1", TaskID: "EXC-1/ciso_review/1", Choice: "return",
			DeciderID: "E-CISO", Comment: "代替措置を具体的に記載してください"}); err != nil {
			t.Fatal(err)
		}
		returned := filed.Add(48 * time.Hour)
		if err := s.RecordDecision(ctx, models.Decision{TaskID: "EXC-1/ciso_review/1", ProcessID: "EXC-1", Step: "ciso_review",
			Choice: "return", DeciderID: "E-CISO", DecidedAt: returned}, "r1"); err != nil {
			t.Fatal(err)
		}
		rev := models.Revision{ProcessID: "EXC-1", TaskID: "EXC-1/requester_revision/1", ReturnTaskID: "EXC-1/ciso_review/1",
			ByID: "E-REQ", At: returned.Add(time.Hour),
			Values:    map[string]any{"alternative": "daily review of the access log by the ISM", "end_date": "2026-06-15"},
			Summarize: func(string, map[string]any, map[string]any) string { return "revised summary" }}
		for range 2 { // a retried activity records the revision once
			v, err := s.ReviseRequest(ctx, rev)
			if err != nil {
				t.Fatal(err)
			}
			if v.Version != 2 {
				t.Fatalf("revision recorded as version %d, want 2", v.Version)
			}
		}
		vs, err := s.RequestVersions(ctx, "EXC-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 2 {
			t.Fatalf("%d versions, want 2 (as filed, as revised)", len(vs))
		}
		if vs[0].Version != 1 || vs[0].Request != p.Input || vs[0].ByID != "E-REQ" || vs[0].TaskID != "" {
			t.Errorf("version 1 = %+v, want the request as filed by the requester", vs[0])
		}
		v2 := vs[1]
		if v2.ByID != "E-REQ" || v2.TaskID != rev.TaskID || v2.ReturnTaskID != rev.ReturnTaskID || v2.ReturnByID != "E-CISO" ||
			v2.ReturnComment != "代替措置を具体的に記載してください" || v2.WorkflowID != "EXC-1" || !v2.CreatedAt.Equal(rev.At) {
			t.Errorf("version 2 = %+v, want the revision with the return that led to it", v2)
		}
		var req map[string]any
		if err := json.Unmarshal([]byte(v2.Request), &req); err != nil || req["alternative"] != "daily review of the access log by the ISM" ||
			req["reason"] != "legacy system" || req["end_date"] != "2026-06-15" {
			t.Errorf("version 2's request = %s, %v; want the revised fields over the filed ones", v2.Request, err)
		}
		now, err := s.Process(ctx, "EXC-1")
		if err != nil || now.Input != v2.Request || now.Summary != "revised summary" {
			t.Errorf("process after the revision: input %s, summary %q, %v; want the latest version", now.Input, now.Summary, err)
		}
		d, err := s.ProcessDetail(ctx, "EXC-1")
		if err != nil || len(d.Versions) != 2 {
			t.Errorf("detail: %d versions, %v; want 2", len(d.Versions), err)
		}
		diff, err := models.DiffRequests(vs[0].Request, vs[1].Request)
		if err != nil {
			t.Fatal(err)
		}
		if len(diff) != 2 || diff[0].Field != "alternative" || diff[0].From != "manual log review" ||
			diff[1].Field != "end_date" || diff[1].From != "2026-06-30" || diff[1].To != "2026-06-15" {
			t.Errorf("diff = %+v, want alternative and end_date", diff)
		}
	})
}

// A revised vendor selection (§8.1(1), issue 14) changes the request, the outsourcing review
// and the vendor's contact together: a field the revision clears leaves the request, and a
// retried activity records nothing twice.
func TestReviseOutsourcingSelectionKeepsTheRegisterConsistent(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		p := models.Process{ID: "OUT-1", Kind: models.KindOutsourcingReview, Status: "returned", Stage: "selection_revision", WorkflowID: "OUT-1",
			RequesterID: "E-REQ", Summary: "Outsourcing to corporate number 1180301018771",
			Input: `{"vendor_name":"Old K.K.","corporate_number":"1180301018771","contact_email":"old@vendor.example","certificate_number":"IS 1","certificate_expiry":"2026-12-31","audit_status":"none"}`}
		if err := s.CreateProcess(ctx, &p); err != nil {
			t.Fatal(err)
		}
		contact := models.ExternalContact{ID: "ext:OUT-1", ProcessID: "OUT-1", Organisation: "Old K.K.", Email: "old@vendor.example", Locale: "ja"}
		review := models.OutsourcingReview{ProcessID: "OUT-1", DepartmentID: "residents", RequesterID: "E-REQ", VendorName: "Old K.K.",
			CorporateNumber: "1180301018771", ContactID: contact.ID, ContractStart: "2026-06-01", ContractEnd: "2027-05-31",
			CertNumber: "IS 1", CertExpiry: "2026-12-31", AuditStatus: "none", ReportIntervalMonths: 3}
		if err := s.SaveOutsourcingReview(ctx, review, contact); err != nil {
			t.Fatal(err)
		}
		rev := models.Revision{ProcessID: "OUT-1", TaskID: "OUT-1/selection_revision/1", ByID: "E-REQ", At: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC),
			Values: map[string]any{"vendor_name": "Sato Data", "corporate_number": nil, "other_identifier": "T1234567890123",
				"contact_email": "sato@vendor.example", "certificate_number": nil, "certificate_expiry": nil, "audit_status": "passed"}}
		sel := models.SelectionRevision{VendorName: "Sato Data", OtherIdentifier: "T1234567890123", IdentifierReason: "sole proprietor",
			AuditStatus: "passed", ContactEmail: "sato@vendor.example", ContactLocale: "en"}
		for range 2 {
			if v, err := s.ReviseOutsourcingSelection(ctx, rev, sel); err != nil || v.Version != 2 {
				t.Fatalf("revision: version %d, %v; want 2", v.Version, err)
			}
		}
		now, err := s.Process(ctx, "OUT-1")
		var req map[string]any
		if err != nil || json.Unmarshal([]byte(now.Input), &req) != nil {
			t.Fatalf("process: %v %s", err, now.Input)
		}
		for _, gone := range []string{"corporate_number", "certificate_number", "certificate_expiry"} {
			if _, ok := req[gone]; ok {
				t.Errorf("the request still holds %s after the revision cleared it: %s", gone, now.Input)
			}
		}
		if req["vendor_name"] != "Sato Data" || req["other_identifier"] != "T1234567890123" {
			t.Errorf("the revised request: %s", now.Input)
		}
		r, err := s.OutsourcingReview(ctx, "OUT-1")
		if err != nil || r.VendorName != "Sato Data" || r.CorporateNumber != "" || r.OtherIdentifier != "T1234567890123" ||
			r.CertNumber != "" || r.CertExpiry != "" || r.AuditStatus != "passed" {
			t.Errorf("the review after the revision: %+v %v", r, err)
		}
		var c models.ExternalContact
		if err := s.DB.First(&c, "id = ?", "ext:OUT-1").Error; err != nil || c.Organisation != "Sato Data" || c.Email != "sato@vendor.example" || c.Locale != "en" {
			t.Errorf("the contact after the revision: %+v %v", c, err)
		}
	})
}
