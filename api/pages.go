package api

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

//go:embed pages
var pageFiles embed.FS

var taskTemplate = template.Must(template.ParseFS(pageFiles, "pages/task.html"))

// pageWords are the fixed words of the task page.
type pageWords struct {
	Asked, Process, Summary, Assignee, Due, Comment, YouAre, Once, Recorded, Thanks, Escalated, Footer, Error string
	// The return (差戻し) a revision task answers.
	Returned, ReturnedBy, ReturnedAt, ReturnComment, MissingClauses, Revise string
	// ReviseWhole replaces Revise on a form that holds the whole of what it revises
	// (activities.Field.EmptyClears): an emptied field is cleared, not kept.
	ReviseWhole string
}

var pageText = map[string]pageWords{
	"ja": {
		Asked: "次の件について判断してください。", Process: "手続", Summary: "概要", Assignee: "担当者", Due: "期限",
		Comment: "コメント（任意）", YouAre: "このリンクの持ち主:", Once: "判断は一度だけ記録できます。",
		Recorded: "記録しました", Thanks: "ご対応ありがとうございました。このページは閉じてかまいません。",
		Escalated: "担当者が期限までに判断しなかったため、この件はエスカレーションされています。", Footer: "情報セキュリティポリシー運用", Error: "エラー",
		Returned: "この申請は差し戻されました", ReturnedBy: "差し戻した人", ReturnedAt: "差し戻した日時", ReturnComment: "コメント",
		MissingClauses: "不足とされた契約条項（審査者のメモ）", Revise: "下の欄は現在の申請内容です。指摘に沿って修正し、「再提出」を押してください（空欄にした項目は現在の内容のままです）。",
		ReviseWhole: "下の欄は現在の申請内容です。指摘に沿って修正し、「再提出」を押してください（この欄の内容がそのまま新しい申請内容になります。空欄にした項目は「なし」として扱います）。",
	},
	"en": {
		Asked: "Please decide the following.", Process: "Process", Summary: "Summary", Assignee: "Asked of", Due: "Due",
		Comment: "Comment (optional)", YouAre: "This link belongs to", Once: "A decision can be recorded once.",
		Recorded: "Recorded", Thanks: "Thank you. You may close this page.",
		Escalated: "The person asked did not decide by the deadline, so this has been escalated.", Footer: "information-security policy processes", Error: "Error",
		Returned: "This request was returned to you", ReturnedBy: "Returned by", ReturnedAt: "Returned at", ReturnComment: "Comment",
		MissingClauses: "Contract clauses found missing (reviewer's note)", Revise: "The fields below hold the request as it stands. Change what the comment asks for and press Resubmit (a field left empty keeps its current value).",
		ReviseWhole: "The fields below hold the request as it stands. Change what the comment asks for and press Resubmit (what the fields hold becomes the request: a field left empty means there is none).",
	},
}

type labelled struct{ Label, Value string }

// taskView is what the task page shows.
type taskView struct {
	Lang, Heading, Error, Recorded, DecidedAt string
	W                                         pageWords
	Task                                      bool
	Kind, ProcessID, Summary, Assignee, Due   string
	You                                       string
	Escalated                                 bool
	Details                                   []labelled
	Choices                                   []labelled
	Fields                                    []fieldView
	// Values refill the form after a validation error, or hold the request's current values
	// on a revision form; FieldErrors are shown next to their fields.
	Values      map[string]string
	FieldErrors map[string]string
	// Returned is the return (差戻し) the task answers, if any; Revising is set when its
	// form revises the request.
	Returned *returnedView
	Revising bool
	// Whole is set when the revision form holds the whole of what it revises.
	Whole bool

	// Token is the link's own token, for the page's link to the holder's absence form.
	Token string
}

// fieldView is one form input on the task page.
type fieldView struct {
	Name, Label, Kind, Value, Error string
	Required                        bool
	Options                         []labelled
}

func (s *Server) taskView(t models.Task, p models.Process, l models.TaskLink, people map[string]models.Person, lang, errText string) taskView {
	v := taskView{
		Lang: lang, W: pageText[lang], Task: true, Error: errText,
		Heading: activities.Text{Ja: t.TitleJa, En: t.TitleEn}.In(lang),
		Kind:    activities.KindLabel(p.Kind, lang), ProcessID: p.ID, Summary: visibleSummary(p, t.Step),
		Assignee: people[t.AssigneeID].Name, Due: activities.FormatTime(t.DueAt, s.Loc),
		You: people[l.PersonID].Name, Escalated: t.Escalated,
		Details: details(p, t.Step, people, lang),
	}
	v.Details = append(v.Details, s.incidentDetails(t, p, lang)...)
	v.Details = append(v.Details, s.cloudDetails(t, p, lang)...)
	v.Details = append(v.Details, s.inspectionDetails(t, p, lang)...)
	for _, c := range t.ChoiceList() {
		v.Choices = append(v.Choices, labelled{Label: activities.ChoiceLabel(c, lang), Value: c})
	}
	form := taskForm(t)
	v.Revising = revises(form)
	for _, f := range form {
		v.Whole = v.Whole || f.EmptyClears
	}
	for _, f := range form {
		fv := fieldView{Name: f.Name, Label: f.Label.In(lang), Kind: f.Kind, Required: f.Required}
		if c := f.RequiredIf; c != nil {
			fv.Label += requiredWhen(form, *c, lang)
		}
		for _, o := range f.Options {
			fv.Options = append(fv.Options, labelled{Label: o.Label.In(lang), Value: o.Value})
		}
		v.Fields = append(v.Fields, fv)
	}
	return v
}

