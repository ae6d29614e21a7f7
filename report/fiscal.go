package report

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// Query is what a section of the yearly report is built from: the register, the fiscal year
// (April of FiscalYear to the end of March of the next, in the town's zone), the reader's
// language and the moment the report is made.
type Query struct {
	Store      *models.Store
	FiscalYear int
	Lang       string
	Loc        *time.Location
	Now        time.Time
	// Batch is how many rows a section reads at a time; zero means DefaultBatch.
	Batch int
}

// From is the first instant of the fiscal year: April 1, 00:00 in the town's zone.
func (q Query) From() time.Time { return time.Date(q.FiscalYear, time.April, 1, 0, 0, 0, 0, q.Loc) }

// To is the first instant after the fiscal year.
func (q Query) To() time.Time { return time.Date(q.FiscalYear+1, time.April, 1, 0, 0, 0, 0, q.Loc) }

// FirstDay and LastDay are the fiscal year's first and last dates, YYYY-MM-DD.
func (q Query) FirstDay() string { return q.From().Format(policy.DateLayout) }

// LastDay is March 31 of the next calendar year.
func (q Query) LastDay() string { return q.To().AddDate(0, 0, -1).Format(policy.DateLayout) }

func (q Query) in(t time.Time) bool { return !t.Before(q.From()) && t.Before(q.To()) }

func (q Query) batch() int {
	if q.Batch > 0 {
		return q.Batch
	}
	return DefaultBatch
}

// T picks the Japanese or the English text for the reader.
func (q Query) T(ja, en string) string {
	if q.Lang == "en" {
		return en
	}
	return ja
}

// View is one section of the report as the page shows it: a heading with the clause it
// answers to, key figures, charts and tables.
type View struct {
	// ID is the section's (Section.ID), the id of its element on the page.
	ID                  string
	Title, Clause, Lead string
	Facts               []Fact
	Charts              []template.HTML
	Tables              []Table
}

// Fact is one key figure.
type Fact struct{ Label, Value string }

// Table is a table of the report.
type Table struct {
	Caption string
	Head    []string
	Rows    [][]string
	// More says how many rows were left out (tables are cut at MaxRows).
	More int
}

// MaxRows is the most rows a table of the report lists; the registers (CSV) have them all.
const MaxRows = 100

func (t *Table) add(row ...string) {
	if len(t.Rows) >= MaxRows {
		t.More++
		return
	}
	t.Rows = append(t.Rows, row)
}

// Section builds one section of the report.
type Section struct {
	ID    string
	Build func(ctx context.Context, q Query) (View, error)
}

// Sections returns the report's sections, in order. Another process's section is one more
// entry of this list, a function that builds a View from q (q.Store, q.From(), q.To(), q.T),
// as selfInspectionSection does.
func Sections() []Section {
	return []Section{
		{"exceptions", exceptionSection},
		{"incidents", incidentSection},
		{"offboardings", offboardingSection},
		{"reconciliations", reconciliationSection},
		{"vendors", vendorSection},
		{"cloud_services", cloudSection},
		{"self_inspection", selfInspectionSection},
	}
}

// Page is the whole report.
type Page struct {
	Lang, Title, Period, Generated string
	FiscalYear                     int
	Sections                       []View
	// Footer words.
	Note string
}

// FiscalYearReport builds the report of the fiscal year from sections.
func FiscalYearReport(ctx context.Context, q Query, sections []Section) (Page, error) {
	p := Page{Lang: q.Lang, FiscalYear: q.FiscalYear,
		Title:     q.T(fmt.Sprintf("情報セキュリティ委員会 年次報告（%d年度）", q.FiscalYear), fmt.Sprintf("Security committee's yearly report, fiscal year %d", q.FiscalYear)),
		Period:    q.T(fmt.Sprintf("対象期間：%s から %s まで", q.FirstDay(), q.LastDay()), fmt.Sprintf("Period: %s to %s", q.FirstDay(), q.LastDay())),
		Generated: q.T("作成日時：", "Made at: ") + q.Now.In(q.Loc).Format("2006-01-02 15:04 MST"),
		Note:      q.T("この報告は登録簿から自動で作成されています（§2(6)3、§9.1(2)）。各台帳の全件はCSVで取得できます。", "This report is made from the register (§2(6)3, §9.1(2)). Every register is available in full as CSV."),
	}
	for _, s := range sections {
		v, err := s.Build(ctx, q)
		if err != nil {
			return p, fmt.Errorf("report section %s: %w", s.ID, err)
		}
		v.ID = s.ID
		p.Sections = append(p.Sections, v)
	}
	return p, nil
}

