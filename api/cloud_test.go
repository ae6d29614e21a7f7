package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// cloudRequest is a valid cloud service assessment: level 2 data stored in Japan and the US,
// so the rules say conditional (§8.3(2)) and the CISO must approve (town rules
// cloud_rules.json: ciso_approval_outside_home_regions, ciso_approval_conditional).
func cloudRequest(requester string) map[string]any {
	return map[string]any{
		"requester":          requester,
		"service":            "Online forms",
		"provider":           "Example Cloud KK",
		"purpose":            "Receiving applications from residents.",
		"classification":     2,
		"storage_regions":    []string{"JP", "US"},
		"processing_regions": []string{"JP"},
		"governing_law":      "JP",
		"jurisdiction":       "JP",
		"court":              "Nara District Court",
		"certifications": []map[string]string{
			{"kind": "ismap", "reference": "C21-0001-1", "issued_on": date(-200), "valid_until": date(600)},
		},
		"exit_plan":           "All data is returned as CSV three months before the end; a deletion certificate is received.",
		"security_design_ref": "SEC-DESIGN-2026-014",
	}
}

func TestStartCloudAssessmentRefused(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("officer")
	dept := uid("dept")
	// §8.3: the department security officer assesses the service, so does not ask for it
	// (policy.MayStart, as on the staff pages).
	officer := s.addPerson(t, dept, "diso")
	requester := s.addPerson(t, dept, "staff")
	retired := s.addPerson(t, dept, "staff")
	retired.Status = models.StatusRetired
	if _, err := s.Store.PutPeople(context.Background(), []models.Person{retired}); err != nil {
		t.Fatal(err)
	}
	noOfficer := s.addPerson(t, uid("dept"), "staff")
	with := func(kv ...any) map[string]any {
		b := cloudRequest(requester.EmployeeID)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(b, kv[i].(string))
			} else {
				b[kv[i].(string)] = kv[i+1]
			}
		}
		return b
	}
	cert := func(kind, issued, until string) []map[string]string {
		return []map[string]string{{"kind": kind, "issued_on": issued, "valid_until": until}}
	}
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"missing requester", with("requester", nil), 400, "validation_failed", "requester"},
		{"no service", with("service", " "), 400, "validation_failed", "service"},
		{"no provider", with("provider", nil), 400, "validation_failed", "provider"},
		{"no purpose", with("purpose", ""), 400, "validation_failed", "purpose"},
		{"service too long", with("service", strings.Repeat("s", 201)), 400, "validation_failed", "service"},
		{"classification 4", with("classification", 4), 400, "validation_failed", "classification"},
		{"no storage regions", with("storage_regions", []string{}), 400, "validation_failed", "storage_regions"},
		{"region not a code", with("processing_regions", []string{"Japan"}), 400, "validation_failed", "processing_regions"},
		{"lower-case region", with("storage_regions", []string{"jp"}), 400, "validation_failed", "storage_regions"},
		{"no governing law", with("governing_law", nil), 400, "validation_failed", "governing_law"},
		{"jurisdiction not a code", with("jurisdiction", "Tokyo"), 400, "validation_failed", "jurisdiction"},
		{"certification kind", with("certifications", cert("ISO 27001", date(-10), "")), 400, "validation_failed", "certifications[0].kind"},
		{"certification date", with("certifications", cert("ismap", "2026/01/01", "")), 400, "validation_failed", "certifications[0].issued_on"},
		{"certification in the future", with("certifications", cert("ismap", date(3), date(400))), 400, "validation_failed", "certifications[0].issued_on"},
		{"valid until before issued", with("certifications", cert("ismap", date(-10), date(-20))), 400, "validation_failed", "certifications[0].valid_until"},
		{"exit plan too long", with("exit_plan", strings.Repeat("e", 4001)), 400, "validation_failed", "exit_plan"},
		{"department not an ID", with("department", "総務課"), 400, "validation_failed", "department"},
		{"requester not in the directory", with("requester", uid("emp")), 422, "policy_violation", "requester"},
		{"requester retired", with("requester", retired.EmployeeID), 422, "policy_violation", "requester"},
		{"department without a security officer", with("requester", noOfficer.EmployeeID), 422, "policy_violation", "department"},
		{"requester is the officer who assesses it", with("requester", officer.EmployeeID), 422, "policy_violation", "requester"},
		{"malformed JSON", `{"requester": `, 400, "bad_request", ""},
		{"unknown field", with("rules", map[string]string{"outcome": "allowed"}), 400, "bad_request", ""},
		{"wrong type", with("classification", "2"), 400, "bad_request", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := call(t, http.MethodPost, "/api/v1/cloud-assessments", tok, c.body).wantError(t, c.status, c.code)
			if c.field != "" && e.Fields[c.field] == "" {
				t.Errorf("no message for %s: %+v", c.field, e)
			}
		})
	}
	call(t, http.MethodPost, "/api/v1/cloud-assessments", s.token("hr"), cloudRequest(requester.EmployeeID)).wantError(t, http.StatusForbidden, "forbidden")
	if n := s.countRows(t, &models.Process{}, "department_id = ? OR requester_id = ?", dept, noOfficer.EmployeeID); n != 0 {
		t.Errorf("refused requests registered %d processes", n)
	}
}

