package api

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/policyflow/policyflow/metrics"
	"gopkg.in/yaml.v3"
)

// openAPIOperations are the operations of the OpenAPI document's paths, as "METHOD /path".
func openAPIOperations(t *testing.T, doc map[string]any) map[string]bool {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatalf("openapi.yaml: no paths object")
	}
	methods := []string{"get", "head", "post", "put", "patch", "delete", "options", "trace"}
	ops := map[string]bool{}
	for path, item := range paths {
		m, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("openapi.yaml: path %s is not an object", path)
		}
		for key := range m {
			if slices.Contains(methods, key) {
				ops[strings.ToUpper(key)+" "+path] = true
			}
		}
	}
	return ops
}

var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestOpenAPIDocumentMatchesRoutes keeps api/openapi.yaml true: it must be a valid OpenAPI
// document, every route Echo registers must be in it, and everything in it must be a
// registered route.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	var doc map[string]any
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml is not YAML: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi.yaml: openapi version is %q, want 3.x", v)
	}

	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(openAPI)
	if err != nil {
		t.Fatalf("openapi.yaml does not load as OpenAPI: %v", err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}

	// Every optional route on: dev mode and the codec endpoint.
	e := (&Server{DevMode: true, Codec: nopCodec{}, Metrics: metrics.New(), Loc: time.UTC, Log: slog.New(slog.DiscardHandler)}).Handler()
	registered := map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound {
			continue // Echo's own 404 routes, not an API
		}
		path := echoParam.ReplaceAllString(r.Path, "{$1}")
		registered[r.Method+" "+path] = true
	}
	if len(registered) == 0 {
		t.Fatal("Echo registered no routes")
	}
	documented := openAPIOperations(t, doc)

	for op := range registered {
		if !documented[op] {
			t.Errorf("route %s is registered but not in api/openapi.yaml", op)
		}
	}
	for op := range documented {
		if !registered[op] {
			t.Errorf("api/openapi.yaml documents %s, which the server does not register", op)
		}
	}

	// The dev-mode-only route is marked as such, and absent without dev mode.
	if op := spec.Paths.Find("/dev/mailbox"); op == nil || op.Get == nil || op.Get.Extensions["x-dev-mode-only"] != true {
		t.Errorf("GET /dev/mailbox must be documented with x-dev-mode-only: true")
	}
	prod := (&Server{Loc: time.UTC, Log: slog.New(slog.DiscardHandler)}).Handler()
	for _, r := range prod.Routes() {
		if r.Path == "/dev/mailbox" && r.Method != echo.RouteNotFound {
			t.Errorf("/dev/mailbox is registered without dev mode")
		}
	}

	// Every /api/v1 operation (and the codec) names its bearer scope; the others are public.
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			scope, _ := op.Extensions["x-required-scope"].(string)
			if strings.HasPrefix(path, "/api/v1/") || (strings.HasPrefix(path, "/codec/") && method == http.MethodPost) {
				if !slices.Contains(Scopes, scope) {
					t.Errorf("%s %s: x-required-scope is %q, want one of %v", method, path, scope, Scopes)
				}
				if op.Security == nil || len(*op.Security) == 0 || (*op.Security)[0]["bearerAuth"] == nil {
					t.Errorf("%s %s: must require bearerAuth", method, path)
				}
			} else if op.Security == nil || len(*op.Security) != 0 {
				t.Errorf("%s %s: a public route must say security: []", method, path)
			}
		}
	}

	// The error shape of API.md, Conventions.
	resp := spec.Components.Schemas["ErrorResponse"]
	if resp == nil || resp.Value.Properties["error"] == nil {
		t.Fatal("components.schemas.ErrorResponse with an error property is missing")
	}
	errSchema := resp.Value.Properties["error"].Value
	for _, field := range []string{"code", "message", "fields"} {
		if errSchema.Properties[field] == nil {
			t.Errorf("the error schema lacks %q", field)
		}
	}
	if !slices.Contains(errSchema.Required, "code") || !slices.Contains(errSchema.Required, "message") {
		t.Errorf("the error schema must require code and message, has required %v", errSchema.Required)
	}
	for code := range statusOf {
		if !slices.Contains(errSchema.Properties["code"].Value.Enum, any(code)) {
			t.Errorf("error code %q is not in the error schema's code enum", code)
		}
	}

	// What API.md fixes: idempotency, Location, the list filters, the CSV import.
	start := spec.Paths.Find("/api/v1/exceptions").Post
	if start.Parameters.GetByInAndName("header", "Idempotency-Key") == nil {
		t.Error("POST /api/v1/exceptions must document the Idempotency-Key header")
	}
	if r := start.Responses.Status(http.StatusCreated); r == nil || r.Value.Headers["Location"] == nil {
		t.Error("POST /api/v1/exceptions must document 201 with a Location header")
	}
	list := spec.Paths.Find("/api/v1/processes").Get
	for _, q := range []string{"kind", "status", "department", "employee_id", "from", "to", "limit", "cursor"} {
		if list.Parameters.GetByInAndName("query", q) == nil {
			t.Errorf("GET /api/v1/processes must document the %s query parameter", q)
		}
	}
	imp := spec.Paths.Find("/api/v1/people/import").Post
	if imp.RequestBody == nil || imp.RequestBody.Value.Content.Get("text/csv") == nil {
		t.Error("POST /api/v1/people/import must take text/csv")
	}
}

// nopCodec stands in for the payload codec so that its routes are registered.
type nopCodec struct{}

func (nopCodec) Encode(p []*commonpb.Payload) ([]*commonpb.Payload, error) { return p, nil }
func (nopCodec) Decode(p []*commonpb.Payload) ([]*commonpb.Payload, error) { return p, nil }
