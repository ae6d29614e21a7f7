package report

// labels name the codes the report shows (statuses, reasons, finding kinds) in Japanese and
// English; a code without a label is shown as it is.
var labels = map[string][2]string{
	// Process statuses.
	"pending":                 {"審査中", "under review"},
	"returned":                {"差戻し中", "returned"},
	"approved":                {"承認済", "approved"},
	"in_effect":               {"有効", "in effect"},
	"restoring":               {"遵守状態への復帰確認中", "restoring compliance"},
	"completed":               {"終了", "completed"},
	"restoration_unconfirmed": {"復帰未確認", "restoration unconfirmed"},
	"rejected":                {"却下", "rejected"},
	"withdrawn":               {"取下げ", "withdrawn"},
	"revoked":                 {"取消し", "revoked"},
	"expired":                 {"期限切れ（未決）", "expired undecided"},
	"cancelled":               {"中止", "cancelled"},
	"closed":                  {"終結", "closed"},
	"incomplete":              {"未完了", "incomplete"},
	// Cloud services.
	"assessing":   {"評価中", "assessing"},
	"reassessing": {"再評価中", "reassessing"},
	"exiting":     {"利用終了手続中", "exiting"},
	"terminated":  {"利用終了", "terminated"},
	"denied":      {"不可", "denied"},
	// Hops of an incident's reporting chain (§5.3(1)).
	"received":                {"受付", "received"},
	"giso_notified":           {"統括情報セキュリティ責任者へ報告", "GISO told"},
	"ism_notified":            {"情報システム管理者へ報告", "system manager told"},
	"diso_notified":           {"情報セキュリティ責任者へ報告", "security officer told"},
	"ciso_notified":           {"CISOへ報告", "CISO told"},
	"disconnection_requested": {"ネットワークからの切断の依頼（§6.4(3)7）", "disconnection asked (§6.4(3)7)"},
	"passed_on":               {"所管部局への引継ぎ（§5.3(2)）", "passed on to the department (§5.3(2))"},
	"triage_requested":        {"判定の依頼", "triage asked"},
	"triaged":                 {"判定", "triaged"},
	"ciso_asked":              {"CISOへ指示を求める", "CISO asked for instructions"},
	"ciso_instructed":         {"CISOの指示", "CISO instructed"},
	"giso_own_judgement":      {"統括責任者の判断（§2(2)5）", "GISO's own judgement (§2(2)5)"},
	"recorded":                {"対応の記録", "response recorded"},
	"root_cause_reported":     {"原因と再発防止策の報告", "root cause reported"},
	"root_cause_accepted":     {"原因の確認（CISO）", "root cause accepted"},
	// Offboarding reasons (§5.1(1)8).
	"retirement": {"退職", "retirement"},
	"transfer":   {"異動", "transfer"},
	"secondment": {"出向", "secondment"},
	// Self-inspection answers and improvement measures (§9.1).
	"compliant":       {"適合", "compliant"},
	"partly":          {"一部適合", "partly"},
	"not":             {"不適合", "not compliant"},
	"not_applicable":  {"該当なし", "not applicable"},
	"measure_open":    {"実施中", "open"},
	"measure_done":    {"完了", "done"},
	"measure_overdue": {"期限超過", "overdue"},
	// Reconciliation findings (§6.2(1)2(ウ)).
	"not_employed":      {"在職していない者のID", "holder no longer employed"},
	"unknown_holder":    {"名簿にない利用者のID", "holder not in the roster"},
	"unused":            {"長期間未使用", "unused"},
	"former_department": {"異動前の部署のID", "holder moved out of the department"},
}

// label names a code in the reader's language.
func (q Query) label(code string) string {
	l, ok := labels[code]
	if !ok {
		return code
	}
	return q.T(l[0], l[1])
}