//go:embed report.html
var pageFS embed.FS

var pageTemplate = template.Must(template.ParseFS(pageFS, "report.html"))

// Render writes the report page. It has no script and loads nothing: styles and charts are
// inline.
func Render(w io.Writer, p Page) error { return pageTemplate.Execute(w, p) }

// stats are the count, median and maximum of a list of numbers.
func stats(xs []float64) (n int, median, maxV float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return len(s), m, s[len(s)-1]
}

func itoa(n int) string { return strconv.Itoa(n) }

// counted turns counts by key into bars, largest first (ties by key).
func counted(m map[string]int, label func(string) string) []Bar {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	bars := make([]Bar, len(keys))
	for i, k := range keys {
		bars[i] = Bar{Label: label(k), Value: float64(m[k])}
	}
	return bars
}

// exceptionSection: exceptions in effect, ended, renewed, and the emergency ones with how
// late they were reported (§7.4).
func exceptionSection(ctx context.Context, q Query) (View, error) {
	v := View{Title: q.T("例外措置", "Exceptions"), Clause: "§7.4",
		Lead: q.T("年度内に申請された、又は年度内に有効期間がかかる例外措置。", "Exceptions requested in the year, or whose period falls in it.")}
	byStatus := map[string]int{}
	renewed, included := map[string]bool{}, map[string]bool{}
	var requested, inEffect, ended, emergency int
	var late []float64
	emerg := Table{Caption: q.T("緊急時の例外措置（事後報告）", "Emergency exceptions (reported afterwards)"),
		Head: []string{q.T("申請番号", "ID"), q.T("開始日", "Started"), q.T("報告日", "Reported"), q.T("報告までの日数", "Days late"), q.T("状態", "Status")}}
	first, last := q.FirstDay(), q.LastDay()
	err := q.Store.EachProcess(ctx, models.KindException, q.batch(), func(ps []models.Process) error {
		for _, p := range ps {
			r := decodeException(p)
			if r.In.Renews != "" {
				renewed[r.In.Renews] = true
			}
			overlaps := r.In.StartDate <= last && r.In.EndDate >= first
			if !q.in(p.CreatedAt) && !overlaps {
				continue
			}
			included[p.ID] = true
			if q.in(p.CreatedAt) {
				requested++
			}
			byStatus[p.Status]++
			if p.Status == "in_effect" {
				inEffect++
			}
			if r.In.EndDate >= first && r.In.EndDate <= last && slices.Contains([]string{"completed", "restoring", "restoration_unconfirmed"}, p.Status) {
				ended++
			}
			if r.In.Emergency {
				emergency++
				d := reportedLate(r, q.Loc)
				late = append(late, float64(d))
				emerg.add(p.ID, r.In.StartDate, p.CreatedAt.In(q.Loc).Format(policy.DateLayout), itoa(d), q.label(p.Status))
			}
		}
		return nil
	})
	if err != nil {
		return v, err
	}
	renewedHere := 0
	for id := range renewed {
		if included[id] {
			renewedHere++
		}
	}
	_, medLate, maxLate := stats(late)
	v.Facts = []Fact{
		{q.T("年度内の申請", "Requested in the year"), itoa(requested)},
		{q.T("現在有効", "In effect now"), itoa(inEffect)},
		{q.T("年度内に期間満了", "Ended in the year"), itoa(ended)},
		{q.T("更新された例外措置", "Renewed by a later request"), itoa(renewedHere)},
		{q.T("緊急時の例外措置", "Emergency exceptions"), itoa(emergency)},
		{q.T("事後報告までの日数（中央値／最大）", "Days until reported (median / max)"), formatNumber(medLate) + " / " + formatNumber(maxLate)},
	}
	v.Charts = []template.HTML{BarChart(q.T("状態別の件数", "By status"), "", counted(byStatus, q.label))}
	v.Tables = []Table{emerg}
	return v, nil
}

