package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// Filing a request from the staff pages: a form (no JavaScript), a confirmation page, then
// the request is filed through the same validation and start as the API's
// (checkIncident, checkException, Server.start). A hidden idempotency key makes a double
// submit file one request.

// formField is one input of a staff form, with what was entered and what is wrong with it.
type formField struct {
	// Kind is text, textarea, select, checkboxes, date, datetime or checkbox; fixed is a
	// value shown, not entered (the requester: the signed-in person).
	Name, Label, Kind, Help string
	Required                bool
	Options                 []formOption
	Value                   string
	Values                  []string
	Error                   string
}

type formOption struct{ Value, Label string }

// Shown is what the confirmation page shows for the field: the labels of the options chosen.
func (f formField) Shown() string {
	chosen := f.Values
	if f.Kind != "checkboxes" {
		chosen = []string{f.Value}
	}
	if f.Kind == "checkbox" {
		if f.Value == "yes" {
			return "✓"
		}
		return "—"
	}
	var out []string
	for _, v := range chosen {
		if v == "" {
			continue
		}
		label := v
		for _, o := range f.Options {
			if o.Value == v {
				label = o.Label
			}
		}
		out = append(out, label)
	}
	if len(out) == 0 {
		return "—"
	}
	return strings.Join(out, "\n")
}

type formData struct {
	Kind, KindLabel, Key string
	Fields               []formField
	Confirm              bool
}

// filing is one kind of request the staff pages file: its form, and how the form's values
// become the API's request, validated and ready to start.
type filing struct {
	fields func(s *Server, ctx context.Context, p models.Person, lang string) ([]formField, error)
	check  func(s *Server, ctx context.Context, p models.Person, v url.Values) (startSpec, error)
}

var filings = map[string]filing{
	models.KindIncident:          {fields: (*Server).incidentFields, check: (*Server).checkIncidentForm},
	models.KindException:         {fields: (*Server).exceptionFields, check: (*Server).checkExceptionForm},
	models.KindCloudAssessment:   {fields: (*Server).cloudFields, check: (*Server).checkCloudForm},
	models.KindOutsourcingReview: {fields: (*Server).outsourcingFields, check: (*Server).checkOutsourcingForm},
}

func classificationOptions(lang string) []formOption {
	var out []formOption
	for n := 1; n <= 3; n++ {
		l, _ := policy.ParseLevel(n)
		out = append(out, formOption{Value: strconv.Itoa(n), Label: l.Title(lang)})
	}
	return out
}

func (s *Server) systemOptions(ctx context.Context, department string) ([]formOption, error) {
	systems, err := s.Store.SystemsOf(ctx, department)
	if err != nil {
		return nil, err
	}
	out := make([]formOption, 0, len(systems))
	for _, sys := range systems {
		out = append(out, formOption{Value: sys.ID, Label: sys.Name + " (" + sys.ID + ")"})
	}
	return out, nil
}

// incidentFields is the incident report's form (§5.3(1)).
func (s *Server) incidentFields(ctx context.Context, p models.Person, lang string) ([]formField, error) {
	systems, err := s.systemOptions(ctx, p.DepartmentID)
	if err != nil {
		return nil, err
	}
	var cats []formOption
	for _, c := range policy.Categories() {
		cats = append(cats, formOption{Value: string(c), Label: c.Title(lang)})
	}
	return []formField{
		{Name: "category", Label: pick(lang, "区分", "Category"), Kind: "select", Required: true, Options: cats},
		{Name: "system", Label: pick(lang, "システム（所属のシステムから。該当がなければ空欄）", "System (of your department; leave empty if none)"), Kind: "select", Options: systems},
		{Name: "classification", Label: pick(lang, "関わる情報の分類（§3(1)）", "Classification of the information involved (§3(1))"), Kind: "select", Required: true, Options: classificationOptions(lang)},
		{Name: "discovered_at", Label: pick(lang, "認知日時", "Discovered at"), Kind: "datetime", Required: true,
			Value: s.now().In(s.Loc).Format("2006-01-02T15:04")},
		{Name: "description", Label: pick(lang, "内容（何が、いつ、どこで）", "What happened (what, when, where)"), Kind: "textarea", Required: true},
	}, nil
}