// requiredWhen tells, beside a field's label, when it is required: "（…が「…」の場合は必須）".
func requiredWhen(form []activities.Field, c activities.Condition, lang string) string {
	var other string
	var values []string
	for _, f := range form {
		if f.Name != c.Field {
			continue
		}
		other = f.Label.In(lang)
		for _, o := range f.Options {
			if slices.Contains(c.Values, o.Value) {
				values = append(values, o.Label.In(lang))
			}
		}
	}
	if lang == "ja" {
		return fmt.Sprintf("（%sが「%s」の場合は必須）", other, strings.Join(values, "」又は「"))
	}
	return fmt.Sprintf(" (required when %s is %s)", other, strings.Join(values, " or "))
}

// details lists the request's fields that the reader of step sees, labelled in the
// reader's language. What each step sees is declared once, in policy.Visible: a vendor's
// contact sees their own contract, not the town's assessment of them; free text reaches only
// the steps that work from it; an undeclared step sees none of the request (issue 12, item 6).
// The register (GET /api/v1/processes/{id}) still shows the whole request.
func details(p models.Process, step string, people map[string]models.Person, lang string) []labelled {
	visible, _ := policy.Visible(p.Kind, step)
	var in map[string]any
	if json.Unmarshal([]byte(p.Input), &in) != nil {
		return nil
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		if k != policy.SummaryKey && slices.Contains(visible, k) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int { return fieldOrder(a) - fieldOrder(b) })
	var out []labelled
	for _, k := range keys {
		out = append(out, labelled{Label: fieldLabel(k, lang), Value: fieldValue(k, in[k], people, lang)})
	}
	return out
}

// visibleSummary is the process's summary when the reader of step may see it, else empty:
// the summary is made of request fields (policy.SummaryKey). The task page, HTML and JSON,
// shows only this.
func visibleSummary(p models.Process, step string) string {
	if policy.Shows(p.Kind, step, policy.SummaryKey) {
		return p.Summary
	}
	return ""
}

var fieldLabels = []struct{ key, ja, en string }{
	{"requester", "申請者", "Requester"},
	{"department", "所属", "Department"},
	{"emergency", "緊急（事後報告）", "Emergency (reported afterwards)"},
	{"clauses", "適用除外する条項", "Clauses departed from"},
	{"alternative", "代替措置", "What is done instead"},
	{"reason", "理由", "Reason"},
	{"systems", "対象システム", "Systems in scope"},
	{"classification", "情報の分類", "Classification of the information"},
	{"start_date", "開始日", "Start date"},
	{"end_date", "終了日", "End date"},
	{"renews", "更新元の申請", "Renews"},
	{"source", "報告元", "Reported by"},
	{"reporter", "報告者", "Reporter"},
	{"reporter_name", "報告者（住民等）", "Reporter (resident)"},
	{"reporter_email", "報告者のメール", "Reporter's email"},
	{"reporter_phone", "報告者の電話", "Reporter's phone"},
	{"receipt_number", "受付番号", "Receipt number"},
	{"category", "区分", "Category"},
	{"system", "システム", "System"},
	{"description", "内容", "Description"},
	{"discovered_at", "認知日時", "Discovered at"},
	{"received_at", "受付日時", "Received at"},
	{"rules", "規則による判定（§8.3）", "What the rules say (§8.3)"},
	{"service", "クラウドサービス", "Cloud service"},
	{"provider", "提供事業者", "Provider"},
	{"purpose", "利用目的", "Purpose"},
	{"storage_regions", "保存場所（国）", "Stored in (countries)"},
	{"processing_regions", "処理場所（国）", "Processed in (countries)"},
	{"governing_law", "準拠法", "Governing law"},
	{"jurisdiction", "裁判管轄", "Court jurisdiction"},
	{"court", "管轄裁判所", "Court"},
	{"certifications", "認証・監査報告書", "Certifications and audit reports"},
	{"exit_plan", "中断・終了時の移行計画（§8.3(3)）", "Exit plan (§8.3(3))"},
	{"security_design_ref", "セキュリティ設計（§8.3(4)）", "Security design (§8.3(4))"},
	{"selection_flags", "選定時の確認事項（8.1(1)）", "Flags for the selection (8.1(1))"},
	{"vendor_name", "委託先事業者", "Vendor"},
	{"corporate_number", "法人番号", "Corporate number"},
	{"other_identifier", "法人番号以外の識別番号", "Identifier (no corporate number)"},
	{"identifier_reason", "法人番号がない理由", "Why no corporate number"},
	{"contact_name", "委託先担当者", "Vendor contact"},
	{"contact_email", "委託先連絡先", "Vendor contact address"},
	{"work", "委託内容", "Work"},
	{"assets", "取り扱う情報資産", "Information assets"},
	{"subcontracted", "再委託", "Subcontracted"},
	{"subcontractors", "再委託先", "Subcontractors"},
	{"contract_start", "契約開始日", "Contract start"},
	{"contract_end", "契約終了日", "Contract end"},
	{"certificate_number", "ISMS認証登録番号", "ISMS certificate number"},
	{"certificate_expiry", "ISMS認証有効期限", "ISMS certificate valid until"},
	{"audit_status", "情報セキュリティ監査", "Security audit"},
	{"audit_summary", "監査結果の概要", "Audit summary"},
	{"report_interval_months", "定期報告の間隔（月）", "Report every (months)"},
	{"contact_locale", "委託先への連絡言語", "Vendor contact's language"},
	{"employee_id", "対象職員", "Leaver"},
	{"effective_date", "発効日", "Effective date"},
	{"new_department", "異動先", "New department"},
	{"new_section", "異動先の課室", "New section"},
	{"note", "人事からの連絡事項", "Note from HR"},
	{"unused_days", "未使用とみなす日数", "Unused after (days)"},
}

