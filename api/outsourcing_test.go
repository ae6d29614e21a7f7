package api_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/policyflow/policyflow/models"
)

// outsourcingRequest is a valid review by requester: level 1 data, a three-year contract
// starting in a month, a certificate that expires a year before the contract ends.
func outsourcingRequest(requester string) map[string]any {
	return map[string]any{
		"requester": requester,
		"vendor": map[string]any{
			"name": "Sample Systems K.K.", "corporate_number": "7000012050002",
			"contact_name": "Yamada", "contact_email": "yamada@vendor.example", "contact_locale": "en",
		},
		"work": "Maintenance of the resident registry system",
		"assets": []map[string]any{
			{"name": "Resident registry data", "class": "electronic", "classification": 1},
			{"name": "Work logs", "class": "paper", "classification": 2},
		},
		"classification":         1,
		"subcontracted":          false,
		"contract_start":         date(30),
		"contract_end":           date(30 + 3*365),
		"certificate":            map[string]any{"number": "IS 123456", "expiry": date(30 + 2*365)},
		"audit":                  map[string]any{"status": "passed", "summary": "External audit 2026: no findings"},
		"report_interval_months": 3,
	}
}

func with(body map[string]any, path string, v any) map[string]any {
	out := map[string]any{}
	for k, x := range body {
		out[k] = x
	}
	if parent, key, ok := strings.Cut(path, "."); ok {
		inner := map[string]any{}
		for k, x := range out[parent].(map[string]any) {
			inner[k] = x
		}
		if v == nil {
			delete(inner, key)
		} else {
			inner[key] = v
		}
		out[parent] = inner
		return out
	}
	if v == nil {
		delete(out, path)
	} else {
		out[path] = v
	}
	return out
}

