package activities

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

//go:embed mailtmpl
var mailFiles embed.FS

var (
	taskText = map[string]*texttemplate.Template{
		"ja": texttemplate.Must(texttemplate.ParseFS(mailFiles, "mailtmpl/task.ja.txt")),
		"en": texttemplate.Must(texttemplate.ParseFS(mailFiles, "mailtmpl/task.en.txt")),
	}
	taskHTML = htmltemplate.Must(htmltemplate.ParseFS(mailFiles, "mailtmpl/task.html"))

	errUnknownNotice = errors.New("unknown notice kind")
)

// KindUnreachableEscalation is the escalation of a task whose assignee's mail was refused for
// good: it goes to the deputy at once, saying why.
const KindUnreachableEscalation = "escalation-unreachable"

// taskMail is what a mail about a task is made of.
type taskMail struct {
	Kind    string
	Task    models.Task
	Process models.Process
	Person  models.Person
	Link    string
	Loc     *time.Location
	// Return is the return (差戻し) a revision task answers, if it answers one.
	Return *Return
}

// mailWords are the fixed words of the HTML mail, per locale.
type mailWords struct {
	Title, Process, Summary, Due, Choices, Open, Note string
}

var words = map[string]mailWords{
	"ja": {"件名", "手続", "概要", "期限", "選択肢", "内容を確認して判断する", "リンクを開いただけでは何も記録されません。このリンクはあなた専用です。転送しないでください。"},
	"en": {"Subject", "Process", "Summary", "Due", "Choices", "Read and decide", "Opening the link records nothing. This link is yours alone; please do not forward it."},
}

// FormatTime writes an instant in the town's zone, as mails and pages show it.
func FormatTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

func localeOf(p models.Person) string {
	if p.Locale == "en" {
		return "en"
	}
	return "ja"
}

// renderTaskMail writes the mail for an assigned task, a reminder or an escalation, in the
// recipient's locale (Japanese by default).
func renderTaskMail(m taskMail) (Message, error) {
	lang := localeOf(m.Person)
	title := Text{Ja: m.Task.TitleJa, En: m.Task.TitleEn}.In(lang)
	choices := make([]string, 0, len(m.Task.ChoiceList()))
	for _, c := range m.Task.ChoiceList() {
		choices = append(choices, ChoiceLabel(c, lang))
	}
	var prefix, intro Text
	switch {
	case m.Kind == "assigned":
		prefix = Text{Ja: "【依頼】", En: "[Action] "}
		intro = Text{Ja: "次の件について判断をお願いします。", En: "Please decide the following."}
	case strings.HasPrefix(m.Kind, "reminder"):
		prefix = Text{Ja: "【リマインダー】", En: "[Reminder] "}
		intro = Text{Ja: "次の件の期限が近づいています。判断をお願いします（以前のメールのリンクも引き続き有効です）。", En: "The deadline of the following is near. Please decide (the link in the earlier mail still works)."}
	case m.Kind == "escalation":
		prefix = Text{Ja: "【エスカレーション】", En: "[Escalation] "}
		intro = Text{Ja: "次の件は担当者が期限までに判断しなかったため、あなたに回付されました。担当者に代わって判断できます（代決：判断は担当者に後閲として通知されます）。", En: "The person asked did not decide the following by its deadline, so it has been escalated to you. You may decide in their place (the decision is reported to them afterwards)."}
	case m.Kind == KindUnreachableEscalation:
		prefix = Text{Ja: "【エスカレーション・連絡不能】", En: "[Escalation: unreachable] "}
		intro = Text{Ja: "次の件は担当者へのメールが配送できなかった（宛先のメールサーバが受信を拒否した）ため、期限を待たずにあなたに回付されました。担当者に代わって判断できます（代決：判断は担当者に後閲として通知されます）。", En: "The mail to the person asked could not be delivered (their mail server refused the address), so the following has been escalated to you at once, without waiting for its deadline. You may decide in their place (the decision is reported to them afterwards)."}
	case strings.HasPrefix(m.Kind, "handover"):
		prefix = Text{Ja: "【引継ぎ】", En: "[Handed over] "}
		intro = Text{Ja: "次の件は担当の変更（異動・不在など）により、あなたに引き継がれました。判断をお願いします。", En: "The following has been handed over to you (a change of post, or an absence). Please decide."}
	case m.Kind == "overdue":
		prefix = Text{Ja: "【期限超過】", En: "[Overdue] "}
		intro = Text{Ja: "次の件は期限を過ぎています。この判断はあなたにしかできません。至急判断してください。", En: "The following is past its deadline. Only you may decide it: please decide now."}
	default:
		return Message{}, errors.New("unknown task mail kind " + m.Kind)
	}
	data := map[string]any{
		"Name": m.Person.Name, "Intro": intro.In(lang), "Title": title,
		"Kind": KindLabel(m.Process.Kind, lang), "ProcessID": m.Process.ID, "Summary": stepSummary(m.Process, m.Task.Step),
		"Due": FormatTime(m.Task.DueAt, m.Loc), "Expires": FormatTime(m.Task.ExpiresAt, m.Loc),
		"Choices": strings.Join(choices, " / "), "Link": m.Link, "Lang": lang, "L": words[lang],
		"Greeting": Text{Ja: m.Person.Name + " 様", En: "Dear " + m.Person.Name + ","}.In(lang),
		"Returned": m.Return.Text(lang, m.Loc),
	}
	var text, html bytes.Buffer
	if err := taskText[lang].Execute(&text, data); err != nil {
		return Message{}, err
	}
	if err := taskHTML.Execute(&html, data); err != nil {
		return Message{}, err
	}
	return Message{
		To:      m.Person.Email,
		Subject: prefix.In(lang) + title + " (" + m.Process.ID + ")",
		Text:    text.String(), HTML: html.String(),
	}, nil
}