// startCloud starts an assessment and returns its process ID.
func (s *system) startCloud(t testing.TB, body map[string]any, headers ...string) (string, int) {
	t.Helper()
	r := call(t, http.MethodPost, "/api/v1/cloud-assessments", s.token("officer"), body, headers...)
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("start cloud assessment: %s", r)
	}
	var b startedBody
	r.decode(t, &b)
	if b.Kind != "cloud_assessment" || !strings.HasPrefix(b.ID, "CLD-") {
		t.Fatalf("unexpected answer %s", r)
	}
	return b.ID, r.Status
}

// waitForStep waits for the open task of a step and the link mailed for it.
func (s *system) waitForStep(t testing.TB, processID, step string) openTask {
	t.Helper()
	var task models.Task
	eventually(t, step+" of "+processID, func() (bool, string) {
		err := s.Store.DB.Where("process_id = ? AND step = ? AND status = ?", processID, step, models.TaskOpen).First(&task).Error
		return err == nil, fmt.Sprint(err)
	})
	var msg models.OutboxMessage
	eventually(t, "the mail of "+task.ID, func() (bool, string) {
		err := s.Store.DB.Where("`key` = ?", task.ID+"/assigned/"+task.AssigneeID).First(&msg).Error
		return err == nil, fmt.Sprint(err)
	})
	s.waitIdle(t, processID)
	return openTask{ProcessID: processID, Task: task, Link: linkPattern.FindString(msg.Text)}
}

func (s *system) waitForStatus(t testing.TB, processID, status string) processDetail {
	t.Helper()
	var d processDetail
	eventually(t, processID+" to be "+status, func() (bool, string) {
		d = s.process(t, processID)
		return d.Process.Status == status, d.Process.Status + "/" + d.Process.Stage
	})
	return d
}

func pageText(t testing.TB, link string) string {
	t.Helper()
	res, err := httpClient.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET task page: %d %s", res.StatusCode, b)
	}
	return string(b)
}