func TestOutsourcingReviewValidation(t *testing.T) {
	s := sys(t)
	requester := s.addPerson(t, uid("dept"), "staff")
	ok := outsourcingRequest(requester.EmployeeID)
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"corporate number check digit", with(ok, "vendor.corporate_number", "7000012050003"), "vendor.corporate_number"},
		{"corporate number length", with(ok, "vendor.corporate_number", "700001205000"), "vendor.corporate_number"},
		{"corporate number digits", with(ok, "vendor.corporate_number", "70000120500O2"), "vendor.corporate_number"},
		{"neither corporate number nor other identifier", with(ok, "vendor.corporate_number", nil), "vendor.corporate_number"},
		{"other identifier without a reason", with(with(ok, "vendor.corporate_number", nil), "vendor.other_identifier", "T1234567890123"), "vendor.identifier_reason"},
		{"other identifier beside a corporate number", with(ok, "vendor.other_identifier", "T1234567890123"), "vendor.other_identifier"},
		{"other identifier does not excuse a bad check digit", with(with(with(ok, "vendor.corporate_number", "7000012050003"), "vendor.other_identifier", "X"), "vendor.identifier_reason", "y"), "vendor.corporate_number"},
		{"contact email", with(ok, "vendor.contact_email", "Yamada <yamada@vendor.example>"), "vendor.contact_email"},
		{"contact email missing", with(ok, "vendor.contact_email", nil), "vendor.contact_email"},
		{"contact locale", with(ok, "vendor.contact_locale", "fr"), "vendor.contact_locale"},
		{"vendor name", with(ok, "vendor.name", " "), "vendor.name"},
		{"work", with(ok, "work", ""), "work"},
		{"no assets", with(ok, "assets", []any{}), "assets"},
		{"asset class", with(ok, "assets", []map[string]any{{"name": "x", "class": "cloud", "classification": 1}}), "assets[0].class"},
		{"asset level", with(ok, "assets", []map[string]any{{"name": "x", "class": "paper", "classification": 4}}), "assets[0].classification"},
		{"classification not the highest", with(ok, "classification", 2), "classification"},
		{"classification out of range", with(ok, "classification", 0), "classification"},
		{"subcontracted without subcontractors", with(ok, "subcontracted", true), "subcontractors"},
		{"subcontractors without subcontracting", with(ok, "subcontractors", []string{"Sub K.K."}), "subcontractors"},
		{"start not a date", with(ok, "contract_start", "2027-02-30"), "contract_start"},
		{"end before start", with(ok, "contract_end", date(10)), "contract_end"},
		{"end in the past", with(with(ok, "contract_start", date(-400)), "contract_end", date(-1)), "contract_end"},
		{"more than ten years", with(ok, "contract_end", date(30+11*365)), "contract_end"},
		{"certificate expiry", with(ok, "certificate.expiry", "soon"), "certificate.expiry"},
		{"certificate number", with(ok, "certificate.number", ""), "certificate.number"},
		{"audit status", with(ok, "audit.status", "great"), "audit.status"},
		{"report interval", with(ok, "report_interval_months", 0), "report_interval_months"},
		{"report interval too long", with(ok, "report_interval_months", 13), "report_interval_months"},
		{"requester", with(ok, "requester", "a b"), "requester"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := call(t, http.MethodPost, "/api/v1/outsourcing-reviews", s.token("officer"), tt.body).wantError(t, 400, "validation_failed")
			if _, ok := e.Fields[tt.field]; !ok {
				t.Errorf("fields = %v, want %s", e.Fields, tt.field)
			}
		})
	}
	// A sole proprietor or a foreign company has no 法人番号: another identifier and the
	// reason register it.
	t.Run("vendor without a corporate number", func(t *testing.T) {
		body := with(with(with(ok, "vendor.corporate_number", nil), "vendor.other_identifier", "UK Companies House 01234567"), "vendor.identifier_reason", "a foreign company: no 法人番号")
		r := call(t, http.MethodPost, "/api/v1/outsourcing-reviews", s.token("officer"), body)
		if r.Status != http.StatusCreated {
			t.Fatalf("start: %s", r)
		}
		var a startedBody
		r.decode(t, &a)
		defer s.cancel(t, a.ID)
		if n := s.countRows(t, &models.OutsourcingReview{}, "process_id = ? AND corporate_number = '' AND other_identifier = ? AND identifier_reason <> ''", a.ID, "UK Companies House 01234567"); n != 1 {
			t.Errorf("%d review rows with the other identifier for %s", n, a.ID)
		}
	})
	t.Run("unknown field", func(t *testing.T) {
		call(t, http.MethodPost, "/api/v1/outsourcing-reviews", s.token("officer"), with(ok, "vendor.phone", "03")).wantError(t, 400, "bad_request")
	})
	t.Run("unknown requester", func(t *testing.T) {
		call(t, http.MethodPost, "/api/v1/outsourcing-reviews", s.token("officer"), with(ok, "requester", uid("nobody"))).wantError(t, 422, "policy_violation")
	})
	// §8.1(1): the department security officer confirms the vendor's selection, so does not
	// file the review (policy.MayStart, as on the staff pages): it could only expire, as
	// nobody may review in the officer's place.
	t.Run("requester is the officer who reviews it", func(t *testing.T) {
		officer := s.addPerson(t, uid("dept"), "diso", "ism")
		e := call(t, http.MethodPost, "/api/v1/outsourcing-reviews", s.token("officer"), with(ok, "requester", officer.EmployeeID)).wantError(t, 422, "policy_violation")
		if e.Fields["requester"] == "" {
			t.Errorf("no message for the requester: %+v", e)
		}
		if n := s.countRows(t, &models.Process{}, "requester_id = ?", officer.EmployeeID); n != 0 {
			t.Errorf("a refused review registered %d processes", n)
		}
	})
	t.Run("scope", func(t *testing.T) {
		call(t, http.MethodPost, "/api/v1/outsourcing-reviews", s.token("hr"), ok).wantError(t, 403, "forbidden")
		call(t, http.MethodPost, "/api/v1/outsourcing-reviews", "", ok).wantError(t, 401, "unauthorized")
	})
}

