package activities

import "strings"

// Labels of choices and process kinds, in Japanese and English, for mails and task pages.
var (
	choiceLabels = map[string]Text{
		"approve":     {Ja: "承認", En: "Approve"},
		"reject":      {Ja: "却下", En: "Reject"},
		"return":      {Ja: "差戻し", En: "Return for changes"},
		"resubmit":    {Ja: "再提出", En: "Resubmit"},
		"withdraw":    {Ja: "取下げ", En: "Withdraw"},
		"ratify":      {Ja: "事後承認", En: "Ratify"},
		"revoke":      {Ja: "取消し", En: "Revoke"},
		"done":        {Ja: "完了", En: "Done"},
		"acknowledge": {Ja: "確認しました", En: "Acknowledge"},
		"record":      {Ja: "記録する", En: "Record"},
		"instruct":    {Ja: "指示する", En: "Give instructions"},
		"submit":      {Ja: "提出する", En: "Submit"},
		"accept":      {Ja: "了承", En: "Accept"},
		"assessed":    {Ja: "評価を記録する", En: "Record the assessment"},
		"renewed":     {Ja: "更新された認証を登録する", En: "Register the renewed certification"},
		"lapsed":      {Ja: "更新されない", En: "Not renewed"},
		// A cloud service the rules deny (§8.3): the department security officer's choices.
		"confirm_refusal": {Ja: "利用を認めない（拒否を確定する）", En: "Refuse the service (confirm the refusal)"},
		"refer_to_ciso":   {Ja: "理由を付してCISOに判断を求める", En: "Send it to the CISO, with the reason"},
		"disabled":        {Ja: "無効化した", En: "Disabled"},
		"deleted":         {Ja: "削除した", En: "Deleted"},
		"rotated":         {Ja: "変更した", En: "Changed"},
		"returned":        {Ja: "返却された", En: "Returned"},
		"missing":         {Ja: "返却されていない", En: "Missing"},
		"disable":         {Ja: "無効化する", En: "Disable"},
		"keep":            {Ja: "継続する（理由を記入）", En: "Keep (give the reason)"},
		"kept":            {Ja: "維持する（理由を記入）", En: "Keep (give the reason)"},
		"designate":       {Ja: "代行者を指名する（CISOの承認が必要）", En: "Designate someone (the CISO approves)"},
	}
	kindLabels = map[string]Text{
		"exception":          {Ja: "例外措置申請", En: "Exception request"},
		"incident":           {Ja: "情報セキュリティインシデント対応", En: "Security incident response"},
		"outsourcing_review": {Ja: "外部委託契約の審査", En: "Outsourcing contract review"},
		"cloud_assessment":   {Ja: "クラウドサービス利用の評価", En: "Cloud service assessment"},
		"offboarding":        {Ja: "退職・異動に伴うアカウント削除", En: "Account offboarding"},
		"reconciliation":     {Ja: "アカウントと人事名簿の定期照合", En: "Account reconciliation"},
	}
)

// ChoiceLabel names a task's choice in the locale ("ja" unless "en").
func ChoiceLabel(choice, locale string) string {
	if t, ok := choiceLabels[choice]; ok {
		return t.In(locale)
	}
	return choice
}

// KindLabel names a kind of process in the locale.
func KindLabel(kind, locale string) string {
	if t, ok := kindLabels[kind]; ok {
		return t.In(locale)
	}
	return kind
}

