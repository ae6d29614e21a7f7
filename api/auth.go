package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
)

// Scopes a token may carry (API.md, Conventions).
const (
	scopeHR        = "hr"
	scopeOfficer   = "officer"
	scopeDirectory = "directory"
	scopeAuditor   = "auditor"
	scopeAdmin     = "admin"
)

// Scopes lists every scope, for validating tokens that are created.
var Scopes = []string{scopeHR, scopeOfficer, scopeDirectory, scopeAuditor, scopeAdmin}

// caller is the authenticated token, set on the request context.
type caller struct {
	Name   string
	Scopes []string
}

// auth admits a bearer token that carries one of the scopes, or admin. Tokens are looked up
// by hash; a revoked or expired one is refused like an unknown one. In dev mode the demo
// token (DevToken), which is kept in memory and never stored, is an admin token too.
func (s *Server) auth(scope string, more ...string) echo.MiddlewareFunc {
	allowed := append([]string{scope, scopeAdmin}, more...)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || token == "" {
				return apiError("unauthorized", "a bearer token is required (Authorization: Bearer <token>)")
			}
			var t models.APIToken
			if s.DevMode && s.DevToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.DevToken)) == 1 {
				t = models.APIToken{Name: models.DemoTokenName, Scopes: scopeAdmin}
			} else {
				var err error
				t, err = s.Store.TokenByHash(c.Request().Context(), activities.HashToken(token))
				if errors.Is(err, models.ErrNotFound) || (err == nil && !t.ActiveAt(s.now())) {
					return apiError("unauthorized", "the bearer token is not valid")
				} else if err != nil {
					return s.storeErr(err)
				}
			}
			scopes := t.ScopeList()
			if !slices.ContainsFunc(scopes, func(have string) bool { return slices.Contains(allowed, have) }) {
				return apiError("forbidden", "this token lacks the "+strings.Join(append([]string{scope}, more...), " or ")+" scope")
			}
			c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), callerKey{}, caller{Name: t.Name, Scopes: scopes})))
			return next(c)
		}
	}
}

type callerKey struct{}

func callerOf(c echo.Context) caller {
	v, _ := c.Request().Context().Value(callerKey{}).(caller)
	return v
}

// storeErr maps a database failure to 503 (the database may be down); the error itself is
// logged, not shown.
func (s *Server) storeErr(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return apiError("not_found", "not found")
	}
	if errors.Is(err, context.Canceled) {
		return echo.NewHTTPError(http.StatusServiceUnavailable)
	}
	s.Log.Warn("database error", "err", err)
	return errUnavailable
}
