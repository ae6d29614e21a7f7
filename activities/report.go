package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/report"
)

// DefaultReportLinkTTL is how long a mailed link to the committee's report works unless the
// town sets otherwise (POLICYFLOW_REPORT_LINK_DAYS): 30 days, a town setting.
const DefaultReportLinkTTL = 30 * 24 * time.Hour

// ErrNoRecipients is the application error type of a report or digest that nobody in the
// directory may receive: no member of the security committee, no CISO or GISO. It is not
// retried; the caller records it.
const ErrNoRecipients = "NoRecipients"

// CommitteeReportRequest asks for the yearly report of a fiscal year (April–March) to be
// mailed to the security committee, saying why (e.g. the self-inspection is compiled).
type CommitteeReportRequest struct {
	FiscalYear int
	Reason     string
}

// CommitteeReportResult names the members mailed (or mailed before, by an earlier attempt).
type CommitteeReportResult struct {
	Mailed []string
}

// MailCommitteeReport mails every member of the security committee (§2(6),
// policy.RoleCommittee) a link of their own to the yearly report (§2(6)3, §9.1(2)), in their
// language. A link is a credential like a task link: 256 random bits, only its hash stored,
// bound to the member and the fiscal year, expiring after ReportLinkTTL, revocable
// (POST /api/v1/reports/fiscal-year/{fy}/revoke-links). Mail is idempotent per (fiscal year,
// reason, member). With no member in the directory it fails with ErrNoRecipients, not
// retried, for the caller to record: the report is never silently mailed to nobody.
func (a *Activities) MailCommitteeReport(ctx context.Context, in CommitteeReportRequest) (CommitteeReportResult, error) {
	var res CommitteeReportResult
	if in.FiscalYear < 2000 || in.FiscalYear > 2200 {
		return res, badInput("mail committee report: fiscal year %d is not a year", in.FiscalYear)
	}
	members, err := a.Store.RoleMembers(ctx, string(policy.RoleCommittee))
	if err != nil {
		return res, fmt.Errorf("mail committee report: members: %w", err)
	}
	if len(members) == 0 {
		return res, temporal.NewNonRetryableApplicationError(
			"mail committee report: no employed member of the security committee (role committee) in the directory", ErrNoRecipients, nil)
	}
	sum := sha256.Sum256([]byte(in.Reason))
	reason := hex.EncodeToString(sum[:4])
	ttl := a.ReportLinkTTL
	if ttl <= 0 {
		ttl = DefaultReportLinkTTL
	}
	for _, m := range members {
		key := fmt.Sprintf("committee-report/%d/%s/%s", in.FiscalYear, reason, m.EmployeeID)
		if sent, err := a.Store.NotificationSent(ctx, key); err != nil {
			return res, err
		} else if sent {
			res.Mailed = append(res.Mailed, m.EmployeeID)
			continue
		}
		token, hash, err := NewToken()
		if err != nil {
			return res, err
		}
		expires := a.now().Add(ttl)
		msg := committeeMail(m, in, a.PublicURL+"/reports/"+token, FormatTime(expires, a.Loc))
		msg.Key = key
		n := models.Notification{Key: key, Kind: "committee_report", RecipientID: m.EmployeeID, To: m.Email,
			Subject: msg.Subject, Status: models.NotificationPending}
		link := models.ReportLink{TokenHash: hash, FiscalYear: in.FiscalYear, PersonID: m.EmployeeID, NotificationKey: key, ExpiresAt: expires.UTC()}
		if err := a.Store.PrepareReportMail(ctx, n, link); err != nil {
			return res, fmt.Errorf("prepare mail %s: %w", key, err)
		}
		if err := a.deliver(ctx, msg, outgoing{recipientID: m.EmployeeID, kind: "committee_report"}); err != nil {
			return res, err
		}
		res.Mailed = append(res.Mailed, m.EmployeeID)
	}
	return res, nil
}