func fieldOrder(k string) int {
	for i, f := range fieldLabels {
		if f.key == k {
			return i
		}
	}
	return len(fieldLabels)
}

func fieldLabel(k, lang string) string {
	for _, f := range fieldLabels {
		if f.key == k {
			return pick(lang, f.ja, f.en)
		}
	}
	return k
}

func fieldValue(k string, v any, people map[string]models.Person, lang string) string {
	switch k {
	case "requester", "reporter":
		if id, ok := v.(string); ok {
			if name := people[id].Name; name != "" {
				return name + " (" + id + ")"
			}
		}
	case "clauses":
		if list, ok := v.([]any); ok {
			var lines []string
			for _, x := range list {
				id, _ := x.(string)
				if c, ok := policy.LookupClause(id); ok {
					lines = append(lines, "§"+id+" "+pick(lang, c.TitleJa, c.TitleEn))
				} else {
					lines = append(lines, "§"+id)
				}
			}
			return strings.Join(lines, "\n")
		}
	case "classification":
		if n, ok := v.(float64); ok {
			if l, err := policy.ParseLevel(int(n)); err == nil {
				return l.Title(lang)
			}
		}
	case "category":
		if c, ok := v.(string); ok {
			if cat, err := policy.ParseCategory(c); err == nil {
				return cat.Title(lang)
			}
		}
	case "rules":
		if text, ok := cloudRulesText(v, lang); ok {
			return text
		}
	case "certifications":
		if text, ok := cloudCertsText(v); ok {
			return text
		}
	case "selection_flags":
		return selectionFlagText(v, lang)
	case "emergency", "subcontracted":
		if b, ok := v.(bool); ok {
			return map[bool]string{true: pick(lang, "はい", "yes"), false: pick(lang, "いいえ", "no")}[b]
		}
	}
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ", ")
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func (s *Server) render(c echo.Context, status int, v taskView) error {
	for i := range v.Fields {
		v.Fields[i].Value = v.Values[v.Fields[i].Name]
		v.Fields[i].Error = v.FieldErrors[v.Fields[i].Name]
	}
	v.Token = c.Param("token")
	var b strings.Builder
	if err := taskTemplate.Execute(&b, v); err != nil {
		return err
	}
	return c.HTML(status, b.String())
}

// pageError answers a link's error as a page for people, or as JSON for programs.
func (s *Server) pageError(c echo.Context, err error, lang string) error {
	var e *Error
	if wantsJSON(c) || !errors.As(err, &e) {
		return err
	}
	heading := map[int]string{
		http.StatusNotFound: pick(lang, "リンクが見つかりません", "Link not found"), http.StatusGone: pick(lang, "このリンクは使用できません", "This link no longer works"),
		http.StatusForbidden:          pick(lang, "この件を判断できません", "You cannot decide this task"),
		http.StatusServiceUnavailable: pick(lang, "一時的に記録できません", "Temporarily unavailable"),
	}[e.Status]
	if heading == "" {
		heading = pageText[lang].Error
	}
	if e.Status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", "60")
	}
	return s.render(c, e.Status, taskView{Lang: lang, W: pageText[lang], Heading: heading, Error: e.Message})
}
