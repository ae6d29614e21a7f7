package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/policyflow/policyflow/api"
	"github.com/policyflow/policyflow/models"
)

// ipv6Prefix hands out /64s no other test uses.
func ipv6Prefix() string {
	n := addresses.Add(1)
	return fmt.Sprintf("2001:db8:%x:%x:", n/0x10000, n%0x10000)
}

// Two addresses in one IPv6 /64 are one client: they share a bucket. Another /64 is not
// affected.
func TestPublicWindowLimitsPerIPv6Prefix(t *testing.T) {
	t.Parallel()
	url := publicWindow(t)
	p := ipv6Prefix()
	invalid := map[string]any{"category": "leak"}
	for i := 0; i < api.PublicReportBurst; i++ {
		// Each request from a different address of the /64, as a client rotating them would.
		call(t, http.MethodPost, url, "", invalid, "X-Forwarded-For", fmt.Sprintf("%s%x::1", p, i)).wantError(t, http.StatusBadRequest, "validation_failed")
	}
	call(t, http.MethodPost, url, "", invalid, "X-Forwarded-For", p+"ffff:ffff:ffff:ffff").wantError(t, http.StatusTooManyRequests, "rate_limited")
	call(t, http.MethodPost, url, "", invalid, "X-Forwarded-For", ipv6Prefix()+":1").wantError(t, http.StatusBadRequest, "validation_failed")
}

// publicServers builds n API servers sharing one database of their own (each with its own
// connection, as separate processes would have), with a fixed clock and the given ceiling.
func publicServers(t *testing.T, n, ceiling int) []string {
	t.Helper()
	s := sys(t)
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "public.db")
	now := time.Now()
	_, loop, _ := net.ParseCIDR("127.0.0.0/8")
	var urls []string
	for i := 0; i < n; i++ {
		store, err := models.Open(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		if i == 0 {
			if err := store.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		srv := &api.Server{Store: store, Temporal: s.Temporal, Loc: tokyo, TimeZone: "Asia/Tokyo",
			Log: slog.New(slog.DiscardHandler), TrustedProxies: []*net.IPNet{loop}, DecisionKeys: s.Keys,
			PublicReportCeiling: ceiling, Now: func() time.Time { return now }}
		h := httptest.NewServer(srv.Handler())
		t.Cleanup(h.Close)
		urls = append(urls, h.URL+"/public/incident-reports")
	}
	return urls
}

// Past the ceiling of all addresses in a minute, every address is answered 429, also one
// never seen; and the ceiling is counted across API servers sharing the database.
func TestPublicWindowGlobalCeiling(t *testing.T) {
	t.Parallel()
	urls := publicServers(t, 2, 7)
	invalid := map[string]any{"category": "leak"}
	for i := 0; i < 7; i++ {
		call(t, http.MethodPost, urls[i%2], "", invalid, "X-Forwarded-For", address()).wantError(t, http.StatusBadRequest, "validation_failed")
	}
	for _, u := range urls {
		r := call(t, http.MethodPost, u, "", residentReport(), "X-Forwarded-For", address())
		e := r.wantError(t, http.StatusTooManyRequests, "rate_limited")
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
		}
		if e.Message == "" {
			t.Errorf("no message: %s", r)
		}
	}
}

// Two API servers sharing one database share one client's limit: a client cannot double
// its reports by landing on the other server behind the load balancer.
func TestPublicWindowLimitSharedAcrossServers(t *testing.T) {
	t.Parallel()
	urls := publicServers(t, 2, 1000)
	flood := address()
	invalid := map[string]any{"category": "leak"}
	for i := 0; i < api.PublicReportBurst; i++ {
		call(t, http.MethodPost, urls[i%2], "", invalid, "X-Forwarded-For", flood).wantError(t, http.StatusBadRequest, "validation_failed")
	}
	for i, u := range urls {
		r := call(t, http.MethodPost, u, "", invalid, "X-Forwarded-For", flood)
		if r.Status != http.StatusTooManyRequests {
			t.Errorf("server %d: %s, want 429: the limit is shared", i+1, r)
		}
	}
	call(t, http.MethodPost, urls[1], "", invalid, "X-Forwarded-For", address()).wantError(t, http.StatusBadRequest, "validation_failed")
}