// hopOrder lists the hops of the reporting chain the report times, in the chain's order
// (§5.3(1)): each is timed from the discovery.
var hopOrder = []string{"received", "disconnection_requested", "giso_notified", "ism_notified", "diso_notified", "ciso_notified",
	"triage_requested", "triaged", "passed_on", "ciso_asked", "ciso_instructed", "giso_own_judgement", "recorded",
	"root_cause_reported", "root_cause_accepted", "closed"}

// incidentSection: incidents by category and severity, how promptly each hop came, root
// causes and the measures still open (§5.3).
func incidentSection(ctx context.Context, q Query) (View, error) {
	v := View{Title: q.T("情報セキュリティインシデント", "Security incidents"), Clause: "§5.3",
		Lead: q.T("年度内に受け付けたインシデント。時間は認知からの分数。", "Incidents received in the year. Times are minutes from discovery.")}
	byCat := map[string]int{}
	matrix := map[string]map[string]int{}
	minutes := map[string][]float64{}
	causes := Table{Caption: q.T("原因と再発防止策", "Root causes"), Head: []string{q.T("整理番号", "ID"), q.T("区分", "Category"), q.T("重大度", "Severity"), q.T("原因", "Cause")}}
	open := Table{Caption: q.T("未完了の再発防止策", "Measures still open"), Head: []string{q.T("整理番号", "ID"), q.T("番号", "No."), q.T("担当者", "Owner"), q.T("再発防止策", "Measure")}}
	total := 0
	err := q.Store.EachIncident(ctx, q.batch(), func(is []models.Incident) error {
		var ids []string
		var mine []models.Incident
		for _, in := range is {
			if q.in(in.ReceivedAt) {
				ids, mine = append(ids, in.ProcessID), append(mine, in)
			}
		}
		hops, err := q.Store.HopsOf(ctx, ids)
		if err != nil {
			return err
		}
		for _, in := range mine {
			total++
			hs := hops[in.ProcessID]
			sev := severityOf(hs)
			if sev == "" {
				sev = "untriaged"
			}
			byCat[in.Category]++
			if matrix[in.Category] == nil {
				matrix[in.Category] = map[string]int{}
			}
			matrix[in.Category][sev]++
			for _, name := range hopOrder {
				if at, ok := firstHop(hs, name); ok && !in.DiscoveredAt.IsZero() {
					minutes[name] = append(minutes[name], at.Sub(in.DiscoveredAt).Minutes())
				}
			}
			if _, ok := firstHop(hs, "root_cause_accepted"); !ok {
				continue
			}
			values, err := q.Store.LatestDecisionValues(ctx, in.ProcessID, "root_cause")
			if err != nil {
				return err
			}
			causes.add(in.ProcessID, categoryTitle(in.Category, q.Lang), severityTitle(sev, q.Lang), clip(values["cause"], 200))
			for i := 1; i <= 10; i++ {
				m := values[fmt.Sprintf("measure_%d", i)]
				if m == "" {
					continue
				}
				if _, done := firstHop(hs, fmt.Sprintf("measure_%d_done", i)); !done {
					open.add(in.ProcessID, itoa(i), values[fmt.Sprintf("owner_%d", i)], clip(m, 200))
				}
			}
		}
		return nil
	})
	if err != nil {
		return v, err
	}
	v.Facts = []Fact{{q.T("受付件数", "Received"), itoa(total)}, {q.T("未完了の再発防止策", "Measures still open"), itoa(len(open.Rows) + open.More)}}
	v.Charts = append(v.Charts, BarChart(q.T("区分別の件数", "By category"), "", counted(byCat, func(c string) string { return categoryTitle(c, q.Lang) })))
	sevs := []string{"low", "medium", "high", "critical", "untriaged"}
	m := Table{Caption: q.T("区分と重大度", "Category and severity"), Head: []string{q.T("区分", "Category")}}
	for _, s := range sevs {
		m.Head = append(m.Head, severityTitle(s, q.Lang))
	}
	for _, c := range policy.Categories() {
		row, ok := matrix[string(c)]
		if !ok {
			continue
		}
		cells := []string{c.Title(q.Lang)}
		for _, s := range sevs {
			cells = append(cells, itoa(row[s]))
		}
		m.add(cells...)
	}
	hopT := Table{Caption: q.T("認知から各段階までの時間（分）", "Minutes from discovery to each hop"),
		Head: []string{q.T("段階", "Hop"), q.T("件数", "Incidents"), q.T("中央値", "Median"), q.T("最大", "Max")}}
	var bars []Bar
	for _, name := range hopOrder {
		n, med, mx := stats(minutes[name])
		if n == 0 {
			continue
		}
		hopT.add(q.label(name), itoa(n), formatNumber(med), formatNumber(mx))
		bars = append(bars, Bar{Label: q.label(name), Value: med})
	}
	v.Charts = append(v.Charts, BarChart(q.T("認知から各段階までの時間（中央値、分）", "Minutes from discovery to each hop (median)"), q.T("分", " min"), bars))
	v.Tables = []Table{m, hopT, causes, open}
	return v, nil
}

