package report

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// Registers returns the registers the API exports (GET /api/v1/registers/{name}.csv). To
// export another, define it with Define and add it here.
func Registers() []Register {
	return []Register{ExceptionRegister, IncidentRegister, VendorRegister, CloudRegister, AccountRegister, InspectionRegister}
}

// Lookup returns the register of that name.
func Lookup(name string) (Register, bool) {
	all := Registers()
	i := slices.IndexFunc(all, func(r Register) bool { return r.Name == name })
	if i < 0 {
		return Register{}, false
	}
	return all[i], true
}

// exceptionInput is the request of an exception as the register keeps it (Process.Input).
type exceptionInput struct {
	Requester      string   `json:"requester"`
	Clauses        []string `json:"clauses"`
	Alternative    string   `json:"alternative"`
	Reason         string   `json:"reason"`
	Systems        []string `json:"systems"`
	Classification int      `json:"classification"`
	StartDate      string   `json:"start_date"`
	EndDate        string   `json:"end_date"`
	Emergency      bool     `json:"emergency"`
	Renews         string   `json:"renews"`
}

// exceptionRow is a process of kind exception with its request decoded.
type exceptionRow struct {
	models.Process
	In exceptionInput
}

func decodeException(p models.Process) exceptionRow {
	r := exceptionRow{Process: p}
	_ = json.Unmarshal([]byte(p.Input), &r.In)
	return r
}