// stageLabels name the stages of a process (the steps of policy.Steps, and the stages
// between them) as the staff pages show them, in Japanese and English.
var stageLabels = map[string]Text{
	"submitted": {Ja: "受付", En: "Received"},
	"closed":    {Ja: "終了", En: "Closed"},
	// exception (§7.4)
	"ciso_review":        {Ja: "CISOの審査", En: "The CISO's review"},
	"ciso_ratification":  {Ja: "CISOの事後承認", En: "The CISO's ratification"},
	"requester_revision": {Ja: "申請者による修正", En: "The requester's revision"},
	"restore_compliance": {Ja: "例外措置の終了と原状回復", En: "Ending the exception, compliance restored"},
	"awaiting_start":     {Ja: "開始日待ち", En: "Waiting for the start date"},
	"in_effect":          {Ja: "例外措置の実施中", En: "In effect"},
	// incident (§5.3, §7.3)
	"disconnection":       {Ja: "ネットワークからの切断", En: "Disconnection"},
	"disconnection_check": {Ja: "切断の確認", En: "Checking the disconnection"},
	"triage":              {Ja: "初動判断（トリアージ）", En: "Triage"},
	"triage_overdue":      {Ja: "初動判断（期限超過）", En: "Triage (overdue)"},
	"ciso_instruction":    {Ja: "CISOの指示", En: "The CISO's instructions"},
	"ciso_instructed":     {Ja: "CISOの指示あり", En: "The CISO has instructed"},
	"ciso_unanswered":     {Ja: "CISOの指示なし（期限超過）", En: "No answer from the CISO"},
	"record":              {Ja: "対応の記録", En: "Recording what was done"},
	"contact":             {Ja: "連絡", En: "Contact"},
	"evidence":            {Ja: "証拠の保全", En: "Evidence"},
	"containment":         {Ja: "被害の拡大防止", En: "Containment"},
	"recovery":            {Ja: "復旧", En: "Recovery"},
	"cause_department":    {Ja: "原因の報告（所属）", En: "Cause (department)"},
	"cause_system":        {Ja: "原因の報告（システム）", En: "Cause (system)"},
	"root_cause":          {Ja: "原因の究明", En: "Root cause"},
	"root_cause_review":   {Ja: "原因究明の確認", En: "Review of the root cause"},
	"measure":             {Ja: "再発防止策", En: "Measure against recurrence"},
	"measures":            {Ja: "再発防止策", En: "Measures against recurrence"},
	"giso_judgement":      {Ja: "GISOの判断", En: "The GISO's judgement"},
	// outsourcing review (§8.1)
	"selection_review":                       {Ja: "委託先の選定審査", En: "Review of the vendor's selection"},
	"selection_revision":                     {Ja: "委託先の選定の見直し", En: "Revising the vendor's selection"},
	"clause_review":                          {Ja: "契約条項の審査", En: "Review of the contract clauses"},
	"giso_decision":                          {Ja: "GISOの判断", En: "The GISO's decision"},
	"approval":                               {Ja: "承認", En: "Approval"},
	"briefing":                               {Ja: "委託先への説明", En: "Briefing the vendor"},
	"briefing_acknowledgement":               {Ja: "委託先の説明受領の確認", En: "The vendor acknowledges the briefing"},
	"briefing_followup":                      {Ja: "説明受領の督促", En: "Following up the briefing"},
	"contract_running":                       {Ja: "契約期間中", En: "Contract running"},
	"periodic_report":                        {Ja: "定期報告", En: "Periodic report"},
	"subcontracting_approval":                {Ja: "再委託の承認", En: "Approving subcontracting"},
	"subcontractor_briefing":                 {Ja: "再委託先への説明", En: "Briefing the subcontractor"},
	"subcontractor_briefing_acknowledgement": {Ja: "再委託先の説明受領の確認", En: "The subcontractor acknowledges the briefing"},
	"certificate_renewal":                    {Ja: "認証の更新", En: "Renewal of the certification"},
	"disposal":                               {Ja: "情報資産の返却・廃棄", En: "Return or disposal of information"},
	"disposal_permission":                    {Ja: "廃棄の許可", En: "Permission to dispose"},
	"disposal_record":                        {Ja: "返却・廃棄の記録", En: "Recording the return or disposal"},
	// cloud assessment (§8.3)
	"rules":             {Ja: "町の基準による判定", En: "The town's rules"},
	"diso_assessment":   {Ja: "情報セキュリティ責任者の評価", En: "The department security officer's assessment"},
	"denial_review":     {Ja: "不可判定の確認", En: "Review of the refusal"},
	"ciso_referral":     {Ja: "CISOへの判断の求め", En: "Referred to the CISO"},
	"ciso_approval":     {Ja: "CISOの承認", En: "The CISO's approval"},
	"in_use":            {Ja: "利用中", En: "In use"},
	"exit_plan":         {Ja: "移行計画の実施", En: "Running the exit plan"},
	"exit_confirmation": {Ja: "移行・終了の確認", En: "Confirming the exit"},
	// offboarding, reconciliation, inspection
	"offboarding":               {Ja: "アカウント削除", En: "Offboarding"},
	"awaiting_effective_date":   {Ja: "発令日待ち", En: "Waiting for the effective date"},
	"disable_accounts":          {Ja: "アカウントの無効化", En: "Disabling accounts"},
	"rotate_credential":         {Ja: "パスワードの変更", En: "Changing passwords"},
	"approve_rotation_designee": {Ja: "代行者の承認", En: "Approving a designee"},
	"confirm_assets":            {Ja: "情報資産の返却確認", En: "Confirming returned assets"},
	"secrecy_acknowledgement":   {Ja: "守秘義務の確認", En: "Acknowledging secrecy"},
	"review_transfer_access":    {Ja: "異動前の権限の見直し", En: "Reviewing former access"},
	"manager_review":            {Ja: "所属長の確認", En: "The manager's review"},
	"reconcile_accounts":        {Ja: "アカウントの照合", En: "Reconciling accounts"},
	"inspection":                {Ja: "自己点検", En: "Self-inspection"},
	"inspect_system":            {Ja: "システムの自己点検", En: "Inspecting a system"},
	"inspect_department":        {Ja: "所属の自己点検", En: "Inspecting a department"},
	"improvement_measure":       {Ja: "改善措置", En: "Improvement measure"},
	"report_" + ReportResults:   {Ja: "点検結果の報告（§9.1(2)）", En: "Reporting the results (§9.1(2))"},
	"report_" + ReportMeasures:  {Ja: "改善措置の報告（§9.1(2)）", En: "Reporting the measures (§9.1(2))"},
}