// checkIncidentForm makes the form's values the API's report, by the signed-in person,
// and validates it as POST /incidents does.
func (s *Server) checkIncidentForm(ctx context.Context, p models.Person, v url.Values) (startSpec, error) {
	b := incidentBody{Reporter: p.EmployeeID, System: v.Get("system"), Category: v.Get("category"),
		Description: v.Get("description"), Classification: atoiOrZero(v.Get("classification")),
		DiscoveredAt: s.localToRFC3339(v.Get("discovered_at"))}
	return s.checkIncident(ctx, b)
}

// exceptionFields is the exception request's form (§7.4).
func (s *Server) exceptionFields(ctx context.Context, p models.Person, lang string) ([]formField, error) {
	systems, err := s.systemOptions(ctx, p.DepartmentID)
	if err != nil {
		return nil, err
	}
	var clauses []formOption
	for _, c := range policy.Clauses() {
		clauses = append(clauses, formOption{Value: c.ID, Label: "§" + c.ID + " " + pick(lang, c.TitleJa+"（"+c.SectionJa+"）", c.TitleEn+" ("+c.SectionEn+")")})
	}
	return []formField{
		requesterField(p, lang),
		{Name: "clauses", Label: pick(lang, "適用除外する条項（対策基準）", "Clauses departed from (security standards)"), Kind: "checkboxes", Required: true, Options: clauses},
		{Name: "alternative", Label: pick(lang, "代替措置", "What is done instead"), Kind: "textarea", Required: true},
		{Name: "reason", Label: pick(lang, "理由", "Reason"), Kind: "textarea", Required: true},
		{Name: "systems", Label: pick(lang, "対象システム（所属のシステム）", "Systems in scope (of your department)"), Kind: "checkboxes", Options: systems},
		{Name: "classification", Label: pick(lang, "情報の分類（§3(1)）", "Classification of the information (§3(1))"), Kind: "select", Required: true, Options: classificationOptions(lang)},
		{Name: "emergency", Label: pick(lang, "緊急のため既に実施した（事後報告、§7.4(2)）", "Taken already in an emergency, reported afterwards (§7.4(2))"), Kind: "checkbox"},
		{Name: "start_date", Label: pick(lang, "開始日", "Start date"), Kind: "date", Required: true},
		{Name: "end_date", Label: pick(lang, "終了日", "End date"), Kind: "date", Required: true},
		{Name: "renews", Label: pick(lang, "更新元の申請番号（更新の場合）", "Request it renews (for a renewal)"), Kind: "text"},
	}, nil
}

// checkExceptionForm makes the form's values the API's request, by the signed-in person,
// and validates it as POST /exceptions does.
func (s *Server) checkExceptionForm(ctx context.Context, p models.Person, v url.Values) (startSpec, error) {
	b := exceptionBody{Requester: p.EmployeeID, Clauses: v["clauses"], Alternative: v.Get("alternative"), Reason: v.Get("reason"),
		Systems: v["systems"], Classification: atoiOrZero(v.Get("classification")), StartDate: v.Get("start_date"),
		EndDate: v.Get("end_date"), Emergency: v.Get("emergency") == "yes", Renews: strings.TrimSpace(v.Get("renews"))}
	if b.Clauses == nil {
		b.Clauses = []string{}
	}
	if b.Systems == nil {
		b.Systems = []string{}
	}
	return s.checkException(ctx, b)
}

func atoiOrZero(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return n
}

// localToRFC3339 reads a datetime-local value ("2026-12-03T10:30") in the town's zone; what
// does not read so is passed on as it is, for the API's check to refuse.
func (s *Server) localToRFC3339(v string) string {
	t, err := time.ParseInLocation("2006-01-02T15:04", v, s.Loc)
	if err != nil {
		return v
	}
	return t.Format(time.RFC3339)
}

