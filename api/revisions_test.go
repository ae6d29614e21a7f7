package api_test

import (
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
