package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// outsourcingBody is an outsourcing contract review (外部委託, §8.1) as
// POST /outsourcing-reviews takes it.
type outsourcingBody struct {
	Requester            string             `json:"requester"`
	Department           string             `json:"department,omitempty"`
	Vendor               outsourcingVendor  `json:"vendor"`
	Work                 string             `json:"work"`
	Assets               []outsourcingAsset `json:"assets"`
	Classification       int                `json:"classification"`
	Subcontracted        bool               `json:"subcontracted"`
	Subcontractors       []string           `json:"subcontractors,omitempty"`
	ContractStart        string             `json:"contract_start"`
	ContractEnd          string             `json:"contract_end"`
	Certificate          *outsourcingCert   `json:"certificate"`
	Audit                outsourcingAudit   `json:"audit"`
	ReportIntervalMonths int                `json:"report_interval_months"`
}

type outsourcingVendor struct {
	Name            string `json:"name"`
	CorporateNumber string `json:"corporate_number,omitempty"`
	// OtherIdentifier and IdentifierReason register a vendor that has no 法人番号 (a sole
	// proprietor, a foreign company): another identifier (an invoice registration number, a
	// foreign registry's number) and why there is no corporate number.
	OtherIdentifier  string `json:"other_identifier,omitempty"`
	IdentifierReason string `json:"identifier_reason,omitempty"`
	ContactName      string `json:"contact_name,omitempty"`
	ContactEmail     string `json:"contact_email"`
	ContactLocale    string `json:"contact_locale,omitempty"`
}

type outsourcingAsset struct {
	Name           string `json:"name"`
	Class          string `json:"class"`
	Classification int    `json:"classification"`
}

type outsourcingCert struct {
	Number string `json:"number"`
	Expiry string `json:"expiry"`
}

type outsourcingAudit struct {
	Status  string `json:"status"`
	Summary string `json:"summary,omitempty"`
}

// outsourcingRecord is the request as the register keeps it and the task pages show it:
// flat, with the selection flags of §8.1(1) computed.
type outsourcingRecord struct {
	Requester            string   `json:"requester"`
	Department           string   `json:"department"`
	VendorName           string   `json:"vendor_name"`
	CorporateNumber      string   `json:"corporate_number,omitempty"`
	OtherIdentifier      string   `json:"other_identifier,omitempty"`
	IdentifierReason     string   `json:"identifier_reason,omitempty"`
	ContactEmail         string   `json:"contact_email"`
	Work                 string   `json:"work"`
	Assets               []string `json:"assets"`
	Classification       int      `json:"classification"`
	Subcontracted        bool     `json:"subcontracted"`
	Subcontractors       []string `json:"subcontractors,omitempty"`
	ContractStart        string   `json:"contract_start"`
	ContractEnd          string   `json:"contract_end"`
	CertificateNumber    string   `json:"certificate_number,omitempty"`
	CertificateExpiry    string   `json:"certificate_expiry,omitempty"`
	AuditStatus          string   `json:"audit_status"`
	AuditSummary         string   `json:"audit_summary,omitempty"`
	ReportIntervalMonths int      `json:"report_interval_months"`
	SelectionFlags       []string `json:"selection_flags,omitempty"`
	ContactName          string   `json:"contact_name,omitempty"`
	ContactLocale        string   `json:"contact_locale"`
}

// MaxContractYears is the longest contract a review accepts.
const MaxContractYears = 10

// startOutsourcingReview validates an outsourcing contract review and starts its process.
func (s *Server) startOutsourcingReview(c echo.Context) error {
	var b outsourcingBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	st, err := s.checkOutsourcing(c.Request().Context(), b)
	if err != nil {
		return err
	}
	return s.startProcess(c, st)
}

