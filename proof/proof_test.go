package proof_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/proof"
	"github.com/policyflow/policyflow/workflows"
)

func key(b byte) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune('a'+b)), 32)))
}

func ring(t *testing.T, spec string) *proof.Keyring {
	t.Helper()
	r, err := proof.ParseKeys(spec)
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	return r
}

func request() workflows.DecideRequest {
	return workflows.DecideRequest{
		TaskID: "EXC-1/ciso_review/1", Choice: "approve", DeciderID: "E100",
		Values:    map[string]string{"severity": "high", "containment": "2026-05-01"},
		RequestID: "9f86d081884c7d659a2feaa0c55ad015",
		DecidedAt: time.Date(2026, 4, 27, 1, 2, 3, 456789000, time.UTC),
	}
}

func signed(r *proof.Keyring, req workflows.DecideRequest) workflows.DecideRequest {
	req.Proof = r.Sign(req)
	return req
}

func TestSignAndVerify(t *testing.T) {
	r := ring(t, "k1:"+key(1))
	req := signed(r, request())
	if !strings.HasPrefix(req.Proof, "k1.") || strings.ContainsAny(req.Proof, "+/=") {
		t.Errorf("proof %q is not k1.<base64url>", req.Proof)
	}
	if err := r.Verify(req); err != nil {
		t.Fatalf("a proof made by the ring does not verify: %v", err)
	}
	// The same instant in another zone, as JSON might give it back, is the same decision.
	again := req
	again.DecidedAt = req.DecidedAt.In(time.FixedZone("JST", 9*3600))
	if err := r.Verify(again); err != nil {
		t.Errorf("the same instant in another zone fails: %v", err)
	}
	// An empty map and no map are the same: no values.
	a, b := request(), request()
	a.Values, b.Values = nil, map[string]string{}
	if r.Sign(a) != r.Sign(b) {
		t.Errorf("nil and empty values sign differently")
	}
}

// Every field the proof covers, changed after signing, makes it fail.
func TestTamperedFieldFails(t *testing.T) {
	r := ring(t, "k1:"+key(1))
	cases := map[string]func(*workflows.DecideRequest){
		"task":           func(q *workflows.DecideRequest) { q.TaskID = "EXC-2/ciso_review/1" },
		"decider":        func(q *workflows.DecideRequest) { q.DeciderID = "E101" },
		"choice":         func(q *workflows.DecideRequest) { q.Choice = "reject" },
		"request":        func(q *workflows.DecideRequest) { q.RequestID = "other" },
		"time":           func(q *workflows.DecideRequest) { q.DecidedAt = q.DecidedAt.Add(time.Nanosecond) },
		"value changed":  func(q *workflows.DecideRequest) { q.Values["severity"] = "low" },
		"value added":    func(q *workflows.DecideRequest) { q.Values["extra"] = "x" },
		"value removed":  func(q *workflows.DecideRequest) { delete(q.Values, "containment") },
		"values removed": func(q *workflows.DecideRequest) { q.Values = nil },
		"value renamed": func(q *workflows.DecideRequest) {
			q.Values["severit"] = q.Values["severity"]
			delete(q.Values, "severity")
		},
		"proof cleared":    func(q *workflows.DecideRequest) { q.Proof = "" },
		"proof truncated":  func(q *workflows.DecideRequest) { q.Proof = q.Proof[:len(q.Proof)-2] },
		"proof no key id":  func(q *workflows.DecideRequest) { _, q.Proof, _ = strings.Cut(q.Proof, ".") },
		"proof not base64": func(q *workflows.DecideRequest) { q.Proof = "k1.!!!!" },
		"proof other id":   func(q *workflows.DecideRequest) { q.Proof = "k2" + q.Proof[2:] },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			req := signed(r, request())
			req.Values = map[string]string{"severity": "high", "containment": "2026-05-01"}
			change(&req)
			if err := r.Verify(req); err == nil {
				t.Errorf("verified after changing the %s", name)
			}
		})
	}
}

