package activities

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
