package api_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/policyflow/policyflow/models"
)

// A return can be acted on (issue 14): the requester's mail and page show who returned the
// exception, when, and the comment; the page's form holds the request's values; a revision
// that the filing would refuse (an end before the start) is answered 400 with the field's
// error next to it, the values kept, and changes nothing; a valid one is the request's next
// version, which the next round's reviewer sees and the register lists with what changed.
func TestExceptionReturnRevisedThroughTheLink(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newOpenTask(t)
	const comment = "代替措置を具体的に記載してください"
	if r := post(t, o.Link, decision("return", comment), true); r.Status != http.StatusOK {
		t.Fatalf("POST return: %s", r)
	}
	rev := s.waitForOpenTask(t, o.ProcessID)
	if rev.Task.Step != "requester_revision" || rev.Task.ReturnOf != o.Task.ID {
		t.Fatalf("open task %s (return of %q), want the requester's revision of %s", rev.Task.ID, rev.Task.ReturnOf, o.Task.ID)
	}

	// The mail names the returner and carries the comment.
	var mail models.OutboxMessage
	if err := s.Store.DB.Where("`key` = ?", rev.Task.ID+"/assigned/"+o.Requester.EmployeeID).First(&mail).Error; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Returned by: " + sharedCISOName, comment} {
		if !strings.Contains(mail.Text, want) || !strings.Contains(mail.HTML, want) {
			t.Errorf("the revision's mail lacks %q:\n%s", want, mail.Text)
		}
	}

	// The page shows the return and holds the request's values.
	page := call(t, http.MethodGet, rev.Link, "", nil)
	body := html.UnescapeString(string(page.Body))
	for _, want := range []string{"This request was returned to you", sharedCISOName, comment,
		"The logs are copied to a USB disk by hand every Friday.", `value="` + date(30) + `"`} {
		if page.Status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("the revision page (%d) lacks %q", page.Status, want)
		}
	}

	// A revision the filing would refuse: 400, the field named, nothing changed.
	before := s.snapshot(t, o.ProcessID)
	bad := url.Values{"decision": {"resubmit"}, "alternative": {"The ISM reviews the access log daily."},
		"start_date": {date(20)}, "end_date": {date(10)}}
	e := post(t, rev.Link, bad, true).wantError(t, http.StatusBadRequest, "validation_failed")
	if e.Fields["end_date"] != "must be after start_date" {
		t.Errorf("fields = %v, want end_date: must be after start_date", e.Fields)
	}
	asPage := post(t, rev.Link, bad, false)
	pageBody := html.UnescapeString(string(asPage.Body))
	if asPage.Status != http.StatusBadRequest || !strings.Contains(pageBody, `id="e-end_date" role="alert">must be after start_date`) ||
		!strings.Contains(pageBody, "The ISM reviews the access log daily.") || !strings.Contains(pageBody, comment) {
		t.Errorf("the page of a bad revision (%d) shows no error next to end_date, or loses the values or the return:\n%s", asPage.Status, pageBody)
	}
	if after := s.snapshot(t, o.ProcessID); after != before {
		t.Errorf("a refused revision changed the register:\nbefore %s\nafter %s", before, after)
	}

	// A valid revision: the alternative measure changes.
	const better = "The ISM reviews the access log every morning and records it."
	good := url.Values{"decision": {"resubmit"}, "alternative": {better}, "reason": {"The log server is being replaced."},
		"start_date": {date(1)}, "end_date": {date(30)}}
	if r := post(t, rev.Link, good, true); r.Status != http.StatusOK {
		t.Fatalf("POST resubmit: %s", r)
	}
	review2 := s.waitForOpenTask(t, o.ProcessID)
	if review2.Task.Step != "ciso_review" || review2.Task.ID == o.Task.ID {
		t.Fatalf("open task %s, want the second review", review2.Task.ID)
	}
	p2 := html.UnescapeString(string(call(t, http.MethodGet, review2.Link, "", nil).Body))
	if !strings.Contains(p2, better) || !strings.Contains(p2, "2 (revised after a return; changed since the version before: What is done instead)") {
		t.Errorf("the second review does not show the revised alternative measure as version 2:\n%s", p2)
	}

	r := call(t, http.MethodGet, "/api/v1/processes/"+o.ProcessID, s.token("auditor"), nil)
	var d struct {
		Versions []struct {
			Version       int                  `json:"version"`
			By            string               `json:"by"`
			ReturnBy      string               `json:"return_by"`
			ReturnComment string               `json:"return_comment"`
			Request       map[string]any       `json:"request"`
			Changes       []models.FieldChange `json:"changes"`
		} `json:"versions"`
	}
	r.decode(t, &d)
	if len(d.Versions) != 2 {
		t.Fatalf("versions = %+v, want the filed and the revised", d.Versions)
	}
	v2 := d.Versions[1]
	if v2.Version != 2 || v2.By != o.Requester.EmployeeID || v2.ReturnBy != sharedCISO || v2.ReturnComment != comment ||
		v2.Request["alternative"] != better || len(v2.Changes) != 1 || v2.Changes[0].Field != "alternative" {
		b, _ := json.Marshal(v2)
		t.Errorf("version 2 = %s, want the revision by the requester of the CISO's return, changing the alternative", b)
	}
}