// reportedLate is how many days after an emergency exception was taken it was reported
// (§7.4(2) 「事後速やかに」): from its start date to the day the request was filed.
func reportedLate(r exceptionRow, loc *time.Location) int {
	if !r.In.Emergency {
		return 0
	}
	start, err := policy.ParseDate(r.In.StartDate, loc)
	if err != nil {
		return 0
	}
	filed := r.CreatedAt.In(loc)
	day := time.Date(filed.Year(), filed.Month(), filed.Day(), 0, 0, 0, 0, loc)
	return max(0, int(day.Sub(start).Hours()/24+0.5))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// ExceptionRegister is the register of exceptions (例外措置台帳, §7.4).
var ExceptionRegister = Define("exceptions", "例外措置台帳", "Register of exceptions",
	[]Column[exceptionRow]{
		{"id", "申請番号", func(r exceptionRow, _ Format) string { return r.ID }},
		{"status", "状態", func(r exceptionRow, _ Format) string { return r.Status }},
		{"stage", "段階", func(r exceptionRow, _ Format) string { return r.Stage }},
		{"department", "所属", func(r exceptionRow, _ Format) string { return r.DepartmentID }},
		{"requester", "申請者", func(r exceptionRow, _ Format) string { return r.In.Requester }},
		{"clauses", "適用除外する条項", func(r exceptionRow, _ Format) string { return strings.Join(r.In.Clauses, " ") }},
		{"systems", "対象システム", func(r exceptionRow, _ Format) string { return strings.Join(r.In.Systems, " ") }},
		{"classification", "情報の分類", func(r exceptionRow, _ Format) string { return strconv.Itoa(r.In.Classification) }},
		{"start_date", "開始日", func(r exceptionRow, _ Format) string { return r.In.StartDate }},
		{"end_date", "終了日", func(r exceptionRow, _ Format) string { return r.In.EndDate }},
		{"emergency", "緊急（事後報告）", func(r exceptionRow, _ Format) string { return yesNo(r.In.Emergency) }},
		{"reported_days_late", "事後報告までの日数", func(r exceptionRow, f Format) string {
			if !r.In.Emergency {
				return ""
			}
			return strconv.Itoa(reportedLate(r, f.Loc))
		}},
		{"renews", "更新元の申請", func(r exceptionRow, _ Format) string { return r.In.Renews }},
		{"alternative", "代替措置", func(r exceptionRow, _ Format) string { return r.In.Alternative }},
		{"reason", "理由", func(r exceptionRow, _ Format) string { return r.In.Reason }},
		{"created_at", "申請日時", func(r exceptionRow, f Format) string { return f.Time(r.CreatedAt) }},
		{"closed_at", "終結日時", func(r exceptionRow, f Format) string { return f.TimePtr(r.ClosedAt) }},
	},
	func(ctx context.Context, s *models.Store, batch int, visit func([]exceptionRow) error) error {
		return s.EachProcess(ctx, models.KindException, batch, func(ps []models.Process) error {
			rows := make([]exceptionRow, len(ps))
			for i, p := range ps {
				rows[i] = decodeException(p)
			}
			return visit(rows)
		})
	})

// incidentRow is an incident with its process and hops.
type incidentRow struct {
	models.Incident
	Process models.Process
	Hops    []models.IncidentHop
}

// severityOf reads the triage's severity from the hops: the "triaged" hop's note, or high
// when nobody triaged in time (the workflow handles it so). Empty before triage.
func severityOf(hops []models.IncidentHop) string {
	for _, h := range hops {
		switch h.Hop {
		case "triaged":
			if rest, ok := strings.CutPrefix(h.Note, "severity "); ok {
				sev, _, _ := strings.Cut(rest, ",")
				return sev
			}
		case "triage_overdue":
			return string(policy.SeverityHigh)
		}
	}
	return ""
}

// firstHop is when the hop named first happened, if it did.
func firstHop(hops []models.IncidentHop, name string) (time.Time, bool) {
	for _, h := range hops {
		if h.Hop == name {
			return h.At, true
		}
	}
	return time.Time{}, false
}

func minutesTo(r incidentRow, hop string) string {
	at, ok := firstHop(r.Hops, hop)
	if !ok || r.DiscoveredAt.IsZero() {
		return ""
	}
	return strconv.Itoa(int(at.Sub(r.DiscoveredAt).Minutes()))
}

// IncidentRegister is the register of security incidents (§5.3), with how promptly each hop
// of the reporting chain came. A resident's name and contact details are left out: they are
// in the process's record (GET /api/v1/processes/{id}).
var IncidentRegister = Define("incidents", "情報セキュリティインシデント台帳", "Register of security incidents",
	[]Column[incidentRow]{
		{"id", "整理番号", func(r incidentRow, _ Format) string { return r.ProcessID }},
		{"status", "状態", func(r incidentRow, _ Format) string { return r.Process.Status }},
		{"source", "報告元", func(r incidentRow, _ Format) string { return r.Source }},
		{"category", "区分", func(r incidentRow, _ Format) string { return r.Category }},
		{"severity", "重大度", func(r incidentRow, _ Format) string { return severityOf(r.Hops) }},
		{"department", "所属", func(r incidentRow, _ Format) string { return r.DepartmentID }},
		{"system", "システム", func(r incidentRow, _ Format) string { return r.SystemID }},
		{"classification", "情報の分類", func(r incidentRow, _ Format) string {
			if r.Classification == 0 {
				return ""
			}
			return strconv.Itoa(r.Classification)
		}},
		{"discovered_at", "認知日時", func(r incidentRow, f Format) string { return f.Time(r.DiscoveredAt) }},
		{"received_at", "受付日時", func(r incidentRow, f Format) string { return f.Time(r.ReceivedAt) }},
		{"minutes_to_triaged", "認知から判定までの分数", func(r incidentRow, _ Format) string { return minutesTo(r, "triaged") }},
		{"minutes_to_closed", "認知から終結までの分数", func(r incidentRow, _ Format) string { return minutesTo(r, "closed") }},
		{"description", "内容", func(r incidentRow, _ Format) string { return r.Description }},
		{"closed_at", "終結日時", func(r incidentRow, f Format) string { return f.TimePtr(r.Process.ClosedAt) }},
	},
	func(ctx context.Context, s *models.Store, batch int, visit func([]incidentRow) error) error {
		return s.EachIncident(ctx, batch, func(is []models.Incident) error {
			ids := make([]string, len(is))
			for i, in := range is {
				ids[i] = in.ProcessID
			}
			procs, err := s.ProcessesByID(ctx, ids)
			if err != nil {
				return err
			}
			hops, err := s.HopsOf(ctx, ids)
			if err != nil {
				return err
			}
			rows := make([]incidentRow, len(is))
			for i, in := range is {
				rows[i] = incidentRow{Incident: in, Process: procs[in.ProcessID], Hops: hops[in.ProcessID]}
			}
			return visit(rows)
		})
	})

type vendorRow struct {
	models.OutsourcingReview
	Process models.Process
}

// VendorRegister is the register of outsourcing contracts and their vendors (§8.1).
var VendorRegister = Define("vendors", "外部委託先台帳", "Register of vendors (outsourcing)",
	[]Column[vendorRow]{
		{"id", "整理番号", func(r vendorRow, _ Format) string { return r.ProcessID }},
		{"status", "状態", func(r vendorRow, _ Format) string { return r.Process.Status }},
		{"vendor_name", "委託先事業者", func(r vendorRow, _ Format) string { return r.VendorName }},
		{"corporate_number", "法人番号", func(r vendorRow, _ Format) string { return r.CorporateNumber }},
		{"other_identifier", "法人番号以外の識別番号", func(r vendorRow, _ Format) string { return r.OtherIdentifier }},
		{"department", "所属", func(r vendorRow, _ Format) string { return r.DepartmentID }},
		{"work", "委託内容", func(r vendorRow, _ Format) string { return r.Work }},
		{"classification", "情報の分類", func(r vendorRow, _ Format) string { return strconv.Itoa(r.Classification) }},
		{"subcontracted", "再委託", func(r vendorRow, _ Format) string { return yesNo(r.Subcontracted) }},
		{"contract_start", "契約開始日", func(r vendorRow, _ Format) string { return r.ContractStart }},
		{"contract_end", "契約終了日", func(r vendorRow, _ Format) string { return r.ContractEnd }},
		{"certificate_number", "ISMS認証登録番号", func(r vendorRow, _ Format) string { return r.CertNumber }},
		{"certificate_expiry", "ISMS認証有効期限", func(r vendorRow, _ Format) string { return r.CertExpiry }},
		{"audit_status", "情報セキュリティ監査", func(r vendorRow, _ Format) string { return r.AuditStatus }},
		{"report_interval_months", "定期報告の間隔（月）", func(r vendorRow, _ Format) string { return strconv.Itoa(r.ReportIntervalMonths) }},
	},
	func(ctx context.Context, s *models.Store, batch int, visit func([]vendorRow) error) error {
		return s.EachOutsourcingReview(ctx, batch, func(rs []models.OutsourcingReview) error {
			ids := make([]string, len(rs))
			for i, r := range rs {
				ids[i] = r.ProcessID
			}
			procs, err := s.ProcessesByID(ctx, ids)
			if err != nil {
				return err
			}
			rows := make([]vendorRow, len(rs))
			for i, r := range rs {
				rows[i] = vendorRow{OutsourcingReview: r, Process: procs[r.ProcessID]}
			}
			return visit(rows)
		})
	})

// certsDue is the earliest end of validity among a service's certifications.
func certsDue(c models.CloudService) string {
	due := ""
	for _, x := range c.CertList() {
		if x.ValidUntil != "" && (due == "" || x.ValidUntil < due) {
			due = x.ValidUntil
		}
	}
	return due
}

// CloudRegister is the register of cloud services (§8.3), with the next yearly
// reassessment (§9.1) and the earliest certificate to lapse.
var CloudRegister = Define("cloud-services", "クラウドサービス台帳", "Register of cloud services",
	[]Column[models.CloudService]{
		{"id", "整理番号", func(r models.CloudService, _ Format) string { return r.ProcessID }},
		{"status", "状態", func(r models.CloudService, _ Format) string { return r.Status }},
		{"service", "クラウドサービス", func(r models.CloudService, _ Format) string { return r.Service }},
		{"provider", "提供事業者", func(r models.CloudService, _ Format) string { return r.Provider }},
		{"department", "所属", func(r models.CloudService, _ Format) string { return r.DepartmentID }},
		{"classification", "情報の分類", func(r models.CloudService, _ Format) string { return strconv.Itoa(r.Classification) }},
		{"storage_regions", "保存場所（国）", func(r models.CloudService, _ Format) string { return strings.ReplaceAll(r.StorageRegions, ",", " ") }},
		{"processing_regions", "処理場所（国）", func(r models.CloudService, _ Format) string { return strings.ReplaceAll(r.ProcessingRegions, ",", " ") }},
		{"governing_law", "準拠法", func(r models.CloudService, _ Format) string { return r.GoverningLaw }},
		{"jurisdiction", "裁判管轄", func(r models.CloudService, _ Format) string { return r.Jurisdiction }},
		{"outcome", "規則による判定", func(r models.CloudService, _ Format) string { return r.Outcome }},
		{"fiscal_year", "最終評価年度", func(r models.CloudService, _ Format) string {
			if r.FiscalYear == 0 {
				return ""
			}
			return strconv.Itoa(r.FiscalYear)
		}},
		{"next_reassessment", "次回再評価日", func(r models.CloudService, _ Format) string { return r.NextReassessment }},
		{"certificate_valid_until", "認証の最も早い有効期限", func(r models.CloudService, _ Format) string { return certsDue(r) }},
		{"approved_at", "承認日時", func(r models.CloudService, f Format) string { return f.TimePtr(r.ApprovedAt) }},
	},
	func(ctx context.Context, s *models.Store, batch int, visit func([]models.CloudService) error) error {
		return s.EachCloudService(ctx, batch, visit)
	})

// accountRow is an account with its last use and what the latest reconciliation found.
type accountRow struct {
	models.Account
	LastUsed *time.Time
	Rec      models.Process
	Finding  *models.ReconciliationFinding
}

// AccountRegister is the register of accounts (§6.2(1)) with the latest reconciliation
// against HR's roster (§6.2(1)2(ウ)): which run, and what it found on the account, if
// anything.
var AccountRegister = Define("accounts", "アカウント台帳", "Register of accounts",
	[]Column[accountRow]{
		{"system_id", "システム", func(r accountRow, _ Format) string { return r.SystemID }},
		{"account_id", "ID", func(r accountRow, _ Format) string { return r.AccountID }},
		{"holder", "利用者", func(r accountRow, _ Format) string {
			if r.HolderEmployeeID == nil {
				return ""
			}
			return *r.HolderEmployeeID
		}},
		{"shared", "共用", func(r accountRow, _ Format) string { return yesNo(r.Shared) }},
		{"privileged", "特権", func(r accountRow, _ Format) string { return yesNo(r.Privileged) }},
		{"status", "状態", func(r accountRow, _ Format) string { return r.Status }},
		{"last_used_at", "最終利用日時", func(r accountRow, f Format) string { return f.TimePtr(r.LastUsed) }},
		{"last_reconciliation", "最終照合", func(r accountRow, _ Format) string { return r.Rec.ID }},
		{"last_reconciliation_at", "最終照合日時", func(r accountRow, f Format) string {
			if r.Rec.ID == "" {
				return ""
			}
			return f.Time(r.Rec.CreatedAt)
		}},
		{"finding", "照合での指摘", func(r accountRow, _ Format) string {
			if r.Finding == nil {
				return ""
			}
			return r.Finding.Kind
		}},
		{"finding_decision", "指摘への判断", func(r accountRow, _ Format) string {
			if r.Finding == nil {
				return ""
			}
			return r.Finding.Decision
		}},
	},
	func(ctx context.Context, s *models.Store, batch int, visit func([]accountRow) error) error {
		rec, err := s.LatestReconciliation(ctx)
		if err != nil && err != models.ErrNotFound {
			return err
		}
		return s.EachAccount(ctx, batch, func(as []models.Account) error {
			var systems []string
			for _, a := range as {
				if len(systems) == 0 || systems[len(systems)-1] != a.SystemID {
					systems = append(systems, a.SystemID)
				}
			}
			uses, err := s.AccountUses(ctx, systems)
			if err != nil {
				return err
			}
			findings := map[string]models.ReconciliationFinding{}
			if rec.ID != "" {
				if findings, err = s.FindingsFor(ctx, rec.ID, systems); err != nil {
					return err
				}
			}
			rows := make([]accountRow, len(as))
			for i, a := range as {
				key := a.SystemID + "/" + a.AccountID
				rows[i] = accountRow{Account: a, Rec: rec}
				if t, ok := uses[key]; ok {
					rows[i].LastUsed = &t
				}
				if f, ok := findings[key]; ok {
					rows[i].Finding = &f
				}
			}
			return visit(rows)
		})
	})