// checkOutsourcing validates an outsourcing contract review (§8.1), for the API and the
// staff pages alike, and says how to start its process. Malformed fields (a corporate
// number whose check digit is wrong, a bad address, dates, levels) are 400; a requester who
// is not in the directory, not employed, or a department security officer (who reviews it:
// policy.MayStart) is 422.
func (s *Server) checkOutsourcing(ctx context.Context, b outsourcingBody) (startSpec, error) {
	f := fieldErrors{}
	f.id("requester", b.Requester)
	f.check(b.Department == "" || validID(b.Department), "department", "is not a department ID")
	if b.Vendor.ContactLocale == "" {
		b.Vendor.ContactLocale = "ja"
	}
	checkOutsourcingVendor(f, b.Vendor, filingFields)
	f.text("work", b.Work, true, 4000)
	f.check(len(b.Assets) > 0 && len(b.Assets) <= 50, "assets", "name 1-50 information assets the work touches")
	highest := 0
	var classes, assets []string
	for i, a := range b.Assets {
		key := fmt.Sprintf("assets[%d]", i)
		f.text(key+".name", a.Name, true, 200)
		f.check(policy.IsAssetClass(a.Class), key+".class", "must be electronic, paper or device")
		_, err := policy.ParseLevel(a.Classification)
		f.check(err == nil, key+".classification", "must be 1, 2 or 3 (§3(1))")
		if err == nil && (highest == 0 || a.Classification < highest) {
			highest = a.Classification
		}
		if policy.IsAssetClass(a.Class) && !contains(classes, a.Class) {
			classes = append(classes, a.Class)
		}
		assets = append(assets, fmt.Sprintf("%s (%s, level %d)", a.Name, a.Class, a.Classification))
	}
	level, err := policy.ParseLevel(b.Classification)
	f.check(err == nil, "classification", "must be 1, 2 or 3 (§3(1))")
	f.check(err != nil || highest == 0 || b.Classification == highest, "classification", fmt.Sprintf("must be the highest classification of the assets (level %d)", highest))
	f.check(!b.Subcontracted || len(b.Subcontractors) > 0, "subcontractors", "name the subcontractors when the work is subcontracted")
	f.check(b.Subcontracted || len(b.Subcontractors) == 0, "subcontractors", "only when subcontracted is true")
	f.check(len(b.Subcontractors) <= 20, "subcontractors", "at most 20")
	for _, sc := range b.Subcontractors {
		f.text("subcontractors", sc, true, 200)
	}
	today := s.now().In(s.Loc).Format(policy.DateLayout)
	start, err1 := policy.ParseDate(b.ContractStart, s.Loc)
	end, err2 := policy.ParseDate(b.ContractEnd, s.Loc)
	f.check(err1 == nil, "contract_start", "must be a date YYYY-MM-DD")
	f.check(err2 == nil, "contract_end", "must be a date YYYY-MM-DD")
	if err1 == nil && err2 == nil {
		f.check(end.After(start), "contract_end", "must be after contract_start")
		f.check(b.ContractEnd >= today, "contract_end", "must not be in the past")
		f.check(!end.After(start.AddDate(MaxContractYears, 0, 0)), "contract_end", fmt.Sprintf("a contract may run at most %d years", MaxContractYears))
	}
	certExpiry := s.checkOutsourcingEvidence(f, b.Certificate, b.Audit, filingFields)
	f.check(b.ReportIntervalMonths >= 1 && b.ReportIntervalMonths <= 12, "report_interval_months", "must be 1-12")
	if err := f.err(); err != nil {
		return startSpec{}, err
	}
	if err := s.dateWithin("contract_start", b.ContractStart, -1, s.dateBounds().StartDaysAhead, "POLICYFLOW_START_MAX_DAYS_AHEAD"); err != nil {
		return startSpec{}, err
	}
	requester, err := s.Store.Person(ctx, b.Requester)
	if err == models.ErrNotFound {
		return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "the requester is not in the directory", Fields: map[string]string{"requester": "unknown employee_id"}}
	} else if err != nil {
		return startSpec{}, s.storeErr(err)
	}
	if requester.Status != models.StatusEmployed {
		return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "the requester is no longer employed", Fields: map[string]string{"requester": "not employed"}}
	}
	if err := mayRequest(models.KindOutsourcingReview, requester, "§8.1(1): the department security officer confirms the vendor's selection"); err != nil {
		return startSpec{}, err
	}
	if b.Department == "" {
		b.Department = requester.DepartmentID
	}
	flags := policy.SelectionFlags(policy.Vendor{CertExpiry: certExpiry, Audit: b.Audit.Status}, level, start, end)
	rec := outsourcingRecord{
		Requester: b.Requester, Department: b.Department, VendorName: strings.TrimSpace(b.Vendor.Name), CorporateNumber: b.Vendor.CorporateNumber,
		OtherIdentifier: strings.TrimSpace(b.Vendor.OtherIdentifier), IdentifierReason: b.Vendor.IdentifierReason,
		ContactEmail: b.Vendor.ContactEmail, ContactName: b.Vendor.ContactName, ContactLocale: b.Vendor.ContactLocale, Work: b.Work, Assets: assets,
		Classification: b.Classification, Subcontracted: b.Subcontracted, Subcontractors: b.Subcontractors,
		ContractStart: b.ContractStart, ContractEnd: b.ContractEnd, AuditStatus: b.Audit.Status, AuditSummary: b.Audit.Summary,
		ReportIntervalMonths: b.ReportIntervalMonths, SelectionFlags: flags,
	}
	certExpiryText := ""
	if b.Certificate != nil {
		rec.CertificateNumber, rec.CertificateExpiry, certExpiryText = b.Certificate.Number, b.Certificate.Expiry, b.Certificate.Expiry
	}
	vendorID := activities.VendorIdentity(rec.CorporateNumber, rec.OtherIdentifier)
	summary := fmt.Sprintf("Outsourcing to %s, level %d information, %s to %s", vendorID, b.Classification, b.ContractStart, b.ContractEnd)
	details := fmt.Sprintf("**Outsourcing contract review** (外部委託, §8.1, §5.1(3), §3(2)9)\n\n- department: `%s`\n- requester: `%s`\n- vendor: %s\n- highest classification: level %d\n- asset classes: %s\n- subcontracted: %t\n- contract: %s to the end of %s\n- report every %d months\n- selection flags (§8.1(1)): %s\n\nThe vendor, the work and the contact are in the register (GET /api/v1/processes/{id}).",
		b.Department, b.Requester, vendorID, b.Classification, strings.Join(classes, ", "), b.Subcontracted, b.ContractStart, b.ContractEnd, b.ReportIntervalMonths, orDash(strings.Join(flags, ", ")))
	return startSpec{
		Kind: models.KindOutsourcingReview, Department: b.Department, RequesterID: b.Requester,
		Summary: summary, Details: details, Input: rec, Workflow: workflows.OutsourcingWorkflow,
		Save: func(ctx context.Context, id string) error {
			contact := models.ExternalContact{ID: models.ContactPrefix + id, ProcessID: id, Organisation: rec.VendorName,
				Name: b.Vendor.ContactName, Email: b.Vendor.ContactEmail, Locale: b.Vendor.ContactLocale}
			review := models.OutsourcingReview{ProcessID: id, DepartmentID: b.Department, RequesterID: b.Requester,
				VendorName: rec.VendorName, CorporateNumber: rec.CorporateNumber,
				OtherIdentifier: rec.OtherIdentifier, IdentifierReason: rec.IdentifierReason, ContactID: contact.ID, Work: b.Work,
				Assets: mustJSON(b.Assets), Classification: b.Classification, Subcontracted: b.Subcontracted,
				Subcontractors: strings.Join(b.Subcontractors, "\n"), ContractStart: b.ContractStart, ContractEnd: b.ContractEnd,
				CertNumber: rec.CertificateNumber, CertExpiry: rec.CertificateExpiry, AuditStatus: b.Audit.Status, AuditNote: b.Audit.Summary,
				ReportIntervalMonths: b.ReportIntervalMonths}
			return s.Store.SaveOutsourcingReview(ctx, review, contact)
		},
		Args: func(h workflows.Header) any {
			return workflows.OutsourcingInput{Header: h, RequesterID: b.Requester, ContactID: models.ContactPrefix + h.ProcessID,
				Classification: level, ContractStart: b.ContractStart, ContractEnd: b.ContractEnd, CertExpiry: certExpiryText,
				Audit: b.Audit.Status, ReportIntervalMonths: b.ReportIntervalMonths, AssetClasses: classes}
		},
	}, nil
}