// stepSummary is the process's summary when the reader of step may see it, else empty. The
// summary is made of request fields, so it follows the step's declared view
// (policy.Visible, issue 12 item 6) like the task page does.
func stepSummary(p models.Process, step string) string {
	if policy.Shows(p.Kind, step, policy.SummaryKey) {
		return p.Summary
	}
	return ""
}

// stepFields returns, as text, the request's fields that the reader of step sees, every
// declared key present (empty when the request lacks it) so that a notice's template can
// name them.
func stepFields(p models.Process, step string) map[string]string {
	keys, _ := policy.Visible(p.Kind, step)
	var in map[string]any
	_ = json.Unmarshal([]byte(p.Input), &in)
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		if k == policy.SummaryKey {
			continue
		}
		switch v := in[k].(type) {
		case nil:
			out[k] = ""
		case string:
			out[k] = v
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

// noticeText is a notice's subject and body. Step names the task whose reader the notice
// goes to, when there is one: the notice then shows the summary and request fields only as
// that step's view allows (policy.Visible). A notice without a step goes to people of the
// town who take part in the process; sent to someone outside the town it shows no summary.
type noticeText struct {
	Subject, Body Text
	Step          string
}

// notices are the texts of the mails that ask nothing through a link; {{.end_date}} and
// the like are the notice's parameters.
var notices = map[string]noticeText{
	NoticeExceptionEnding: {
		Subject: Text{Ja: "【お知らせ】例外措置の終了が近づいています", En: "[Notice] Your exception ends soon"},
		Body: Text{
			Ja: "{{.name}} 様\n\n例外措置（{{.process_id}}：{{.summary}}）は {{.end_date}} に終了します。\n継続が必要な場合は、この申請を参照して新たに例外措置を申請してください。\n終了日の翌日に、遵守状態への復帰の確認をお願いするメールが届きます。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nYour exception ({{.process_id}}: {{.summary}}) ends on {{.end_date}}.\nIf it is still needed, file a new exception request that refers to this one.\nAfter the end you will be asked to confirm that compliance is restored.\n\n--\npolicyflow\n",
		},
	},
	NoticeIncidentReported: {
		Subject: Text{Ja: "【報告】情報セキュリティインシデントが報告されました", En: "[Report] A security incident was reported"},
		Body: Text{
			Ja: "{{.name}} 様\n\n情報セキュリティインシデント（{{.process_id}}：{{.summary}}）が報告されました（§5.3(1)2）。\n分類：{{.category}}\n受付：{{.received_at}}\n判定の担当：{{.triage_by}}\n\n詳細は登録簿（GET /api/v1/processes/{{.process_id}}）でご確認ください。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nA security incident ({{.process_id}}: {{.summary}}) was reported (§5.3(1)2).\nCategory: {{.category}}\nReceived: {{.received_at}}\nTriage by: {{.triage_by}}\n\nThe details are in the register (GET /api/v1/processes/{{.process_id}}).\n\n--\npolicyflow\n",
		},
	},
	NoticeIncidentTriaged: {
		Subject: Text{Ja: "【報告】緊急時対応計画を適用する情報セキュリティインシデント", En: "[Report] A security incident under the emergency response plan"},
		Body: Text{
			Ja: "{{.name}} 様\n\n情報セキュリティインシデント（{{.process_id}}：{{.summary}}）は判定の結果、緊急時対応計画を適用します（§2(3)5、§2(2)8）。\n分類：{{.category}}\n重大度：{{.severity}}\n判定：{{.triaged_by}}（{{.triaged_at}}）\nCISOの指示：{{.instruction}}\n\n詳細は登録簿（GET /api/v1/processes/{{.process_id}}）でご確認ください。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nThe security incident ({{.process_id}}: {{.summary}}) was triaged: the emergency response plan applies (§2(3)5, §2(2)8).\nCategory: {{.category}}\nSeverity: {{.severity}}\nTriaged by: {{.triaged_by}} ({{.triaged_at}})\nThe CISO's instructions: {{.instruction}}\n\nThe details are in the register (GET /api/v1/processes/{{.process_id}}).\n\n--\npolicyflow\n",
		},
	},
	NoticeIncidentClosed: {
		Subject: Text{Ja: "【お知らせ】情報セキュリティインシデントが終結しました", En: "[Notice] A security incident was closed"},
		Body: Text{
			Ja: "{{.name}} 様\n\n情報セキュリティインシデント（{{.process_id}}：{{.summary}}）は終結しました。\n重大度：{{.severity}}\n経過：{{.how}}\n\n対応の記録は登録簿（GET /api/v1/processes/{{.process_id}}）にあります。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nThe security incident ({{.process_id}}: {{.summary}}) was closed.\nSeverity: {{.severity}}\nHow: {{.how}}\n\nThe record of what was done is in the register (GET /api/v1/processes/{{.process_id}}).\n\n--\npolicyflow\n",
		},
	},
	NoticeIncidentCommitteeReport: {
		Subject: Text{Ja: "【報告】情報セキュリティインシデントの報告（情報セキュリティ委員会）", En: "[Report] A security incident closed: report to the security committee"},
		Body: Text{
			Ja: "{{.name}} 様\n\n情報セキュリティ委員会の構成員として、終結した情報セキュリティインシデント（{{.process_id}}：{{.summary}}）について報告します（§7.3(2)2、§7.3(3)）。\n\n{{.report_ja}}\n対応の記録は登録簿（GET /api/v1/processes/{{.process_id}}）にあります。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nAs a member of the security committee, you receive the report of a security incident that has closed ({{.process_id}}: {{.summary}}) (§7.3(2)2, §7.3(3)).\n\n{{.report_en}}\nThe record of what was done is in the register (GET /api/v1/processes/{{.process_id}}).\n\n--\npolicyflow\n",
		},
	},
	NoticeCloudDecided: {
		Subject: Text{Ja: "【お知らせ】クラウドサービス利用の評価結果", En: "[Notice] Outcome of a cloud service assessment"},
		Body: Text{
			Ja: "{{.name}} 様\n\nクラウドサービス利用の評価（{{.process_id}}：{{.summary}}）の結果は「{{.outcome}}」です（§8.3）。\n{{.note}}\n\n評価の理由は記録（GET /api/v1/processes/{{.process_id}}）で確認できます。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nThe cloud service assessment ({{.process_id}}: {{.summary}}) ended as \"{{.outcome}}\" (§8.3).\n{{.note}}\n\nThe reasons are in the register (GET /api/v1/processes/{{.process_id}}).\n\n--\npolicyflow\n",
		},
	},
	NoticeCloudReassessment: {
		Subject: Text{Ja: "【お知らせ】クラウドサービスの年度の再評価", En: "[Notice] Yearly reassessment of a cloud service"},
		Body: Text{
			Ja: "{{.name}} 様\n\n利用中のクラウドサービス（{{.process_id}}：{{.summary}}）の{{.fiscal_year}}年度の再評価を開始します（§9.1、§8.3）。\n評価の依頼メールが別途届きます。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nThe yearly reassessment of the cloud service in use ({{.process_id}}: {{.summary}}) for fiscal year {{.fiscal_year}} starts now (§9.1, §8.3).\nYou will receive the assessment task in a separate mail.\n\n--\npolicyflow\n",
		},
	},
	NoticeOutsourcingBriefing: {
		// The vendor's contact reads it before acknowledging it (§5.1(3)): their view.
		Step:    "briefing_acknowledgement",
		Subject: Text{Ja: "【ご説明】委託業務において遵守いただく情報セキュリティ要件", En: "[Briefing] The security requirements your company must keep in this contract"},
		Body: Text{
			Ja: "{{.name}} 様\n\n委託業務「{{.work}}」（{{.process_id}}）の契約期間は {{.contract_start}} から {{.contract_end}} までです。\n情報セキュリティポリシー（対策基準 5.1(3)、8.1(2)）に基づき、貴社及び再委託先を含む全ての作業者に次の事項を遵守いただきます。\n\n{{.obligations_ja}}\nあわせて、業務上知り得た情報の機密保持をお願いします。定期報告（{{.report_interval}}か月ごと）の依頼は、その都度このアドレスにメールでお送りします。\n\n別途届くメールのリンクから、この説明を確認したことをお知らせください。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nThe contract for \"{{.work}}\" ({{.process_id}}) runs from {{.contract_start}} to {{.contract_end}}.\nUnder the town's information-security policy (standards 5.1(3) and 8.1(2)), your company and every worker, subcontractors included, must keep the following:\n\n{{.obligations_en}}\nWhat you learn on the job is confidential. A periodic report (every {{.report_interval}} months) will be asked of this address by mail each time.\n\nPlease confirm through the link in the mail that follows that you received this briefing.\n\n--\npolicyflow\n",
		},
	},
	NoticeVendorIncident: {
		Subject: Text{Ja: "【要確認】委託先の定期報告にインシデントの記載があります", En: "[Check] A vendor's periodic report names an incident"},
		Body: Text{
			Ja: "{{.name}} 様\n\n委託業務（{{.process_id}}：{{.summary}}）の定期報告（{{.period_from}}〜{{.period_to}}）に、情報セキュリティインシデントの記載があります。\n内容を確認し、必要に応じて対策基準 5.3 に従って報告・対応してください。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nThe periodic report ({{.period_from}} to {{.period_to}}) of the contract {{.process_id}} ({{.summary}}) names a security incident.\nPlease read it and, where needed, report and handle it under standard 5.3.\n\n--\npolicyflow\n",
		},
	},
	NoticeReportMissing: {
		Subject: Text{Ja: "【未提出】委託先の定期報告が届いていません", En: "[Overdue] A vendor's periodic report did not arrive"},
		Body: Text{
			Ja: "{{.name}} 様\n\n委託業務（{{.process_id}}：{{.summary}}）の定期報告（{{.period_from}}〜{{.period_to}}）が期限までに提出されませんでした。\n委託先に直接確認してください。未提出として記録しています。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nThe periodic report ({{.period_from}} to {{.period_to}}) of the contract {{.process_id}} ({{.summary}}) was not submitted in time.\nPlease contact the vendor directly. It is recorded as missing.\n\n--\npolicyflow\n",
		},
	},
	NoticeOffboardingStarted: {
		Subject: Text{Ja: "【お知らせ】職員の退職・異動に伴うアカウント削除の手続を開始しました", En: "[Notice] Account offboarding started for a member of your department"},
		Body: Text{
			Ja: "{{.name}} 様\n\n{{.employee}} の{{.reason}}（発効日 {{.effective_date}}）に伴い、アカウント削除・貸与物返却の手続（{{.process_id}}）を開始しました。\n発効日の終了後に、各システムの情報システム管理者へのアカウント無効化依頼と、あなたへの貸与物の返却確認の依頼が届きます。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nAn offboarding ({{.process_id}}) was started for {{.employee}}: {{.reason}}, effective {{.effective_date}}.\nAfter the end of that day, each system's manager will be asked to disable the accounts, and you will be asked to confirm the return of the lent assets.\n\n--\npolicyflow\n",
		},
	},
	NoticeAssetMissing: {
		Subject: Text{Ja: "【至急】貸与物の未返却（情報セキュリティインシデント）", En: "[Urgent] A lent asset was not returned (security incident)"},
		Body: Text{
			Ja: "{{.name}} 様\n\n{{.employee}} の退職・異動の手続（{{.process_id}}）で、次の貸与物が返却されていないと報告されました。\n\n  {{.asset}}\n\n返却されない情報資産はセキュリティインシデントとして扱ってください（§5.1(1)8、§5.3）。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nIn the offboarding {{.process_id}} of {{.employee}}, the following lent asset was reported as not returned:\n\n  {{.asset}}\n\nAn information asset that is not returned is a security incident (§5.1(1)8, §5.3).\n\n--\npolicyflow\n",
		},
	},
	NoticeOffboardingReport: {
		Subject: Text{Ja: "【報告】退職・異動に伴うアカウント削除の完了報告", En: "[Report] Account offboarding closed"},
		Body: Text{
			Ja: "{{.name}} 様\n\n{{.employee}} の退職・異動に伴う手続（{{.process_id}}、発効日 {{.effective_date}}）を終了しました（結果：{{.outcome}}）。\n\n各アカウント・貸与物の処理結果：\n{{.report}}\n秘密保持義務の確認：{{.secrecy}}\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nThe offboarding {{.process_id}} of {{.employee}} (effective {{.effective_date}}) is closed (outcome: {{.outcome}}).\n\nEach account's and asset's disposition:\n{{.report}}\nSecrecy acknowledgement: {{.secrecy}}\n\n--\npolicyflow\n",
		},
	},
	NoticeDesigneeApproved: {
		Subject: Text{Ja: "【通知】特権IDのパスワード変更の代行者をCISOが認めました", En: "[Notice] The CISO approved a designee to change a privileged password"},
		Body: Text{
			Ja: "{{.name}} 様\n\n退職・異動に伴う手続（{{.process_id}}）で、CISO（{{.approved_by}}）は、{{.named_by}} が指名した {{.designee}} を、{{.system_id}} の ID {{.account_id}} のパスワード変更の代行者として認めました（対策基準 6.2(1)3(イ)）。\n\n対策基準 6.2(1)3(ウ) に基づき、統括情報セキュリティ責任者、情報セキュリティ責任者及び情報システム管理者にお知らせします。この通知への操作は不要です。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nIn the offboarding {{.process_id}}, the CISO ({{.approved_by}}) approved {{.designee}}, named by {{.named_by}}, as the designee to change the password of the ID {{.account_id}} on {{.system_id}} (standard 6.2(1)3(イ)).\n\nUnder standard 6.2(1)3(ウ) the GISO, the department's security officer and the system's manager are told. Nothing is asked of you.\n\n--\npolicyflow\n",
		},
	},
	NoticeInspectionReport: {
		Subject: Text{Ja: "【報告】自己点検の結果と改善策", En: "[Report] Results and improvement measures of the self-inspection"},
		Body: Text{
			Ja: "{{.name}} 様\n\n{{.fiscal_year}}年度の自己点検（{{.process_id}}）の結果と、結果に基づく改善策を取りまとめましたので、情報セキュリティ委員会に報告します（対策基準 9.1(2)）。\n報告の内容：{{.round}}\n情報セキュリティポリシー及び関係規程等の見直しにご活用ください（9.1(3)、9.2）。\n\n{{.report}}\n詳細は登録簿（GET /api/v1/inspections/{{.process_id}}）にあります。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nThe results of the self-inspection of fiscal year {{.fiscal_year}} ({{.process_id}}) and the improvement measures based on them are compiled and reported to the information security committee (standard 9.1(2)).\nThis report: {{.round}}\nPlease use them to review the security policy and the related rules (9.1(3), 9.2).\n\n{{.report}}\nThe details are in the register (GET /api/v1/inspections/{{.process_id}}).\n\n--\npolicyflow\n",
		},
	},
	NoticeReconciliationSummary: {
		Subject: Text{Ja: "【報告】アカウントと人事名簿の定期照合の結果", En: "[Report] Account reconciliation against the HR roster"},
		Body: Text{
			Ja: "{{.name}} 様\n\nアカウントと人事名簿の照合（{{.process_id}}、§6.2(1)2(ウ)）を終了しました。\n\n{{.report}}\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nThe reconciliation of accounts against the HR roster ({{.process_id}}, §6.2(1)2(ウ)) is closed.\n\n{{.report}}\n--\npolicyflow\n",
		},
	},
}

func renderNotice(n Notice, proc models.Process, person models.Person, publicURL string) (Message, error) {
	tpl, ok := notices[n.Kind]
	if !ok {
		tpl, ok = authorityNotices[n.Kind]
	}
	if !ok {
		return Message{}, errUnknownNotice
	}
	lang := localeOf(person)
	summary := proc.Summary
	data := map[string]string{}
	switch {
	case tpl.Step != "":
		summary = stepSummary(proc, tpl.Step)
		data = stepFields(proc, tpl.Step)
	case models.IsContactID(person.EmployeeID):
		summary = "" // outside the town, and no step says what they may see
	}
	for k, v := range map[string]string{"name": person.Name, "process_id": proc.ID, "summary": summary, "public_url": publicURL} {
		data[k] = v
	}
	for k, v := range n.Params {
		data[k] = v
	}
	t, err := texttemplate.New(n.Kind).Option("missingkey=error").Parse(tpl.Body.In(lang))
	if err != nil {
		return Message{}, err
	}
	var body bytes.Buffer
	if err := t.Execute(&body, data); err != nil {
		return Message{}, err
	}
	return Message{To: person.Email, Subject: tpl.Subject.In(lang) + " (" + proc.ID + ")", Text: body.String()}, nil
}
