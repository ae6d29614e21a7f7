package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/report"
)

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

func jst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
	if err != nil {
		panic(err)
	}
	// The register stores instants in UTC (models.Open's NowFunc), as SQLite compares
	// them as text.
	return t.UTC()
}

func open(t testing.TB) *models.Store {
	t.Helper()
	s, err := models.Open("sqlite://" + filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// exception stores an exception request as the API does (Process.Input is the request).
func exception(t testing.TB, s *models.Store, id, status string, created time.Time, in map[string]any) {
	t.Helper()
	b, _ := json.Marshal(in)
	p := models.Process{ID: id, Kind: models.KindException, Status: status, Stage: status, WorkflowID: id, DepartmentID: "soumu",
		RequesterID: "D1", Input: string(b), CreatedAt: created}
	must(t, s.DB.Create(&p).Error)
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		t.Fatalf("no UTF-8 byte order mark: %q", b[:min(len(b), 10)])
	}
	body := b[3:]
	if n, crlf := bytes.Count(body, []byte("\n")), bytes.Count(body, []byte("\r\n")); n != crlf {
		t.Errorf("%d line ends, %d of them CRLF", n, crlf)
	}
	r := csv.NewReader(bytes.NewReader(body))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// The CSV opens in Excel as the town reads it: a BOM, CRLF, Japanese headers beside the
// keys, ISO dates, and no cell that a spreadsheet would evaluate as a formula.
func TestRegisterCSVForExcel(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	exception(t, s, "EXC-1", "in_effect", jst("2026-05-01 10:00"), map[string]any{
		"requester": "D1", "clauses": []string{"6.2(1)"}, "systems": []string{"juki"}, "classification": 2,
		"start_date": "2026-05-07", "end_date": "2027-03-31", "alternative": "=HYPERLINK(\"http://evil\")", "reason": "+81-3-1234",
	})
	exception(t, s, "EXC-2", "completed", jst("2026-06-01 10:00"), map[string]any{
		"requester": "D1", "clauses": []string{"5.1(1)"}, "start_date": "2026-06-01", "end_date": "2026-06-30",
		"alternative": "-1+1", "reason": "@SUM(A1)\n二行目", "emergency": true,
	})
	exception(t, s, "EXC-3", "pending", jst("2026-07-01 10:00"), map[string]any{
		"requester": "D1", "clauses": []string{"5.1(1)"}, "start_date": "2026-08-01", "end_date": "2026-08-30",
		"alternative": "\tTAB", "reason": "\rCR", "renews": "EXC-2",
	})
	var b bytes.Buffer
	must(t, report.ExceptionRegister.WriteCSV(ctx, s, &b, report.Format{Loc: tokyo}, 2, nil))
	rows := readCSV(t, b.Bytes())
	if len(rows) != 4 {
		t.Fatalf("%d rows, want a header and 3", len(rows))
	}
	head := strings.Join(rows[0], "|")
	for _, h := range []string{"申請番号 (id)", "状態 (status)", "開始日 (start_date)", "終了日 (end_date)", "代替措置 (alternative)", "事後報告までの日数 (reported_days_late)"} {
		if !strings.Contains(head, h) {
			t.Errorf("header lacks %q: %s", h, head)
		}
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h[strings.Index(h, "(")+1:len(h)-1]] = i
	}
	cell := func(row int, key string) string { return rows[row][col[key]] }
	for _, c := range []struct {
		row       int
		key, want string
	}{
		{1, "alternative", `'=HYPERLINK("http://evil")`},
		{1, "reason", "'+81-3-1234"},
		{2, "alternative", "'-1+1"},
		{2, "reason", "'@SUM(A1)\n二行目"},
		{3, "alternative", "'\tTAB"},
		{1, "start_date", "2026-05-07"},
		{1, "created_at", "2026-05-01T10:00:00+09:00"},
		{2, "emergency", "yes"},
		{2, "reported_days_late", "0"},
		{3, "renews", "EXC-2"},
		{1, "clauses", "6.2(1)"},
	} {
		if got := cell(c.row, c.key); got != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.key, got, c.want)
		}
	}
	// With CRLF line ends encoding/csv drops a lone CR; the apostrophe stays first.
	if got := cell(3, "reason"); got != "'CR" {
		t.Errorf("a cell beginning with CR = %q, want it neutralised", got)
	}
	if report.Neutralise("1-2") != "1-2" || report.Neutralise("") != "" || report.Neutralise("申請") != "申請" {
		t.Error("Neutralise changes a harmless cell")
	}
}

