package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// Notice kinds of the outsourcing contract review (§8.1, §5.1(3)).
const (
	// NoticeOutsourcingBriefing explains to the vendor's contact what of the policy the
	// vendor and its subcontractors must keep (§5.1(3)); an acknowledgement task follows.
	NoticeOutsourcingBriefing = "outsourcing_briefing"
	// NoticeVendorIncident tells the department security officer that a periodic report
	// names an incident, to be handled under §5.3.
	NoticeVendorIncident = "outsourcing_vendor_incident"
	// NoticeReportMissing tells the department security officer that a periodic report
	// never came (§8.1(2) 定期報告).
	NoticeReportMissing = "outsourcing_report_missing"
)

// ClauseReviewer finds who reviews a contract's clauses: a member of the GISO's office (the
// GISO's department), or the GISO when the office has nobody else.
func (a *Activities) ClauseReviewer(ctx context.Context, gisoID string) (string, error) {
	giso, err := a.Store.Person(ctx, gisoID)
	if err != nil {
		return "", classify(fmt.Errorf("find the GISO %s: %w", gisoID, err))
	}
	id, err := a.Store.OfficeMember(ctx, giso.DepartmentID, gisoID)
	if errors.Is(err, models.ErrNotFound) {
		return gisoID, nil
	}
	if err != nil {
		return "", fmt.Errorf("find a reviewer in the GISO's office: %w", err)
	}
	return id, nil
}

// SendBriefing mails the vendor's contact the briefing of §5.1(3): the requirements of
// §8.1(2) the vendor, subcontractors included, must keep. It is a notice with the list of
// requirements added.
func (a *Activities) SendBriefing(ctx context.Context, n Notice) error {
	p := map[string]string{}
	for k, v := range n.Params {
		p[k] = v
	}
	var ja, en strings.Builder
	for _, c := range policy.ContractClauses() {
		fmt.Fprintf(&ja, "  %2d. %s\n", c.N, c.TitleJa)
		fmt.Fprintf(&en, "  %2d. %s\n", c.N, c.TitleEn)
	}
	p["obligations_ja"], p["obligations_en"] = ja.String(), en.String()
	n.Params = p
	n.Kind = NoticeOutsourcingBriefing
	return a.SendNotice(ctx, n)
}

// Subcontractor names the periodic report that declared new subcontracting and the contact
// ID its subcontractor's contact is to have.
type Subcontractor struct {
	ProcessID string
	TaskID    string
	ContactID string
}

// RegisterSubcontractor makes the new subcontractor's contact, whom the vendor named in its
// periodic report, an external contact of the process, so the briefing of §5.1(3) (「外部委託
// 事業者から再委託を受ける事業者も含めて」) reaches them with a link of their own. It returns the
// contact ID, or "" when the report gave no usable address (the officer then briefs them
// directly).
func (a *Activities) RegisterSubcontractor(ctx context.Context, r Subcontractor) (string, error) {
	_, v, err := a.Store.DecisionValues(ctx, r.TaskID)
	if err != nil {
		return "", classify(fmt.Errorf("subcontractor from %s: %w", r.TaskID, err))
	}
	email := strings.TrimSpace(v["subcontractor_contact_email"])
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return "", nil
	}
	c := models.ExternalContact{ID: r.ContactID, ProcessID: r.ProcessID, Organisation: truncateRunes(strings.TrimSpace(v["subcontractor_name"]), 200),
		Name: truncateRunes(strings.TrimSpace(v["subcontractor_contact_name"]), 200), Email: email, Locale: "ja"}
	if err := a.Store.PutContact(ctx, c); err != nil {
		return "", fmt.Errorf("register subcontractor %s: %w", r.ContactID, err)
	}
	return r.ContactID, nil
}

// ClauseReviewRecord names the decision that holds one round of the clause review.
type ClauseReviewRecord struct {
	ProcessID string
	Round     int
	TaskID    string
}

// ClauseField names the select of a clause (present, missing, not applicable) in the
// clause review's form.
func ClauseField(key string) string { return "clause_" + key }

// ArticleField names the free-text field for the contract article that states a clause.
func ArticleField(key string) string { return "article_" + key }

// ReasonField names the free-text field for why a clause does not apply to the work, which
// the reviewer accepts or refuses (§8.1(2) 「必要に応じて」).
func ReasonField(key string) string { return "na_reason_" + key }

