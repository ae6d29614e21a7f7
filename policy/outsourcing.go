package policy

import (
	"errors"
	"fmt"
	"time"
)

// A ContractClause is one of the information-security requirements that a contract with
// an outsourcing vendor must state when the work handles important information assets
// (§8.1(2) 契約項目). Key names the clause in forms and records; N is its place in the
// policy's list, from 1 to 12.
type ContractClause struct {
	N       int
	Key     string
	TitleJa string
	TitleEn string
}

// ContractClauses returns the twelve requirements of §8.1(2), in the policy's order, with
// the policy's own wording. The caller may modify the result.
func ContractClauses() []ContractClause {
	return []ContractClause{
		{1, "policy_compliance", "情報セキュリティポリシー及び情報セキュリティ実施手順の遵守", "Compliance with the security policy and its procedures"},
		{2, "responsibility", "外部委託事業者の責任者、委託内容、作業者、作業場所の特定", "The vendor's responsible person, the work, the workers and the place of work"},
		{3, "service_level", "提供されるサービスレベルの保証", "Guarantee of the service level provided"},
		{4, "access_scope", "外部委託事業者にアクセスを許可する情報の種類と範囲、アクセス方法の明確化など、情報のライフサイクル全般での管理方法", "The kinds and scope of information the vendor may access, how, and its management over its whole life cycle"},
		{5, "staff_training", "外部委託事業者の従業員に対する教育の実施", "Security education of the vendor's employees"},
		{6, "purpose_limitation", "提供された情報の目的外利用及び受託者以外の者への提供の禁止", "No use beyond the purpose and no provision to anyone but the contractor"},
		{7, "confidentiality", "業務上知り得た情報の守秘義務", "Confidentiality of what is learned on the job"},
		{8, "subcontracting", "再委託に関する制限事項の遵守", "Compliance with the restrictions on subcontracting"},
		{9, "return_disposal", "委託業務終了時の情報資産の返還、廃棄等", "Return or disposal of information assets when the work ends"},
		{10, "reporting", "委託業務の定期報告及び緊急時報告義務", "Periodic reports and the duty to report emergencies"},
		{11, "publication", "町による情報セキュリティインシデント発生時の公表", "Publication by the town when a security incident occurs"},
		{12, "non_compliance", "情報セキュリティポリシーが遵守されなかった場合の規定（損害賠償等）", "What follows non-compliance with the policy (damages and the like)"},
	}
}

// How a reviewer marks one clause of a draft contract.
const (
	// ClausePresent: the contract states the requirement, in the article named beside it.
	ClausePresent = "present"
	// ClauseMissing: the contract does not state it.
	ClauseMissing = "missing"
	// ClauseNotApplicable: the reviewer judges that the requirement does not apply. Since
	// §8.1(2) is read as 「必要に応じて」 (ReviewClausesAsNeeded), it means the draft (or its
	// requester) gives a reason why the item does not apply to this work and the reviewer
	// accepts that reason; the reason is kept in the register beside the mark.
	ClauseNotApplicable = "not_applicable"
	// ClauseNotApplicableRefused: the draft leaves the item out as not applicable, and the
	// reviewer does not accept the reason: the item must be written in, as one missing.
	ClauseNotApplicableRefused = "not_applicable_refused"
)

// ClausesRequired reports whether every clause of §8.1(2) must be present in the contract
// for work that handles information of the given level.
//
// §8.1(2) applies "when work handling important information assets is outsourced"
// (重要な情報資産を取扱う業務を委託する場合). The policy's classification (§3(1)) sets
// levels 1 and 2 apart as the information whose breach seriously harms residents or the
// administration, and gives level 3 ("上記以外の情報") no handling restrictions at all
// (図－2: "－"). So for levels 1 and 2 each of the twelve requirements must be in the
// contract unless, 「必要に応じて」 (as needed), it does not apply to the work for a reason the
// reviewer accepts (ReviewClausesAsNeeded; processes begun before that reading keep
// ReviewClauses, which accepted no "not applicable"). For level 3 the clauses are advice: the
// review is still recorded, missing clauses are noted, and the draft is not returned for them.
func ClausesRequired(l Level) bool { return l == Level1 || l == Level2 }