func TestOutsourcingReviewIdempotency(t *testing.T) {
	s := sys(t)
	requester := s.addPerson(t, uid("dept"), "staff")
	body := outsourcingRequest(requester.EmployeeID)
	key := uid("out-key")
	first := call(t, http.MethodPost, "/api/v1/outsourcing-reviews", s.token("officer"), body, "Idempotency-Key", key)
	if first.Status != http.StatusCreated {
		t.Fatalf("start: %s", first)
	}
	again := call(t, http.MethodPost, "/api/v1/outsourcing-reviews", s.token("officer"), body, "Idempotency-Key", key)
	if again.Status != http.StatusOK {
		t.Fatalf("repeat: %s", again)
	}
	var a, b startedBody
	first.decode(t, &a)
	again.decode(t, &b)
	if a.ID != b.ID || a.Kind != "outsourcing_review" {
		t.Errorf("repeat gave %+v, first %+v", b, a)
	}
	call(t, http.MethodPost, "/api/v1/outsourcing-reviews", s.token("officer"), with(body, "work", "Something else"), "Idempotency-Key", key).wantError(t, 409, "conflict")
	if n := s.countRows(t, &models.OutsourcingReview{}, "process_id = ?", a.ID); n != 1 {
		t.Errorf("%d review rows for %s", n, a.ID)
	}
	s.cancel(t, a.ID)
}

// cancel ends a test's process so it leaves no running workflow behind.
func (s *system) cancel(t *testing.T, id string) {
	t.Helper()
	r := call(t, http.MethodPost, "/api/v1/processes/"+id+"/cancel", s.token("admin"), map[string]any{"reason": "end of test"})
	if r.Status != http.StatusOK && r.Status != http.StatusAccepted {
		t.Logf("cancel %s: %s", id, r)
	}
}

