package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/internal/testenv"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// outsourcingPeople are the town's people of an outsourcing test, their IDs and addresses
// made from prefix so that tests sharing Mailpit never read each other's mail.
func outsourcingPeople(prefix string) map[string]map[string]any {
	lower := strings.ToLower(prefix)
	return map[string]map[string]any{
		prefix + "-CISO":     {"name": "副町長 テスト", "email": lower + "-ciso@town.example", "department": "mayor", "roles": []string{"ciso"}},
		prefix + "-GISO":     {"name": "総務部長 テスト", "email": lower + "-giso@town.example", "department": "general", "roles": []string{"giso"}},
		prefix + "-REVIEWER": {"name": "総務課 審査担当", "email": lower + "-reviewer@town.example", "department": "general", "roles": []string{"staff"}},
		prefix + "-DISO":     {"name": "住民課長 テスト", "email": lower + "-diso@town.example", "department": "residents", "roles": []string{"diso"}},
		prefix + "-STAFF":    {"name": "住民課 契約担当", "email": lower + "-staff@town.example", "department": "residents", "roles": []string{"staff"}},
	}
}

// fileOutsourcing files an outsourcing review through the API (level 2 electronic and paper
// information, the certificate valid beyond the contract's end) and returns its process ID.
func fileOutsourcing(t *testing.T, s *system, officer, requester, contactEmail, start, end, certExpiry string, intervalMonths int) string {
	t.Helper()
	var started struct{ ID, Kind string }
	code := s.call(officer, "POST", "/api/v1/outsourcing-reviews", map[string]any{
		"requester": requester,
		"vendor": map[string]any{"name": "株式会社テスト情報システム", "corporate_number": "1180301018771",
			"contact_name": "鈴木", "contact_email": contactEmail},
		"work": "窓口業務システムの保守",
		"assets": []map[string]any{{"name": "窓口受付データ", "class": "electronic", "classification": 2},
			{"name": "受付簿", "class": "paper", "classification": 2}},
		"classification":         2,
		"contract_start":         start,
		"contract_end":           end,
		"certificate":            map[string]any{"number": "IS 000010", "expiry": certExpiry},
		"audit":                  map[string]any{"status": "passed"},
		"report_interval_months": intervalMonths,
	}, &started)
	if code != http.StatusCreated || started.Kind != "outsourcing_review" {
		t.Fatalf("POST /outsourcing-reviews: %d %+v", code, started)
	}
	return started.ID
}