// ClauseReview is the verdict on one round of a contract's clause review.
type ClauseReview struct {
	// Required is ClausesRequired for the information's level.
	Required bool
	// Missing lists the keys of clauses marked missing, in the policy's order. For levels 1
	// and 2 it also lists the clauses marked not applicable.
	Missing []string
	// Unmarked lists clauses the review did not mark at all.
	Unmarked []string
	// NotApplicable lists the clauses whose "not applicable" reason the reviewer accepted,
	// and Refused those whose reason was refused (also in Missing). ReviewClausesAsNeeded only.
	NotApplicable, Refused []string
}

// Complete reports whether the contract may go on to approval: nothing missing when the
// clauses are required, and every clause marked.
func (r ClauseReview) Complete() bool {
	return len(r.Unmarked) == 0 && (!r.Required || len(r.Missing) == 0)
}

// ReviewClauses applies §8.1(2) to a reviewer's marks (clause key → present, missing or
// not_applicable) for information of level l.
func ReviewClauses(l Level, marks map[string]string) ClauseReview {
	r := ClauseReview{Required: ClausesRequired(l)}
	for _, c := range ContractClauses() {
		switch marks[c.Key] {
		case ClausePresent:
		case ClauseMissing:
			r.Missing = append(r.Missing, c.Key)
		case ClauseNotApplicable:
			if r.Required {
				r.Missing = append(r.Missing, c.Key)
			}
		default:
			r.Unmarked = append(r.Unmarked, c.Key)
		}
	}
	return r
}

// ReviewClausesAsNeeded applies §8.1(2) as its text reads: the contract states the twelve
// requirements 「必要に応じて」 (as needed), so an item may be left out as not applicable to
// the work, with a reason the reviewer accepts (ClauseNotApplicable) or refuses
// (ClauseNotApplicableRefused). For levels 1 and 2 a missing item and a refused one return
// the draft; an accepted one does not. For level 3 nothing returns the draft (see
// ClausesRequired). ReviewClauses is the earlier reading, in which "not applicable" was never
// accepted for levels 1 and 2; processes that began under it keep it.
func ReviewClausesAsNeeded(l Level, marks map[string]string) ClauseReview {
	r := ClauseReview{Required: ClausesRequired(l)}
	for _, c := range ContractClauses() {
		switch marks[c.Key] {
		case ClausePresent:
		case ClauseNotApplicable:
			r.NotApplicable = append(r.NotApplicable, c.Key)
		case ClauseMissing:
			r.Missing = append(r.Missing, c.Key)
		case ClauseNotApplicableRefused:
			r.Missing = append(r.Missing, c.Key)
			r.Refused = append(r.Refused, c.Key)
		default:
			r.Unmarked = append(r.Unmarked, c.Key)
		}
	}
	return r
}

// MeasuresFitYes is the selection form's answer that the vendor's security measures fit
// the work (§8.1(1)1); "no" is the other.
const MeasuresFitYes = "yes"

// MaySelect reports whether a vendor may be selected given the officer's answer to §8.1(1)1
// (「委託内容に応じた情報セキュリティ対策が確保されることを確認しなければならない」): the officer
// must confirm that the measures fit the work, so only a "yes" can lead to approval. A "no"
// sends the selection back to the requester or ends it as rejected.
func MaySelect(measuresFit string) bool { return measuresFit == MeasuresFitYes }

// Audit status values of a vendor's information-security audit (§8.1(1)2).
const (
	AuditNone     = "none"     // no audit the vendor can show
	AuditPassed   = "passed"   // audited without significant findings
	AuditFindings = "findings" // audited, with findings still open
)

// Vendor is what the selection review looks at (§8.1(1)).
type Vendor struct {
	// CertExpiry is the last day of validity of the vendor's ISMS (ISO/IEC 27001)
	// certificate; the zero time means the vendor holds none.
	CertExpiry time.Time
	// Audit is AuditNone, AuditPassed or AuditFindings.
	Audit string
}

// Selection flags: facts the department security officer must weigh before selecting the
// vendor. §8.1(1)2 makes certification and audits things to "refer to" (参考にして), not
// conditions, so a flag informs the officer's decision and never decides it.
const (
	FlagNoCertificate        = "no_certificate"
	FlagCertificateExpired   = "certificate_expired"
	FlagCertExpiresBeforeEnd = "certificate_expires_before_contract_end"
	FlagNoAudit              = "no_audit"
	FlagAuditFindings        = "audit_findings"
	FlagNoEvidence           = "no_evidence_for_important_information"
)