func categoryTitle(c, lang string) string {
	if cat, err := policy.ParseCategory(c); err == nil {
		return cat.Title(lang)
	}
	return c
}

func severityTitle(s, lang string) string {
	if sev, err := policy.ParseSeverity(s); err == nil {
		return sev.Title(lang)
	}
	if lang == "en" {
		return "not triaged"
	}
	return "未判定"
}

// clip shortens free text to n runes for a table cell.
func clip(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n]) + "…"
}

// offboardingSection: offboardings effective in the year, late ones, and the days from the
// effective date to the last account disabled (§5.1(1)8, §6.2(1)2).
func offboardingSection(ctx context.Context, q Query) (View, error) {
	v := View{Title: q.T("退職・異動時のアカウント停止", "Offboardings"), Clause: "§5.1(1)8, §6.2(1)2",
		Lead: q.T("発効日が年度内の手続。日数は発効日から最後のアカウントが停止されるまで。", "Offboardings effective in the year. Days run from the effective date to the last account disabled.")}
	byReason := map[string]int{}
	var total, lateN, unfinished int
	var days []float64
	buckets := []struct {
		label string
		upTo  float64
	}{{"0", 0}, {"1", 1}, {"2–3", 3}, {"4–7", 7}, {"8–14", 14}, {"15+", 1e9}}
	hist := make([]int, len(buckets))
	late := Table{Caption: q.T("遅れて届け出られた手続", "Filed late"), Head: []string{q.T("整理番号", "ID"), q.T("職員", "Employee"), q.T("発効日", "Effective"), q.T("届出日", "Filed")}}
	first, last := q.FirstDay(), q.LastDay()
	err := q.Store.EachOffboarding(ctx, q.batch(), func(os []models.Offboarding) error {
		var ids []string
		for _, o := range os {
			if o.EffectiveDate >= first && o.EffectiveDate <= last {
				ids = append(ids, o.ProcessID)
			}
		}
		procs, err := q.Store.ProcessesByID(ctx, ids)
		if err != nil {
			return err
		}
		items, err := q.Store.OffboardingItemsOf(ctx, ids)
		if err != nil {
			return err
		}
		for _, o := range os {
			p, ok := procs[o.ProcessID]
			if !ok || p.Status == "cancelled" {
				continue
			}
			total++
			byReason[o.Reason]++
			if o.Late {
				lateN++
				late.add(o.ProcessID, o.EmployeeID, o.EffectiveDate, p.CreatedAt.In(q.Loc).Format(policy.DateLayout))
			}
			eff, err := policy.ParseDate(o.EffectiveDate, q.Loc)
			if err != nil {
				continue
			}
			var lastAt time.Time
			pending := false
			for _, it := range items[o.ProcessID] {
				if it.Kind != models.ItemAccount {
					continue
				}
				if it.At == nil || it.Outcome == "" {
					pending = true
				} else if it.At.After(lastAt) {
					lastAt = *it.At
				}
			}
			if pending {
				unfinished++
				continue
			}
			if lastAt.IsZero() {
				continue
			}
			d := max(0, float64(int(lastAt.In(q.Loc).Sub(eff).Hours()/24)))
			days = append(days, d)
			for i, b := range buckets {
				if d <= b.upTo {
					hist[i]++
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		return v, err
	}
	_, med, mx := stats(days)
	v.Facts = []Fact{
		{q.T("手続の件数", "Offboardings"), itoa(total)},
		{q.T("遅れて届け出られたもの", "Filed after the effective date"), itoa(lateN)},
		{q.T("停止までの日数（中央値／最大）", "Days to the last account disabled (median / max)"), formatNumber(med) + " / " + formatNumber(mx)},
		{q.T("未停止のアカウントが残る手続", "With accounts not yet disabled"), itoa(unfinished)},
	}
	bars := make([]Bar, len(buckets))
	for i, b := range buckets {
		bars[i] = Bar{Label: b.label + q.T("日", " days"), Value: float64(hist[i])}
	}
	v.Charts = []template.HTML{
		BarChart(q.T("理由別の件数", "By reason"), "", counted(byReason, q.label)),
		BarChart(q.T("発効日から最後のアカウント停止までの日数", "Days from the effective date to the last account disabled"), "", bars),
	}
	v.Tables = []Table{late}
	return v, nil
}

// reconciliationSection: each reconciliation of the year and what it found
// (§6.2(1)2(ウ)).
func reconciliationSection(ctx context.Context, q Query) (View, error) {
	v := View{Title: q.T("アカウントと人事名簿の照合", "Reconciliations of accounts"), Clause: "§6.2(1)2(ウ)"}
	runs, err := q.Store.ProcessesCreated(ctx, models.KindReconciliation, q.From(), q.To(), 1000)
	if err != nil {
		return v, err
	}
	t := Table{Caption: q.T("照合の結果", "Runs"), Head: []string{q.T("整理番号", "ID"), q.T("実施日", "Run on"), q.T("指摘", "Findings"),
		q.T("停止", "Disabled"), q.T("存置", "Kept"), q.T("未判断", "Undecided")}}
	byKind := map[string]int{}
	var findings int
	for _, r := range runs {
		fs, err := q.Store.Findings(ctx, r.ID)
		if err != nil {
			return v, err
		}
		var dis, kept, undecided int
		for _, f := range fs {
			byKind[f.Kind]++
			switch f.Decision {
			case "disable":
				dis++
			case "":
				undecided++
			default:
				kept++
			}
		}
		findings += len(fs)
		t.add(r.ID, r.CreatedAt.In(q.Loc).Format(policy.DateLayout), itoa(len(fs)), itoa(dis), itoa(kept), itoa(undecided))
	}
	v.Facts = []Fact{{q.T("照合の回数", "Runs"), itoa(len(runs))}, {q.T("指摘の件数", "Findings"), itoa(findings)}}
	v.Charts = []template.HTML{BarChart(q.T("指摘の種類別の件数", "Findings by kind"), "", counted(byKind, q.label))}
	v.Tables = []Table{t}
	return v, nil
}

// vendorSection: outsourcing contracts running in the year, with their certificate dates
// (§8.1).
func vendorSection(ctx context.Context, q Query) (View, error) {
	v := View{Title: q.T("外部委託先", "Vendors (outsourcing)"), Clause: "§8.1",
		Lead: q.T("年度内に契約期間がかかる委託。ISMS認証の有効期限の早い順。", "Contracts running in the year, the earliest certificate expiry first.")}
	var rows [][]string
	first, last := q.FirstDay(), q.LastDay()
	err := q.Store.EachOutsourcingReview(ctx, q.batch(), func(rs []models.OutsourcingReview) error {
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ProcessID)
		}
		procs, err := q.Store.ProcessesByID(ctx, ids)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.ContractStart > last || r.ContractEnd < first {
				continue
			}
			rows = append(rows, []string{r.CertExpiry, r.ProcessID, r.VendorName, r.DepartmentID, r.ContractStart + " – " + r.ContractEnd, q.label(procs[r.ProcessID].Status)})
		}
		return nil
	})
	if err != nil {
		return v, err
	}
	sort.Slice(rows, func(i, j int) bool {
		return rows[i][0] < rows[j][0] || rows[i][0] == rows[j][0] && rows[i][1] < rows[j][1]
	})
	t := Table{Caption: q.T("委託先と認証", "Vendors and certificates"), Head: []string{q.T("ISMS認証有効期限", "Certificate valid until"), q.T("整理番号", "ID"),
		q.T("委託先事業者", "Vendor"), q.T("所属", "Department"), q.T("契約期間", "Contract"), q.T("状態", "Status")}}
	soon := 0
	horizon := q.Now.In(q.Loc).AddDate(0, 0, DueWindowDays).Format(policy.DateLayout)
	for _, r := range rows {
		if r[0] != "" && r[0] <= horizon {
			soon++
		}
		t.add(r...)
	}
	v.Facts = []Fact{{q.T("委託の件数", "Contracts"), itoa(len(rows))},
		{q.T(fmt.Sprintf("%d日以内に認証期限が来るもの", DueWindowDays), fmt.Sprintf("Certificates lapsing within %d days", DueWindowDays)), itoa(soon)}}
	v.Tables = []Table{t}
	return v, nil
}

// cloudSection: cloud services in use, with the next yearly reassessment (§8.3, §9.1) and
// the earliest certificate to lapse.
func cloudSection(ctx context.Context, q Query) (View, error) {
	v := View{Title: q.T("クラウドサービス", "Cloud services"), Clause: "§8.3, §9.1",
		Lead: q.T("利用中のサービス。次回再評価日の早い順。", "Services in use, the next reassessment first.")}
	var rows [][]string
	byStatus := map[string]int{}
	err := q.Store.EachCloudService(ctx, q.batch(), func(cs []models.CloudService) error {
		for _, c := range cs {
			byStatus[c.Status]++
			if !slices.Contains([]string{models.CloudApproved, models.CloudReassessing, models.CloudExiting}, c.Status) {
				continue
			}
			rows = append(rows, []string{c.NextReassessment, c.ProcessID, c.Service, c.Provider, q.label(c.Status), certsDue(c)})
		}
		return nil
	})
	if err != nil {
		return v, err
	}
	sort.Slice(rows, func(i, j int) bool {
		return rows[i][0] < rows[j][0] || rows[i][0] == rows[j][0] && rows[i][1] < rows[j][1]
	})
	t := Table{Caption: q.T("利用中のサービス", "Services in use"), Head: []string{q.T("次回再評価日", "Next reassessment"), q.T("整理番号", "ID"),
		q.T("サービス", "Service"), q.T("提供事業者", "Provider"), q.T("状態", "Status"), q.T("認証の最も早い有効期限", "Earliest certificate expiry")}}
	for _, r := range rows {
		t.add(r...)
	}
	v.Facts = []Fact{{q.T("利用中", "In use"), itoa(len(rows))}}
	v.Charts = []template.HTML{BarChart(q.T("状態別の件数", "By status"), "", counted(byStatus, q.label))}
	v.Tables = []Table{t}
	return v, nil
}

// DueWindowDays is how far ahead the report and the digest look for dates coming due
// (certificates, reassessments, exceptions ending): a town setting the policy does not set,
// 30 days.
const DueWindowDays = 30