// TestOutsourcingReviewThroughTheLinks runs the review through the mailed links: the DISO
// sees the certificate flag on the page, a member of the GISO's office marks a clause
// missing, the requester resubmits, the clauses are complete, the DISO approves and the
// vendor's contact, who is not in the directory, acknowledges the briefing through a link
// bound to them.
func TestOutsourcingReviewThroughTheLinks(t *testing.T) {
	s := sys(t)
	dept := uid("dept")
	diso := s.addPerson(t, dept, "diso")
	requester := s.addPerson(t, dept, "staff")
	reviewer := s.addPerson(t, "town-office", "staff")
	r := call(t, http.MethodPost, "/api/v1/outsourcing-reviews", s.token("officer"), outsourcingRequest(requester.EmployeeID))
	if r.Status != http.StatusCreated {
		t.Fatalf("start: %s", r)
	}
	var started startedBody
	r.decode(t, &started)
	id := started.ID

	sel := s.waitForOpenTask(t, id)
	equal(t, "selection assignee", sel.Task.AssigneeID, diso.EmployeeID)
	page := call(t, http.MethodGet, strings.TrimPrefix(sel.Link, s.URL), "", nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), "expires before the contract ends") || !strings.Contains(string(page.Body), "7000012050002") {
		t.Fatalf("selection page does not flag the certificate: %s", page)
	}
	// §8.1(1)1: an answer that the vendor's measures do not fit the work rules out approval.
	notFit := decision("approve", "")
	for k, v := range map[string]string{"certificate_check": "expires_during_contract", "audit_check": "passed", "measures_fit": "no"} {
		notFit.Set(k, v)
	}
	if e := post(t, sel.Link, notFit, true).wantError(t, 400, "validation_failed"); e.Fields["measures_fit"] == "" {
		t.Errorf("fields = %v, want measures_fit", e.Fields)
	}
	s.decideLink(t, sel.Link, "approve", url.Values{"certificate_check": {"expires_during_contract"}, "audit_check": {"passed"}, "measures_fit": {"yes"}})

	review := s.nextTask(t, id, "clause_review")
	equal(t, "clause reviewer", review.Task.AssigneeID, reviewer.EmployeeID)
	marks := url.Values{}
	for _, k := range []string{"policy_compliance", "responsibility", "service_level", "access_scope", "staff_training", "purpose_limitation",
		"confidentiality", "subcontracting", "return_disposal", "reporting", "publication", "non_compliance"} {
		marks.Set("clause_"+k, "present")
		marks.Set("article_"+k, "第"+fmt.Sprint(len(marks))+"条")
	}
	marks.Set("clause_publication", "missing")
	marks.Del("article_publication")
	withNote := decision("done", "公表の条項が見当たりません")
	for k, v := range marks {
		withNote[k] = v
	}
	if r := post(t, review.Link, withNote, true); r.Status != http.StatusOK {
		t.Fatalf("clause review: %s", r)
	}

	// The returned draft (issue 14): the requester's page names the reviewer, the note and
	// the clause found missing; a resubmission must answer for it, and its answer is what
	// the next round's reviewer reads.
	revision := s.nextTask(t, id, "requester_revision")
	equal(t, "revision assignee", revision.Task.AssigneeID, requester.EmployeeID)
	revPage := html.UnescapeString(string(call(t, http.MethodGet, strings.TrimPrefix(revision.Link, s.URL), "", nil).Body))
	for _, want := range []string{reviewer.Name, "公表の条項が見当たりません", "11. Publication by the town when a security incident occurs — missing"} {
		if !strings.Contains(revPage, want) {
			t.Errorf("the revision page lacks %q:\n%s", want, revPage)
		}
	}
	// The form starts from the draft as reviewed: the clauses accepted, with their articles;
	// the one found missing is left to answer.
	var info struct{ Values map[string]string }
	call(t, http.MethodGet, strings.TrimPrefix(revision.Link, s.URL), "", nil, "Accept", "application/json").decode(t, &info)
	if info.Values["clause_policy_compliance"] != "present" || info.Values["article_policy_compliance"] != marks.Get("article_policy_compliance") ||
		info.Values["clause_publication"] != "" {
		t.Errorf("the revision form starts from %v, want the accepted clauses and not the missing one", info.Values)
	}
	if e := post(t, revision.Link, decision("resubmit", ""), true).wantError(t, 400, "validation_failed"); e.Fields["clause_publication"] == "" || len(e.Fields) != 1 {
		t.Errorf("fields = %v, want clause_publication (the clause found missing) alone", e.Fields)
	}
	s.decideLink(t, revision.Link, "resubmit", url.Values{"clause_publication": {"present"}, "article_publication": {"第12条"}})

	review2 := s.nextTask(t, id, "clause_review")
	if page := html.UnescapeString(string(call(t, http.MethodGet, strings.TrimPrefix(review2.Link, s.URL), "", nil).Body)); !strings.Contains(page, "11. Publication by the town when a security incident occurs — stated in: 第12条") {
		t.Errorf("the second clause review does not show the requester's answer:\n%s", page)
	}
	if page := call(t, http.MethodGet, strings.TrimPrefix(review2.Link, s.URL), "", nil); page.Status != 200 ||
		!(strings.Contains(string(page.Body), "required when 3.") || strings.Contains(string(page.Body), "の場合は必須")) {
		t.Errorf("the clause page does not say when the reason is required: %s", page)
	}
	marks.Set("clause_publication", "present")
	marks.Set("article_publication", "第12条")
	// §8.1(2) 「必要に応じて」: the service level does not apply to this work; the reviewer
	// accepts the reason, which the page requires and the register keeps.
	marks.Set("clause_service_level", "not_applicable")
	marks.Del("article_service_level")
	noReason := decision("done", "")
	for k, v := range marks {
		noReason[k] = v
	}
	if e := post(t, review2.Link, noReason, true).wantError(t, 400, "validation_failed"); e.Fields["na_reason_service_level"] == "" {
		t.Errorf("fields = %v, want na_reason_service_level", e.Fields)
	}
	marks.Set("na_reason_service_level", "一回限りのデータ移行で、継続的なサービス提供を伴わない")
	s.decideLink(t, review2.Link, "done", marks)

	approval := s.nextTask(t, id, "approval")
	s.decideLink(t, approval.Link, "approve", nil)

	ack := s.nextTask(t, id, "briefing_acknowledgement")
	equal(t, "briefing assignee", ack.Task.AssigneeID, models.ContactPrefix+id)
	var briefing models.OutboxMessage
	if err := s.Store.DB.Where("`key` = ?", id+"/briefing").First(&briefing).Error; err != nil {
		t.Fatalf("no briefing mail: %v", err)
	}
	equal(t, "briefing to", briefing.To, "yamada@vendor.example")
	if !strings.Contains(briefing.Text, "Publication by the town when a security incident occurs") {
		t.Errorf("briefing does not list the requirements:\n%s", briefing.Text)
	}
	var ackMail models.OutboxMessage
	if err := s.Store.DB.Where("`key` = ?", ack.Task.ID+"/assigned/"+models.ContactPrefix+id).First(&ackMail).Error; err != nil || ackMail.To != "yamada@vendor.example" {
		t.Fatalf("acknowledgement mail: %v %q", err, ackMail.To)
	}
	page = call(t, http.MethodGet, strings.TrimPrefix(ack.Link, s.URL), "", nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), "Sample Systems K.K. Yamada") {
		t.Fatalf("the contact's page: %s", page)
	}
	s.decideLink(t, ack.Link, "acknowledge", nil)
	// The link worked once.
	post(t, ack.Link, decision("acknowledge", ""), true).wantError(t, 410, "gone")

	eventually(t, "the contract to wait for its start", func() (bool, string) {
		p, err := s.Store.Process(context.Background(), id)
		return err == nil && p.Stage == "awaiting_start", p.Stage
	})
	marksRows, err := s.Store.ClauseMarks(context.Background(), id)
	if err != nil || len(marksRows) != 24 {
		t.Fatalf("clause marks: %d, %v", len(marksRows), err)
	}
	equal(t, "round 1 publication", marksRows[10].Mark, "missing")
	equal(t, "round 2 article", marksRows[22].Clause+" "+marksRows[22].Article, "publication 第12条")
	equal(t, "round 2 not applicable", marksRows[14].Clause+" "+marksRows[14].Mark, "service_level not_applicable")
	equal(t, "its reason", marksRows[14].Reason, "一回限りのデータ移行で、継続的なサービス提供を伴わない")
	d := s.process(t, id)
	var deciders []string
	for _, dec := range d.Decisions {
		deciders = append(deciders, dec.TaskID+"="+dec.DeciderID)
	}
	if !strings.Contains(strings.Join(deciders, " "), "briefing_acknowledgement/1="+models.ContactPrefix+id) {
		t.Errorf("decisions = %v", deciders)
	}
	s.cancel(t, id)
}

// nextTask waits for the process's open task of step and its link.
func (s *system) nextTask(t *testing.T, processID, step string) openTask {
	t.Helper()
	var task models.Task
	eventually(t, "task "+step+" of "+processID, func() (bool, string) {
		err := s.Store.DB.Where("process_id = ? AND step = ? AND status = ?", processID, step, models.TaskOpen).First(&task).Error
		return err == nil, fmt.Sprint(err)
	})
	var msg models.OutboxMessage
	eventually(t, "the mail of task "+task.ID, func() (bool, string) {
		err := s.Store.DB.Where("`key` = ?", task.ID+"/assigned/"+task.AssigneeID).First(&msg).Error
		return err == nil, fmt.Sprint(err)
	})
	return openTask{ProcessID: processID, Task: task, Link: linkPattern.FindString(msg.Text)}
}

// decideLink POSTs a decision with form values through a link and expects it recorded.
func (s *system) decideLink(t *testing.T, link, choice string, values url.Values) {
	t.Helper()
	form := decision(choice, "")
	for k, v := range values {
		form[k] = v
	}
	r := post(t, link, form, true)
	if r.Status != http.StatusOK {
		t.Fatalf("decide %s: %s", choice, r)
	}
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
