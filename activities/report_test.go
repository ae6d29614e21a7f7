package activities_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
)

var reportLink = regexp.MustCompile(`https://policyflow\.town\.example/reports/([A-Za-z0-9_-]{43})`)

// The yearly report goes to every member of the security committee (§2(6)), each with a link
// of their own whose token only the mail holds (the register keeps its hash), in their
// language, once per fiscal year and reason; with no member the activity fails for good,
// with a type the caller can record.
func TestMailCommitteeReport(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, mb, _ := setup(t, store)
		ctx := context.Background()
		now := time.Date(2027, 4, 20, 1, 0, 0, 0, time.UTC)
		a.Now = func() time.Time { return now }
		in := activities.CommitteeReportRequest{FiscalYear: 2026, Reason: "自己点検結果の取りまとめ"}

		_, err := a.MailCommitteeReport(ctx, in)
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != activities.ErrNoRecipients || !app.NonRetryable() {
			t.Fatalf("no committee: err = %v, want a non-retryable %s", err, activities.ErrNoRecipients)
		}
		if len(mb.sent) != 0 {
			t.Fatalf("mailed %d with no committee", len(mb.sent))
		}

		_, err = store.PutPeople(ctx, []models.Person{
			{EmployeeID: "M1", Name: "委員 一", Email: "m1@town.example", Locale: "ja", Status: models.StatusEmployed, Roles: []models.PersonRole{{EmployeeID: "M1", Role: "committee"}}},
			{EmployeeID: "M2", Name: "Member Two", Email: "m2@town.example", Locale: "en", Status: models.StatusEmployed, Roles: []models.PersonRole{{EmployeeID: "M2", Role: "committee"}}},
			{EmployeeID: "M3", Name: "退職 者", Email: "m3@town.example", Status: models.StatusRetired, Roles: []models.PersonRole{{EmployeeID: "M3", Role: "committee"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // a retry sends nothing again
			res, err := a.MailCommitteeReport(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(res.Mailed, ",") != "M1,M2" {
				t.Errorf("mailed %v, want M1 and M2 (M3 is retired)", res.Mailed)
			}
		}
		if len(mb.sent) != 2 {
			t.Fatalf("sent %d mails, want 2", len(mb.sent))
		}
		ja, en := mb.sent[0], mb.sent[1]
		if !strings.Contains(ja.Subject, "2026年度 年次報告") || !strings.Contains(ja.Text, "自己点検結果の取りまとめ") || !strings.Contains(ja.Text, "2027-05-20 10:00 JST まで有効") ||
			!strings.Contains(en.Subject, "Yearly report, fiscal year 2026") || !strings.Contains(en.Text, "until 2027-05-20 10:00 JST") {
			t.Errorf("mails:\n%s\n%s\n%s\n%s", ja.Subject, ja.Text, en.Subject, en.Text)
		}
		var ls []models.ReportLink
		if err := store.DB.Order("person_id").Find(&ls).Error; err != nil {
			t.Fatal(err)
		}
		if len(ls) != 2 {
			t.Fatalf("%d links, want 2", len(ls))
		}
		for i, m := range []activities.Message{ja, en} {
			tok := reportLink.FindStringSubmatch(m.Text)
			if tok == nil {
				t.Fatalf("no link in %s", m.Text)
			}
			l, err := store.ReportLinkByHash(ctx, activities.HashToken(tok[1]))
			if err != nil || l.PersonID != ls[i].PersonID || l.FiscalYear != 2026 || !l.ExpiresAt.Equal(now.Add(30*24*time.Hour)) {
				t.Errorf("link of %s: %+v, %v", m.To, l, err)
			}
			if strings.Contains(l.TokenHash, tok[1]) {
				t.Error("the token is stored")
			}
		}
		// Another reason (the report revised) is another mailing.
		if _, err := a.MailCommitteeReport(ctx, activities.CommitteeReportRequest{FiscalYear: 2026, Reason: "訂正"}); err != nil {
			t.Fatal(err)
		}
		if len(mb.sent) != 4 {
			t.Errorf("sent %d mails after a second reason, want 4", len(mb.sent))
		}
	})
}

// The digest goes to the CISO and the GISO at most once per month: the notification is the
// marker, so a retried activity or a second run for the month sends nothing again, and a
// mail that failed goes out on the retry.
func TestSendMonthlyDigestOncePerMonth(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, mb, _ := setup(t, store)
		ctx := context.Background()
		a.Now = func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
		mb.fail = errors.New("dial tcp: connection refused")
		if _, err := a.SendMonthlyDigest(ctx, activities.DigestRequest{Month: "2026-12"}); err == nil {
			t.Fatal("no error with the mail server down")
		}
		mb.fail = nil
		res, err := a.SendMonthlyDigest(ctx, activities.DigestRequest{Month: "2026-12"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(res.Sent, ",") != "C1,G1" {
			t.Errorf("sent to %v, want C1 and G1", res.Sent)
		}
		res, err = a.SendMonthlyDigest(ctx, activities.DigestRequest{Month: "2026-12"})
		if err != nil || len(res.Sent) != 0 || strings.Join(res.Before, ",") != "C1,G1" {
			t.Errorf("second run: %+v, %v", res, err)
		}
		if len(mb.sent) != 2 || !strings.Contains(mb.sent[0].Subject, "【月次報告】") || !strings.Contains(mb.sent[1].Subject, "[Monthly digest]") {
			t.Errorf("mails: %d, %v", len(mb.sent), mb.sent)
		}
		if _, err := a.SendMonthlyDigest(ctx, activities.DigestRequest{Month: "2027-01"}); err != nil {
			t.Fatal(err)
		}
		if len(mb.sent) != 4 {
			t.Errorf("%d mails after the next month, want 4", len(mb.sent))
		}
		if _, err := a.SendMonthlyDigest(ctx, activities.DigestRequest{Month: "2027-1"}); err == nil {
			t.Error("a malformed month is accepted")
		}
	})
}
