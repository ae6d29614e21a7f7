package api

import (
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/activities"
)

var mailboxTemplate = template.Must(template.New("mailbox").Funcs(template.FuncMap{"linkify": linkify, "local": func(time.Time) string { return "" }}).Parse(`<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Dev mailbox — policyflow</title>
<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}article{border:1px solid #ccc;border-radius:4px;margin:1em 0;padding:.5em 1em}pre{white-space:pre-wrap}.dev{background:#fff3cd;padding:.5em 1em}</style></head>
<body><h1>Dev mailbox</h1>
<p class="dev">開発モード専用: 送信されずに保管されたメール（新しい順）。Dev mode only: mail kept instead of sent, newest first.</p>
{{range .}}<article><p><strong>{{.Subject}}</strong><br>To: {{.To}} · {{local .CreatedAt}}</p><pre>{{linkify .Text}}</pre></article>
{{else}}<p>No mail yet.</p>{{end}}
</body></html>`))

var urlPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// linkify makes the links of a plain-text mail clickable.
func linkify(text string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range urlPattern.FindAllStringIndex(text, -1) {
		b.WriteString(template.HTMLEscapeString(text[last:m[0]]))
		u := template.HTMLEscapeString(text[m[0]:m[1]])
		b.WriteString(`<a href="` + u + `">` + u + `</a>`)
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String())
}

// mailbox shows dev mode's outbox (/dev/mailbox). It is registered only in dev mode, which
// listens on loopback.
func (s *Server) mailbox(c echo.Context) error {
	ms, err := s.Store.Outbox(c.Request().Context(), 200)
	if err != nil {
		return s.storeErr(err)
	}
	var b strings.Builder
	t, err := mailboxTemplate.Clone()
	if err != nil {
		return err
	}
	t.Funcs(template.FuncMap{"local": func(at time.Time) string { return activities.FormatTime(at, s.Loc) }})
	if err := t.Execute(&b, ms); err != nil {
		return err
	}
	return c.HTML(http.StatusOK, b.String())
}
