package api_test

import (
	"net/http"
	"testing"
)

// route is one authenticated route of API.md, with a request that passes authentication
// but changes nothing (a body that fails validation, or an ID that does not exist), and
// the status that request answers once admitted.
type route struct {
	method, path string
	scope        string
	body         any
	admitted     int
}

var authRoutes = []route{
	{http.MethodPut, "/api/v1/people/auth-nobody", "directory", map[string]any{}, http.StatusBadRequest},
	{http.MethodPost, "/api/v1/people/import", "directory", "", http.StatusBadRequest},
	{http.MethodPut, "/api/v1/systems/auth-none", "directory", map[string]any{}, http.StatusBadRequest},
	{http.MethodPut, "/api/v1/systems/auth-none/accounts/a1", "directory", map[string]any{}, http.StatusBadRequest},
	{http.MethodPost, "/api/v1/exceptions", "officer", map[string]any{}, http.StatusBadRequest},
	{http.MethodGet, "/api/v1/processes", "auditor", nil, http.StatusOK},
	{http.MethodGet, "/api/v1/processes/EXC-20260101-NOSUCHXX", "auditor", nil, http.StatusNotFound},
	{http.MethodPost, "/api/v1/processes/EXC-20260101-NOSUCHXX/cancel", "admin", map[string]any{"reason": "auth test"}, http.StatusNotFound},
}

// Every route asks for a token (401 without one or with a bad one) and admits only the
// scope API.md names, or admin; an auditor reads and changes nothing.
func TestAuthScopeMatrix(t *testing.T) {
	t.Parallel()
	s := sys(t)
	for _, rt := range authRoutes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			for name, header := range map[string]string{
				"no header":      "",
				"empty bearer":   "Bearer ",
				"unknown token":  "Bearer not-a-token-of-this-server",
				"basic auth":     "Basic dXNlcjpwYXNz",
				"token, no type": s.token("admin"),
			} {
				var r reply
				if header == "" {
					r = call(t, rt.method, rt.path, "", rt.body)
				} else {
					r = call(t, rt.method, rt.path, "", rt.body, "Authorization", header)
				}
				e := r.wantError(t, http.StatusUnauthorized, "unauthorized")
				if e.Message == "" {
					t.Errorf("%s: 401 without a message", name)
				}
			}
			for _, scope := range scopes {
				r := call(t, rt.method, rt.path, s.token(scope), rt.body)
				if scope == rt.scope || scope == "admin" {
					if r.Status != rt.admitted {
						t.Errorf("scope %s: %s, want %d", scope, r, rt.admitted)
					}
					continue
				}
				r.wantError(t, http.StatusForbidden, "forbidden")
			}
		})
	}
}