// mayFile answers the page for a kind the person may not file: 404 for a kind the pages do
// not file, 403 for one their roles do not allow (policy.MayStart).
func (s *Server) mayFile(c echo.Context, ss staffSession, kind string) (filing, bool, error) {
	lang := ss.Person.Locale
	f, ok := filings[kind]
	if !ok {
		return f, false, s.staffPage(c, http.StatusNotFound, "message", staffView{Lang: lang, Name: ss.Person.Name,
			Title: pick(lang, "見つかりません", "Not found"), Error: pick(lang, "この申請はこのページでは受け付けていません。", "This request is not filed from these pages."), Data: "/staff"})
	}
	if !policy.MayStart(kind, ss.Person.RoleNames()) {
		return f, false, s.staffPage(c, http.StatusForbidden, "message", staffView{Lang: lang, Name: ss.Person.Name,
			Title: pick(lang, "この申請はできません", "You cannot file this request"),
			Error: pick(lang, "この申請をできるのは、定められた役職の方だけです。", "Only holders of the posts the policy names may file this request."), Data: "/staff"})
	}
	return f, true, nil
}

// newRequestForm shows an empty form with a fresh idempotency key.
func (s *Server) newRequestForm(c echo.Context) error {
	ss := sessionOf(c)
	kind := c.Param("kind")
	fl, ok, err := s.mayFile(c, ss, kind)
	if !ok {
		return err
	}
	fields, err := fl.fields(s, c.Request().Context(), ss.Person, ss.Person.Locale)
	if err != nil {
		return s.storeErr(err)
	}
	return s.showForm(c, ss, kind, fields, newFormKey(), false, "", http.StatusOK)
}

func newFormKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) showForm(c echo.Context, ss staffSession, kind string, fields []formField, key string, confirm bool, errText string, status int) error {
	lang := ss.Person.Locale
	title := activities.KindLabel(kind, lang)
	if confirm {
		title = pick(lang, "内容の確認: ", "Please confirm: ") + title
	}
	v := ss.view(title)
	v.Error = errText
	v.Data = formData{Kind: kind, KindLabel: activities.KindLabel(kind, lang), Key: key, Fields: fields, Confirm: confirm}
	return s.staffPage(c, status, "form", v)
}

// fileRequest takes the form: step "check" validates it and shows the confirmation page (or
// the form again, with the errors next to the fields and what was entered kept); "edit"
// goes back to the form; "confirm" validates again and files the request, once per key.
func (s *Server) fileRequest(c echo.Context) error {
	ss := sessionOf(c)
	ctx := c.Request().Context()
	lang := ss.Person.Locale
	kind := c.Param("kind")
	fl, ok, err := s.mayFile(c, ss, kind)
	if !ok {
		return err
	}
	fields, err := fl.fields(s, ctx, ss.Person, lang)
	if err != nil {
		return s.storeErr(err)
	}
	form := c.Request().PostForm
	for i := range fields {
		if fields[i].Kind == "fixed" {
			continue
		}
		fields[i].Value = strings.TrimSpace(form.Get(fields[i].Name))
		fields[i].Values = form[fields[i].Name]
		if fields[i].Kind == "textarea" {
			fields[i].Value = form.Get(fields[i].Name)
		}
	}
	key := form.Get("key")
	if len(key) != 32 || strings.Trim(key, "0123456789abcdef") != "" {
		key = newFormKey()
	}
	step := form.Get("step")
	if step == "edit" {
		return s.showForm(c, ss, kind, fields, key, false, "", http.StatusOK)
	}
	st, err := fl.check(s, ctx, ss.Person, form)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return err
		}
		if e.Status >= 500 {
			return s.showForm(c, ss, kind, fields, key, false, pick(lang,
				"ただいま受け付けられません。入力内容はそのままです。しばらくしてからもう一度送信してください。",
				"This cannot be filed right now. What you entered is kept: please send it again in a few minutes."), e.Status)
		}
		general := fieldMessages(fields, e.Fields, lang)
		msg := pick(lang, "入力内容を確認してください。", "Please check what you entered.")
		if general != "" {
			msg += " " + general
		} else if len(e.Fields) == 0 {
			msg += " " + e.Message
		}
		return s.showForm(c, ss, kind, fields, key, false, msg, http.StatusBadRequest)
	}
	if step != "confirm" {
		return s.showForm(c, ss, kind, fields, key, true, "", http.StatusOK)
	}
	// The key is the person's own: another's form cannot collide with it.
	full := kind + ":staff:" + ss.Person.EmployeeID + ":" + key
	p, _, err := s.start(ctx, st, &full)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return s.showForm(c, ss, kind, fields, key, true, pick(lang,
				"ただいま受け付けられません。まだ申請されていません。しばらくしてからもう一度送信してください。",
				"This cannot be filed right now; nothing was filed. Please send it again in a few minutes."), e.Status)
		}
		return err
	}
	c.Set(logProcessKey, p.ID)
	return c.Redirect(http.StatusSeeOther, "/staff?filed="+url.QueryEscape(p.ID))
}

