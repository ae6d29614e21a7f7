package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/policyflow/policyflow/internal/testenv"
)

// TestCloudAssessmentEndToEnd runs a cloud service assessment on the real services: level 1
// data in Japan with ISMAP, so the rules allow it and the CISO must approve (town rule
// cloud_rules.json: levels[level=1].ciso_approval). The
// department security officer fills in the five criteria on the page the mailed link opens
// (which shows the rules' reasons), the CISO approves through their mail, the service is in
// the cloud register until the next April 1, and ending it through the API runs the exit
// plan, confirmed through the officer's mailed link. With POLICYFLOW_RECORD_HISTORY=dir the
// workflow's history is written there for the replay tests.
func TestCloudAssessmentEndToEnd(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "e2e-directory", "directory")
	officer := s.run("token", "create", "e2e-officer", "officer")
	auditor := s.run("token", "create", "e2e-auditor", "auditor")
	people := map[string]map[string]any{
		"CLD-CISO":  {"name": "副町長 クラウド", "email": "cloud-ciso@town.example", "department": "mayor", "roles": []string{"ciso"}},
		"CLD-GISO":  {"name": "総務部長 クラウド", "email": "cloud-giso@town.example", "department": "general", "roles": []string{"giso"}},
		"CLD-DISO":  {"name": "企画課長 クラウド", "email": "cloud-diso@town.example", "department": "planning", "roles": []string{"diso"}},
		"CLD-STAFF": {"name": "Sato Cloud", "email": "cloud-staff@town.example", "department": "planning", "roles": []string{"staff"}, "locale": "en"},
	}
	s.putPeople(directory, people)
	now := time.Now().In(tokyo(t))
	var started struct{ ID, Kind, Status string }
	code := s.call(officer, "POST", "/api/v1/cloud-assessments", map[string]any{
		"requester": "CLD-STAFF", "service": "住民向け電子申請", "provider": "サンプルクラウド株式会社",
		"purpose": "転入届の事前受付", "classification": 1,
		"storage_regions": []string{"JP"}, "processing_regions": []string{"JP"},
		"governing_law": "JP", "jurisdiction": "JP", "court": "奈良地方裁判所",
		"certifications": []map[string]string{{"kind": "ismap", "reference": "C22-0042-1",
			"issued_on": now.AddDate(0, -6, 0).Format("2006-01-02"), "valid_until": now.AddDate(2, 0, 0).Format("2006-01-02")}},
		"exit_plan":           "終了3か月前までに全データをCSVで返却させ、削除証明書を受領する",
		"security_design_ref": "SEC-DESIGN-2026-014",
	}, &started)
	if code != http.StatusCreated || started.Kind != "cloud_assessment" {
		t.Fatalf("POST /cloud-assessments: %d %+v", code, started)
	}

	// The officer's page shows the rules' word and the five criteria.
	assess := linkIn(t, "cloud-diso@town.example", started.ID, "クラウドサービス利用の評価")
	resp, err := http.Get(assess)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"規則による判定（§8.3）", "規則の判定：可（allowed）", "町の規則 cloud_rules.json: levels[level=1].ciso_approval",
		"§8.3(3)", "情報の流通経路全般のセキュリティ設計", "サンプルクラウド株式会社"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the officer's page lacks %q", want)
		}
	}
	if strings.Contains(string(page), "4.1(5)") {
		t.Error("the officer's page cites §4.1(5), which is about equipment placed outside the premises")
	}
	form := url.Values{"decision": {"assessed"}, "comment": {"契約書案で確認"}}
	for _, k := range []string{"classification", "jurisdiction", "exit_plan", "security_design", "reliability"} {
		form.Set(k, "pass")
		form.Set(k+"_note", k+" を確認")
	}
	if code, body := postForm(t, assess, form); code != http.StatusOK || !strings.Contains(body, "記録しました") {
		t.Fatalf("assessment: %d\n%s", code, body)
	}

	approve := linkIn(t, "cloud-ciso@town.example", started.ID, "クラウドサービス利用の承認")
	if code, body := decide(t, approve, "approve", "承認します"); code != http.StatusOK {
		t.Fatalf("approve: %d\n%s", code, body)
	}
	var got struct {
		Process   struct{ Status, Stage string }
		Decisions []struct {
			Step   string
			Values map[string]string
		}
	}
	eventually(t, 30*time.Second, "the service to be approved", func() bool {
		s.call(auditor, "GET", "/api/v1/processes/"+started.ID, nil, &got)
		return got.Process.Status == "approved" && got.Process.Stage == "in_use"
	})
	if len(got.Decisions) != 2 || got.Decisions[0].Values["reliability_note"] != "reliability を確認" {
		t.Errorf("decisions = %+v", got.Decisions)
	}
	var reg struct {
		Items []struct {
			ProcessID        string `json:"process_id"`
			NextReassessment string `json:"next_reassessment"`
		}
	}
	s.call(auditor, "GET", "/api/v1/cloud-services?status=approved", nil, &reg)
	if len(reg.Items) != 1 || reg.Items[0].ProcessID != started.ID || !strings.HasSuffix(reg.Items[0].NextReassessment, "-04-01") {
		t.Errorf("cloud register = %+v", reg.Items)
	}
	// The requester was told.
	mp := testenv.Mailpit(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := mp.WaitFor(ctx, func(m testenv.Message) bool {
		return m.SentTo("cloud-staff@town.example") && strings.Contains(m.Subject, started.ID) && strings.Contains(m.Text, "approved")
	}); err != nil {
		t.Errorf("the requester's notice: %v", err)
	}

	// Ending the service runs the exit plan.
	var accepted struct{ Status string }
	if code := s.call(officer, "POST", "/api/v1/cloud-assessments/"+started.ID+"/terminate", map[string]string{"reason": "後継サービスへ移行"}, &accepted); code != http.StatusAccepted {
		t.Fatalf("terminate: %d %+v", code, accepted)
	}
	exit := linkIn(t, "cloud-diso@town.example", started.ID, "データ移行・削除の確認")
	if code, body := postForm(t, exit, url.Values{"decision": {"done"}, "data_migrated": {"migrated"}, "data_deleted": {"confirmed"},
		"deleted_on": {now.Format("2006-01-02")}, "evidence": {"削除証明書 No.42"}}); code != http.StatusOK {
		t.Fatalf("exit: %d\n%s", code, body)
	}
	eventually(t, 30*time.Second, "the process to be terminated", func() bool {
		s.call(auditor, "GET", "/api/v1/processes/"+started.ID, nil, &got)
		return got.Process.Status == "terminated"
	})
	tc := testenv.TemporalClient(t)
	eventually(t, 30*time.Second, "the workflow to be closed", func() bool {
		d, err := tc.DescribeWorkflowExecution(context.Background(), started.ID, "")
		return err == nil && d.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
	recordHistory(t, started.ID, "cloud_approved_terminated.json")
}

// TestCloudDeniedSentToTheCISOEndToEnd runs a service the rules deny on the real services:
// level 1 data without an exit plan (§8.3(3)). The department security officer, whose
// judgement the use is (§8.3), gets a mail and a page showing the verdict, and sends the case
// with a reason to the CISO; the CISO's page shows the reason, and the CISO approves with
// conditions through their mailed link: the service is approved and in the cloud register.
// With POLICYFLOW_RECORD_HISTORY=dir the workflow's history is written there.
func TestCloudDeniedSentToTheCISOEndToEnd(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "e2e-directory", "directory")
	officer := s.run("token", "create", "e2e-officer", "officer")
	auditor := s.run("token", "create", "e2e-auditor", "auditor")
	s.putPeople(directory, map[string]map[string]any{
		"CLDN-CISO":  {"name": "副町長 拒否", "email": "cloudn-ciso@town.example", "department": "mayor", "roles": []string{"ciso"}},
		"CLDN-GISO":  {"name": "総務部長 拒否", "email": "cloudn-giso@town.example", "department": "general", "roles": []string{"giso"}},
		"CLDN-DISO":  {"name": "住民課長 拒否", "email": "cloudn-diso@town.example", "department": "residents", "roles": []string{"diso"}},
		"CLDN-STAFF": {"name": "Suzuki Cloud", "email": "cloudn-staff@town.example", "department": "residents", "roles": []string{"staff"}, "locale": "en"},
	})
	now := time.Now().In(tokyo(t))
	var started struct{ ID, Kind, Status string }
	code := s.call(officer, "POST", "/api/v1/cloud-assessments", map[string]any{
		"requester": "CLDN-STAFF", "service": "窓口予約", "provider": "サンプルクラウド株式会社",
		"purpose": "窓口の来庁予約", "classification": 1,
		"storage_regions": []string{"JP"}, "processing_regions": []string{"JP"},
		"governing_law": "JP", "jurisdiction": "JP",
		"certifications": []map[string]string{{"kind": "ismap", "reference": "C22-0042-1",
			"issued_on": now.AddDate(0, -6, 0).Format("2006-01-02"), "valid_until": now.AddDate(2, 0, 0).Format("2006-01-02")}},
		"security_design_ref": "SEC-DESIGN-2026-021",
	}, &started)
	if code != http.StatusCreated {
		t.Fatalf("POST /cloud-assessments: %d %+v", code, started)
	}

	// The officer's mail and page show the verdict; a reason is required.
	m := mailIn(t, "cloudn-diso@town.example", started.ID, "クラウドサービス利用の判断")
	if !strings.Contains(m.Subject, "規則の判定：不可") || !strings.Contains(m.Text, "規則の判定：不可") {
		t.Errorf("the officer's mail does not show the verdict: %q\n%s", m.Subject, m.Text)
	}
	review := linkIn(t, "cloudn-diso@town.example", started.ID, "クラウドサービス利用の判断")
	resp, err := http.Get(review)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"規則の判定：不可（denied）", "§8.3(3) denied", "利用を認めない（拒否を確定する）", "理由を付してCISOに判断を求める"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the officer's page lacks %q", want)
		}
	}
	if code, _ := postForm(t, review, url.Values{"decision": {"refer_to_ciso"}}); code != http.StatusBadRequest {
		t.Fatalf("a referral without a reason: %d", code)
	}
	if code, body := postForm(t, review, url.Values{"decision": {"refer_to_ciso"}, "reason": {"移行計画は契約書別紙で定める予定"}}); code != http.StatusOK {
		t.Fatalf("referral: %d\n%s", code, body)
	}

	referral := linkIn(t, "cloudn-ciso@town.example", started.ID, "クラウドサービス利用の判断")
	resp, err = http.Get(referral)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "移行計画は契約書別紙で定める予定") {
		t.Error("the CISO's page does not show the officer's reason")
	}
	if code, body := postForm(t, referral, url.Values{"decision": {"approve"}, "conditions": {"契約締結前に移行計画を提出すること"}}); code != http.StatusOK {
		t.Fatalf("approve: %d\n%s", code, body)
	}
	var got struct {
		Process   struct{ Status, Stage string }
		Decisions []struct {
			Step   string
			Choice string
			Values map[string]string
		}
	}
	eventually(t, 30*time.Second, "the service to be approved", func() bool {
		s.call(auditor, "GET", "/api/v1/processes/"+started.ID, nil, &got)
		return got.Process.Status == "approved" && got.Process.Stage == "in_use"
	})
	if len(got.Decisions) != 2 || got.Decisions[0].Step != "denial_review" || got.Decisions[0].Values["reason"] != "移行計画は契約書別紙で定める予定" ||
		got.Decisions[1].Step != "ciso_referral" || got.Decisions[1].Values["conditions"] != "契約締結前に移行計画を提出すること" {
		t.Errorf("decisions = %+v", got.Decisions)
	}
	var accepted struct{ Status string }
	if code := s.call(officer, "POST", "/api/v1/cloud-assessments/"+started.ID+"/terminate", map[string]string{"reason": "試行終了"}, &accepted); code != http.StatusAccepted {
		t.Fatalf("terminate: %d %+v", code, accepted)
	}
	exit := linkIn(t, "cloudn-diso@town.example", started.ID, "データ移行・削除の確認")
	if code, body := postForm(t, exit, url.Values{"decision": {"done"}, "data_migrated": {"not_needed"}, "data_deleted": {"confirmed"},
		"deleted_on": {now.Format("2006-01-02")}}); code != http.StatusOK {
		t.Fatalf("exit: %d\n%s", code, body)
	}
	tc := testenv.TemporalClient(t)
	eventually(t, 30*time.Second, "the workflow to be closed", func() bool {
		d, err := tc.DescribeWorkflowExecution(context.Background(), started.ID, "")
		return err == nil && d.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
	recordHistory(t, started.ID, "cloud_denied_referred_approved.json")
}
