package api

import (
	"bytes"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/unicode/norm"

	"github.com/policyflow/policyflow/models"
)

// A roster is HR's export as a Japanese HR or payroll system writes it: often Shift_JIS
// (CP932) rather than UTF-8, CRLF line ends, full-width digits and letters in the codes,
// and a header row in Japanese. The functions here turn such a file into the columns
// importPeople validates, without touching the names people are written with.

// rosterCharsets are the charset parameters a roster's Content-Type may carry, and whether
// each means CP932 (false: UTF-8).
var rosterCharsets = map[string]bool{
	"utf-8": false, "utf8": false, "us-ascii": false,
	"shift_jis": true, "shift-jis": true, "sjis": true, "x-sjis": true, "ms_kanji": true,
	"windows-31j": true, "cp932": true, "ms932": true, "x-ms-cp932": true,
}

// decodeRoster turns a roster's bytes into text. A charset parameter on contentType is
// honoured; without one, a body that is valid UTF-8 (with or without a byte-order mark) is
// UTF-8 and anything else is read as CP932, the superset of Shift_JIS that Windows and
// Japanese HR systems write. cp932 reports that the text was decoded from CP932, in which
// case a U+FFFD in it marks bytes that were not CP932 either.
func decodeRoster(body []byte, contentType string) (text string, cp932 bool, err error) {
	sjis, declared := false, false
	if contentType != "" {
		_, params, perr := mime.ParseMediaType(contentType)
		if perr != nil {
			return "", false, apiError("bad_request", "the Content-Type header is malformed")
		}
		if cs, ok := params["charset"]; ok {
			is, known := rosterCharsets[strings.ToLower(strings.TrimSpace(cs))]
			if !known {
				return "", false, apiError("bad_request", fmt.Sprintf("charset %q is not supported; send UTF-8 or Shift_JIS (CP932)", cs))
			}
			sjis, declared = is, true
		}
	}
	if !declared {
		sjis = !utf8.Valid(body)
	}
	if !sjis {
		body = bytes.TrimPrefix(body, []byte("\ufeff"))
		if !utf8.Valid(body) {
			return "", false, apiError("bad_request", "the body is declared UTF-8 but is not valid UTF-8")
		}
		return string(body), false, nil
	}
	out, err := japanese.ShiftJIS.NewDecoder().Bytes(body)
	if err != nil {
		return "", false, apiError("bad_request", "the body is neither UTF-8 nor Shift_JIS (CP932)")
	}
	return string(out), true, nil
}

// rosterHeaders maps each header a roster may use to its column: the English names of
// API.md and the Japanese ones a town's HR export uses. Headers are compared after NFKC,
// trimming and lower-casing, so "ＥＭＰＬＯＹＥＥ_ＩＤ" and " Employee_ID " are employee_id.
var rosterHeaders = map[string]string{
	"employee_id": "employee_id", "職員番号": "employee_id", "職員コード": "employee_id", "社員番号": "employee_id",
	"name": "name", "氏名": "name", "職員氏名": "name",
	"email": "email", "メールアドレス": "email", "電子メール": "email", "eメール": "email",
	"department": "department", "所属": "department", "所属コード": "department", "部署コード": "department",
	"section": "section", "課室": "section", "課室コード": "section", "所属課室": "section", "課コード": "section",
	"roles": "roles", "役割": "roles",
	"locale": "locale", "言語": "locale",
	"employment_status": "employment_status", "在職状況": "employment_status", "在職区分": "employment_status",
}

// rosterColumn is the column a header cell names, or "" for a column the import ignores.
func rosterColumn(h string) string {
	return rosterHeaders[strings.ToLower(strings.TrimSpace(norm.NFKC.String(strings.TrimPrefix(h, "\ufeff"))))]
}

// rosterStatuses are the Japanese words for an employment status an HR export writes.
var rosterStatuses = map[string]string{
	"在職": models.StatusEmployed, "退職": models.StatusRetired, "転出": models.StatusTransferred, "出向": models.StatusSeconded,
}

// rosterCode normalises a code cell (an ID, an address, a role, a locale, a status) as HR
// systems type it: NFKC folds full-width digits and letters (ＩＤ１２３ → ID123) and the
// full-width space, then the cell is trimmed. Names never go through here: they are stored
// as written.
func rosterCode(v string) string {
	return strings.TrimSpace(norm.NFKC.String(v))
}

// rosterStatus is an employment status cell as the API names it: the English value, or
// its Japanese word.
func rosterStatus(v string) string {
	v = strings.ToLower(rosterCode(v))
	if s, ok := rosterStatuses[v]; ok {
		return s
	}
	return v
}

// rosterLocales are the Japanese words for a locale an HR export writes.
var rosterLocales = map[string]string{"日本語": "ja", "英語": "en"}

// rosterLocale is a locale cell as the API names it: ja or en, or its Japanese word.
func rosterLocale(v string) string {
	v = strings.ToLower(rosterCode(v))
	if l, ok := rosterLocales[v]; ok {
		return l
	}
	return v
}