// vendorFields names the fields of what the department security officer checks of a vendor
// (§8.1(1)) as a request carries them: nested in a filing (filingFields), flat on the form
// of a returned selection (selectionFields, workflows' selection_revision).
type vendorFields struct {
	Name, CorporateNumber, OtherIdentifier, IdentifierReason, ContactName, ContactEmail, ContactLocale string
	CertNumber, CertExpiry, AuditStatus, AuditSummary                                                  string
}

var (
	filingFields = vendorFields{"vendor.name", "vendor.corporate_number", "vendor.other_identifier", "vendor.identifier_reason",
		"vendor.contact_name", "vendor.contact_email", "vendor.contact_locale", "certificate.number", "certificate.expiry", "audit.status", "audit.summary"}
	selectionFields = vendorFields{"vendor_name", "corporate_number", "other_identifier", "identifier_reason",
		"contact_name", "contact_email", "contact_locale", "certificate_number", "certificate_expiry", "audit_status", "audit_summary"}
)

// checkOutsourcingVendor checks the vendor a request names: its name, its 13-digit corporate
// number (法人番号) with a valid check digit or, for a vendor without one, another identifier
// and the reason, and its contact. A filing and a revised selection are checked alike.
func checkOutsourcingVendor(f fieldErrors, v outsourcingVendor, n vendorFields) {
	f.text(n.Name, v.Name, true, 200)
	switch {
	case v.CorporateNumber != "":
		if err := policy.CheckCorporateNumber(v.CorporateNumber); err != nil {
			f.check(false, n.CorporateNumber, "must be the vendor's 13-digit corporate number (法人番号) with a valid check digit")
		}
		f.check(v.OtherIdentifier == "" && v.IdentifierReason == "", n.OtherIdentifier,
			"only for a vendor without a corporate number")
	default:
		// A sole proprietor or a foreign company has no 法人番号: another identifier and the
		// reason stand in its place, so the register still names the vendor unambiguously.
		f.check(strings.TrimSpace(v.OtherIdentifier) != "", n.CorporateNumber,
			"give the vendor's 13-digit corporate number (法人番号), or other_identifier and identifier_reason when it has none")
		f.text(n.OtherIdentifier, v.OtherIdentifier, true, 100)
		f.text(n.IdentifierReason, v.IdentifierReason, true, 1000)
	}
	f.text(n.ContactName, v.ContactName, false, 200)
	f.email(n.ContactEmail, v.ContactEmail)
	f.check(v.ContactLocale == "ja" || v.ContactLocale == "en", n.ContactLocale, "must be ja or en")
}