// RecordClauseReview copies one round's marks, with the contract articles the reviewer
// wrote, from the decision into the register's clause marks.
func (a *Activities) RecordClauseReview(ctx context.Context, r ClauseReviewRecord) error {
	_, values, err := a.Store.DecisionValues(ctx, r.TaskID)
	if err != nil {
		return classify(fmt.Errorf("clause review %s: %w", r.TaskID, err))
	}
	var marks []models.ClauseMark
	for _, c := range policy.ContractClauses() {
		marks = append(marks, models.ClauseMark{
			ProcessID: r.ProcessID, Round: r.Round, Clause: c.Key, N: c.N, TaskID: r.TaskID,
			Mark: values[ClauseField(c.Key)], Article: truncateRunes(values[ArticleField(c.Key)], 200),
			Reason: values[ReasonField(c.Key)],
		})
	}
	if err := a.Store.SaveClauseMarks(ctx, marks); err != nil {
		return fmt.Errorf("record clause review %s: %w", r.TaskID, err)
	}
	return nil
}

// ReportRecord is one periodic report: received (TaskID decided) or missing.
type ReportRecord struct {
	ProcessID            string
	Seq                  int
	TaskID               string
	PeriodFrom, PeriodTo string
	Received             bool
}

// RecordReport writes a periodic report to the register, with what the vendor said.
func (a *Activities) RecordReport(ctx context.Context, r ReportRecord) error {
	rep := models.OutsourcingReport{ProcessID: r.ProcessID, Seq: r.Seq, TaskID: r.TaskID,
		PeriodFrom: r.PeriodFrom, PeriodTo: r.PeriodTo, Status: models.ReportMissing}
	if r.Received {
		d, v, err := a.Store.DecisionValues(ctx, r.TaskID)
		if err != nil {
			return classify(fmt.Errorf("report %s: %w", r.TaskID, err))
		}
		rep.Status, rep.SubmittedBy = models.ReportReceived, d.DeciderID
		rep.Incidents, rep.StaffChanges, rep.Subcontracting = v["incidents"], v["staff_changes"], v["subcontracting_changes"]
		var details []string
		for _, k := range []string{"incident_details", "staff_change_details", "subcontracting_details"} {
			if v[k] != "" {
				details = append(details, k+": "+v[k])
			}
		}
		if d.Comment != "" {
			details = append(details, "comment: "+d.Comment)
		}
		rep.Details = strings.Join(details, "\n")
	}
	if err := a.Store.SaveOutsourcingReport(ctx, rep); err != nil {
		return fmt.Errorf("record report %d of %s: %w", r.Seq, r.ProcessID, err)
	}
	return nil
}

// CertificateRecord names the decision that carries a renewed ISMS certificate.
type CertificateRecord struct {
	ProcessID string
	TaskID    string
	Expiry    string
}

// RecordCertificate writes the renewed certificate's number and expiry to the review.
func (a *Activities) RecordCertificate(ctx context.Context, r CertificateRecord) error {
	_, v, err := a.Store.DecisionValues(ctx, r.TaskID)
	if err != nil {
		return classify(fmt.Errorf("certificate %s: %w", r.TaskID, err))
	}
	if err := a.Store.UpdateCertificate(ctx, r.ProcessID, truncateRunes(v["cert_number"], 100), r.Expiry); err != nil {
		return fmt.Errorf("record certificate of %s: %w", r.ProcessID, err)
	}
	return nil
}

// DisposalFields name the form fields of one asset class in the disposal task.
func DisposalFields(class string) (method, date, person, note string) {
	return class + "_method", class + "_date", class + "_person", class + "_note"
}

// DisposalRequest names the decision that records the return or disposal of the assets.
type DisposalRequest struct {
	ProcessID string
	TaskID    string
	Classes   []string
}

