package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/width"

	"github.com/policyflow/policyflow/models"
)

// cp932 encodes a roster as a Japanese HR system exports it: Shift_JIS (CP932) bytes.
func cp932(t testing.TB, s string) []byte {
	t.Helper()
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode CP932: %v", err)
	}
	return b
}

// TestImportPeopleHRExport imports rosters as HR and payroll systems write them: CP932 with
// CRLF and Japanese headers, full-width IDs, a UTF-8 file with a byte-order mark; names are
// stored exactly as written, and an unreadable file is refused naming the row.
func TestImportPeopleHRExport(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("directory")
	ctx := context.Background()
	dept := uid("dept")
	crlf := func(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }
	lf := func(lines ...string) string { return strings.Join(lines, "\n") + "\n" }
	jaHeader := "職員番号,氏名,メールアドレス,所属,役割,言語,在職状況"
	person := func(t *testing.T, id string) models.Person {
		t.Helper()
		p, err := s.Store.Person(ctx, id)
		if err != nil {
			t.Fatalf("person %s: %v", id, err)
		}
		return p
	}

	t.Run("CP932, CRLF, Japanese headers, full-width codes", func(t *testing.T) {
		a, b := uid("emp"), uid("emp")
		// ＩＤ１２３ as HR typed it: every code full-width, the names in kanji with an
		// ideographic space, half-width katakana and a CP932-only character (髙).
		body := cp932(t, crlf(jaHeader,
			width.Widen.String(a)+",髙橋　一郎,"+width.Widen.String("takahashi@town.example")+","+width.Widen.String(dept)+",ＳＴＡＦＦ；ＤＩＳＯ,日本語,在職",
			b+",ﾔﾏﾀﾞ ﾊﾅｺ,yamada@town.example,"+dept+",staff,英語,出向"))
		r := call(t, http.MethodPost, "/api/v1/people/import", tok, body, "Content-Type", "text/csv")
		if r.Status != http.StatusOK {
			t.Fatalf("import: %s", r)
		}
		if got := fmt.Sprint(r.object(t)); got != "map[created:2 imported:2 updated:0]" {
			t.Errorf("import answered %s", got)
		}
		p := person(t, a)
		if p.Name != "髙橋　一郎" || p.Email != "takahashi@town.example" || p.DepartmentID != dept ||
			!p.HasRole("staff") || !p.HasRole("diso") || p.Locale != "ja" || p.Status != models.StatusEmployed {
			t.Errorf("row 2 stored as %+v", p)
		}
		if p := person(t, b); p.Name != "ﾔﾏﾀﾞ ﾊﾅｺ" || p.Locale != "en" || p.Status != models.StatusSeconded {
			t.Errorf("row 3 stored as %+v; the name must stay as written (half-width kana)", p)
		}
	})

	t.Run("declared charset", func(t *testing.T) {
		a := uid("emp")
		body := cp932(t, lf("employee_id,name,email,department", a+",山田 太郎,yamada2@town.example,"+dept))
		r := call(t, http.MethodPost, "/api/v1/people/import", tok, body, "Content-Type", "text/csv; charset=Shift_JIS")
		if r.Status != http.StatusOK {
			t.Fatalf("import: %s", r)
		}
		if p := person(t, a); p.Name != "山田 太郎" {
			t.Errorf("stored %q", p.Name)
		}
	})

	t.Run("UTF-8 with BOM, LF, Japanese headers", func(t *testing.T) {
		a := uid("emp")
		body := "\ufeff" + lf("氏名,職員番号,メールアドレス,所属", "佐藤 花子,"+width.Widen.String(a)+",sato@town.example,"+dept)
		r := call(t, http.MethodPost, "/api/v1/people/import", tok, body, "Content-Type", "text/csv")
		if r.Status != http.StatusOK {
			t.Fatalf("import: %s", r)
		}
		if p := person(t, a); p.Name != "佐藤 花子" || p.Email != "sato@town.example" {
			t.Errorf("stored %+v", p)
		}
	})

	refused := []struct {
		name, contentType string
		body              []byte
		code              string
		row               int    // the row named, 0 for a file-level refusal
		field             string // the field named on row
		message           string // a part of the message of a file-level refusal
	}{
		{"bytes neither UTF-8 nor CP932", "text/csv",
			append(cp932(t, crlf(jaHeader, "E1,上田,ueda@town.example,"+dept+",staff,,")), append([]byte("E2,\xfd\xfe,x@town.example,"), []byte(dept+",staff,,\r\n")...)...),
			"validation_failed", 3, "name", ""},
		{"CP932 under a UTF-8 charset", "text/csv; charset=utf-8", cp932(t, crlf(jaHeader, "E1,上田,ueda@town.example,"+dept+",,,")),
			"bad_request", 0, "", "not valid UTF-8"},
		{"unknown charset", "text/csv; charset=EUC-KR", []byte(crlf(jaHeader, "E1,上田,ueda@town.example,"+dept+",,,")),
			"bad_request", 0, "", "EUC-KR"},
		{"a column named twice", "text/csv", []byte(crlf("職員番号,employee_id,氏名,メールアドレス,所属", "E1,E1,上田,ueda@town.example,"+dept)),
			"bad_request", 0, "", "employee_id"},
		{"unknown status word", "text/csv", cp932(t, crlf(jaHeader, "E1,上田,ueda@town.example,"+dept+",staff,,休職")),
			"validation_failed", 2, "employment_status", ""},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := s.countRows(t, &models.Person{}, "department_id = ?", dept)
			e := call(t, http.MethodPost, "/api/v1/people/import", tok, tc.body, "Content-Type", tc.contentType).wantError(t, http.StatusBadRequest, tc.code)
			if tc.row != 0 && (len(e.Rows) != 1 || e.Rows[0].Row != tc.row || e.Rows[0].Fields[tc.field] == "") {
				t.Errorf("want an error on row %d, field %s; got %+v", tc.row, tc.field, e.Rows)
			}
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not say %q", e.Message, tc.message)
			}
			if after := s.countRows(t, &models.Person{}, "department_id = ?", dept); after != before {
				t.Errorf("a refused file changed the directory: %d people, then %d", before, after)
			}
		})
	}
}