// fieldMessages puts each error next to its field, in the person's language, and returns
// those about no field of the form (the requester's post, say).
func fieldMessages(fields []formField, errs map[string]string, lang string) string {
	var other []string
	for name, msg := range errs {
		i := slices.IndexFunc(fields, func(f formField) bool { return f.Name == name })
		if i < 0 {
			other = append(other, translateFieldError(msg, lang))
			continue
		}
		fields[i].Error = translateFieldError(msg, lang)
	}
	slices.Sort(other)
	return strings.Join(other, " ")
}

// fieldErrorsJa are the API's field messages in Japanese; one not listed is shown as the
// API gives it.
var fieldErrorsJa = []struct{ prefix, ja string }{
	{"is required", "入力してください。"},
	{"must be a date YYYY-MM-DD", "日付を入力してください。"},
	{"is required: an exception must end", "終了日を入力してください（例外措置には終わりが必要です）。"},
	{"must be after start_date", "開始日より後の日にしてください。"},
	{"must not be in the past", "過去の日付は指定できません（緊急の事後報告を除く）。"},
	{"an emergency exception is taken already", "緊急の事後報告では、開始日は今日か最近の日です。"},
	{"name 1-20 clauses", "適用除外する条項を1〜20個選んでください。"},
	{"must be 1, 2 or 3", "情報の分類を選んでください。"},
	{"must be one of", "区分を選んでください。"},
	{"must be a time in RFC 3339", "認知日時を入力してください。"},
	{"must not be in the future", "認知日時に未来は指定できません。"},
	{"must be within the last year", "認知日時は1年以内にしてください。"},
	{"must be at most", "長すぎます。"},
	{"more than", "町の定める期間を超えています（"},
	{"must be on or before", "町の定める期間を超えています（"},
	{"must be on or after", "町の定める期間を超えています（"},
	{"unknown system", "登録されていないシステムです。"},
	{"no exception", "更新元の例外措置の申請が見つかりません。"},
	{"name 1-20 countries", "国を1〜20選んでください。"},
	{"must be the country of the contract's governing law", "準拠法の国を選んでください。"},
	{"must be the country of the contract's courts", "裁判管轄の国を選んでください。"},
	{"must be a kind such as", "認証の種類を選んでください。"},
	{"must be a date YYYY-MM-DD (a report's date", "発行日を入力してください。"},
	{"must be a date YYYY-MM-DD after issued_on", "発行日より後の日付にしてください。"},
	{"must be the vendor's 13-digit corporate number", "法人番号（13桁、検査用数字が正しいもの）を入力してください。"},
	{"give the vendor's 13-digit corporate number", "法人番号か、法人番号がない場合は他の識別番号とその理由を入力してください。"},
	{"only for a vendor without a corporate number", "法人番号がある場合は入力しないでください。"},
	{"must be a plain mail address", "メールアドレスを入力してください。"},
	{"name 1-50 information assets", "取り扱う情報資産を入力してください。"},
	{"must be electronic, paper or device", "形態を選んでください。"},
	{"must be the highest classification of the assets", "情報資産の最も高い分類にしてください（"},
	{"name the subcontractors", "再委託先を入力してください。"},
	{"only when subcontracted is true", "再委託がある場合だけ入力してください。"},
	{"must be after contract_start", "契約開始日より後の日にしてください。"},
	{"a contract may run at most", "契約期間が長すぎます（"},
	{"must be none, passed or findings", "監査の状況を選んでください。"},
	{"must be 1-12", "1〜12か月を選んでください。"},
	{"no diso in", "所属に情報セキュリティ責任者（diso）がいないため、評価できません（§8.3）。"},
	{"is not a process ID", "申請番号の形ではありません。"},
	{"holds neither diso nor ism", "この申請ができるのは、情報セキュリティ責任者（diso）又は情報システム管理者（ism）の職にある方です。"},
	{"holds ciso", "最高情報セキュリティ責任者（ciso）は、自らが許可する例外措置を申請できません（§7.4(1)）。"},
	{"holds diso, who decides it", "情報セキュリティ責任者（diso）は、この申請を審査する立場のため申請できません（§8.1(1)、§8.3）。担当の職員が申請してください。"},
	{"not employed", "在職中の職員ではありません。"},
	{"unknown employee_id", "職員名簿にありません。"},
}

