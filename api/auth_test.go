package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/api"
	"github.com/policyflow/policyflow/models"
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
	{http.MethodPut, "/api/v1/sections/auth-none", "directory", map[string]any{}, http.StatusBadRequest},
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

// A token works until it is revoked or expires, and is refused (401) from that moment on,
// like an unknown one (issue 15).
func TestRevokedOrExpiredTokenIsRefused(t *testing.T) {
	t.Parallel()
	s := sys(t)
	ctx := context.Background()
	put := func(expires *time.Time) (name, token string) {
		name = uid("rotation")
		token = "pf-test-" + name
		if err := s.Store.PutToken(ctx, models.APIToken{Name: name, Hash: activities.HashToken(token), Scopes: "auditor", ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
		return name, token
	}
	later, earlier := time.Now().Add(time.Hour), time.Now().Add(-time.Second)

	name, token := put(&later)
	if r := call(t, http.MethodGet, "/api/v1/processes", token, nil); r.Status != http.StatusOK {
		t.Fatalf("a token that expires in an hour: %s", r)
	}
	if _, err := s.Store.RevokeToken(ctx, name, time.Now()); err != nil {
		t.Fatal(err)
	}
	call(t, http.MethodGet, "/api/v1/processes", token, nil).wantError(t, http.StatusUnauthorized, "unauthorized")

	_, expired := put(&earlier)
	call(t, http.MethodGet, "/api/v1/processes", expired, nil).wantError(t, http.StatusUnauthorized, "unauthorized")

	if _, err := s.Store.RevokeToken(ctx, uid("no-such-token"), time.Now()); err != models.ErrNotFound {
		t.Errorf("revoking an unknown token: %v, want ErrNotFound", err)
	}
}

// Dev mode's demo token is an admin token held in memory: accepted by a dev-mode API only,
// and found in no database.
func TestDevTokenInMemoryOnly(t *testing.T) {
	t.Parallel()
	s := sys(t)
	devToken := "pf-dev-" + uid("token")
	for _, dev := range []bool{true, false} {
		srv := &api.Server{Store: s.Store, Temporal: s.Temporal, Loc: tokyo, TimeZone: "Asia/Tokyo",
			Log: slog.New(slog.DiscardHandler), DecisionKeys: s.Keys, DevMode: dev, DevToken: devToken}
		h := httptest.NewServer(srv.Handler())
		for token, want := range map[string]int{devToken: map[bool]int{true: http.StatusOK, false: http.StatusUnauthorized}[dev], devToken + "x": http.StatusUnauthorized} {
			req, _ := http.NewRequest(http.MethodPost, h.URL+"/api/v1/processes/EXC-20260101-NOSUCHXX/cancel", strings.NewReader(`{"reason":"dev token test"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			// Admitted as admin, the cancel of an unknown process is a 404.
			if want == http.StatusOK {
				want = http.StatusNotFound
			}
			if resp.StatusCode != want {
				t.Errorf("dev mode %v, token %q: %d, want %d", dev, token, resp.StatusCode, want)
			}
		}
		h.Close()
	}
	if n := s.countRows(t, &models.APIToken{}, "hash = ?", activities.HashToken(devToken)); n != 0 {
		t.Errorf("the dev token is stored in the database (%d rows)", n)
	}
}
