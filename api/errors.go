package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Error is the one error type the API answers with (API.md, Conventions). Only its code,
// message and fields reach the caller; an internal error is logged and answered as a 500
// that says nothing more.
type Error struct {
	Status  int               `json:"-"`
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Codes and their HTTP status, in one table.
var statusOf = map[string]int{
	"bad_request":       http.StatusBadRequest,
	"validation_failed": http.StatusBadRequest,
	"unauthorized":      http.StatusUnauthorized,
	"forbidden":         http.StatusForbidden,
	"not_found":         http.StatusNotFound,
	"conflict":          http.StatusConflict,
	"gone":              http.StatusGone,
	"too_large":         http.StatusRequestEntityTooLarge,
	"policy_violation":  http.StatusUnprocessableEntity,
	"rate_limited":      http.StatusTooManyRequests,
	"unavailable":       http.StatusServiceUnavailable,
	"internal":          http.StatusInternalServerError,
}

func apiError(code, message string) *Error {
	return &Error{Status: statusOf[code], Code: code, Message: message}
}

// invalid is a validation_failed error with per-field messages.
func invalid(fields map[string]string) *Error {
	e := apiError("validation_failed", "the request has invalid fields")
	e.Fields = fields
	return e
}

var errUnavailable = apiError("unavailable", "a service policyflow depends on is unreachable; try again later")

// handleError writes every error as API.md's JSON shape.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var e *Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			e = apiError("not_found", "no such route")
		case http.StatusMethodNotAllowed:
			e = &Error{Status: he.Code, Code: "method_not_allowed", Message: "method not allowed on this route"}
		case http.StatusRequestEntityTooLarge:
			e = apiError("too_large", "the request body is too large")
		case http.StatusUnauthorized:
			e = apiError("unauthorized", "a valid bearer token is required")
		case http.StatusTooManyRequests:
			e = apiError("rate_limited", "too many requests; slow down")
		case http.StatusBadRequest:
			e = apiError("bad_request", "malformed request")
		default:
			e = &Error{Status: he.Code, Code: "error", Message: http.StatusText(he.Code)}
		}
	default:
		s.Log.Error("internal error", slog.String("method", c.Request().Method), slog.String("route", c.Path()), slog.Any("err", err))
		e = apiError("internal", "internal error")
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(e.Status)
		return
	}
	_ = c.JSON(e.Status, map[string]*Error{"error": e})
}
