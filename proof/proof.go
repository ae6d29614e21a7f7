// Package proof lets the worker tell a decision that came through policyflow's API from one
// that anything else able to reach the Temporal frontend sent (issue 12, item 7). The API
// signs each decide Update with an HMAC-SHA256 over what the decision says (task, decider,
// choice, request, time, steering values); the workflow's validator verifies it and refuses
// a decision without a valid proof.
//
// Keys rotate like the codec's (POLICYFLOW_CODEC_KEYS): the first key of the ring signs,
// every key verifies, and each proof names the key that made it. Neither keys nor proofs
// are ever logged or put into an error.
package proof

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
	"time"

	"github.com/policyflow/policyflow/workflows"
)

// MinKeyBytes is the shortest key accepted: as long as the MAC it makes.
const MinKeyBytes = 32

// domain separates these MACs from any other use of the same key, and versions the encoding.
const domain = "policyflow/decide/v1"

// Keyring holds the decision keys, newest first.
type Keyring struct {
	ids  []string
	keys map[string][]byte
}

// ParseKeys reads POLICYFLOW_DECISION_KEYS: comma-separated `id:base64key` pairs, each key
// at least 32 bytes, the first one used to sign. Generate a key with
// `openssl rand -base64 32`. A key ID is letters, digits, '-' and '_'. The error names the
// variable and the key's ID, never key material.
func ParseKeys(s string) (*Keyring, error) {
	r := &Keyring{keys: map[string][]byte{}}
	for _, part := range strings.Split(s, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || !validID(id) {
			return nil, errors.New("POLICYFLOW_DECISION_KEYS: each key is id:base64, the id letters, digits, - or _ (e.g. 2026a:…)")
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) < MinKeyBytes {
			return nil, fmt.Errorf("POLICYFLOW_DECISION_KEYS: key %q must be at least %d bytes in base64 (openssl rand -base64 32)", id, MinKeyBytes)
		}
		if _, dup := r.keys[id]; dup {
			return nil, fmt.Errorf("POLICYFLOW_DECISION_KEYS: key id %q appears twice", id)
		}
		r.ids = append(r.ids, id)
		r.keys[id] = key
	}
	return r, nil
}

// Generate makes a ring of one random key with the given ID, for `policyflow dev`, where the
// API and the worker run in one process and share it in memory, and for tests.
func Generate(id string) (*Keyring, error) {
	if !validID(id) {
		return nil, fmt.Errorf("decision key id %q: use letters, digits, - or _", id)
	}
	key := make([]byte, MinKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate a decision key: %w", err)
	}
	return &Keyring{ids: []string{id}, keys: map[string][]byte{id: key}}, nil
}

// String names the ring's keys, never their material, so a Config printed with %v or %+v
// shows no secret.
func (r *Keyring) String() string {
	if r == nil {
		return "proof.Keyring(none)"
	}
	return "proof.Keyring(" + strings.Join(r.ids, ",") + ")"
}

// GoString is String, for %#v.
func (r *Keyring) GoString() string { return r.String() }

func validID(id string) bool {
	return id != "" && len(id) <= 64 &&
		strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
}

// Sign returns the proof of req made with the ring's first key: "<key id>.<base64url MAC>".
// req.Proof itself is not covered.
func (r *Keyring) Sign(req workflows.DecideRequest) string {
	id := r.ids[0]
	return id + "." + base64.RawURLEncoding.EncodeToString(mac(r.keys[id], req))
}

// Verify checks req.Proof against req with the key the proof names. It fails for a missing
// or malformed proof, a key not in the ring, or any field changed since signing.
func (r *Keyring) Verify(req workflows.DecideRequest) error {
	if r == nil {
		return errors.New("no decision keys are configured")
	}
	if req.Proof == "" {
		return errors.New("the decision carries no proof")
	}
	id, b64, ok := strings.Cut(req.Proof, ".")
	if !ok {
		return errors.New("the decision's proof is malformed")
	}
	key, ok := r.keys[id]
	if !ok {
		return fmt.Errorf("the decision's proof names key %q, which is not in POLICYFLOW_DECISION_KEYS", id)
	}
	got, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		return errors.New("the decision's proof is malformed")
	}
	if !hmac.Equal(got, mac(key, req)) {
		return errors.New("the decision's proof does not match it")
	}
	return nil
}

// mac is the HMAC-SHA256 of req's fields, each written with its length first, so no two
// different decisions have the same encoding ("ab"+"c" is not "a"+"bc"). The steering values
// go in sorted by name, with their count first. DecidedAt is written in UTC to the
// nanosecond, as it survives the trip through Temporal's JSON payloads.
func mac(key []byte, req workflows.DecideRequest) []byte {
	m := hmac.New(sha256.New, key)
	field(m, domain)
	field(m, req.TaskID)
	field(m, req.DeciderID)
	field(m, req.Choice)
	field(m, req.RequestID)
	field(m, req.DecidedAt.UTC().Format(time.RFC3339Nano))
	names := make([]string, 0, len(req.Values))
	for k := range req.Values {
		names = append(names, k)
	}
	slices.Sort(names)
	count(m, len(names))
	for _, k := range names {
		field(m, k)
		field(m, req.Values[k])
	}
	return m.Sum(nil)
}

func field(h hash.Hash, s string) {
	count(h, len(s))
	h.Write([]byte(s))
}

func count(h hash.Hash, n int) {
	var b [binary.MaxVarintLen64]byte
	h.Write(b[:binary.PutUvarint(b[:], uint64(n))])
}
