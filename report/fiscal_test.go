package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/report"
)

func proc(t testing.TB, s *models.Store, id, kind, status string, created time.Time, closed *time.Time) {
	t.Helper()
	must(t, s.DB.Create(&models.Process{ID: id, Kind: kind, Status: status, Stage: status, WorkflowID: id, DepartmentID: "soumu",
		CreatedAt: created, ClosedAt: closed}).Error)
}

func ptr[T any](v T) *T { return &v }

// seedYear fills the register with fiscal year 2026 (April 2026 to March 2027), and a few
// records of the year before that the report must leave out.
func seedYear(t testing.TB, s *models.Store) {
	ctx := context.Background()
	// Exceptions (§7.4).
	exception(t, s, "EXC-A", "in_effect", jst("2026-05-01 10:00"), map[string]any{"clauses": []string{"6.2(1)"}, "start_date": "2026-05-07", "end_date": "2027-03-31"})
	exception(t, s, "EXC-B", "completed", jst("2026-06-04 10:00"), map[string]any{"clauses": []string{"5.1(1)"}, "start_date": "2026-06-01", "end_date": "2026-06-30", "emergency": true})
	exception(t, s, "EXC-C", "completed", jst("2026-06-25 10:00"), map[string]any{"clauses": []string{"5.1(1)"}, "start_date": "2026-07-01", "end_date": "2026-09-30", "renews": "EXC-B"})
	exception(t, s, "EXC-OLD", "completed", jst("2025-05-01 10:00"), map[string]any{"clauses": []string{"5.1(1)"}, "start_date": "2025-05-07", "end_date": "2025-12-31"})

	// Incidents (§5.3).
	incident := func(id, category string, discovered, received time.Time, hops map[string]string) {
		proc(t, s, id, models.KindIncident, "closed", received, nil)
		must(t, s.CreateIncident(ctx, models.Incident{ProcessID: id, Source: "staff", Category: category, DiscoveredAt: discovered, ReceivedAt: received}))
		for hop, at := range hops {
			note := ""
			if hop == "triaged" {
				note = "severity high, plan true, CISO asked true"
			}
			must(t, s.RecordIncidentHop(ctx, models.IncidentHop{Key: id + "/" + hop, ProcessID: id, Hop: hop, Note: note, At: jst(at)}))
		}
	}
	incident("INC-1", "malware", jst("2026-08-01 09:00"), jst("2026-08-01 09:10"), map[string]string{
		"triaged": "2026-08-01 09:30", "ciso_instructed": "2026-08-01 10:30", "root_cause_accepted": "2026-08-10 10:00", "measure_1_done": "2026-08-20 10:00"})
	incident("INC-2", "loss_theft", jst("2026-09-01 08:00"), jst("2026-09-01 08:20"), map[string]string{"triage_overdue": "2026-09-02 17:15"})
	incident("INC-OLD", "leak", jst("2025-12-01 08:00"), jst("2025-12-01 08:20"), map[string]string{"triaged": "2025-12-01 09:00"})
	values, _ := json.Marshal(map[string]string{"cause": "パッチ未適用のVPN装置", "measure_1": "パッチ管理の手順化", "owner_1": "E1",
		"measure_2": "職員への注意喚起", "owner_2": "E2"})
	must(t, s.DB.Create(&models.Decision{TaskID: "INC-1/root_cause/1", ProcessID: "INC-1", Step: "root_cause", Choice: "submit", DeciderID: "G1",
		Values: string(values), DecidedAt: jst("2026-08-09 10:00")}).Error)

	// Offboardings (§5.1(1)8, §6.2(1)2).
	offboarding := func(id, reason, effective string, late bool, created time.Time, disabled ...*time.Time) {
		proc(t, s, id, models.KindOffboarding, "completed", created, nil)
		must(t, s.DB.Create(&models.Offboarding{ProcessID: id, EmployeeID: "L-" + id, EffectiveDate: effective, OriginalDate: effective, Reason: reason, Late: late}).Error)
		for i, at := range disabled {
			it := models.OffboardingItem{ProcessID: id, Key: "acc" + string(rune('a'+i)), Kind: models.ItemAccount, Action: "disable", At: at}
			if at != nil {
				it.Outcome = "disabled"
			}
			must(t, s.DB.Create(&it).Error)
		}
	}
	offboarding("OFB-1", "retirement", "2026-06-30", false, jst("2026-06-01 10:00"), ptr(jst("2026-07-02 11:00")), ptr(jst("2026-07-01 11:00")))
	offboarding("OFB-2", "transfer", "2026-04-01", true, jst("2026-04-03 10:00"), ptr(jst("2026-04-20 11:00")))
	offboarding("OFB-3", "retirement", "2026-10-01", false, jst("2026-09-01 10:00"), nil)
	offboarding("OFB-OLD", "retirement", "2026-03-31", false, jst("2026-03-01 10:00"), ptr(jst("2026-04-01 11:00")))

	// A reconciliation (§6.2(1)2(ウ)).
	proc(t, s, "REC-1", models.KindReconciliation, "completed", jst("2026-11-01 09:00"), nil)
	must(t, s.SaveFindings(ctx, []models.ReconciliationFinding{
		{ProcessID: "REC-1", SystemID: "juki", AccountID: "u1", Kind: "not_employed", Decision: "disable"},
		{ProcessID: "REC-1", SystemID: "juki", AccountID: "u2", Kind: "unused", Decision: "keep"},
	}))

	// A vendor (§8.1) and cloud services (§8.3).
	proc(t, s, "OUT-1", models.KindOutsourcingReview, "in_contract", jst("2026-03-01 10:00"), nil)
	must(t, s.DB.Create(&models.OutsourcingReview{ProcessID: "OUT-1", DepartmentID: "soumu", RequesterID: "D1", VendorName: "みどりシステム株式会社",
		CorporateNumber: "1234567890123", ContactID: "ext:1", ContractStart: "2026-04-01", ContractEnd: "2027-03-31", CertExpiry: "2026-12-20",
		AuditStatus: "none", ReportIntervalMonths: 3, Classification: 2}).Error)
	proc(t, s, "OUT-OLD", models.KindOutsourcingReview, "completed", jst("2024-03-01 10:00"), nil)
	must(t, s.DB.Create(&models.OutsourcingReview{ProcessID: "OUT-OLD", DepartmentID: "soumu", RequesterID: "D1", VendorName: "旧ベンダー",
		ContactID: "ext:2", ContractStart: "2024-04-01", ContractEnd: "2025-03-31", AuditStatus: "none", ReportIntervalMonths: 3, Classification: 2}).Error)
	certs, _ := json.Marshal([]models.CloudCert{{Kind: "ismap", IssuedOn: "2026-01-01", ValidUntil: "2027-01-31"}})
	must(t, s.DB.Create(&models.CloudService{ProcessID: "CLD-1", Service: "みどりクラウド", Provider: "Example KK", Classification: 2,
		Status: models.CloudApproved, NextReassessment: "2027-04-01", Certifications: string(certs)}).Error)
	must(t, s.DB.Create(&models.CloudService{ProcessID: "CLD-2", Service: "Denied Cloud", Provider: "X", Classification: 1, Status: models.CloudDenied}).Error)
}

