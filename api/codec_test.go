package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/codec"
	"github.com/policyflow/policyflow/models"
)

// The codec endpoint opens encrypted history for authorised readers only.
func TestCodecEndpoint(t *testing.T) {
	store, err := models.Open("sqlite://" + filepath.Join(t.TempDir(), "codec.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for name, scopes := range map[string]string{"auditor-tok": "auditor", "hr-tok": "hr"} {
		if err := store.PutToken(ctx, models.APIToken{Name: name, Hash: activities.HashToken(name), Scopes: scopes}); err != nil {
			t.Fatal(err)
		}
	}
	ring, err := codec.ParseKeys("k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	if err != nil {
		t.Fatal(err)
	}
	dc := codec.DataConverter(ring)
	sealed, err := dc.ToPayloads("D0001 approved")
	if err != nil {
		t.Fatal(err)
	}
	body, err := protojson.Marshal(sealed)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Store: store, Codec: codec.Codec{Keys: ring}, UIOrigins: []string{"http://127.0.0.1:8233"},
		Loc: time.UTC, Log: slog.New(slog.DiscardHandler)}).Handler())
	defer srv.Close()
	cases := []struct {
		name, token string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong scope", "hr-tok", http.StatusForbidden},
		{"auditor", "auditor-tok", http.StatusOK},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("POST", srv.URL+"/codec/decode", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://127.0.0.1:8233")
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answer := string(raw)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, answer)
		}
		if c.want == http.StatusOK && !strings.Contains(answer, base64.StdEncoding.EncodeToString([]byte(`"D0001 approved"`))) {
			t.Errorf("%s: not decoded: %s", c.name, answer)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:8233" {
			t.Errorf("%s: no CORS header for the UI origin", c.name)
		}
	}
}