// checkOutsourcingEvidence checks the vendor's evidence of security that §8.1(1)2 has the
// officer refer to: the ISMS certificate (number and last day; may be absent) and the audit
// status. It returns the certificate's last day (zero when absent or malformed).
func (s *Server) checkOutsourcingEvidence(f fieldErrors, cert *outsourcingCert, audit outsourcingAudit, n vendorFields) time.Time {
	var certExpiry time.Time
	if cert != nil {
		f.text(n.CertNumber, cert.Number, true, 100)
		var err error
		certExpiry, err = policy.ParseDate(cert.Expiry, s.Loc)
		f.check(err == nil, n.CertExpiry, "must be a date YYYY-MM-DD")
	}
	f.check(audit.Status == policy.AuditNone || audit.Status == policy.AuditPassed || audit.Status == policy.AuditFindings,
		n.AuditStatus, "must be none, passed or findings")
	f.text(n.AuditSummary, audit.Summary, false, 4000)
	return certExpiry
}

// checkSelectionRevision checks a returned selection as resubmitted (the request's current
// values with the form's over them) as POST /outsourcing-reviews checks a filing.
func (s *Server) checkSelectionRevision(f fieldErrors, merged map[string]string) {
	v := outsourcingVendor{Name: merged["vendor_name"], CorporateNumber: merged["corporate_number"], OtherIdentifier: merged["other_identifier"],
		IdentifierReason: merged["identifier_reason"], ContactName: merged["contact_name"], ContactEmail: merged["contact_email"], ContactLocale: merged["contact_locale"]}
	if v.ContactLocale == "" {
		v.ContactLocale = "ja"
	}
	checkOutsourcingVendor(f, v, selectionFields)
	var cert *outsourcingCert
	if merged["certificate_number"] != "" || merged["certificate_expiry"] != "" {
		cert = &outsourcingCert{Number: merged["certificate_number"], Expiry: merged["certificate_expiry"]}
	}
	s.checkOutsourcingEvidence(f, cert, outsourcingAudit{Status: merged["audit_status"], Summary: merged["audit_summary"]}, selectionFields)
}

