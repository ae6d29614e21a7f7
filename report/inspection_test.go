package report_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/report"
)

// seedInspection puts the self-inspection of fiscal year 2026 (§9.1) into the register: two
// systems and two departments; in soumu one item not kept with its measure done, one partly
// kept with its measure open; in kikaku the system's manager did not inspect in time and the
// department's measure is overdue. A campaign of 2025 must be left out.
func seedInspection(t testing.TB, s *models.Store) {
	ctx := context.Background()
	campaign := func(id string, fy int, targets []models.InspectionTarget, answers []models.InspectionAnswer) {
		proc(t, s, id, models.KindInspection, "completed", jst("2026-10-01 09:00").AddDate(fy-2026, 0, 0), nil)
		for i := range targets {
			targets[i].ProcessID = id
		}
		if _, err := s.CreateInspection(ctx, models.InspectionCampaign{ProcessID: id, FiscalYear: fy, Occasion: "yearly"}, targets); err != nil {
			t.Fatal(err)
		}
		for i := range answers {
			answers[i].ProcessID = id
		}
		must(t, s.DB.Create(&answers).Error)
	}
	campaign("INS-FY2026", 2026, []models.InspectionTarget{
		{Kind: "system", TargetID: "S1", DepartmentID: "soumu", InspectorRole: "ism", Status: models.InspectionInspected},
		{Kind: "system", TargetID: "S2", DepartmentID: "kikaku", InspectorRole: "ism", Status: models.InspectionOverdue},
		{Kind: "department", TargetID: "soumu", DepartmentID: "soumu", InspectorRole: "diso", Status: models.InspectionInspected},
		{Kind: "department", TargetID: "kikaku", DepartmentID: "kikaku", InspectorRole: "diso", Status: models.InspectionInspected},
	}, []models.InspectionAnswer{
		{TargetKind: "system", TargetID: "S1", ItemID: "sys-a", Clause: "§6.1(2)", Answer: "compliant"},
		{TargetKind: "system", TargetID: "S1", ItemID: "sys-b", Clause: "§6.2(1)2", Answer: "not", Comment: "=共有IDが残っている",
			MeasureWhat: "共有IDを廃止する", MeasureOwner: "U1", MeasureDue: "2026-11-30", MeasureStatus: models.MeasureDone},
		{TargetKind: "department", TargetID: "soumu", ItemID: "dept-a", Clause: "§5.2(1)", Answer: "partly", Comment: "研修未受講者あり",
			MeasureWhat: "追加の研修", MeasureOwner: "U2", MeasureDue: "2027-01-31", MeasureStatus: models.MeasureOpen},
		{TargetKind: "department", TargetID: "soumu", ItemID: "dept-b", Clause: "§5.2(2)", Answer: "not_applicable", Comment: "該当業務なし"},
		{TargetKind: "department", TargetID: "kikaku", ItemID: "dept-a", Clause: "§5.2(1)", Answer: "not", Comment: "未実施",
			MeasureWhat: "研修を実施する", MeasureOwner: "U3", MeasureDue: "2026-12-01", MeasureStatus: models.MeasureOverdue},
	})
	campaign("INS-FY2025", 2025, []models.InspectionTarget{
		{Kind: "system", TargetID: "S1", DepartmentID: "soumu", InspectorRole: "ism", Status: models.InspectionInspected},
	}, []models.InspectionAnswer{{TargetKind: "system", TargetID: "S1", ItemID: "sys-a", Clause: "§6.1(2)", Answer: "not", MeasureWhat: "old"}})
}

