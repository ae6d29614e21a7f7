package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/internal/offboarding"
	"github.com/policyflow/policyflow/models"
)

// decodeJSON reads a JSON object strictly: valid UTF-8, known fields only, one value.
func decodeJSON(c echo.Context, v any) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return apiError("bad_request", "the body must be JSON (Content-Type: application/json)")
	}
	body, err := io.ReadAll(c.Request().Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return apiError("too_large", "the request body is too large")
	} else if err != nil {
		return apiError("bad_request", "could not read the request body")
	}
	if !utf8.Valid(body) {
		return apiError("bad_request", "the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apiError("bad_request", "malformed JSON: "+describeJSONError(err))
	}
	if dec.More() {
		return apiError("bad_request", "malformed JSON: more than one value")
	}
	return nil
}

func describeJSONError(err error) string { return offboarding.DescribeJSONError(err) }

// fieldErrors collects per-field validation messages.
type fieldErrors map[string]string

func (f fieldErrors) check(ok bool, field, msg string) {
	if !ok {
		if _, seen := f[field]; !seen {
			f[field] = msg
		}
	}
}

// text checks a required or optional free-text field's length (in characters).
func (f fieldErrors) text(field, v string, required bool, max int) {
	if required && strings.TrimSpace(v) == "" {
		f.check(false, field, "is required")
		return
	}
	f.check(utf8.RuneCountInString(v) <= max, field, fmt.Sprintf("must be at most %d characters", max))
	f.check(!strings.ContainsRune(v, 0), field, "must not contain NUL")
}

// id checks an identifier: 1–64 characters of letters, digits, '-', '_' and '.'.
func (f fieldErrors) id(field, v string) {
	f.check(validID(v), field, "must be 1-64 letters, digits, '-', '_' or '.'")
}

func validID(v string) bool { return models.ValidID(v) }

func (f fieldErrors) email(field, v string) {
	a, err := mail.ParseAddress(v)
	f.check(err == nil && a.Address == v && len(v) <= 254, field, "must be a plain mail address such as name@example.lg.jp")
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return invalid(f)
}