func committeeMail(p models.Person, in CommitteeReportRequest, link, expires string) Message {
	lang := localeOf(p)
	t := Text{
		Ja: fmt.Sprintf("%s 様\n\n情報セキュリティ委員会の%d年度（%d年4月〜%d年3月）年次報告を作成しました（§2(6)3、§9.1(2)）。\n%s\n\n次のリンクから報告を閲覧できます。\n%s\n\nこのリンクは %s まで有効です。あなた専用のリンクです。転送しないでください。\n\n--\npolicyflow\n",
			p.Name, in.FiscalYear, in.FiscalYear, in.FiscalYear+1, reasonLine(in.Reason, "ja"), link, expires),
		En: fmt.Sprintf("Dear %s,\n\nThe security committee's yearly report for fiscal year %d (April %d to March %d) is ready (§2(6)3, §9.1(2)).\n%s\n\nRead it here:\n%s\n\nThe link works until %s. It is yours alone; please do not forward it.\n\n--\npolicyflow\n",
			p.Name, in.FiscalYear, in.FiscalYear, in.FiscalYear+1, reasonLine(in.Reason, "en"), link, expires),
	}
	subject := Text{Ja: fmt.Sprintf("【情報セキュリティ委員会】%d年度 年次報告", in.FiscalYear),
		En: fmt.Sprintf("[Security committee] Yearly report, fiscal year %d", in.FiscalYear)}
	return Message{To: p.Email, Subject: subject.In(lang), Text: t.In(lang)}
}

func reasonLine(reason, lang string) string {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ""
	}
	return Text{Ja: "理由：", En: "Why: "}.In(lang) + reason
}

// DigestRequest asks for the monthly digest of a month, YYYY-MM in the town's zone.
type DigestRequest struct {
	Month string
}

// DigestResult says whom the digest went to: Sent now, or Before by an earlier attempt or run.
type DigestResult struct {
	Sent, Before []string
}

// SendMonthlyDigest mails the CISO and the GISO (§2(1), §2(2)) the digest of the month:
// overdue steps by department and person, exceptions ending, certificates and reviews
// coming due, registered absences (report.BuildDigest). It is sent at most once per month
// and recipient: the notification keyed "digest/<month>/<employee>" is the marker, so a
// retried activity or a second run for the month sends nothing again.
func (a *Activities) SendMonthlyDigest(ctx context.Context, in DigestRequest) (DigestResult, error) {
	var res DigestResult
	if _, err := time.Parse("2006-01", in.Month); err != nil {
		return res, badInput("monthly digest: month %q is not YYYY-MM", in.Month)
	}
	var to []models.Person
	for _, role := range []policy.Role{policy.RoleCISO, policy.RoleGISO} {
		ps, err := a.Store.RoleMembers(ctx, string(role))
		if err != nil {
			return res, fmt.Errorf("monthly digest: %s: %w", role, err)
		}
		for _, p := range ps {
			if !containsPerson(to, p.EmployeeID) {
				to = append(to, p)
			}
		}
	}
	if len(to) == 0 {
		return res, temporal.NewNonRetryableApplicationError("monthly digest: no employed CISO or GISO in the directory", ErrNoRecipients, nil)
	}
	var d *report.Digest
	for _, p := range to {
		key := "digest/" + in.Month + "/" + p.EmployeeID
		if sent, err := a.Store.NotificationSent(ctx, key); err != nil {
			return res, err
		} else if sent {
			res.Before = append(res.Before, p.EmployeeID)
			continue
		}
		if d == nil {
			built, err := report.BuildDigest(ctx, a.Store, a.now(), a.Loc)
			if err != nil {
				return res, err
			}
			built.Month = in.Month
			d = &built
		}
		lang := localeOf(p)
		subject, body := d.Text(lang, a.Loc, Text{Ja: p.Name + " 様", En: "Dear " + p.Name + ","}.In(lang))
		msg := Message{Key: key, To: p.Email, Subject: subject, Text: body}
		n := models.Notification{Key: key, Kind: "monthly_digest", RecipientID: p.EmployeeID, To: p.Email, Subject: subject, Status: models.NotificationPending}
		if err := a.Store.PrepareTaskMail(ctx, n, models.TaskLink{}); err != nil {
			return res, fmt.Errorf("prepare mail %s: %w", key, err)
		}
		if err := a.deliver(ctx, msg, outgoing{recipientID: p.EmployeeID, kind: "monthly_digest"}); err != nil {
			return res, err
		}
		res.Sent = append(res.Sent, p.EmployeeID)
	}
	return res, nil
}

func containsPerson(ps []models.Person, id string) bool {
	for _, p := range ps {
		if p.EmployeeID == id {
			return true
		}
	}
	return false
}