// requesterField shows who files the request: the signed-in person. What the API says of
// the requester (their post, say) is shown next to it.
func requesterField(p models.Person, lang string) formField {
	return formField{Name: "requester", Label: pick(lang, "申請者", "Requester"), Kind: "fixed", Value: p.Name + " (" + p.EmployeeID + ")"}
}

func translateFieldError(msg, lang string) string {
	if lang == "en" {
		return msg
	}
	best := -1 // the longest prefix that matches
	for i, t := range fieldErrorsJa {
		if strings.HasPrefix(msg, t.prefix) && (best < 0 || len(t.prefix) > len(fieldErrorsJa[best].prefix)) {
			best = i
		}
	}
	if best < 0 {
		return msg
	}
	if t := fieldErrorsJa[best]; strings.HasSuffix(t.ja, "（") {
		return t.ja + msg + "）"
	}
	return fieldErrorsJa[best].ja
}

// countries are the countries the cloud form offers by name (ISO 3166-1 alpha-2): where the
// services a town uses keep and process data. The API takes any code.
var countries = []struct{ code, ja, en string }{
	{"JP", "日本", "Japan"}, {"US", "アメリカ合衆国", "United States"}, {"SG", "シンガポール", "Singapore"},
	{"IE", "アイルランド", "Ireland"}, {"DE", "ドイツ", "Germany"}, {"NL", "オランダ", "Netherlands"},
	{"FR", "フランス", "France"}, {"GB", "英国", "United Kingdom"}, {"AU", "オーストラリア", "Australia"},
	{"KR", "韓国", "Republic of Korea"}, {"TW", "台湾", "Taiwan"}, {"HK", "香港", "Hong Kong"},
	{"CN", "中国", "China"}, {"IN", "インド", "India"}, {"CA", "カナダ", "Canada"},
}

func countryOptions(lang string) []formOption {
	out := make([]formOption, 0, len(countries))
	for _, c := range countries {
		out = append(out, formOption{Value: c.code, Label: pick(lang, c.ja, c.en) + " (" + c.code + ")"})
	}
	return out
}