// A vendor selection returned because the vendor's measures do not fit the work (§8.1(1)1)
// is changed through the revision's link (issue 14): the page holds the selection's values;
// a vendor the filing would refuse (a corporate number whose check digit is wrong) is a 400
// with the error next to the field, the typed values kept, and changes nothing; another
// vendor, without a corporate number but with a certificate valid for the whole contract,
// becomes version 2, which the next selection round reads without the old flag, and the
// register's review and the vendor's contact name it too.
func TestOutsourcingSelectionReturnRevisedThroughTheLink(t *testing.T) {
	s := sys(t)
	dept := uid("dept")
	diso := s.addPerson(t, dept, "diso")
	requester := s.addPerson(t, dept, "staff")
	s.addPerson(t, "town-office", "staff")
	r := call(t, http.MethodPost, "/api/v1/outsourcing-reviews", s.token("officer"), outsourcingRequest(requester.EmployeeID))
	if r.Status != http.StatusCreated {
		t.Fatalf("start: %s", r)
	}
	var started startedBody
	r.decode(t, &started)
	id := started.ID
	defer s.cancel(t, id)

	sel := s.waitForOpenTask(t, id)
	equal(t, "selection assignee", sel.Task.AssigneeID, diso.EmployeeID)
	const comment = "認証の有効期限が契約期間を満たす事業者を選定してください"
	ret := decision("return", comment)
	for k, v := range map[string]string{"certificate_check": "expires_during_contract", "audit_check": "passed", "measures_fit": "no"} {
		ret.Set(k, v)
	}
	if r := post(t, sel.Link, ret, true); r.Status != http.StatusOK {
		t.Fatalf("return: %s", r)
	}

	rev := s.nextTask(t, id, "selection_revision")
	equal(t, "revision answers", rev.Task.ReturnOf, sel.Task.ID)
	page := html.UnescapeString(string(call(t, http.MethodGet, rev.Link, "", nil).Body))
	for _, want := range []string{comment, `value="Sample Systems K.K."`, `value="7000012050002"`, `value="IS 123456"`, `value="yamada@vendor.example"`,
		"a field left empty means there is none"} {
		if !strings.Contains(page, want) {
			t.Errorf("the selection's revision page lacks %q", want)
		}
	}

	other := url.Values{"decision": {"resubmit"}, "vendor_name": {"Sato Data Services"}, "other_identifier": {"T1234567890123"},
		"identifier_reason": {"a sole proprietor: no corporate number"}, "contact_name": {"Sato"}, "contact_email": {"sato@vendor2.example"},
		"contact_locale": {"en"}, "certificate_number": {"IS 777777"}, "certificate_expiry": {date(30 + 4*365)},
		"audit_status": {"passed"}, "audit_summary": {"External audit 2026: no findings"}}
	// The filing's checks: a corporate number whose check digit is wrong, the vendor's name left empty.
	bad := url.Values{}
	for k, v := range other {
		bad[k] = v
	}
	bad.Set("corporate_number", "1234567890123")
	bad.Del("vendor_name")
	before := s.snapshot(t, id)
	e := post(t, rev.Link, bad, true).wantError(t, http.StatusBadRequest, "validation_failed")
	if !strings.Contains(e.Fields["corporate_number"], "check digit") || e.Fields["vendor_name"] != "is required" {
		t.Errorf("fields = %v, want corporate_number's check digit and vendor_name required", e.Fields)
	}
	asPage := post(t, rev.Link, bad, false)
	pageBody := html.UnescapeString(string(asPage.Body))
	if asPage.Status != http.StatusBadRequest || !strings.Contains(pageBody, `id="e-corporate_number" role="alert">must be the vendor's 13-digit`) ||
		!strings.Contains(pageBody, `value="sato@vendor2.example"`) || strings.Contains(pageBody, `value="Sample Systems K.K."`) {
		t.Errorf("the page of a bad revision (%d) shows no error next to corporate_number, or loses the values typed:\n%s", asPage.Status, pageBody)
	}
	if after := s.snapshot(t, id); after != before {
		t.Errorf("a refused revision changed the register:\nbefore %s\nafter %s", before, after)
	}
	if review, err := s.Store.OutsourcingReview(context.Background(), id); err != nil || review.VendorName != "Sample Systems K.K." {
		t.Errorf("a refused revision changed the review: %+v %v", review, err)
	}

	if r := post(t, rev.Link, other, true); r.Status != http.StatusOK {
		t.Fatalf("resubmit: %s", r)
	}
	sel2 := s.nextTask(t, id, "selection_review")
	p2 := html.UnescapeString(string(call(t, http.MethodGet, sel2.Link, "", nil).Body))
	for _, want := range []string{"Sato Data Services", "T1234567890123", "2 (revised after a return; changed since the version before: ", "ISMS certificate valid until", "Flags for the selection (8.1(1)), Vendor)"} {
		if !strings.Contains(p2, want) {
			t.Errorf("the next selection round does not show %q:\n%s", want, p2)
		}
	}
	if strings.Contains(p2, "expires before the contract ends") {
		t.Errorf("the next selection round still flags the first vendor's certificate")
	}

	review, err := s.Store.OutsourcingReview(context.Background(), id)
	if err != nil || review.VendorName != "Sato Data Services" || review.CorporateNumber != "" || review.OtherIdentifier != "T1234567890123" ||
		review.CertNumber != "IS 777777" || review.CertExpiry != date(30+4*365) {
		t.Errorf("the review after the revision: %+v %v", review, err)
	}
	var c models.ExternalContact
	if err := s.Store.DB.First(&c, "id = ?", review.ContactID).Error; err != nil || c.Email != "sato@vendor2.example" || c.Organisation != "Sato Data Services" {
		t.Errorf("the vendor's contact after the revision: %+v %v", c, err)
	}
	p, err := s.Store.Process(context.Background(), id)
	if err != nil || !strings.Contains(p.Summary, "vendor identifier T1234567890123") {
		t.Errorf("the summary after the revision: %q %v", p.Summary, err)
	}
}
