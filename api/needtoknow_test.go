package api_test

// Need to know (issue 12, item 6): each step's reader sees the fields of the request that
// policy.Visible declares for the step, on the task page (HTML and JSON) and in the task's
// mails; the register (auditor scope) still shows everything.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// taskViews returns what a link's holder gets: the page, the page as JSON (raw) and the
// decoded JSON.
func taskViews(t *testing.T, link string) (html, raw string, obj map[string]any) {
	t.Helper()
	page := call(t, http.MethodGet, link, "", nil)
	if page.Status != http.StatusOK {
		t.Fatalf("GET task page: %s", page)
	}
	asJSON := call(t, http.MethodGet, link, "", nil, "Accept", "application/json")
	if asJSON.Status != http.StatusOK {
		t.Fatalf("GET task page as JSON: %s", asJSON)
	}
	return string(page.Body), string(asJSON.Body), asJSON.object(t)
}

// assignedMail is the text and HTML of the mail that assigned a task.
func (s *system) assignedMail(t *testing.T, task models.Task) string {
	t.Helper()
	var m models.OutboxMessage
	if err := s.Store.DB.Where("`key` = ?", task.ID+"/assigned/"+task.AssigneeID).First(&m).Error; err != nil {
		t.Fatalf("the mail of %s: %v", task.ID, err)
	}
	return m.Subject + "\n" + m.Text + "\n" + m.HTML
}

func lacks(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, x := range secrets {
		if strings.Contains(text, x) {
			t.Errorf("%s shows %q", what, x)
		}
	}
}

func has(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, x := range wants {
		if !strings.Contains(text, x) {
			t.Errorf("%s lacks %q", what, x)
		}
	}
}

// A vendor's contact sees their company, the work and the contract's dates on every task
// of theirs (the briefing's acknowledgement, the certificate's renewal, the periodic
// report), in its mail and in the briefing, and none of the town's assessment of them: the
// selection flags, the audit status and summary, the certificate details the town recorded,
// the town's classification and assets, the requester, the summary. The department security
// officer's selection page shows all of it, and so does the register.
func TestVendorSeesOnlyTheirReply(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	s.addPerson(t, dept, "diso")
	requester := s.addPerson(t, dept, "staff")
	const (
		work        = "Maintenance of the resident registry system"
		auditNote   = "Internal note: the 2025 audit found weak access logging"
		certNumber  = "IS 654321"
		flagText    = "expires before the contract ends"
		summaryText = "Outsourcing to corporate number"
		assetName   = "Resident registry data"
	)
	// A contract that started two months ago, reported on monthly, whose certificate
	// expires in ten days: the vendor is asked for the renewed certificate and the first
	// report at once after the briefing.
	body := outsourcingRequest(requester.EmployeeID)
	body = with(body, "contract_start", date(-60))
	body = with(body, "contract_end", date(300))
	body = with(body, "report_interval_months", 1)
	body = with(body, "certificate.number", certNumber)
	body = with(body, "certificate.expiry", date(10))
	body = with(body, "audit.status", "findings")
	body = with(body, "audit.summary", auditNote)
	r := call(t, http.MethodPost, "/api/v1/outsourcing-reviews", s.token("officer"), body)
	if r.Status != http.StatusCreated {
		t.Fatalf("start: %s", r)
	}
	var started startedBody
	r.decode(t, &started)
	id := started.ID
	defer s.cancel(t, id)
	town := []string{auditNote, "weak access logging", certNumber, date(10), flagText, "Audit findings open", summaryText, assetName,
		requester.EmployeeID, "Flags for the selection", "Security audit", "Audit summary", "ISMS certificate number",
		"ISMS certificate valid until", "Classification of the information", "Information assets", "Requester"}

	// The department security officer judges the selection on everything.
	sel := s.nextTask(t, id, "selection_review")
	html, raw, obj := taskViews(t, sel.Link)
	has(t, "the officer's selection page", html, auditNote, certNumber, date(10), flagText, "Audit findings open", summaryText, assetName, work)
	if obj["summary"] == "" || !strings.Contains(raw, summaryText) {
		t.Errorf("the officer's page as JSON lacks the summary: %s", raw)
	}
	has(t, "the officer's mail", s.assignedMail(t, sel.Task), summaryText)
	s.decideLink(t, sel.Link, "approve", url.Values{"certificate_check": {"expires_during_contract"}, "audit_check": {"findings"}, "measures_fit": {"yes"}})

	// The clause reviewer checks the contract, not the selection.
	review := s.nextTask(t, id, "clause_review")
	html, _, _ = taskViews(t, review.Link)
	has(t, "the clause reviewer's page", html, work, "Sample Systems K.K.")
	lacks(t, "the clause reviewer's page", html, auditNote, certNumber, flagText, "Audit findings open")
	marks := url.Values{}
	for _, k := range []string{"policy_compliance", "responsibility", "service_level", "access_scope", "staff_training", "purpose_limitation",
		"confidentiality", "subcontracting", "return_disposal", "reporting", "publication", "non_compliance"} {
		marks.Set("clause_"+k, "present")
	}
	s.decideLink(t, review.Link, "done", marks)
	approval := s.nextTask(t, id, "approval")
	has(t, "the officer's approval page", pageText(t, approval.Link), auditNote, certNumber, flagText)
	s.decideLink(t, approval.Link, "approve", nil)

	vendorTask := func(step string, decide url.Values) {
		t.Helper()
		task := s.nextTask(t, id, step)
		if task.Task.AssigneeID != models.ContactPrefix+id {
			t.Fatalf("%s asked of %s, not the vendor's contact", step, task.Task.AssigneeID)
		}
		html, raw, obj := taskViews(t, task.Link)
		has(t, "the vendor's "+step+" page", html, work, "Sample Systems K.K.", date(-60), date(300))
		lacks(t, "the vendor's "+step+" page", html, town...)
		lacks(t, "the vendor's "+step+" page as JSON", raw, town...)
		if obj["summary"] != "" {
			t.Errorf("the vendor's %s page as JSON has the summary %q", step, obj["summary"])
		}
		lacks(t, "the vendor's "+step+" mail", s.assignedMail(t, task.Task), town...)
		s.decideLink(t, task.Link, decide.Get("decision"), decide)
	}
	vendorTask("briefing_acknowledgement", url.Values{"decision": {"acknowledge"}})
	var briefing models.OutboxMessage
	if err := s.Store.DB.Where("`key` = ?", id+"/briefing").First(&briefing).Error; err != nil {
		t.Fatalf("no briefing mail: %v", err)
	}
	has(t, "the briefing", briefing.Text, work, date(-60), date(300))
	lacks(t, "the briefing", briefing.Subject+briefing.Text, town...)
	vendorTask("certificate_renewal", url.Values{"decision": {"submit"}, "cert_number": {"IS 777777"}, "cert_expiry": {date(400)}})
	report := s.nextTask(t, id, "periodic_report")
	html, _, _ = taskViews(t, report.Link)
	has(t, "the vendor's report page", html, work, "Subcontracted")
	lacks(t, "the vendor's report page", html, town...)
	lacks(t, "the vendor's report mail", s.assignedMail(t, report.Task), town...)

	// The register shows the whole request, and the officer's selection view covers it.
	reg := call(t, http.MethodGet, "/api/v1/processes/"+id, s.token("auditor"), nil)
	if reg.Status != http.StatusOK {
		t.Fatalf("register: %s", reg)
	}
	has(t, "the register", string(reg.Body), auditNote, certNumber, policy.FlagCertExpiresBeforeEnd, "yamada@vendor.example", summaryText)
	input, _ := reg.object(t)["input"].(map[string]any)
	seen, _ := policy.Visible(models.KindOutsourcingReview, "selection_review")
	for k := range input {
		if !slices.Contains(seen, k) {
			t.Errorf("the register's %q is not declared for the selection review: the officer would not see it", k)
		}
	}
}