// statusLabels name a process's status.
var statusLabels = map[string]Text{
	"starting":                {Ja: "受付中", En: "Starting"},
	"pending":                 {Ja: "審査中", En: "Pending"},
	"waiting":                 {Ja: "待機中", En: "Waiting"},
	"returned":                {Ja: "差戻し", En: "Returned"},
	"escalated":               {Ja: "上位者へ回付", En: "Escalated"},
	"triage":                  {Ja: "初動判断中", En: "In triage"},
	"responding":              {Ja: "対応中", En: "Responding"},
	"recording":               {Ja: "記録中", En: "Recording"},
	"ciso_instruction":        {Ja: "CISOの指示待ち", En: "Waiting for the CISO"},
	"root_cause":              {Ja: "原因究明中", En: "Finding the root cause"},
	"measures":                {Ja: "再発防止策の実施中", En: "Taking measures"},
	"in_progress":             {Ja: "実施中", En: "In progress"},
	"in_effect":               {Ja: "実施中", En: "In effect"},
	"in_use":                  {Ja: "利用中", En: "In use"},
	"awaiting_start":          {Ja: "開始日待ち", En: "Waiting for the start date"},
	"awaiting_effective_date": {Ja: "発令日待ち", En: "Waiting for the effective date"},
	"restoring":               {Ja: "原状回復中", En: "Restoring"},
	"exiting":                 {Ja: "利用終了の手続中", En: "Exiting"},
	"approved":                {Ja: "承認", En: "Approved"},
	"rejected":                {Ja: "却下", En: "Rejected"},
	"refused":                 {Ja: "不可", En: "Refused"},
	"denied":                  {Ja: "不可（町の基準）", En: "Denied by the rules"},
	"completed":               {Ja: "完了", En: "Completed"},
	"ended":                   {Ja: "終了", En: "Ended"},
	"terminated":              {Ja: "利用終了", En: "Terminated"},
	"lapsed":                  {Ja: "失効", En: "Lapsed"},
	"expired":                 {Ja: "期限切れ", En: "Expired"},
	"cancelled":               {Ja: "取消し", En: "Cancelled"},
	"withdrawn":               {Ja: "取下げ", En: "Withdrawn"},
	"incomplete":              {Ja: "未完了", En: "Incomplete"},
	"exit_unconfirmed":        {Ja: "移行未確認", En: "Exit not confirmed"},
	"restoration_unconfirmed": {Ja: "原状回復未確認", En: "Restoration not confirmed"},
	"skipped":                 {Ja: "対象外", En: "Skipped"},
	"overdue":                 {Ja: "期限超過", En: "Overdue"},
}

// StageLabel names a process's stage in the locale: the steps of an incident's plan phase
// ("contact+evidence") each, a numbered measure ("measure_2") by its base; an
// unknown stage as it is.
func StageLabel(stage, locale string) string {
	if t, ok := stageLabels[stage]; ok {
		return t.In(locale)
	}
	if parts := strings.Split(stage, "+"); len(parts) > 1 {
		out := make([]string, len(parts))
		for i, s := range parts {
			out[i] = StageLabel(s, locale)
		}
		sep := "・"
		if locale == "en" {
			sep = ", "
		}
		return strings.Join(out, sep)
	}
	if base, n, ok := strings.Cut(stage, "_"); ok && n != "" {
		if t, ok := stageLabels[base]; ok && base == "measure" {
			return t.In(locale) + " (" + n + ")"
		}
	}
	return stage
}

// StatusLabel names a process's status in the locale; an unknown one as it is.
func StatusLabel(status, locale string) string {
	if t, ok := statusLabels[status]; ok {
		return t.In(locale)
	}
	return status
}