// TestOutsourcingVendorIncidentEndToEnd: a vendor's report of a security incident (contract
// item 10 緊急時報告義務, §5.3(1)) starts an incident process on the real services. The
// contract is reviewed through the mailed links (the selection returned and revised in its
// form, then approved; clauses, approval, the vendor's acknowledgement of the briefing); it
// began a month ago, so the first monthly
// report is asked at once, and the vendor's contact names an incident in it. The department
// security officer is told, and the incident's first task, its triage (§5.3(1)2), arrives in
// the officer's mailbox with a link that opens on the vendor's account of it.
func TestOutsourcingVendorIncidentEndToEnd(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "e2e-directory", "directory")
	officer := s.run("token", "create", "e2e-officer", "officer")
	auditor := s.run("token", "create", "e2e-auditor", "auditor")
	admin := s.run("token", "create", "e2e-admin", "admin")
	s.putPeople(directory, outsourcingPeople("OVI"))
	now := time.Now().In(tokyo(t))
	day := func(months, days int) string { return now.AddDate(0, months, days).Format("2006-01-02") }
	const vendor = "suzuki@ovi-vendor.example"
	id := fileOutsourcing(t, s, officer, "OVI-STAFF", vendor, day(-1, -5), day(11, 0), day(24, 0), 1)

	// The officer returns the selection (§8.1(1)1); the requester revises it in the
	// revision's form (issue 14), which holds the selection as filed, and the second round
	// approves the revised one.
	sel := linkIn(t, "ovi-diso@town.example", id, "選定審査")
	const why = "監査の指摘事項の是正状況を確認し、最新の認証を登録してください"
	if code, body := decideForm(t, sel, "return", url.Values{"comment": {why},
		"certificate_check": {"valid"}, "audit_check": {"findings"}, "measures_fit": {"no"}}); code != 200 {
		t.Fatalf("return the selection: %d\n%s", code, body)
	}
	if m := mailIn(t, "ovi-staff@town.example", id, "選定の見直し"); !strings.Contains(m.Text, why) {
		t.Errorf("the revision's mail lacks the officer's comment:\n%s", m.Text)
	}
	revise := linkIn(t, "ovi-staff@town.example", id, "選定の見直し")
	if code, page := getPage(t, revise); code != 200 || !strings.Contains(page, `value="1180301018771"`) || !strings.Contains(page, `value="IS 000010"`) {
		t.Errorf("the selection's revision page (%d) does not hold the selection as filed:\n%s", code, page)
	}
	if code, body := decideForm(t, revise, "resubmit", url.Values{"comment": {"是正完了報告書と更新後の認証を登録しました"},
		"vendor_name": {"株式会社テスト情報システム"}, "corporate_number": {"1180301018771"}, "contact_name": {"鈴木"},
		"contact_email": {vendor}, "contact_locale": {"ja"}, "certificate_number": {"IS 000011"}, "certificate_expiry": {day(30, 0)},
		"audit_status": {"passed"}, "audit_summary": {"指摘事項は是正済み（是正完了報告書）"}}); code != 200 {
		t.Fatalf("resubmit the selection: %d\n%s", code, body)
	}
	sel2 := linkIn(t, "ovi-diso@town.example", id, "選定審査", sel)
	if code, page := getPage(t, sel2); code != 200 || !strings.Contains(page, "第2版") || !strings.Contains(page, "IS 000011") {
		t.Errorf("the second selection round (%d) does not show version 2:\n%s", code, page)
	}
	if code, body := decideForm(t, sel2, "approve",
		url.Values{"certificate_check": {"valid"}, "audit_check": {"passed"}, "measures_fit": {"yes"}}); code != 200 {
		t.Fatalf("selection: %d\n%s", code, body)
	}
	marks := url.Values{}
	for _, c := range policy.ContractClauses() {
		marks.Set("clause_"+c.Key, policy.ClausePresent)
		marks.Set("article_"+c.Key, fmt.Sprintf("第%d条", c.N+2))
	}
	if code, body := decideForm(t, linkIn(t, "ovi-reviewer@town.example", id, "12項目"), "done", marks); code != 200 {
		t.Fatalf("clause review: %d\n%s", code, body)
	}
	if code, body := decide(t, linkIn(t, "ovi-diso@town.example", id, "外部委託契約の承認"), "approve", ""); code != 200 {
		t.Fatalf("approval: %d\n%s", code, body)
	}
	if code, body := decide(t, linkIn(t, vendor, id, "説明内容の確認"), "acknowledge", ""); code != 200 {
		t.Fatalf("acknowledge: %d\n%s", code, body)
	}
	const details = "委託先の保守用端末がマルウェアに感染し、窓口受付データへの不正アクセスの痕跡を確認"
	if code, body := decideForm(t, linkIn(t, vendor, id, "定期報告"), "submit", url.Values{
		"period_from": {day(-1, -5)}, "period_to": {day(0, -6)}, "incidents": {"some"}, "incident_category": {"malware"},
		"incident_discovered_on": {day(0, -7)}, "incident_details": {details}, "staff_changes": {"none"}, "subcontracting_changes": {"none"}}); code != 200 {
		t.Fatalf("report: %d\n%s", code, body)
	}

	// The officer is told, and the incident's process has started: its triage, asked of the
	// department's officer (§5.3(1)), is mailed with a link of its own.
	mailIn(t, "ovi-diso@town.example", id, "インシデントの記載")
	incident := "INC-" + strings.TrimPrefix(id, "OUT-") + "-R1"
	triage := linkIn(t, "ovi-diso@town.example", incident, "インシデントの判定")
	code, page := getPage(t, triage)
	if code != 200 || !strings.Contains(page, details) {
		t.Errorf("the incident's triage page (%d) does not show the vendor's account:\n%s", code, page)
	}

	var inc struct {
		Process struct{ Kind, Status, Department string }
		Input   struct{ Reporter, Category string }
	}
	if code := s.call(auditor, "GET", "/api/v1/processes/"+incident, nil, &inc); code != 200 || inc.Process.Kind != models.KindIncident ||
		inc.Process.Department != "residents" || inc.Input.Reporter != "ext:"+id || inc.Input.Category != "malware" {
		t.Errorf("the incident in the register: %d %+v", code, inc)
	}
	recordHistory(t, id, "outsourcing_selection_revised_vendor_incident.json")
	for _, p := range []string{incident, id} {
		var cancelled struct{ Status string }
		if code := s.call(admin, "POST", "/api/v1/processes/"+p+"/cancel", map[string]string{"reason": "e2e cleanup"}, &cancelled); code != 200 {
			t.Errorf("cancel %s: %d %+v", p, code, cancelled)
		}
	}
}

