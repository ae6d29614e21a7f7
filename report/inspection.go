package report

import (
	"context"
	"html/template"
	"strconv"
	"strings"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// answerOrder and measureOrder are the order the self-inspection's answers and measure
// statuses are shown in.
var (
	answerOrder  = []string{policy.AnswerCompliant, policy.AnswerPartly, policy.AnswerNot, policy.AnswerNotApplicable}
	measureOrder = []string{models.MeasureOpen, models.MeasureDone, models.MeasureOverdue}
)

// selfInspectionSection: the fiscal year's self-inspections (§9.1(1)), by department: the
// answers counted, the targets not inspected in time, and the improvement measures open, done
// and overdue, which the committee reviews (§9.1(2)(3)).
func selfInspectionSection(ctx context.Context, q Query) (View, error) {
	v := View{Title: q.T("自己点検", "Self-inspection"), Clause: "§9.1",
		Lead: q.T("年度内の自己点検（情報システムごと・部局ごと）の結果と改善策の状況。部局別。",
			"The year's self-inspections (of each system and each department): their results and the improvement measures, by department.")}
	sum, err := q.Store.InspectionSummary(ctx, q.FiscalYear)
	if err != nil {
		return v, err
	}
	answers, measures := map[string]int{}, map[string]int{}
	findings := map[string]int{}
	var targets, overdue int
	head := []string{q.T("所属", "Department"), q.T("点検対象", "Targets"), q.T("期限内に未実施", "Not inspected in time")}
	for _, a := range answerOrder {
		head = append(head, q.label(a))
	}
	for _, m := range measureOrder {
		head = append(head, q.T("改善策：", "Measures: ")+q.label("measure_"+m))
	}
	t := Table{Caption: q.T("部局別の結果", "Results by department"), Head: head}
	for _, d := range sum.Departments {
		targets += d.Targets
		overdue += d.Overdue
		row := []string{d.DepartmentID, itoa(d.Targets), itoa(d.Overdue)}
		for _, a := range answerOrder {
			answers[a] += d.Answers[a]
			row = append(row, itoa(d.Answers[a]))
		}
		for _, m := range measureOrder {
			measures[m] += d.Measures[m]
			row = append(row, itoa(d.Measures[m]))
		}
		if n := d.Answers[policy.AnswerPartly] + d.Answers[policy.AnswerNot]; n > 0 {
			findings[d.DepartmentID] = n
		}
		t.add(row...)
	}
	campaigns := strings.Join(sum.Campaigns, ", ")
	if campaigns == "" {
		campaigns = q.T("なし", "none")
	}
	v.Facts = []Fact{
		{q.T("点検", "Campaigns"), campaigns},
		{q.T("点検対象", "Targets"), itoa(targets)},
		{q.T("期限内に未実施の対象", "Targets not inspected in time"), itoa(overdue)},
		{q.T("不適合・一部適合の項目", "Items not or partly kept"), itoa(answers[policy.AnswerNot] + answers[policy.AnswerPartly])},
		{q.T("未完了の改善策", "Measures open"), itoa(measures[models.MeasureOpen])},
		{q.T("期限を過ぎた改善策", "Measures overdue"), itoa(measures[models.MeasureOverdue])},
	}
	v.Charts = []template.HTML{
		BarChart(q.T("回答別の項目数", "Items by answer"), "", ordered(answers, answerOrder, q.label)),
		BarChart(q.T("改善策の状況", "Improvement measures"), "", ordered(measures, measureOrder, func(m string) string { return q.label("measure_" + m) })),
		BarChart(q.T("部局別の不適合・一部適合の項目数", "Items not or partly kept, by department"), "", counted(findings, func(d string) string { return d })),
	}
	v.Tables = []Table{t}
	return v, nil
}

// ordered turns counts into bars in a fixed order, leaving out the keys counted zero.
func ordered(m map[string]int, order []string, label func(string) string) []Bar {
	var bars []Bar
	for _, k := range order {
		if m[k] > 0 {
			bars = append(bars, Bar{Label: label(k), Value: float64(m[k])})
		}
	}
	return bars
}

// InspectionRegister is the register of the self-inspection's results (自己点検結果, §9.1): one
// row per target and checklist item of a fiscal year's campaigns (?fiscal_year=, else the
// current year), with its improvement measure.
var InspectionRegister = DefineRows("inspections", "自己点検結果", "Self-inspection results",
	[]Column[models.InspectionResultRow]{
		{"campaign", "点検番号", func(r models.InspectionResultRow, _ Format) string { return r.Campaign }},
		{"fiscal_year", "年度", func(r models.InspectionResultRow, _ Format) string { return strconv.Itoa(r.FiscalYear) }},
		{"target_kind", "対象の種別", func(r models.InspectionResultRow, _ Format) string { return r.TargetKind }},
		{"target", "点検対象", func(r models.InspectionResultRow, _ Format) string { return r.TargetID }},
		{"department", "所属", func(r models.InspectionResultRow, _ Format) string { return r.DepartmentID }},
		{"item", "点検項目", func(r models.InspectionResultRow, _ Format) string { return r.ItemID }},
		{"clause", "条項", func(r models.InspectionResultRow, _ Format) string { return r.Clause }},
		{"answer", "回答", func(r models.InspectionResultRow, _ Format) string { return r.Answer }},
		{"comment", "所見", func(r models.InspectionResultRow, _ Format) string { return r.Comment }},
		{"measure", "改善策", func(r models.InspectionResultRow, _ Format) string { return r.MeasureWhat }},
		{"measure_owner", "改善策の担当者", func(r models.InspectionResultRow, _ Format) string { return r.MeasureOwner }},
		{"measure_due", "改善策の期限", func(r models.InspectionResultRow, _ Format) string { return r.MeasureDue }},
		{"measure_status", "改善策の状況", func(r models.InspectionResultRow, _ Format) string { return r.MeasureStatus }},
	},
	func(ctx context.Context, s *models.Store, f Format, emit func(models.InspectionResultRow) error) error {
		return s.InspectionResults(ctx, f.Year(), emit)
	})