// cloudFields is the cloud service assessment's form (§8.3), with one certification or
// audit report (§8.3(5)); the API takes more.
func (s *Server) cloudFields(ctx context.Context, p models.Person, lang string) ([]formField, error) {
	certs := []formOption{{"ismap", "ISMAP"}, {"iso27001", "ISO/IEC 27001"}, {"iso27017", "ISO/IEC 27017"},
		{"iso27018", "ISO/IEC 27018"}, {"soc2_type2", "SOC 2 Type II"}}
	return []formField{
		requesterField(p, lang),
		{Name: "service", Label: pick(lang, "クラウドサービス", "Cloud service"), Kind: "text", Required: true},
		{Name: "provider", Label: pick(lang, "提供事業者", "Provider"), Kind: "text", Required: true},
		{Name: "purpose", Label: pick(lang, "利用目的", "Purpose"), Kind: "textarea", Required: true},
		{Name: "classification", Label: pick(lang, "預ける情報の最も高い分類（§3(1)）", "Highest classification of the data entrusted (§3(1))"), Kind: "select", Required: true, Options: classificationOptions(lang)},
		{Name: "storage_regions", Label: pick(lang, "保存場所（国）", "Stored in (countries)"), Kind: "checkboxes", Required: true, Options: countryOptions(lang)},
		{Name: "processing_regions", Label: pick(lang, "処理場所（国）", "Processed in (countries)"), Kind: "checkboxes", Required: true, Options: countryOptions(lang)},
		{Name: "governing_law", Label: pick(lang, "契約の準拠法（国）", "Contract's governing law (country)"), Kind: "select", Required: true, Options: countryOptions(lang)},
		{Name: "jurisdiction", Label: pick(lang, "契約の裁判管轄（国）", "Contract's court jurisdiction (country)"), Kind: "select", Required: true, Options: countryOptions(lang)},
		{Name: "court", Label: pick(lang, "管轄裁判所", "Court"), Kind: "text"},
		{Name: "cert_kind", Label: pick(lang, "認証・監査報告書（§8.3(5)）", "Certification or audit report (§8.3(5))"), Kind: "select", Options: certs},
		{Name: "cert_issued_on", Label: pick(lang, "その発行日", "Its date of issue"), Kind: "date"},
		{Name: "cert_valid_until", Label: pick(lang, "その有効期限", "Valid until"), Kind: "date"},
		{Name: "cert_reference", Label: pick(lang, "その登録番号等", "Its reference"), Kind: "text"},
		{Name: "exit_plan", Label: pick(lang, "中断・終了時の移行計画（§8.3(3)）", "Exit plan (§8.3(3))"), Kind: "textarea"},
		{Name: "security_design_ref", Label: pick(lang, "セキュリティ設計の文書（§8.3(4)）", "Security design document (§8.3(4))"), Kind: "text"},
	}, nil
}

// checkCloudForm makes the form's values the API's request, by the signed-in person, and
// validates it as POST /cloud-assessments does. The certification's errors come back on
// the form's fields for it.
func (s *Server) checkCloudForm(ctx context.Context, p models.Person, v url.Values) (startSpec, error) {
	b := models.CloudRequest{Requester: p.EmployeeID, Service: v.Get("service"), Provider: v.Get("provider"), Purpose: v.Get("purpose"),
		Classification: atoiOrZero(v.Get("classification")), StorageRegions: v["storage_regions"], ProcessingRegions: v["processing_regions"],
		GoverningLaw: v.Get("governing_law"), Jurisdiction: v.Get("jurisdiction"), Court: strings.TrimSpace(v.Get("court")),
		Certifications: []models.CloudCert{}, ExitPlan: v.Get("exit_plan"), SecurityDesignRef: strings.TrimSpace(v.Get("security_design_ref"))}
	if k := v.Get("cert_kind"); k != "" || v.Get("cert_issued_on") != "" {
		b.Certifications = append(b.Certifications, models.CloudCert{Kind: k, IssuedOn: v.Get("cert_issued_on"),
			ValidUntil: v.Get("cert_valid_until"), Reference: strings.TrimSpace(v.Get("cert_reference"))})
	}
	st, err := s.checkCloud(ctx, b)
	var e *Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		fields := make(map[string]string, len(e.Fields))
		for name, msg := range e.Fields {
			fields[strings.Replace(name, "certifications[0].", "cert_", 1)] = msg
		}
		e2 := *e
		e2.Fields = fields
		return st, &e2
	}
	return st, err
}