// toContractEnd brings a filed contract to its end, where the disposal is asked: no filing
// can name a contract already ended, and no test waits out its months. It terminates the
// process's run (waiting at its selection) and starts, under the same workflow ID, the run
// that Continue-As-New starts for a contract's last report (OutsourcingInput.Running), with
// the contract ended two days ago: the last periodic report is asked at once, then the
// disposal. Everything after is the real workflow on the real services.
func toContractEnd(t *testing.T, id, requester string) {
	t.Helper()
	tc := testenv.TemporalClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tc.TerminateWorkflow(ctx, id, "", "e2e: the contract is brought to its end"); err != nil {
		t.Fatalf("terminate %s: %v", id, err)
	}
	now := time.Now().In(tokyo(t))
	certExpiry := now.AddDate(2, 0, 0).Format("2006-01-02")
	in := workflows.OutsourcingInput{
		Header:      workflows.Header{ProcessID: id, Kind: models.KindOutsourcingReview, Department: "residents", TimeZone: "Asia/Tokyo"},
		RequesterID: requester, ContactID: models.ContactPrefix + id, Classification: policy.Level2,
		ContractStart: now.AddDate(0, -2, 0).Format("2006-01-02"), ContractEnd: now.AddDate(0, 0, -2).Format("2006-01-02"),
		CertExpiry: certExpiry, Audit: policy.AuditPassed, ReportIntervalMonths: 12,
		AssetClasses: []string{policy.AssetElectronic, policy.AssetPaper},
		// Events continue the register's keys past the first run's.
		Running: &workflows.OutsourcingRunning{NextReport: 1, CertExpiry: certExpiry, Events: 1000, Runs: 1},
	}
	if _, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.ProcessKind.ValueSet(models.KindOutsourcingReview),
			workflows.ProcessStage.ValueSet("in_effect"), workflows.Department.ValueSet("residents")),
	}, workflows.OutsourcingWorkflow, in); err != nil {
		t.Fatalf("start the last run of %s: %v", id, err)
	}
}