// The whole course through the task links: rules on the page, the officer's form, the
// CISO's approval, the register, termination and the exit plan.
func TestCloudAssessmentThroughTheLinks(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	s.addPerson(t, dept, "diso")
	requester := s.addPerson(t, dept, "staff")
	key := uid("idem")
	id, status := s.startCloud(t, cloudRequest(requester.EmployeeID), "Idempotency-Key", key)
	if status != http.StatusCreated {
		t.Fatalf("status %d", status)
	}
	if again, status := s.startCloud(t, cloudRequest(requester.EmployeeID), "Idempotency-Key", key); again != id || status != http.StatusOK {
		t.Errorf("idempotent repeat gave %s (%d), want %s (200)", again, status, id)
	}

	assess := s.waitForStep(t, id, "diso_assessment")
	page := pageText(t, assess.Link)
	for _, want := range []string{"What the rules say (§8.3)", "Rules&#39; verdict: conditional", "rules: conditional", "§8.3(2) conditional",
		"town rule cloud_rules.json: ciso_approval_outside_home_regions", "town rule cloud_rules.json: ciso_approval_conditional",
		"Example Cloud KK", "§8.3(5) Reliability"} {
		if !strings.Contains(page, want) {
			t.Errorf("the officer's page lacks %q", want)
		}
	}
	// §4.1(5) is about equipment placed outside the premises: not what the rules check.
	if strings.Contains(page, "4.1(5)") {
		t.Error("the officer's page cites §4.1(5)")
	}
	// Terminating a service still being assessed is refused.
	call(t, http.MethodPost, "/api/v1/cloud-assessments/"+id+"/terminate", s.token("officer"), map[string]string{"reason": "x"}).
		wantError(t, http.StatusConflict, "conflict")

	form := url.Values{"decision": {"assessed"}}
	for _, k := range policy.CloudCriteria {
		form.Set(k.Name, "pass")
		form.Set(k.Name+"_note", "checked against the contract draft")
	}
	form.Set("reliability", "")
	if r := post(t, assess.Link, form, true); r.Status != http.StatusBadRequest {
		t.Fatalf("a form without every criterion: %s", r)
	}
	form.Set("reliability", "pass")
	if r := post(t, assess.Link, form, true); r.Status != http.StatusOK {
		t.Fatalf("assessment: %s", r)
	}

	approve := s.waitForStep(t, id, "ciso_approval")
	if approve.Task.AssigneeID != sharedCISO {
		t.Errorf("approval asked of %s", approve.Task.AssigneeID)
	}
	if !strings.Contains(pageText(t, approve.Link), "§8.3(2) conditional") {
		t.Error("the CISO's page does not show the rules")
	}
	if r := post(t, approve.Link, decision("approve", "ok with the US backup region"), true); r.Status != http.StatusOK {
		t.Fatalf("approval: %s", r)
	}
	d := s.waitForStatus(t, id, "approved")
	if d.Process.Stage != "in_use" {
		t.Errorf("stage %s", d.Process.Stage)
	}
	reg := call(t, http.MethodGet, "/api/v1/cloud-services?status=approved", s.token("auditor"), nil)
	var list struct {
		Items []map[string]any `json:"items"`
	}
	reg.decode(t, &list)
	found := false
	for _, x := range list.Items {
		if x["process_id"] == id {
			found = true
			fy := policy.FiscalYear(timeNowTokyo())
			if x["next_reassessment"] != fmt.Sprintf("%d-04-01", fy+1) || x["outcome"] != "conditional" || x["approved_at"] == nil {
				t.Errorf("register row %v", x)
			}
		}
	}
	if !found {
		t.Fatalf("approved service not in the register: %s", reg)
	}
	call(t, http.MethodGet, "/api/v1/cloud-services?status=bogus", s.token("auditor"), nil).wantError(t, http.StatusBadRequest, "validation_failed")

	// Ending the service runs the exit plan.
	call(t, http.MethodPost, "/api/v1/cloud-assessments/"+id+"/terminate", s.token("officer"), map[string]string{"reason": " "}).
		wantError(t, http.StatusBadRequest, "validation_failed")
	if r := call(t, http.MethodPost, "/api/v1/cloud-assessments/"+id+"/terminate", s.token("officer"), map[string]string{"reason": "replaced by the new system"}); r.Status != http.StatusAccepted {
		t.Fatalf("terminate: %s", r)
	}
	if r := call(t, http.MethodPost, "/api/v1/cloud-assessments/"+id+"/terminate", s.token("officer"), map[string]string{"reason": "again"}); r.Status != http.StatusAccepted {
		t.Errorf("a repeated termination: %s, want 202 again", r)
	}
	exit := s.waitForStep(t, id, "exit_confirmation")
	if r := post(t, exit.Link, url.Values{"decision": {"done"}, "data_migrated": {"migrated"}, "data_deleted": {"confirmed"},
		"deleted_on": {timeNowTokyo().Format("2006-01-02")}, "evidence": {"deletion certificate no. 42"}}, true); r.Status != http.StatusOK {
		t.Fatalf("exit: %s", r)
	}
	d = s.waitForStatus(t, id, "terminated")
	if len(d.Decisions) != 3 {
		t.Errorf("%d decisions", len(d.Decisions))
	}
	row, err := s.Store.CloudServiceByID(context.Background(), id)
	if err != nil || row.Status != models.CloudTerminated || row.TerminationReason != "replaced by the new system" {
		t.Errorf("register row %+v %v", row, err)
	}
	call(t, http.MethodPost, "/api/v1/cloud-assessments/"+id+"/terminate", s.token("officer"), map[string]string{"reason": "x"}).
		wantError(t, http.StatusConflict, "conflict")
	call(t, http.MethodPost, "/api/v1/cloud-assessments/"+uid("CLD")+"/terminate", s.token("officer"), map[string]string{"reason": "x"}).
		wantError(t, http.StatusNotFound, "not_found")
}