// SelectionFlags returns the flags of a vendor for a contract from start to end (both
// dates, the contract ending at the end of end) handling information of level l, in a fixed
// order. A certificate must be valid for the whole contract period; one that ends before the
// contract does is flagged so the renewed certificate can be asked for.
func SelectionFlags(v Vendor, l Level, start, end time.Time) []string {
	var flags []string
	switch {
	case v.CertExpiry.IsZero():
		flags = append(flags, FlagNoCertificate)
	case v.CertExpiry.Before(start):
		flags = append(flags, FlagCertificateExpired)
	case v.CertExpiry.Before(end):
		flags = append(flags, FlagCertExpiresBeforeEnd)
	}
	switch v.Audit {
	case AuditNone, "":
		flags = append(flags, FlagNoAudit)
	case AuditFindings:
		flags = append(flags, FlagAuditFindings)
	}
	if ClausesRequired(l) && v.CertExpiry.IsZero() && (v.Audit == AuditNone || v.Audit == "") {
		flags = append(flags, FlagNoEvidence)
	}
	return flags
}

// Asset classes whose return or disposal is recorded at the end of a contract (§3(2)9(イ)).
const (
	AssetElectronic = "electronic" // electronic records and media (電磁的記録媒体)
	AssetPaper      = "paper"      // documents and printouts (文書・出力帳票)
	AssetDevice     = "device"     // equipment lent to the vendor (機器)
)

// AssetClasses lists the asset classes in the order forms show them, with their names.
func AssetClasses() []ContractClause {
	return []ContractClause{
		{1, AssetElectronic, "電磁的記録（媒体を含む）", "Electronic records and media"},
		{2, AssetPaper, "紙文書・出力帳票", "Paper documents and printouts"},
		{3, AssetDevice, "貸与機器", "Equipment lent to the vendor"},
	}
}

// IsAssetClass reports whether s names an asset class.
func IsAssetClass(s string) bool {
	for _, a := range AssetClasses() {
		if a.Key == s {
			return true
		}
	}
	return false
}

// Disposal methods of an information asset at the end of the contract (§3(2)9).
const (
	DisposalReturned  = "returned"  // returned to the town
	DisposalErased    = "erased"    // erased so it cannot be restored (§3(2)9(ア))
	DisposalDestroyed = "destroyed" // physically destroyed, shredded or dissolved
)

// ErrCorporateNumber is wrapped by every error of CheckCorporateNumber.
var ErrCorporateNumber = errors.New("not a valid corporate number")

// CorporateNumberCheckDigit returns the check digit of a 12-digit base of a corporate
// number (法人番号), by the formula of the National Tax Agency (法人番号の指定等に関する
// 省令 第2条): 9 − (Σ Pn×Qn mod 9), where Pn is the n-th digit of the base counted from its
// lowest digit and Qn is 1 for odd n and 2 for even n.
func CorporateNumberCheckDigit(base string) (int, error) {
	if len(base) != 12 {
		return 0, fmt.Errorf("%w: the base must have 12 digits", ErrCorporateNumber)
	}
	sum := 0
	for n := 1; n <= 12; n++ {
		c := base[12-n]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: only digits are allowed", ErrCorporateNumber)
		}
		q := 1
		if n%2 == 0 {
			q = 2
		}
		sum += int(c-'0') * q
	}
	return 9 - sum%9, nil
}

// CheckCorporateNumber checks a 13-digit corporate number: digits only, and its first digit
// the check digit of the other twelve.
func CheckCorporateNumber(s string) error {
	if len(s) != 13 {
		return fmt.Errorf("%w: it has 13 digits", ErrCorporateNumber)
	}
	want, err := CorporateNumberCheckDigit(s[1:])
	if err != nil {
		return err
	}
	if s[0] < '0' || s[0] > '9' {
		return fmt.Errorf("%w: only digits are allowed", ErrCorporateNumber)
	}
	if int(s[0]-'0') != want {
		return fmt.Errorf("%w: the check digit does not match", ErrCorporateNumber)
	}
	return nil
}
