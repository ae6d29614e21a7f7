package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/internal/testenv"
)

// decideForm posts a decision with form values on an emailed link, as the task page's form
// would.
func decideForm(t *testing.T, link, choice string, values url.Values) (int, string) {
	t.Helper()
	form := url.Values{"decision": {choice}}
	for k, v := range values {
		form[k] = v
	}
	return postForm(t, link, form)
}

// TestOutsourcingEndToEnd runs an outsourcing review on the real services through the
// links in the mails Mailpit received: the department security officer selects the vendor
// (the page flags the certificate that expires before the contract ends), a reviewer in the
// GISO's office finds a clause missing, the requester resubmits, the clauses are complete,
// the officer approves, and the vendor's contact, who is not in the directory, acknowledges
// the briefing, sends the renewed certificate and the first periodic report (naming an
// incident, so the officer is told) through links of its own. The contract started two
// months ago, so the first report and the certificate are due at once; the process then
// waits for the next report. The disposal at the end is covered by the time-skipping tests.
func TestOutsourcingEndToEnd(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "e2e-directory", "directory")
	officer := s.run("token", "create", "e2e-officer", "officer")
	auditor := s.run("token", "create", "e2e-auditor", "auditor")
	admin := s.run("token", "create", "e2e-admin", "admin")

	people := map[string]map[string]any{
		"OUT-CISO":     {"name": "副町長 テスト", "email": "out-ciso@town.example", "department": "mayor", "roles": []string{"ciso"}},
		"OUT-GISO":     {"name": "総務部長 テスト", "email": "out-giso@town.example", "department": "general", "roles": []string{"giso"}},
		"OUT-REVIEWER": {"name": "総務課 審査担当", "email": "out-reviewer@town.example", "department": "general", "roles": []string{"staff"}},
		"OUT-DISO":     {"name": "住民課長 テスト", "email": "out-diso@town.example", "department": "residents", "roles": []string{"diso"}},
		"OUT-STAFF":    {"name": "住民課 契約担当", "email": "out-staff@town.example", "department": "residents", "roles": []string{"staff"}},
	}
	s.putPeople(directory, people)
	now := time.Now().In(tokyo(t))
	day := func(months, days int) string { return now.AddDate(0, months, days).Format("2006-01-02") }
	var started struct{ ID, Kind, Status, WorkflowID string }
	code := s.call(officer, "POST", "/api/v1/outsourcing-reviews", map[string]any{
		"requester": "OUT-STAFF",
		"vendor": map[string]any{"name": "株式会社テスト情報システム", "corporate_number": "1180301018771",
			"contact_name": "山田", "contact_email": "yamada@vendor.example"},
		"work":                   "住民情報システムの保守",
		"assets":                 []map[string]any{{"name": "住民基本台帳データ", "class": "electronic", "classification": 1}},
		"classification":         1,
		"contract_start":         day(-1, -2),
		"contract_end":           day(11, -2),
		"certificate":            map[string]any{"number": "IS 000001", "expiry": day(1, 0)},
		"audit":                  map[string]any{"status": "passed", "summary": "前年度の監査で指摘事項なし"},
		"report_interval_months": 1,
	}, &started)
	if code != http.StatusCreated || started.Kind != "outsourcing_review" {
		t.Fatalf("POST /outsourcing-reviews: %d %+v", code, started)
	}
	id := started.ID

	// Selection: the page flags the certificate; opening it records nothing.
	sel := linkIn(t, "out-diso@town.example", id, "選定審査")
	resp, err := http.Get(sel)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "ISMS認証の有効期限が契約終了より前") {
		t.Fatalf("selection page: %d\n%s", resp.StatusCode, page)
	}
	if code, body := decideForm(t, sel, "approve", url.Values{"certificate_check": {"expires_during_contract"}, "audit_check": {"passed"}, "measures_fit": {"yes"}, "selection_note": {"更新予定を確認"}}); code != 200 {
		t.Fatalf("selection: %d\n%s", code, body)
	}

	clauses := []string{"policy_compliance", "responsibility", "service_level", "access_scope", "staff_training", "purpose_limitation",
		"confidentiality", "subcontracting", "return_disposal", "reporting", "publication", "non_compliance"}
	marks := url.Values{}
	for i, k := range clauses {
		marks.Set("clause_"+k, "present")
		marks.Set("article_"+k, fmt.Sprintf("第%d条", i+3))
	}
	marks.Set("clause_non_compliance", "missing")
	review := linkIn(t, "out-reviewer@town.example", id, "12項目")
	if code, body := decideForm(t, review, "done", marks); code != 200 {
		t.Fatalf("clause review 1: %d\n%s", code, body)
	}
	// The returned draft's mail names the clause found missing and the reviewer's note
	// (issue 14); the resubmission answers where the revised draft states it.
	revMail := mailIn(t, "out-staff@town.example", id, "修正と再提出")
	if want := "12. 情報セキュリティポリシーが遵守されなかった場合の規定（損害賠償等） — 記載なし（審査者のメモ: 第14条）"; !strings.Contains(revMail.Text, want) {
		t.Errorf("the revision's mail lacks %q:\n%s", want, revMail.Text)
	}
	revision := linkIn(t, "out-staff@town.example", id, "修正と再提出")
	if code, body := decideForm(t, revision, "resubmit", url.Values{"comment": {"損害賠償条項を第14条に追加しました"},
		"clause_non_compliance": {"present"}, "article_non_compliance": {"第14条"}}); code != 200 {
		t.Fatalf("resubmit: %d\n%s", code, body)
	}
	marks.Set("clause_non_compliance", "present")
	review2 := linkIn(t, "out-reviewer@town.example", id, "12項目", review)
	if code, body := decideForm(t, review2, "done", marks); code != 200 {
		t.Fatalf("clause review 2: %d\n%s", code, body)
	}
	approval := linkIn(t, "out-diso@town.example", id, "外部委託契約の承認")
	if code, body := decide(t, approval, "approve", ""); code != 200 {
		t.Fatalf("approve: %d\n%s", code, body)
	}

	// The vendor's contact: the briefing, then the acknowledgement link.
	mp := testenv.Mailpit(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	briefing, err := mp.WaitFor(ctx, func(m testenv.Message) bool {
		return m.SentTo("yamada@vendor.example") && strings.Contains(m.Subject, "【ご説明】") && strings.Contains(m.Subject, id)
	})
	if err != nil || !strings.Contains(briefing.Text, "町による情報セキュリティインシデント発生時の公表") {
		t.Fatalf("briefing mail: %v\n%s", err, briefing.Text)
	}
	ack := linkIn(t, "yamada@vendor.example", id, "説明内容の確認")
	// The vendor's contact sees their own contract, none of the town's internal fields
	// (issue 12, item 6): not in the briefing, the task's mail, nor the page, HTML or JSON.
	town := map[string]string{
		"the certificate number the town recorded": "IS 000001", "the certificate's expiry the town recorded": day(1, 0),
		"the selection flag": "ISMS認証の有効期限が契約終了より前", "the selection flags' label": "選定時の確認事項",
		"the audit summary": "前年度の監査で指摘事項なし", "the audit summary's label": "監査結果の概要",
		"the certificate's label": "ISMS認証登録番号", "the selection note": "更新予定を確認",
		"the assets": "住民基本台帳データ", "the assets' label": "取り扱う情報資産",
		"the requester": "OUT-STAFF", "the requester's name": "住民課 契約担当",
		"the process summary": "1180301018771",
	}
	code, vendorPage := getPage(t, ack)
	_, pageJSON := getPage(t, ack, "application/json")
	if code != 200 || !strings.Contains(vendorPage, "住民情報システムの保守") {
		t.Fatalf("the vendor's page: %d\n%s", code, vendorPage)
	}
	ackMail := mailIn(t, "yamada@vendor.example", id, "説明内容の確認")
	for what, v := range town {
		for where, text := range map[string]string{"briefing mail": briefing.Text + briefing.HTML, "task mail": ackMail.Text + ackMail.HTML,
			"page": vendorPage, "JSON page": pageJSON} {
			if strings.Contains(text, v) {
				t.Errorf("the vendor's %s shows %s (%q)", where, what, v)
			}
		}
	}
	if !strings.Contains(pageJSON, `"summary":""`) {
		t.Errorf("the vendor's JSON page has a summary: %s", pageJSON)
	}
	if code, body := decide(t, ack, "acknowledge", ""); code != 200 || !strings.Contains(body, "記録しました") {
		t.Fatalf("acknowledge: %d\n%s", code, body)
	}
	if code, _ := decide(t, ack, "acknowledge", ""); code != http.StatusGone {
		t.Fatalf("a used vendor link answered %d", code)
	}

	// The certificate expires within 60 days and before the contract ends: the renewed one
	// is asked for at once; then the first monthly report, already due.
	renewal := linkIn(t, "yamada@vendor.example", id, "更新後のISMS認証")
	if code, body := decideForm(t, renewal, "submit", url.Values{"cert_number": {"IS 000002"}, "cert_expiry": {day(36, 0)}}); code != 200 {
		t.Fatalf("certificate: %d\n%s", code, body)
	}
	report := linkIn(t, "yamada@vendor.example", id, "定期報告")
	if code, body := decideForm(t, report, "submit", url.Values{"period_from": {day(-1, -2)}, "period_to": {day(0, -3)},
		"incidents": {"some"}, "incident_category": {"misdelivered_mail"}, "incident_discovered_on": {day(0, -3)},
		"incident_details": {"誤送信1件（社内で回収済み）"}, "staff_changes": {"none"}, "subcontracting_changes": {"none"}}); code != 200 {
		t.Fatalf("report: %d\n%s", code, body)
	}
	incident, err := mp.WaitFor(ctx, func(m testenv.Message) bool {
		return m.SentTo("out-diso@town.example") && strings.Contains(m.Subject, "インシデントの記載") && strings.Contains(m.Subject, id)
	})
	if err != nil {
		t.Fatalf("incident notice to the DISO: %v", err)
	}
	_ = incident

	var got struct {
		Process   struct{ Status, Stage string }
		Decisions []struct {
			TaskID      string `json:"task_id"`
			DeciderID   string `json:"decider_id"`
			DeciderName string `json:"decider_name"`
			Choice      string `json:"decision"`
		}
		Outsourcing struct {
			CertificateNumber string `json:"certificate_number"`
			CertificateExpiry string `json:"certificate_expiry"`
			ClauseReviews     []struct {
				Round   int
				Clauses []struct{ Clause, Mark, Article string }
			} `json:"clause_reviews"`
			Reports []struct {
				Seq       int
				Status    string
				Incidents string
				Details   string
			}
		}
	}
	eventually(t, 30*time.Second, "the contract to wait for its next report", func() bool {
		s.call(auditor, "GET", "/api/v1/processes/"+id, nil, &got)
		return got.Process.Status == "in_effect" && got.Process.Stage == "contract_running"
	})
	deciders := map[string]string{}
	for _, d := range got.Decisions {
		deciders[d.TaskID] = d.DeciderID
	}
	for task, who := range map[string]string{"selection_review/1": "OUT-DISO", "clause_review/1": "OUT-REVIEWER", "requester_revision/1": "OUT-STAFF",
		"clause_review/2": "OUT-REVIEWER", "approval/1": "OUT-DISO", "briefing_acknowledgement/1": "ext:" + id,
		"certificate_renewal/1": "ext:" + id, "periodic_report/1": "ext:" + id} {
		if deciders[id+"/"+task] != who {
			t.Errorf("decider of %s = %q, want %q (all: %v)", task, deciders[id+"/"+task], who, deciders)
		}
	}

	o := got.Outsourcing
	if o.CertificateNumber != "IS 000002" || o.CertificateExpiry != day(36, 0) {
		t.Errorf("certificate in the register: %q until %q", o.CertificateNumber, o.CertificateExpiry)
	}
	if len(o.ClauseReviews) != 2 || o.ClauseReviews[0].Clauses[11].Mark != "missing" || o.ClauseReviews[1].Clauses[11].Mark != "present" ||
		o.ClauseReviews[1].Clauses[0].Article != "第3条" {
		t.Errorf("clause reviews in the register: %+v", o.ClauseReviews)
	}
	if len(o.Reports) != 1 || o.Reports[0].Status != "received" || o.Reports[0].Incidents != "some" || !strings.Contains(o.Reports[0].Details, "誤送信") {
		t.Errorf("reports in the register: %+v", o.Reports)
	}
	for _, d := range got.Decisions {
		if d.DeciderID == "ext:"+id && d.DeciderName != "株式会社テスト情報システム 山田" {
			t.Errorf("the contact's decision is by %q", d.DeciderName)
		}
	}

	recordHistory(t, id, "outsourcing_review_to_first_report.json")

	var cancelled struct{ Status string }
	if code := s.call(admin, "POST", "/api/v1/processes/"+id+"/cancel", map[string]string{"reason": "e2e cleanup"}, &cancelled); code != 200 || cancelled.Status != "cancelled" {
		t.Errorf("cancel: %d %+v", code, cancelled)
	}
}