// 20,000 accounts are streamed a page at a time: the writer flushes after every page, and
// the register is never read whole (each page is a query of batch rows).
func TestRegisterStreamsInPages(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	const n, batch = 20000, 1000
	accounts := make([]models.Account, 0, n)
	for i := range n {
		holder := fmt.Sprintf("E%05d", i)
		accounts = append(accounts, models.Account{SystemID: fmt.Sprintf("sys-%d", i%3), AccountID: fmt.Sprintf("u%05d", i),
			HolderEmployeeID: &holder, Status: "active"})
	}
	must(t, s.DB.CreateInBatches(accounts, 500).Error)
	rec := models.Process{ID: "REC-1", Kind: models.KindReconciliation, Status: "completed", Stage: "done", WorkflowID: "REC-1", CreatedAt: jst("2026-11-01 09:00")}
	must(t, s.DB.Create(&rec).Error)
	must(t, s.SaveFindings(ctx, []models.ReconciliationFinding{{ProcessID: "REC-1", SystemID: "sys-1", AccountID: "u00001", Kind: "not_employed", Decision: "disable"}}))

	pages := 0
	var b bytes.Buffer
	must(t, report.AccountRegister.WriteCSV(ctx, s, &b, report.Format{Loc: tokyo}, batch, func() { pages++ }))
	if pages != n/batch {
		t.Errorf("flushed %d times, want %d (one per page of %d)", pages, n/batch, batch)
	}
	rows := readCSV(t, b.Bytes())
	if len(rows) != n+1 {
		t.Fatalf("%d rows, want %d and the header", len(rows)-1, n)
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		seen[r[0]+"/"+r[1]] = true
		if r[0] == "sys-1" && r[1] == "u00001" && (r[7] != "REC-1" || r[9] != "not_employed" || r[10] != "disable") {
			t.Errorf("the finding is not on its account: %v", r)
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct accounts, want %d: the keyset paging skipped or repeated some", len(seen), n)
	}
	// The pages are read batch rows at a time.
	visits := 0
	must(t, s.EachAccount(ctx, batch, func(page []models.Account) error {
		visits++
		if len(page) > batch {
			t.Errorf("a page of %d rows", len(page))
		}
		return nil
	}))
	if visits != n/batch {
		t.Errorf("%d pages, want %d", visits, n/batch)
	}
}

// A register made of a query that emits rows one by one (DefineRows), kept per fiscal year:
// the year asked for, else the current one (April to March in Tokyo).
func TestRegisterOfRows(t *testing.T) {
	s := open(t)
	var years []int
	reg := report.DefineRows("numbers", "番号", "Numbers",
		[]report.Column[int]{{"n", "番号", func(n int, _ report.Format) string { return fmt.Sprint(n) }}},
		func(_ context.Context, _ *models.Store, f report.Format, emit func(int) error) error {
			years = append(years, f.Year())
			for n := range 3 {
				if err := emit(n - 1); err != nil {
					return err
				}
			}
			return nil
		})
	var b bytes.Buffer
	must(t, reg.WriteCSV(context.Background(), s, &b, report.Format{Loc: tokyo, Now: jst("2027-03-31 23:00")}, 0, nil))
	if got := b.String(); got != "\ufeff番号 (n)\r\n'-1\r\n0\r\n1\r\n" {
		t.Errorf("csv %q", got)
	}
	must(t, reg.WriteCSV(context.Background(), s, io.Discard, report.Format{Loc: tokyo, Now: jst("2027-04-01 00:00")}, 0, nil))
	must(t, reg.WriteCSV(context.Background(), s, io.Discard, report.Format{Loc: tokyo, Now: jst("2027-04-01 00:00"), FiscalYear: 2024}, 0, nil))
	if fmt.Sprint(years) != "[2026 2027 2024]" {
		t.Errorf("fiscal years %v, want [2026 2027 2024]", years)
	}
}
