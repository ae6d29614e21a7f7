package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
)

// tokenStore points the token command at a fresh, migrated SQLite database.
func tokenStore(t *testing.T) *models.Store {
	t.Helper()
	url := "sqlite://" + filepath.Join(t.TempDir(), "policyflow.db")
	t.Setenv("POLICYFLOW_DATABASE_URL", url)
	t.Setenv("POLICYFLOW_TIMEZONE", "Asia/Tokyo")
	store, err := models.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store
}

func token(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := runToken(context.Background(), args, &out)
	return strings.TrimSpace(out.String()), err
}

// `token create` takes an optional expiry, `token list` shows every token without its hash,
// and `token revoke` refuses a token from then on (issue 15).
func TestTokenCommands(t *testing.T) {
	store := tokenStore(t)
	ctx := context.Background()
	hr, err := token(t, "create", "hr-system", "hr", "--expires", "90d")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := token(t, "create", "ops", "admin,auditor")
	if err != nil {
		t.Fatal(err)
	}
	dated, err := token(t, "create", "--expires=2999-03-31", "portal", "officer")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{
		{"create", "x", "hr", "--expires", "2001-01-01"}, // in the past
		{"create", "x", "hr", "--expires", "soon"},
		{"create", "x", "hr", "--expires", "0d"},
		{"create", "x", "hr", "--expires"},
		{"revoke", "ops", "--expires", "90d"},
		{"revoke"},
		{"list", "extra"},
		{"rotate", "ops"},
	} {
		if _, err := token(t, bad...); err == nil {
			t.Errorf("token %s: accepted", strings.Join(bad, " "))
		}
	}

	check := func(name, tok string, want func(models.APIToken) bool) {
		t.Helper()
		got, err := store.TokenByHash(ctx, activities.HashToken(tok))
		if err != nil || got.Name != name || !want(got) {
			t.Errorf("%s: %+v %v", name, got, err)
		}
	}
	check("hr-system", hr, func(t models.APIToken) bool {
		return t.ExpiresAt != nil && t.ActiveAt(time.Now().Add(89*24*time.Hour)) && !t.ActiveAt(time.Now().Add(91*24*time.Hour))
	})
	check("ops", admin, func(t models.APIToken) bool { return t.ExpiresAt == nil && t.Scopes == "admin,auditor" })
	// A date: the token works through that day in the town's zone.
	check("portal", dated, func(t models.APIToken) bool {
		return t.ExpiresAt != nil && t.ExpiresAt.Equal(time.Date(2999, 4, 1, 0, 0, 0, 0, time.FixedZone("JST", 9*3600)))
	})

	if out, err := token(t, "revoke", "ops"); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %q %v", out, err)
	}
	if _, err := store.TokenByHash(ctx, activities.HashToken(admin)); err != models.ErrNotFound {
		t.Errorf("a revoked token is still found: %v", err)
	}
	if _, err := token(t, "revoke", "nobody"); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("revoking an unknown token: %v", err)
	}

	list, err := token(t, "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(list, "\n")
	if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "NAME SCOPES STATUS CREATED EXPIRES REVOKED" {
		t.Fatalf("token list:\n%s", list)
	}
	for i, want := range []string{"hr-system hr active", "ops admin,auditor revoked", "portal officer active"} {
		if !strings.HasPrefix(strings.Join(strings.Fields(lines[i+1]), " "), want) {
			t.Errorf("line %d = %q, want it to start %q", i+1, lines[i+1], want)
		}
	}
	if !strings.Contains(lines[3], "2999-04-01 00:00 JST") || !strings.Contains(lines[2], "JST") {
		t.Errorf("expiry and revocation not shown in the town's zone:\n%s", list)
	}
	for _, tok := range []string{hr, admin, dated} {
		if strings.Contains(list, tok) || strings.Contains(list, activities.HashToken(tok)) {
			t.Errorf("token list shows a token or its hash:\n%s", list)
		}
	}
}

// Dev mode's demo data holds no API token: the dev token lives in the API's memory only, so
// a database dev mode was pointed at never accepts it (issue 15).
func TestDevSeedStoresNoToken(t *testing.T) {
	store := tokenStore(t)
	if err := seedDemo(context.Background(), store); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := store.DB.Model(&models.APIToken{}).Count(&n).Error; err != nil || n != 0 {
		t.Errorf("the demo seed stored %d API tokens (%v)", n, err)
	}
	if _, err := store.TokenByHash(context.Background(), activities.HashToken("dev-admin-token")); err != models.ErrNotFound {
		t.Errorf("the dev token is in the database: %v", err)
	}
}
