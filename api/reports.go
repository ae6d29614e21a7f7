package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/report"
)

// exportRegister answers GET /api/v1/registers/{name}.csv: one register as CSV for Excel
// (UTF-8 with BOM, CRLF, Japanese headers beside the keys, formula-like cells neutralised),
// read from the database a page at a time and streamed as it is read.
func (s *Server) exportRegister(c echo.Context) error {
	file := c.Param("name")
	name, ok := strings.CutSuffix(file, ".csv")
	reg, known := report.Lookup(name)
	if !ok || !known {
		all := report.Registers()
		names := make([]string, len(all))
		for i, r := range all {
			names[i] = r.Name + ".csv"
		}
		return apiError("not_found", "no register "+file+"; the registers are "+strings.Join(names, ", "))
	}
	format := report.Format{Loc: s.Loc, Now: s.now()}
	if v := c.QueryParam("fiscal_year"); v != "" {
		fy, err := strconv.Atoi(v)
		if err != nil || fy < 2000 || fy > 2200 || strconv.Itoa(fy) != v {
			return invalid(fieldErrors{"fiscal_year": "must be a fiscal year such as 2026 (April 2026 to March 2027)"})
		}
		format.FiscalYear = fy
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s.csv"`, reg.Name, s.now().In(s.Loc).Format("20060102")))
	res.WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	err := reg.WriteCSV(c.Request().Context(), s.Store, res, format, report.DefaultBatch, res.Flush)
	if err != nil {
		// The header is out: the only honest signal left is to cut the connection, so that
		// the client sees an incomplete transfer rather than a short register.
		s.Log.Warn("register export stopped", "register", reg.Name, "err", err)
		if hj, ok := res.Writer.(http.Hijacker); ok {
			if conn, _, herr := hj.Hijack(); herr == nil {
				_ = conn.Close()
			}
		}
	}
	return nil
}

// fiscalYear reads the {fy} of a report route: the calendar year in which the fiscal year
// begins (April), 2000–2200.
func fiscalYear(c echo.Context) (int, error) {
	fy, err := strconv.Atoi(c.Param("fy"))
	if err != nil || fy < 2000 || fy > 2200 || strconv.Itoa(fy) != c.Param("fy") {
		return 0, invalid(fieldErrors{"fy": "must be a fiscal year such as 2026 (April 2026 to March 2027)"})
	}
	return fy, nil
}

// reportLang is the page's language: ?lang=en or ja, else def.
func reportLang(c echo.Context, def string) (string, error) {
	switch v := c.QueryParam("lang"); v {
	case "":
		if def == "en" {
			return "en", nil
		}
		return "ja", nil
	case "ja", "en":
		return v, nil
	default:
		return "", invalid(fieldErrors{"lang": "must be ja or en"})
	}
}

// fiscalYearReport answers GET /api/v1/reports/fiscal-year/{fy}: the security committee's
// yearly report (§2(6)3, §9.1(2)) as an HTML page, in Japanese or (?lang=en) English.
func (s *Server) fiscalYearReport(c echo.Context) error {
	fy, err := fiscalYear(c)
	if err != nil {
		return err
	}
	lang, err := reportLang(c, "ja")
	if err != nil {
		return err
	}
	return s.renderReport(c, fy, lang)
}

func (s *Server) renderReport(c echo.Context, fy int, lang string) error {
	q := report.Query{Store: s.Store, FiscalYear: fy, Lang: lang, Loc: s.Loc, Now: s.now()}
	page, err := report.FiscalYearReport(c.Request().Context(), q, report.Sections())
	if err != nil {
		return s.storeErr(err)
	}
	var b bytes.Buffer
	if err := report.Render(&b, page); err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, b.Bytes())
}

// revokeReportLinks answers POST /api/v1/reports/fiscal-year/{fy}/revoke-links: every
// mailed link to that year's report stops working at once (410).
func (s *Server) revokeReportLinks(c echo.Context) error {
	fy, err := fiscalYear(c)
	if err != nil {
		return err
	}
	n, err := s.Store.RevokeReportLinks(c.Request().Context(), fy, s.now())
	if err != nil {
		return s.storeErr(err)
	}
	s.Log.Info("report links revoked", "fiscal_year", fy, "count", n, "by", callerOf(c).Name)
	return c.JSON(http.StatusOK, map[string]any{"fiscal_year": fy, "revoked": n})
}

// reportPage answers GET /reports/{token}: the link mailed to a member of the security
// committee opens the yearly report, in the member's language. Like a task link it is a
// credential: an unknown or altered token is 404, an expired or revoked one 410.
func (s *Server) reportPage(c echo.Context) error {
	token := c.Param("token")
	if len(token) != 43 || strings.Trim(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return s.pageError(c, errLinkNotFound, "ja")
	}
	ctx := c.Request().Context()
	l, err := s.Store.ReportLinkByHash(ctx, activities.HashToken(token))
	if errors.Is(err, models.ErrNotFound) {
		return s.pageError(c, errLinkNotFound, "ja")
	} else if err != nil {
		return s.pageError(c, s.storeErr(err), "ja")
	}
	lang := "ja"
	if p, err := s.Store.Person(ctx, l.PersonID); err == nil && p.Locale == "en" {
		lang = "en"
	}
	switch {
	case l.RevokedAt != nil:
		return s.pageError(c, apiError("gone", pick(lang, "このリンクは取り消されました。", "this link has been revoked")), lang)
	case !l.ActiveAt(s.now()):
		return s.pageError(c, apiError("gone", pick(lang, "このリンクは期限切れです（期限 "+activities.FormatTime(l.ExpiresAt, s.Loc)+"）。",
			"this link has expired (it was valid until "+activities.FormatTime(l.ExpiresAt, s.Loc)+")")), lang)
	}
	if lang, err = reportLang(c, lang); err != nil {
		return s.pageError(c, err, "ja")
	}
	return s.renderReport(c, l.FiscalYear, lang)
}