// Fields are length-prefixed: moving a boundary between two fields changes the proof.
func TestEncodingIsUnambiguous(t *testing.T) {
	r := ring(t, "k1:"+key(1))
	a, b := request(), request()
	a.TaskID, a.DeciderID = "T/1", "E1"
	b.TaskID, b.DeciderID = "T/", "1E1"
	if r.Sign(a) == r.Sign(b) {
		t.Error("moving characters between task and decider keeps the proof")
	}
	a, b = request(), request()
	a.Values = map[string]string{"ab": "c"}
	b.Values = map[string]string{"a": "bc"}
	if r.Sign(a) == r.Sign(b) {
		t.Error("moving characters between a value's name and value keeps the proof")
	}
}

// The first key signs, every key verifies; a proof under a key no longer in the ring fails.
func TestRotation(t *testing.T) {
	old := ring(t, "2025:"+key(1))
	rotated := ring(t, "2026:"+key(2)+", 2025:"+key(1))
	req := signed(old, request())
	if err := rotated.Verify(req); err != nil {
		t.Errorf("a proof under the rotated-out key still in the ring fails: %v", err)
	}
	if p := rotated.Sign(request()); !strings.HasPrefix(p, "2026.") {
		t.Errorf("the ring signs with %q, want the first key 2026", p)
	}
	dropped := ring(t, "2026:"+key(2))
	err := dropped.Verify(req)
	if err == nil || !strings.Contains(err.Error(), `"2025"`) {
		t.Errorf("a proof under a key not in the ring: err = %v, want one naming key 2025", err)
	}
	// Same ID, other key material: a forgery.
	forged := ring(t, "2025:"+key(3))
	if err := old.Verify(signed(forged, request())); err == nil {
		t.Error("a proof made with another key under the same ID verifies")
	}
}

func TestParseKeys(t *testing.T) {
	short := base64.StdEncoding.EncodeToString([]byte("too short"))
	secret := key(1)
	for spec, want := range map[string]string{
		"":                                "each key is id:base64",
		"k1":                              "each key is id:base64",
		":" + secret:                      "each key is id:base64",
		"k.1:" + secret:                   "each key is id:base64",
		"k 1:" + secret:                   "each key is id:base64",
		"k1:" + short:                     `key "k1" must be at least 32 bytes`,
		"k1:not base64!":                  `key "k1" must be at least 32 bytes`,
		"k1:" + secret + ",k1:" + key(2):  `key id "k1" appears twice`,
		"k1:" + secret + ",k2:" + short:   `key "k2" must be at least 32 bytes`,
		"k1:" + secret + ",,k2:" + key(2): "each key is id:base64",
	} {
		_, err := proof.ParseKeys(spec)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "POLICYFLOW_DECISION_KEYS") {
			t.Errorf("ParseKeys(%q): err = %v, want one naming POLICYFLOW_DECISION_KEYS and %q", spec, err, want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("ParseKeys(%q): the error shows key material", spec)
		}
	}
	r := ring(t, " k1:"+key(1)+" , k2:"+key(2))
	want := strings.Repeat("proof.Keyring(k1,k2) ", 4)
	if s := fmt.Sprintf("%v %+v %#v %s ", r, r, r, r); s != want {
		t.Errorf("printing a ring shows %q; want its key IDs only", s)
	}
}

func TestGenerate(t *testing.T) {
	a, err := proof.Generate("dev")
	if err != nil {
		t.Fatal(err)
	}
	b, err := proof.Generate("dev")
	if err != nil {
		t.Fatal(err)
	}
	req := signed(a, request())
	if a.Verify(req) != nil || b.Verify(req) == nil {
		t.Error("two generated rings share their key")
	}
	if _, err := proof.Generate("no.dots"); err == nil {
		t.Error("Generate accepts an ID with a dot")
	}
}