// The committee's report has the self-inspection's section (§9.1(2)): by department, the
// answers counted, the targets not inspected in time, the measures open, done and overdue;
// the year before is left out; a chart of each; in Japanese and in English.
func TestReportSelfInspectionSection(t *testing.T) {
	s := open(t)
	seedInspection(t, s)
	q := report.Query{Store: s, FiscalYear: 2026, Lang: "en", Loc: tokyo, Now: jst("2027-04-10 10:00")}
	p, err := report.FiscalYearReport(context.Background(), q, report.Sections())
	if err != nil {
		t.Fatal(err)
	}
	v := section(t, p, "Self-inspection")
	for k, want := range map[string]string{"Campaigns": "INS-FY2026", "Targets": "4", "Targets not inspected in time": "1",
		"Items not or partly kept": "3", "Measures open": "1", "Measures overdue": "1"} {
		if got := facts(v)[k]; got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// Department | targets | not in time | compliant | partly | not | n/a | measures open | done | overdue.
	txt := tableText(v)
	for _, w := range []string{"kikaku|2|1|0|0|1|0|0|0|1\n", "soumu|2|0|1|1|1|1|1|1|0\n"} {
		if !strings.Contains(txt, w) {
			t.Errorf("the table lacks %q:\n%s", w, txt)
		}
	}
	if head := strings.Join(v.Tables[0].Head, "|"); head != "Department|Targets|Not inspected in time|compliant|partly|not compliant|not applicable|Measures: open|Measures: done|Measures: overdue" {
		t.Errorf("head %s", head)
	}
	if len(v.Charts) != 3 || !strings.Contains(string(v.Charts[0]), `aria-label="Items by answer"`) || strings.Count(string(v.Charts[1]), "<rect") != 3 {
		t.Errorf("charts: %d\n%s", len(v.Charts), v.Charts)
	}

	q.Lang = "ja"
	p, err = report.FiscalYearReport(context.Background(), q, report.Sections())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	must(t, report.Render(&b, p))
	for _, w := range []string{"自己点検", "§9.1", "部局別の結果", "期限内に未実施", "不適合", "改善策：期限超過", "回答別の項目数"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("the Japanese page lacks %q", w)
		}
	}
}

// The self-inspection results register (自己点検結果): one row per target and item of the
// year's campaigns, the year asked for (?fiscal_year=), with Japanese headers, for Excel.
func TestInspectionRegisterCSV(t *testing.T) {
	s := open(t)
	seedInspection(t, s)
	reg, ok := report.Lookup("inspections")
	if !ok || reg.TitleJa != "自己点検結果" {
		t.Fatalf("register inspections: %v %q", ok, reg.TitleJa)
	}
	var b bytes.Buffer
	must(t, reg.WriteCSV(context.Background(), s, &b, report.Format{Loc: tokyo, Now: jst("2027-04-10 10:00"), FiscalYear: 2026}, 0, nil))
	rows := readCSV(t, b.Bytes())
	if got := strings.Join(rows[0], ","); got != "点検番号 (campaign),年度 (fiscal_year),対象の種別 (target_kind),点検対象 (target),所属 (department),点検項目 (item),条項 (clause),回答 (answer),所見 (comment),改善策 (measure),改善策の担当者 (measure_owner),改善策の期限 (measure_due),改善策の状況 (measure_status)" {
		t.Errorf("header %s", got)
	}
	var body []string
	for _, r := range rows[1:] {
		body = append(body, strings.Join(r, "|"))
	}
	want := []string{
		"INS-FY2026|2026|system|S1|soumu|sys-a|§6.1(2)|compliant|||||",
		"INS-FY2026|2026|system|S1|soumu|sys-b|§6.2(1)2|not|'=共有IDが残っている|共有IDを廃止する|U1|2026-11-30|done",
		"INS-FY2026|2026|department|kikaku|kikaku|dept-a|§5.2(1)|not|未実施|研修を実施する|U3|2026-12-01|overdue",
		"INS-FY2026|2026|department|soumu|soumu|dept-a|§5.2(1)|partly|研修未受講者あり|追加の研修|U2|2027-01-31|open",
		"INS-FY2026|2026|department|soumu|soumu|dept-b|§5.2(2)|not_applicable|該当業務なし||||",
	}
	if strings.Join(body, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(body, "\n"), strings.Join(want, "\n"))
	}
	// Without ?fiscal_year= the current year's (2026 until the end of March 2027).
	b.Reset()
	must(t, reg.WriteCSV(context.Background(), s, &b, report.Format{Loc: tokyo, Now: jst("2026-04-10 10:00").AddDate(0, 0, -30)}, 0, nil))
	if rows := readCSV(t, b.Bytes()); len(rows) != 2 || rows[1][0] != "INS-FY2025" {
		t.Errorf("fiscal year 2025: %v", rows)
	}
}