// outsourcingAssetRows is how many information assets the outsourcing form takes (the API
// takes up to 50).
const outsourcingAssetRows = 3

// outsourcingFields is the outsourcing contract review's form (§8.1).
func (s *Server) outsourcingFields(ctx context.Context, p models.Person, lang string) ([]formField, error) {
	classes := []formOption{{"electronic", pick(lang, "電子データ", "Electronic")}, {"paper", pick(lang, "紙", "Paper")}, {"device", pick(lang, "機器・媒体", "Device or medium")}}
	fields := []formField{
		requesterField(p, lang),
		{Name: "vendor_name", Label: pick(lang, "委託先事業者", "Vendor"), Kind: "text", Required: true},
		{Name: "corporate_number", Label: pick(lang, "法人番号（13桁）", "Corporate number (13 digits)"), Kind: "text"},
		{Name: "other_identifier", Label: pick(lang, "法人番号がない場合: 他の識別番号", "Without a corporate number: another identifier"), Kind: "text"},
		{Name: "identifier_reason", Label: pick(lang, "法人番号がない理由", "Why there is no corporate number"), Kind: "text"},
		{Name: "contact_name", Label: pick(lang, "委託先担当者", "Vendor contact"), Kind: "text"},
		{Name: "contact_email", Label: pick(lang, "委託先担当者のメールアドレス", "Vendor contact's address"), Kind: "text", Required: true},
		{Name: "contact_locale", Label: pick(lang, "委託先への連絡言語", "Vendor contact's language"), Kind: "select", Required: true,
			Options: []formOption{{"ja", "日本語"}, {"en", "English"}}, Value: "ja"},
		{Name: "work", Label: pick(lang, "委託内容", "Work"), Kind: "textarea", Required: true},
	}
	for i := 1; i <= outsourcingAssetRows; i++ {
		n := strconv.Itoa(i)
		fields = append(fields,
			formField{Name: "asset" + n + "_name", Label: pick(lang, "取り扱う情報資産 "+n, "Information asset "+n), Kind: "text", Required: i == 1},
			formField{Name: "asset" + n + "_class", Label: pick(lang, "その形態", "Its form"), Kind: "select", Required: i == 1, Options: classes},
			formField{Name: "asset" + n + "_classification", Label: pick(lang, "その分類", "Its classification"), Kind: "select", Required: i == 1, Options: classificationOptions(lang)})
	}
	months := make([]formOption, 0, 12)
	for m := 1; m <= 12; m++ {
		months = append(months, formOption{Value: strconv.Itoa(m), Label: strconv.Itoa(m)})
	}
	return append(fields,
		formField{Name: "classification", Label: pick(lang, "最も高い分類（§3(1)）", "Highest classification (§3(1))"), Kind: "select", Required: true, Options: classificationOptions(lang)},
		formField{Name: "subcontracted", Label: pick(lang, "再委託がある", "The work is subcontracted"), Kind: "checkbox"},
		formField{Name: "subcontractors", Label: pick(lang, "再委託先（1行に1社）", "Subcontractors (one per line)"), Kind: "textarea"},
		formField{Name: "contract_start", Label: pick(lang, "契約開始日", "Contract start"), Kind: "date", Required: true},
		formField{Name: "contract_end", Label: pick(lang, "契約終了日", "Contract end"), Kind: "date", Required: true},
		formField{Name: "cert_number", Label: pick(lang, "ISMS認証登録番号（あれば）", "ISMS certificate number (if any)"), Kind: "text"},
		formField{Name: "cert_expiry", Label: pick(lang, "ISMS認証有効期限", "ISMS certificate valid until"), Kind: "date"},
		formField{Name: "audit_status", Label: pick(lang, "情報セキュリティ監査", "Security audit"), Kind: "select", Required: true,
			Options: []formOption{{policy.AuditNone, pick(lang, "なし", "None")}, {policy.AuditPassed, pick(lang, "指摘なし", "Passed")}, {policy.AuditFindings, pick(lang, "指摘あり", "Findings open")}}},
		formField{Name: "audit_summary", Label: pick(lang, "監査結果の概要", "Audit summary"), Kind: "textarea"},
		formField{Name: "report_interval_months", Label: pick(lang, "定期報告の間隔（月）", "Report every (months)"), Kind: "select", Required: true, Options: months},
	), nil
}