// TestOutsourcingDisposalPermissionEndToEnd: at a contract's end the department security
// officer permits the disposal of the town's information before it is recorded
// (§3(2)9(ウ) 「情報セキュリティ責任者の許可を得なければならない」, then (イ) the record), on the
// real services and through the mailed links. Two contracts end: for the first the
// permission's link comes alone (no record is asked yet), the officer permits, and only then
// does the requester's record link come, where erasure is recorded. For the second the
// officer refuses: the record's form offers only the return to the town (contract item 9),
// a record of erasure is refused with a 400 and nothing recorded, and the return is what the
// register keeps.
func TestOutsourcingDisposalPermissionEndToEnd(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "e2e-directory", "directory")
	officer := s.run("token", "create", "e2e-officer", "officer")
	auditor := s.run("token", "create", "e2e-auditor", "auditor")
	s.putPeople(directory, outsourcingPeople("ODP"))
	now := time.Now().In(tokyo(t))
	today := now.Format("2006-01-02")
	const vendor = "suzuki@odp-vendor.example"
	start, end, cert := now.AddDate(0, -2, 0).Format("2006-01-02"), now.AddDate(0, 1, 0).Format("2006-01-02"), now.AddDate(2, 0, 0).Format("2006-01-02")
	permitted := fileOutsourcing(t, s, officer, "ODP-STAFF", vendor, start, end, cert, 12)
	refused := fileOutsourcing(t, s, officer, "ODP-STAFF", vendor, start, end, cert, 12)
	for _, id := range []string{permitted, refused} {
		linkIn(t, "odp-diso@town.example", id, "選定審査") // the first run waits at the selection
		toContractEnd(t, id, "ODP-STAFF")
		if code, body := decideForm(t, linkIn(t, vendor, id, "定期報告"), "submit", url.Values{"period_from": {start}, "period_to": {today},
			"incidents": {"none"}, "staff_changes": {"none"}, "subcontracting_changes": {"none"}}); code != 200 {
			t.Fatalf("the last report of %s: %d\n%s", id, code, body)
		}
	}

	type detail struct {
		Process     struct{ Status string }
		Tasks       []struct{ Step, Status string }
		Outsourcing struct {
			Disposals []struct {
				AssetClass string `json:"asset_class"`
				Method     string
			}
		}
	}
	recordAsked := func(id string) bool {
		var d detail
		s.call(auditor, "GET", "/api/v1/processes/"+id, nil, &d)
		for _, task := range d.Tasks {
			if task.Step == "disposal_record" {
				return true
			}
		}
		return false
	}
	mp := testenv.Mailpit(t)
	recordMailed := func(id string) bool {
		list, err := mp.Messages(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range list {
			if strings.Contains(m.Subject, id) && strings.Contains(m.Subject, "返還・廃棄の記録") {
				return true
			}
		}
		return false
	}
	disposals := func(id string) map[string]string {
		var d detail
		s.call(auditor, "GET", "/api/v1/processes/"+id, nil, &d)
		out := map[string]string{}
		for _, x := range d.Outsourcing.Disposals {
			out[x.AssetClass] = x.Method
		}
		return out
	}
	record := func(method1, method2 string) url.Values {
		return url.Values{"electronic_method": {method1}, "electronic_date": {today}, "electronic_person": {"委託先 鈴木"},
			"electronic_note": {"消去証明書 No.123"}, "paper_method": {method2}, "paper_date": {today}, "paper_person": {"委託先 鈴木"}}
	}

	// Permission first (§3(2)9(ウ)): its link comes while no record is asked.
	permission := linkIn(t, "odp-diso@town.example", permitted, "廃棄の許可")
	if recordAsked(permitted) || recordMailed(permitted) {
		t.Fatal("the disposal record was asked before the officer's permission")
	}
	if code, body := decide(t, permission, "approve", ""); code != 200 {
		t.Fatalf("permit: %d\n%s", code, body)
	}
	rec := linkIn(t, "odp-staff@town.example", permitted, "返還・廃棄の記録")
	if code, page := getPage(t, rec); code != 200 || !strings.Contains(page, `value="erased"`) {
		t.Errorf("the record's page after the permission (%d) does not offer erasure", code)
	}
	if code, body := decideForm(t, rec, "done", record("erased", "destroyed")); code != 200 {
		t.Fatalf("record: %d\n%s", code, body)
	}
	waitClosed(t, s, auditor, permitted, "completed")
	if got := disposals(permitted); got["electronic"] != "erased" || got["paper"] != "destroyed" {
		t.Errorf("the permitted disposal in the register: %v", got)
	}

	// Refused: the information goes back to the town; no disposal can be recorded.
	refusal := linkIn(t, "odp-diso@town.example", refused, "廃棄の許可")
	if recordAsked(refused) {
		t.Fatal("the disposal record was asked before the officer's answer")
	}
	if code, body := decide(t, refusal, "reject", "返還とすること"); code != 200 {
		t.Fatalf("refuse: %d\n%s", code, body)
	}
	rec = linkIn(t, "odp-staff@town.example", refused, "返還・廃棄の記録")
	if code, page := getPage(t, rec); code != 200 || strings.Contains(page, `value="erased"`) || strings.Contains(page, `value="destroyed"`) ||
		!strings.Contains(page, `value="returned"`) {
		t.Errorf("the record's page after a refusal (%d) offers more than the return", code)
	}
	if code, body := decideForm(t, rec, "done", record("erased", "returned")); code != http.StatusBadRequest || !strings.Contains(body, "electronic_method") {
		t.Errorf("a record of erasure without permission: %d, want 400 naming electronic_method\n%s", code, body)
	}
	if got := disposals(refused); len(got) != 0 {
		t.Errorf("a refused record left disposals in the register: %v", got)
	}
	if code, body := decideForm(t, rec, "done", record("returned", "returned")); code != 200 {
		t.Fatalf("record the return: %d\n%s", code, body)
	}
	waitClosed(t, s, auditor, refused, "completed")
	if got := disposals(refused); got["electronic"] != "returned" || got["paper"] != "returned" {
		t.Errorf("the register after a refused permission: %v, want every class returned", got)
	}
}