// selectionFlagLabels are the task page's words for the flags of §8.1(1).
var selectionFlagLabels = map[string]activities.Text{
	policy.FlagNoCertificate:        {Ja: "ISMS認証なし", En: "No ISMS certificate"},
	policy.FlagCertificateExpired:   {Ja: "ISMS認証が契約開始前に失効", En: "The ISMS certificate expires before the contract starts"},
	policy.FlagCertExpiresBeforeEnd: {Ja: "⚠ ISMS認証の有効期限が契約終了より前（更新の確認が必要）", En: "⚠ The ISMS certificate expires before the contract ends (renewal to be checked)"},
	policy.FlagNoAudit:              {Ja: "情報セキュリティ監査の実施なし", En: "No security audit"},
	policy.FlagAuditFindings:        {Ja: "監査の指摘事項が未解決", En: "Audit findings open"},
	policy.FlagNoEvidence:           {Ja: "⚠ レベル1・2の情報を扱うが、認証も監査もない", En: "⚠ Level 1 or 2 information, but neither certificate nor audit"},
}

// selectionFlagText writes the flags for the task page, one a line.
func selectionFlagText(v any, lang string) string {
	list, _ := v.([]any)
	lines := make([]string, 0, len(list))
	for _, x := range list {
		k, _ := x.(string)
		if t, ok := selectionFlagLabels[k]; ok {
			lines = append(lines, t.In(lang))
		} else {
			lines = append(lines, k)
		}
	}
	return strings.Join(lines, "\n")
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// outsourcingDetail is the outsourcing review's own record for GET /processes/{id}: every
// round's clause marks, the periodic reports, the current certificate and the disposals.
func (s *Server) outsourcingDetail(ctx context.Context, id string) (map[string]any, error) {
	r, err := s.Store.OutsourcingReview(ctx, id)
	if err == models.ErrNotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	marks, err := s.Store.ClauseMarks(ctx, id)
	if err != nil {
		return nil, err
	}
	reports, err := s.Store.OutsourcingReports(ctx, id)
	if err != nil {
		return nil, err
	}
	disposals, err := s.Store.Disposals(ctx, id)
	if err != nil {
		return nil, err
	}
	rounds := []map[string]any{}
	for _, m := range marks {
		if len(rounds) < m.Round {
			rounds = append(rounds, map[string]any{"round": m.Round, "task_id": m.TaskID, "clauses": []map[string]any{}})
		}
		round := rounds[m.Round-1]
		round["clauses"] = append(round["clauses"].([]map[string]any), map[string]any{"n": m.N, "clause": m.Clause, "mark": m.Mark, "article": m.Article, "reason": m.Reason})
	}
	reps := make([]map[string]any, 0, len(reports))
	for _, x := range reports {
		reps = append(reps, map[string]any{"seq": x.Seq, "task_id": x.TaskID, "period_from": x.PeriodFrom, "period_to": x.PeriodTo,
			"status": x.Status, "submitted_by": x.SubmittedBy, "incidents": x.Incidents, "staff_changes": x.StaffChanges,
			"subcontracting_changes": x.Subcontracting, "details": x.Details})
	}
	disp := make([]map[string]any, 0, len(disposals))
	for _, x := range disposals {
		disp = append(disp, map[string]any{"asset_class": x.AssetClass, "date": x.Date, "person": x.Person, "method": x.Method,
			"note": x.Note, "recorded_by": x.RecordedBy, "task_id": x.TaskID})
	}
	return map[string]any{"contact_id": r.ContactID, "certificate_number": r.CertNumber, "certificate_expiry": r.CertExpiry,
		"clause_reviews": rounds, "reports": reps, "disposals": disp}, nil
}