// checkOutsourcingForm makes the form's values the API's request, by the signed-in person,
// and validates it as POST /outsourcing-reviews does; errors come back on the form's fields.
func (s *Server) checkOutsourcingForm(ctx context.Context, p models.Person, v url.Values) (startSpec, error) {
	b := outsourcingBody{Requester: p.EmployeeID,
		Vendor: outsourcingVendor{Name: v.Get("vendor_name"), CorporateNumber: strings.TrimSpace(v.Get("corporate_number")),
			OtherIdentifier: v.Get("other_identifier"), IdentifierReason: v.Get("identifier_reason"), ContactName: strings.TrimSpace(v.Get("contact_name")),
			ContactEmail: strings.TrimSpace(v.Get("contact_email")), ContactLocale: v.Get("contact_locale")},
		Work: v.Get("work"), Assets: []outsourcingAsset{}, Classification: atoiOrZero(v.Get("classification")),
		Subcontracted: v.Get("subcontracted") == "yes", ContractStart: v.Get("contract_start"), ContractEnd: v.Get("contract_end"),
		Audit: outsourcingAudit{Status: v.Get("audit_status"), Summary: v.Get("audit_summary")}, ReportIntervalMonths: atoiOrZero(v.Get("report_interval_months"))}
	rows := map[int]int{} // index in Assets -> row on the form
	for i := 1; i <= outsourcingAssetRows; i++ {
		n := strconv.Itoa(i)
		name, class, level := v.Get("asset"+n+"_name"), v.Get("asset"+n+"_class"), v.Get("asset"+n+"_classification")
		if strings.TrimSpace(name) == "" && class == "" && level == "" {
			continue
		}
		rows[len(b.Assets)] = i
		b.Assets = append(b.Assets, outsourcingAsset{Name: name, Class: class, Classification: atoiOrZero(level)})
	}
	for _, line := range strings.Split(v.Get("subcontractors"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			b.Subcontractors = append(b.Subcontractors, line)
		}
	}
	if n := strings.TrimSpace(v.Get("cert_number")); n != "" || v.Get("cert_expiry") != "" {
		b.Certificate = &outsourcingCert{Number: n, Expiry: v.Get("cert_expiry")}
	}
	st, err := s.checkOutsourcing(ctx, b)
	var e *Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return st, err
	}
	fields := make(map[string]string, len(e.Fields))
	for name, msg := range e.Fields {
		switch {
		case strings.HasPrefix(name, "vendor."):
			name = strings.TrimPrefix(name, "vendor.")
			if name == "name" {
				name = "vendor_name"
			}
		case name == "assets":
			name = "asset1_name"
		case strings.HasPrefix(name, "assets["):
			var i int
			var rest string
			if _, err := fmt.Sscanf(name, "assets[%d].%s", &i, &rest); err == nil {
				name = "asset" + strconv.Itoa(rows[i]) + "_" + rest
			}
		case strings.HasPrefix(name, "certificate."):
			name = "cert_" + strings.TrimPrefix(name, "certificate.")
		case strings.HasPrefix(name, "audit."):
			name = "audit_" + strings.TrimPrefix(name, "audit.")
		}
		fields[name] = msg
	}
	e2 := *e
	e2.Fields = fields
	return st, &e2
}
