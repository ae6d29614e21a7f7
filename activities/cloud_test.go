package activities_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// The cloud activities on both databases: the register's row comes from the request, each
// evaluation is recorded once and shown in the process's input, a renewal replaces the
// certificate of its kind, and a town's rules replace the default.
func TestCloudActivities(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		req := models.CloudRequest{Requester: "E1", Service: "Forms", Provider: "Example KK", Purpose: "applications",
			Classification: 1, StorageRegions: []string{"JP"}, ProcessingRegions: []string{"JP"}, GoverningLaw: "JP", Jurisdiction: "JP",
			Certifications: []models.CloudCert{{Kind: "ismap", IssuedOn: "2025-10-01", ValidUntil: "2026-09-30"}},
			ExitPlan:       "return as CSV", SecurityDesignRef: "SEC-1"}
		in, _ := json.Marshal(req)
		p := models.Process{ID: "CLD-1", Kind: "cloud_assessment", Status: "pending", Stage: "rules", WorkflowID: "CLD-1", DepartmentID: "planning", Input: string(in)}
		if err := store.CreateProcess(ctx, &p); err != nil {
			t.Fatal(err)
		}
		a := &activities.Activities{Store: store, Loc: tokyo}
		for range 2 { // retried: one row
			if err := a.OpenCloudService(ctx, "CLD-1"); err != nil {
				t.Fatal(err)
			}
		}
		e, err := a.EvaluateCloudService(ctx, activities.CloudEvaluationRequest{ProcessID: "CLD-1", Seq: 1, FiscalYear: 2026, AsOf: "2026-04-27"})
		if err != nil || e.Outcome != policy.CloudAllowed || !e.CISORequired || e.NextExpiry != "2026-10-01" {
			t.Fatalf("evaluation %+v, %v", e, err)
		}
		if _, err := a.EvaluateCloudService(ctx, activities.CloudEvaluationRequest{ProcessID: "CLD-1", Seq: 1, FiscalYear: 2026, AsOf: "2026-04-27"}); err != nil {
			t.Fatalf("retried evaluation: %v", err)
		}
		var n int64
		store.DB.Model(&models.CloudEvaluation{}).Where("process_id = ?", "CLD-1").Count(&n)
		got, _ := store.Process(ctx, "CLD-1")
		if n != 1 || !strings.Contains(got.Input, `"rules":{"outcome":"allowed"`) || !strings.Contains(got.Input, `"service":"Forms"`) {
			t.Errorf("%d evaluations; input %s", n, got.Input)
		}
		// The CISO's approval of level 1 data is the town's rule: the recorded reason names
		// it in cloud_rules.json, and nothing cites §4.1(5) (equipment outside the premises).
		if !strings.Contains(got.Input, `"rule":"levels[level=1].ciso_approval"`) || strings.Contains(got.Input, "4.1(5)") {
			t.Errorf("the CISO's reason in the register: %s", got.Input)
		}
		if err := a.SetCloudStatus(ctx, activities.CloudStatus{ProcessID: "CLD-1", Status: models.CloudApproved, NextReassessment: "2027-04-01", Approved: true}); err != nil {
			t.Fatal(err)
		}
		if err := a.RenewCloudCertificate(ctx, activities.CertificateRenewal{ProcessID: "CLD-1", Kind: "ismap", IssuedOn: "2026-09-01", ValidUntil: "2028-09-30"}); err != nil {
			t.Fatal(err)
		}
		row, _ := store.CloudServiceByID(ctx, "CLD-1")
		if certs := row.CertList(); len(certs) != 1 || certs[0].ValidUntil != "2028-09-30" || row.ApprovedAt == nil || row.NextReassessment != "2027-04-01" {
			t.Errorf("register row %+v", row)
		}
		strict := policy.DefaultCloudRules()
		strict.Version = "no-cloud-for-level-1"
		strict.Levels[0].CloudAllowed = false
		a.CloudRules = &strict
		e, err = a.EvaluateCloudService(ctx, activities.CloudEvaluationRequest{ProcessID: "CLD-1", Seq: 2, FiscalYear: 2026, AsOf: "2026-09-02"})
		if err != nil || e.Outcome != policy.CloudDenied || e.RulesVersion != "no-cloud-for-level-1" {
			t.Errorf("under the town's rules: %+v %v", e, err)
		}
		if err := a.SetCloudStatus(ctx, activities.CloudStatus{ProcessID: "CLD-404", Status: "approved"}); err == nil {
			t.Error("an unknown service's status was set")
		}
	})
}