func facts(v report.View) map[string]string {
	out := map[string]string{}
	for _, f := range v.Facts {
		out[f.Label] = f.Value
	}
	return out
}

func section(t *testing.T, p report.Page, title string) report.View {
	t.Helper()
	for _, v := range p.Sections {
		if v.Title == title {
			return v
		}
	}
	t.Fatalf("no section %q", title)
	return report.View{}
}

func tableText(v report.View) string {
	var b strings.Builder
	for _, t := range v.Tables {
		for _, r := range t.Rows {
			b.WriteString(strings.Join(r, "|") + "\n")
		}
	}
	return b.String()
}

// The committee's report for fiscal year 2026 (April 2026 to March 2027, §2(6)3, §9.1(2))
// counts what the year holds and leaves out the year before.
func TestFiscalYearReport(t *testing.T) {
	s := open(t)
	seedYear(t, s)
	q := report.Query{Store: s, FiscalYear: 2026, Lang: "en", Loc: tokyo, Now: jst("2026-12-03 10:00"), Batch: 2}
	p, err := report.FiscalYearReport(context.Background(), q, report.Sections())
	if err != nil {
		t.Fatal(err)
	}

	ex := section(t, p, "Exceptions")
	want := map[string]string{"Requested in the year": "3", "In effect now": "1", "Ended in the year": "2", "Renewed by a later request": "1",
		"Emergency exceptions": "1", "Days until reported (median / max)": "3 / 3"}
	for k, v := range want {
		if got := facts(ex)[k]; got != v {
			t.Errorf("exceptions: %s = %q, want %q", k, got, v)
		}
	}
	if txt := tableText(ex); !strings.Contains(txt, "EXC-B|2026-06-01|2026-06-04|3|completed") || strings.Contains(txt, "OLD") {
		t.Errorf("emergency table:\n%s", txt)
	}

	in := section(t, p, "Security incidents")
	if got := facts(in)["Received"]; got != "2" {
		t.Errorf("incidents received = %s, want 2 (the one of 2025 left out)", got)
	}
	txt := tableText(in)
	for _, w := range []string{
		"Malware infection|0|0|1|0|0", // triaged high
		"Loss or theft|0|0|1|0|0",     // nobody triaged: handled as high
		"triaged|1|30|30",             // 30 minutes from discovery
		"CISO instructed|1|90|90",     // 90 minutes
		"INC-1|Malware infection|High|パッチ未適用のVPN装置",
		"INC-1|2|E2|職員への注意喚起", // measure 2 is still open
	} {
		if !strings.Contains(txt, w) {
			t.Errorf("incident tables lack %q:\n%s", w, txt)
		}
	}
	if strings.Contains(txt, "INC-1|1|E1") {
		t.Errorf("a measure done is listed as open:\n%s", txt)
	}

	off := section(t, p, "Offboardings")
	for k, v := range map[string]string{"Offboardings": "3", "Filed after the effective date": "1",
		"Days to the last account disabled (median / max)": "10.5 / 19", "With accounts not yet disabled": "1"} {
		if got := facts(off)[k]; got != v {
			t.Errorf("offboardings: %s = %q, want %q", k, got, v)
		}
	}
	if txt := tableText(off); !strings.Contains(txt, "OFB-2|L-OFB-2|2026-04-01|2026-04-03") {
		t.Errorf("late offboardings:\n%s", txt)
	}

	rec := section(t, p, "Reconciliations of accounts")
	if txt := tableText(rec); !strings.Contains(txt, "REC-1|2026-11-01|2|1|1|0") {
		t.Errorf("reconciliations:\n%s", txt)
	}
	ven := section(t, p, "Vendors (outsourcing)")
	if txt := tableText(ven); !strings.Contains(txt, "2026-12-20|OUT-1|みどりシステム株式会社") || strings.Contains(txt, "旧ベンダー") {
		t.Errorf("vendors:\n%s", txt)
	}
	if got := facts(ven)["Certificates lapsing within 30 days"]; got != "1" {
		t.Errorf("certificates lapsing = %s, want 1", got)
	}
	cl := section(t, p, "Cloud services")
	if txt := tableText(cl); !strings.Contains(txt, "2027-04-01|CLD-1|みどりクラウド|Example KK|approved|2027-01-31") || strings.Contains(txt, "Denied") {
		t.Errorf("cloud services:\n%s", txt)
	}

	// The page: charts drawn as inline SVG, no script, in the reader's language.
	var b bytes.Buffer
	if err := report.Render(&b, p); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	if strings.Count(html, "<svg") < 5 || strings.Contains(strings.ToLower(html), "<script") || !strings.Contains(html, `<html lang="en">`) {
		t.Errorf("page: %d charts, or a script, or not English", strings.Count(html, "<svg"))
	}
	q.Lang = "ja"
	p, err = report.FiscalYearReport(context.Background(), q, report.Sections())
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	must(t, report.Render(&b, p))
	for _, w := range []string{`<html lang="ja">`, "情報セキュリティ委員会 年次報告（2026年度）", "2026-04-01 から 2027-03-31 まで", "例外措置", "不正プログラム感染"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("the Japanese page lacks %q", w)
		}
	}
}

// A section is one more entry of the list: the self-inspection's will be added so.
func TestReportTakesAnotherSection(t *testing.T) {
	s := open(t)
	extra := report.Section{ID: "self_inspection", Build: func(_ context.Context, q report.Query) (report.View, error) {
		return report.View{Title: q.T("自己点検", "Self-inspection"), Clause: "§9.1",
			Charts: []template.HTML{report.BarChart("<b>x</b>", "", []report.Bar{{Label: "<script>alert(1)</script>", Value: 2}})}}, nil
	}}
	p, err := report.FiscalYearReport(context.Background(), report.Query{Store: s, FiscalYear: 2026, Lang: "ja", Loc: tokyo, Now: jst("2026-12-03 10:00")},
		append(report.Sections(), extra))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	must(t, report.Render(&b, p))
	if !strings.Contains(b.String(), "自己点検") || strings.Contains(b.String(), "<script>") || strings.Contains(b.String(), "<b>x</b>") {
		t.Errorf("the extra section is missing, or a label reached the page unescaped")
	}
}
