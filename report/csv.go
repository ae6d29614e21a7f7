// Package report builds what the town reads about its processes as a whole: the registers
// as CSV for Excel, the security committee's yearly report (§2(6)3, §9.1(2)) with its
// charts, and the monthly digest to the CISO and the GISO. It reads the register (models)
// and writes; it decides nothing.
package report

import (
	"bufio"
	"context"
	"encoding/csv"
	"io"
	"strings"
	"time"

	"github.com/policyflow/policyflow/models"
)

// Column is one column of a register: its English key, its Japanese header, and how a row
// gives its cell. The header row reads "申請番号 (id)": the Japanese for the reader, the key
// for a script.
type Column[T any] struct {
	Key, Ja string
	Value   func(row T, f Format) string
}

// Format is what an export was asked for and what a cell needs to be written: the town's
// zone, the moment of the export, and the fiscal year the request names, if any.
type Format struct {
	Loc *time.Location
	// Now is the moment of the export; FiscalYear the year a request names
	// (?fiscal_year=2026), zero when it names none.
	Now        time.Time
	FiscalYear int
}

// Year is the fiscal year the export is for: the one the request named, else the one Now
// falls in (April to March, in the town's zone). Registers kept per year read it; the others
// list every year.
func (f Format) Year() int {
	if f.FiscalYear != 0 {
		return f.FiscalYear
	}
	return FiscalYearOf(f.Now, f.Loc)
}

// FiscalYearOf is the fiscal year (April to March) that t falls in, in loc: 2026 for
// 2027-03-31.
func FiscalYearOf(t time.Time, loc *time.Location) int {
	l := t.In(loc)
	if l.Month() < time.April {
		return l.Year() - 1
	}
	return l.Year()
}

// Time writes an instant as ISO 8601 in the town's zone ("2026-04-01T09:00:00+09:00"), or
// nothing for the zero time.
func (f Format) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(f.Loc).Format(time.RFC3339)
}

// TimePtr is Time for an instant that may be missing.
func (f Format) TimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return f.Time(*t)
}

// Register is one register that can be exported: a name (the URL's), a title, the header
// and a function that streams its rows, a page at a time, to emit.
type Register struct {
	Name             string
	TitleJa, TitleEn string
	Header           []string
	rows             func(ctx context.Context, s *models.Store, f Format, batch int, emit func([]string) error) error
}

// Define makes a register from its columns and a function that visits its rows in pages.
// Another register is a few lines:
//
//	report.Define("cloud-services", "クラウドサービス台帳", "Register of cloud services",
//		[]report.Column[models.CloudService]{{"id", "整理番号", func(r models.CloudService, _ report.Format) string { return r.ProcessID }}},
//		func(ctx context.Context, s *models.Store, batch int, visit func([]models.CloudService) error) error {
//			return s.EachCloudService(ctx, batch, visit)
//		})
func Define[T any](name, titleJa, titleEn string, cols []Column[T],
	each func(ctx context.Context, s *models.Store, batch int, visit func([]T) error) error) Register {
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.Ja + " (" + c.Key + ")"
	}
	return Register{Name: name, TitleJa: titleJa, TitleEn: titleEn, Header: header,
		rows: func(ctx context.Context, s *models.Store, f Format, batch int, emit func([]string) error) error {
			return each(ctx, s, batch, func(page []T) error {
				for _, r := range page {
					cells := make([]string, len(cols))
					for i, c := range cols {
						cells[i] = c.Value(r, f)
					}
					if err := emit(cells); err != nil {
						return err
					}
				}
				return nil
			})
		}}
}

// DefineRows makes a register from its columns and a function that emits its rows one by
// one, such as a models query that pages by itself; f carries the fiscal year asked for. The
// self-inspection's results (§9.1(2)) are a few lines:
//
//	var InspectionRegister = report.DefineRows("inspections", "自己点検結果", "Self-inspection results",
//		[]report.Column[models.InspectionResultRow]{
//			{"campaign", "点検番号", func(r models.InspectionResultRow, _ report.Format) string { return r.Campaign }},
//			{"answer", "回答", func(r models.InspectionResultRow, _ report.Format) string { return r.Answer }},
//		},
//		func(ctx context.Context, s *models.Store, f report.Format, emit func(models.InspectionResultRow) error) error {
//			return s.InspectionResults(ctx, f.Year(), emit)
//		})
//
// and an entry in Registers().
func DefineRows[T any](name, titleJa, titleEn string, cols []Column[T],
	each func(ctx context.Context, s *models.Store, f Format, emit func(T) error) error) Register {
	r := Define(name, titleJa, titleEn, cols, nil)
	r.rows = func(ctx context.Context, s *models.Store, f Format, _ int, emit func([]string) error) error {
		return each(ctx, s, f, func(row T) error {
			cells := make([]string, len(cols))
			for i, c := range cols {
				cells[i] = c.Value(row, f)
			}
			return emit(cells)
		})
	}
	return r
}

// DefaultBatch is how many rows a register reads from the database at a time.
const DefaultBatch = 500

// WriteCSV writes the register as CSV for Excel: UTF-8 with a byte order mark (so that Excel
// reads it as UTF-8, not as Shift_JIS), CRLF line ends, the header row first, every cell that
// a spreadsheet would take for a formula neutralised (Neutralise). Rows are read from the
// database batch at a time and written as they come; flush, when set, is called after each
// page so that the client receives them while the rest are read.
func (r Register) WriteCSV(ctx context.Context, s *models.Store, w io.Writer, f Format, batch int, flush func()) error {
	if batch < 1 {
		batch = DefaultBatch
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	if err := cw.Write(r.Header); err != nil {
		return err
	}
	n := 0
	err := r.rows(ctx, s, f, batch, func(cells []string) error {
		for i := range cells {
			cells[i] = Neutralise(cells[i])
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
		if n++; n%batch == 0 {
			cw.Flush()
			if err := bw.Flush(); err != nil {
				return err
			}
			if flush != nil {
				flush()
			}
		}
		return ctx.Err()
	})
	cw.Flush()
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err == nil {
		err = cw.Error()
	}
	return err
}

// Neutralise keeps a cell from being read as a formula by a spreadsheet (CSV injection): a
// cell that begins with =, +, -, @, a tab or a carriage return gets a leading apostrophe,
// which Excel shows as text and does not evaluate.
func Neutralise(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
