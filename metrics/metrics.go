// Package metrics exposes policyflow's metrics in the Prometheus format at /metrics: the
// API's requests and the Temporal SDK's worker and client metrics (task latencies, poller
// counts, activity failures, schedule-to-start times).
package metrics

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
)

// Registry holds every metric of one policyflow process.
type Registry struct {
	reg *prometheus.Registry

	mu       sync.Mutex
	counters map[string]*vec[*prometheus.CounterVec]
	gauges   map[string]*vec[*prometheus.GaugeVec]
	timers   map[string]*vec[*prometheus.HistogramVec]

	// HTTPRequests counts API requests by route pattern, method and status; HTTPDuration
	// times them. Routes are patterns (/tasks/:token), never URLs: a token is a secret.
	HTTPRequests *prometheus.CounterVec
	HTTPDuration *prometheus.HistogramVec
}

type vec[T any] struct {
	labels []string
	v      T
}

// New creates a registry with the Go runtime and process collectors and the API's metrics.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry(),
		counters: map[string]*vec[*prometheus.CounterVec]{}, gauges: map[string]*vec[*prometheus.GaugeVec]{},
		timers: map[string]*vec[*prometheus.HistogramVec]{}}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.HTTPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "policyflow_http_requests_total", Help: "API requests by route pattern, method and status.",
	}, []string{"route", "method", "status"})
	r.HTTPDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "policyflow_http_request_duration_seconds", Help: "API request durations by route pattern.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
	}, []string{"route", "method"})
	r.reg.MustRegister(r.HTTPRequests, r.HTTPDuration)
	return r
}

// Handler serves the metrics in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// Temporal is the SDK's metrics handler, feeding this registry.
func (r *Registry) Temporal() client.MetricsHandler { return sdkHandler{r: r} }

// sdkHandler adapts the SDK's metrics to Prometheus. A metric's label names are fixed by
// its first use; later tags outside that set are dropped and missing ones are empty, as
// Prometheus needs one label set per name.
type sdkHandler struct {
	r    *Registry
	tags map[string]string
}

func (h sdkHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	return sdkHandler{r: h.r, tags: merged}
}

func (h sdkHandler) values(labels []string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = h.tags[l]
	}
	return out
}

func (h sdkHandler) labelNames() []string {
	names := make([]string, 0, len(h.tags))
	for k := range h.tags {
		names = append(names, sanitize(k))
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, name)
}

// series finds (or registers, on first use) the vector named name and returns its series for
// h's tags; ok is false when the name clashes with another metric's.
func series[V prometheus.Collector, M any](h sdkHandler, vecs map[string]*vec[V], name string,
	create func(labels []string) V, with func(V, ...string) M) (m M, ok bool) {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	v, found := vecs[name]
	if !found {
		labels := h.labelNames()
		v = &vec[V]{labels, create(labels)}
		if err := h.r.reg.Register(v.v); err != nil {
			return m, false
		}
		vecs[name] = v
	}
	return with(v.v, h.values(v.labels)...), true
}

func (h sdkHandler) Counter(name string) client.MetricsCounter {
	c, ok := series(h, h.r.counters, name, func(labels []string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: sanitize(name), Help: "Temporal SDK metric " + name}, labels)
	}, (*prometheus.CounterVec).WithLabelValues)
	if !ok {
		return client.MetricsNopHandler.Counter(name)
	}
	return counterFunc(func(d int64) { c.Add(float64(d)) })
}

func (h sdkHandler) Gauge(name string) client.MetricsGauge {
	g, ok := series(h, h.r.gauges, name, func(labels []string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: sanitize(name), Help: "Temporal SDK metric " + name}, labels)
	}, (*prometheus.GaugeVec).WithLabelValues)
	if !ok {
		return client.MetricsNopHandler.Gauge(name)
	}
	return gaugeFunc(g.Set)
}

func (h sdkHandler) Timer(name string) client.MetricsTimer {
	o, ok := series(h, h.r.timers, name, func(labels []string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: sanitize(name) + "_seconds",
			Help: "Temporal SDK timer " + name, Buckets: prometheus.ExponentialBuckets(0.001, 2, 18)}, labels)
	}, (*prometheus.HistogramVec).WithLabelValues)
	if !ok {
		return client.MetricsNopHandler.Timer(name)
	}
	return timerFunc(func(d time.Duration) { o.Observe(d.Seconds()) })
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }
