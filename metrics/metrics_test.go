package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/metrics"
)

func TestSDKMetricsAreExposed(t *testing.T) {
	r := metrics.New()
	h := r.Temporal().WithTags(map[string]string{"namespace": "default", "task_queue": "policyflow"})
	h.Counter("temporal_workflow_completed").Inc(2)
	h.WithTags(map[string]string{"workflow_type": "ExceptionWorkflow"}).Counter("temporal_workflow_completed").Inc(1) // extra tag dropped
	h.Gauge("temporal_num_pollers").Update(4)
	h.Timer("temporal_activity_execution_latency").Record(30 * time.Millisecond)
	r.HTTPRequests.WithLabelValues("/tasks/:token", "POST", "200").Inc()

	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`temporal_workflow_completed{namespace="default",task_queue="policyflow"} 3`,
		`temporal_num_pollers{namespace="default",task_queue="policyflow"} 4`,
		`temporal_activity_execution_latency_seconds_count{namespace="default",task_queue="policyflow"} 1`,
		`policyflow_http_requests_total{method="POST",route="/tasks/:token",status="200"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