// RecordDisposal writes, for each asset class, the date, the person and the method of its
// return or disposal (§3(2)9(イ)).
func (a *Activities) RecordDisposal(ctx context.Context, r DisposalRequest) error {
	d, v, err := a.Store.DecisionValues(ctx, r.TaskID)
	if err != nil {
		return classify(fmt.Errorf("disposal %s: %w", r.TaskID, err))
	}
	var rs []models.DisposalRecord
	for _, class := range r.Classes {
		m, dt, who, note := DisposalFields(class)
		if v[m] == "" || v[dt] == "" || v[who] == "" {
			return badInput("disposal %s: %s is incomplete", r.TaskID, class)
		}
		rs = append(rs, models.DisposalRecord{ProcessID: r.ProcessID, AssetClass: class, Date: v[dt],
			Person: truncateRunes(v[who], 200), Method: v[m], Note: v[note], TaskID: r.TaskID, RecordedBy: d.DeciderID})
	}
	if err := a.Store.SaveDisposals(ctx, rs); err != nil {
		return fmt.Errorf("record disposal of %s: %w", r.ProcessID, err)
	}
	return nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// VendorIdentity names a vendor in a process's summary: by its corporate number (法人番号),
// or, for a vendor that has none, by its other identifier. The filing and a revised
// selection name it alike.
func VendorIdentity(corporateNumber, otherIdentifier string) string {
	if corporateNumber != "" {
		return "corporate number " + corporateNumber
	}
	return "vendor identifier " + otherIdentifier + " (no corporate number)"
}

// RecordSelectionRevision keeps a vendor selection resubmitted after the department
// security officer returned it (§8.1(1)1, step selection_revision) as the request's next
// version, like RecordRevision, and in the same transaction makes the register's review and
// the vendor's contact name the revised vendor, certificate and audit. The selection flags
// of §8.1(1) are worked out again for the revised certificate and audit, so the next
// selection review sees them, and the summary names the revised vendor. Idempotent on the
// task.
func (a *Activities) RecordSelectionRevision(ctx context.Context, r RevisionRecord) error {
	rev, d, err := a.revision(ctx, r)
	if err != nil {
		return err
	}
	p, err := a.Store.Process(ctx, r.ProcessID)
	if err != nil {
		return classify(fmt.Errorf("record selection revision %s: %w", r.TaskID, err))
	}
	req := map[string]any{}
	if err := json.Unmarshal([]byte(p.Input), &req); err != nil {
		return badInput("record selection revision %s: the request is not JSON: %v", r.TaskID, err)
	}
	for k, v := range rev.Values {
		if v == nil {
			delete(req, k)
		} else {
			req[k] = v
		}
	}
	str := func(k string) string { v, _ := req[k].(string); return v }
	loc := a.Loc
	if loc == nil {
		loc = time.UTC
	}
	var certExpiry time.Time
	if v := str("certificate_expiry"); v != "" {
		if certExpiry, err = policy.ParseDate(v, loc); err != nil {
			return badInput("record selection revision %s: certificate_expiry: %v", r.TaskID, err)
		}
	}
	level, _ := req["classification"].(float64)
	start, err1 := policy.ParseDate(str("contract_start"), loc)
	end, err2 := policy.ParseDate(str("contract_end"), loc)
	if err1 != nil || err2 != nil {
		return badInput("record selection revision %s: the contract period is not dates", r.TaskID)
	}
	rev.Values["selection_flags"] = nil
	if flags := policy.SelectionFlags(policy.Vendor{CertExpiry: certExpiry, Audit: str("audit_status")}, policy.Level(int(level)), start, end); len(flags) > 0 {
		rev.Values["selection_flags"] = flags
	}
	rev.Summarize = func(summary string, before, after map[string]any) string {
		s := func(m map[string]any, k string) string { v, _ := m[k].(string); return v }
		old := VendorIdentity(s(before, "corporate_number"), s(before, "other_identifier"))
		now := VendorIdentity(s(after, "corporate_number"), s(after, "other_identifier"))
		return summarizeRevision(strings.Replace(summary, old, now, 1), before, after)
	}
	locale := str("contact_locale")
	if locale == "" {
		locale = "ja"
	}
	v, err := a.Store.ReviseOutsourcingSelection(ctx, rev, models.SelectionRevision{
		VendorName: str("vendor_name"), CorporateNumber: str("corporate_number"), OtherIdentifier: str("other_identifier"),
		IdentifierReason: str("identifier_reason"), CertNumber: str("certificate_number"), CertExpiry: str("certificate_expiry"),
		AuditStatus: str("audit_status"), AuditNote: str("audit_summary"),
		ContactName: str("contact_name"), ContactEmail: str("contact_email"), ContactLocale: locale,
	})
	if err != nil {
		return classify(fmt.Errorf("record selection revision %s: %w", r.TaskID, err))
	}
	return a.noteRevision(ctx, r, d, v)
}