// HR's free-text note about a leaver reaches the department security officer who gets the
// lent assets back (§5.1(1)8), not the system managers disabling the accounts, the staff
// changing a shared password, nor the leaver; no mail carries it; the register has it.
func TestOffboardingNoteOnlyWhereNeeded(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dir := s.token("directory")
	leaver, dept := s.leaver(t)
	ism := s.addPerson(t, dept, "ism")
	sysID := uid("sys")
	if r := call(t, "PUT", "/api/v1/systems/"+sysID, dir, map[string]any{"name": sysID, "department": dept, "ism": ism.EmployeeID, "classification": 2}); r.Status != 201 {
		t.Fatalf("put system: %s", r)
	}
	call(t, "PUT", "/api/v1/systems/"+sysID+"/accounts/"+leaver.EmployeeID, dir, map[string]any{"holder": leaver.EmployeeID})
	call(t, "PUT", "/api/v1/systems/"+sysID+"/accounts/admin", dir, map[string]any{"shared": true, "privileged": true})
	call(t, "PUT", "/api/v1/systems/"+sysID+"/accounts/admin/known-by/"+leaver.EmployeeID, dir, nil)
	pc := uid("PC")
	call(t, "PUT", "/api/v1/people/"+leaver.EmployeeID+"/assets/"+pc, dir, map[string]any{"kind": "device", "description": "laptop"})

	const note = "On sick leave until the end; the laptop comes back by post"
	body := offboardingRequest(leaver.EmployeeID, "retirement", date(-2))
	body["note"] = note
	id := startedID(t, call(t, "POST", "/api/v1/offboardings", s.token("hr"), body), 201)
	defer s.cancel(t, id)
	tasks := s.openTasks(t, id, 4)
	steps := map[string]bool{}
	for _, task := range tasks {
		steps[task.Step] = true
		html, raw, _ := taskViews(t, s.linkOf(t, task))
		has(t, task.Step+" page", html, leaver.EmployeeID)
		lacks(t, task.Step+" page as JSON", raw, note)
		if task.Step == "confirm_assets" {
			has(t, "the officer's asset page", html, note, "Note from HR")
			continue
		}
		lacks(t, task.Step+" page", html, note, "Note from HR")
	}
	for _, step := range []string{"disable_accounts", "rotate_credential", "confirm_assets", "secrecy_acknowledgement"} {
		if !steps[step] {
			t.Errorf("no %s task among %v", step, steps)
		}
	}
	var mails []models.OutboxMessage
	if err := s.Store.DB.Where("`key` LIKE ?", id+"/%").Find(&mails).Error; err != nil || len(mails) < 4 {
		t.Fatalf("mails of %s: %d, %v", id, len(mails), err)
	}
	for _, m := range mails {
		lacks(t, fmt.Sprintf("the mail %s", m.Key), m.Subject+m.Text+m.HTML, note)
	}
	reg := call(t, http.MethodGet, "/api/v1/processes/"+id, s.token("auditor"), nil)
	if reg.Status != http.StatusOK {
		t.Fatalf("register: %s", reg)
	}
	if input, _ := reg.object(t)["input"].(map[string]any); input["note"] != note {
		t.Errorf("the register's input %v lacks HR's note", input)
	}
}
