package activities

import (
	"strings"
	"testing"

	"github.com/policyflow/policyflow/models"
)

// The task mails and the notices show the process's summary and request fields only as the
// reader's step allows (policy.Visible, issue 12 item 6).
func TestMailsFollowTheStepsView(t *testing.T) {
	const summary = "Outsourcing to corporate number 7000012050002, level 1 information"
	proc := models.Process{ID: "OUT-1", Kind: models.KindOutsourcingReview, Summary: summary,
		Input: `{"vendor_name":"Vendor K.K.","work":"Upkeep of the registry","audit_summary":"weak logging","contract_start":"2027-04-01","contract_end":"2028-03-31"}`}
	officer := models.Person{EmployeeID: "E1", Name: "Officer", Email: "e1@town.example", Locale: "en"}
	vendor := models.Person{EmployeeID: models.ContactPrefix + "OUT-1", Name: "Vendor K.K. Yamada", Email: "y@vendor.example", Locale: "en"}

	for _, tt := range []struct {
		step   string
		to     models.Person
		shows  bool
		reason string
	}{
		{"approval", officer, true, "the officer approving sees the summary"},
		{"briefing_acknowledgement", vendor, false, "a vendor's step does not"},
		{"periodic_report", vendor, false, "a vendor's step does not"},
		{"no_such_step", officer, false, "an undeclared step shows nothing"},
	} {
		for _, lang := range []string{"en", "ja"} {
			to := tt.to
			to.Locale = lang
			m, err := renderTaskMail(taskMail{Kind: "assigned", Task: models.Task{ID: "OUT-1/" + tt.step + "/1", Step: tt.step, Choices: "done"},
				Process: proc, Person: to, Link: "https://example/tasks/x"})
			if err != nil {
				t.Fatal(err)
			}
			all := m.Subject + m.Text + m.HTML
			if got := strings.Contains(all, summary); got != tt.shows {
				t.Errorf("%s (%s): summary shown %v, want %v: %s", tt.step, lang, got, tt.shows, tt.reason)
			}
			if strings.Contains(all, "weak logging") {
				t.Errorf("%s (%s): a task mail shows a request field", tt.step, lang)
			}
		}
	}

	params := map[string]string{"contract_start": "2027-04-01", "contract_end": "2028-03-31", "report_interval": "3",
		"obligations_ja": "", "obligations_en": ""}
	for _, lang := range []string{"en", "ja"} {
		to := vendor
		to.Locale = lang
		m, err := renderNotice(Notice{Kind: NoticeOutsourcingBriefing, Params: params}, proc, to, "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, "Upkeep of the registry") || strings.Contains(m.Subject+m.Text, summary) || strings.Contains(m.Text, "weak logging") {
			t.Errorf("the briefing (%s) names the work and hides the rest:\n%s", lang, m.Text)
		}
	}
	// A notice that names no step shows the summary to the town's staff only.
	for _, tt := range []struct {
		to    models.Person
		shows bool
	}{{officer, true}, {vendor, false}} {
		m, err := renderNotice(Notice{Kind: NoticeReportMissing, Params: map[string]string{"period_from": "a", "period_to": "b"}}, proc, tt.to, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(m.Text, summary); got != tt.shows {
			t.Errorf("notice to %s: summary shown %v, want %v", tt.to.EmployeeID, got, tt.shows)
		}
	}
}
