package api_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/policyflow/policyflow/api"
	"github.com/policyflow/policyflow/metrics"
)

// The API counts requests but does not serve the counts on its public listener: they are on
// POLICYFLOW_METRICS_ADDR, a listener of their own (issue 15).
func TestMetricsNotOnThePublicListener(t *testing.T) {
	t.Parallel()
	for _, dev := range []bool{false, true} {
		e := (&api.Server{Metrics: metrics.New(), DevMode: dev, Loc: time.UTC, Log: slog.New(slog.DiscardHandler)}).Handler()
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("dev mode %v: GET /metrics on the API's listener answers %d, want 404", dev, rec.Code)
		}
	}
}