// Level 1 data without an exit plan: the rules deny, and the department security officer
// judges (§8.3). Their page and mail show the verdict; a reason is required; sent to the
// CISO, whose page shows the officer's reason, the CISO approves with conditions.
func TestCloudAssessmentDeniedByTheRules(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	officer := s.addPerson(t, dept, "diso")
	requester := s.addPerson(t, dept, "staff")
	body := cloudRequest(requester.EmployeeID)
	body["classification"] = 1
	body["exit_plan"] = ""
	id, _ := s.startCloud(t, body)

	review := s.waitForStep(t, id, "denial_review")
	if review.Task.AssigneeID != officer.EmployeeID {
		t.Errorf("the review asked of %s, want the department's officer %s", review.Task.AssigneeID, officer.EmployeeID)
	}
	var mail models.OutboxMessage
	if err := s.Store.DB.Where("`key` = ?", review.Task.ID+"/assigned/"+officer.EmployeeID).First(&mail).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mail.Subject, "rules: denied") || !strings.Contains(mail.Text, "rules: denied") {
		t.Errorf("the officer's mail does not show the verdict: %q\n%s", mail.Subject, mail.Text)
	}
	page := pageText(t, review.Link)
	for _, want := range []string{"rules: denied", "Rules&#39; verdict: denied", "§8.3(3) denied", "Refuse the service", "Send it to the CISO"} {
		if !strings.Contains(page, want) {
			t.Errorf("the officer's page lacks %q", want)
		}
	}
	if r := post(t, review.Link, decision("refer_to_ciso", ""), true); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "reason") {
		t.Fatalf("a referral without a reason: %s", r)
	}
	form := decision("refer_to_ciso", "")
	form.Set("reason", "The exit plan is in the draft contract's annex; the service replaces a paper process.")
	if r := post(t, review.Link, form, true); r.Status != http.StatusOK {
		t.Fatalf("referral: %s", r)
	}

	referral := s.waitForStep(t, id, "ciso_referral")
	if referral.Task.AssigneeID != sharedCISO {
		t.Errorf("the referral asked of %s", referral.Task.AssigneeID)
	}
	page = pageText(t, referral.Link)
	for _, want := range []string{"The department security officer&#39;s reason", "the service replaces a paper process", "§8.3(3) denied"} {
		if !strings.Contains(page, want) {
			t.Errorf("the CISO's page lacks %q", want)
		}
	}
	if r := post(t, referral.Link, decision("approve", ""), true); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "conditions") {
		t.Fatalf("an approval without conditions: %s", r)
	}
	form = decision("approve", "")
	form.Set("conditions", "Exit plan signed before the contract.")
	if r := post(t, referral.Link, form, true); r.Status != http.StatusOK {
		t.Fatalf("approval: %s", r)
	}
	d := s.waitForStatus(t, id, "approved")
	if len(d.Decisions) != 2 {
		t.Errorf("%d decisions, want the officer's and the CISO's", len(d.Decisions))
	}
	r := call(t, http.MethodGet, "/api/v1/processes/"+id, s.token("auditor"), nil)
	var got struct {
		Input struct {
			Rules policy.CloudEvaluation `json:"rules"`
		} `json:"input"`
	}
	r.decode(t, &got)
	if got.Input.Rules.Outcome != policy.CloudDenied || got.Input.Rules.Criterion(policy.CriterionExitPlan) != policy.CloudDenied {
		t.Errorf("the verdict is not recorded: %s", r)
	}
}

// The officer confirms the rules' refusal: a reason is required, and the process ends
// refused with the officer's decision and reason in the register.
func TestCloudAssessmentDenialConfirmedByTheOfficer(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	officer := s.addPerson(t, dept, "diso")
	requester := s.addPerson(t, dept, "staff")
	body := cloudRequest(requester.EmployeeID)
	body["classification"] = 1
	body["exit_plan"] = ""
	id, _ := s.startCloud(t, body)
	review := s.waitForStep(t, id, "denial_review")
	if r := post(t, review.Link, decision("confirm_refusal", "no reason field"), true); r.Status != http.StatusBadRequest {
		t.Fatalf("a refusal without a reason: %s", r)
	}
	form := decision("confirm_refusal", "")
	form.Set("reason", "No exit plan for residents' data.")
	if r := post(t, review.Link, form, true); r.Status != http.StatusOK {
		t.Fatalf("refusal: %s", r)
	}
	d := s.waitForStatus(t, id, "refused")
	if len(d.Decisions) != 1 || d.Decisions[0].Decision != "confirm_refusal" || d.Decisions[0].DeciderID != officer.EmployeeID {
		t.Errorf("decisions %+v", d.Decisions)
	}
	r := call(t, http.MethodGet, "/api/v1/processes/"+id, s.token("auditor"), nil)
	if !strings.Contains(string(r.Body), "No exit plan for residents' data.") {
		t.Errorf("the officer's reason is not in the register: %s", r)
	}
	row, err := s.Store.CloudServiceByID(context.Background(), id)
	if err != nil || row.Status != models.CloudDenied {
		t.Errorf("register row %+v %v", row, err)
	}
}

func timeNowTokyo() time.Time { return time.Now().In(tokyo) }
