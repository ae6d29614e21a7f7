// Package codec encrypts what policyflow sends through Temporal (workflow inputs, activity
// arguments, decisions, summaries) with AES-256-GCM before it leaves the process, so the
// Temporal server and its database hold only ciphertext. The API serves the same codec at
// /codec for the Temporal UI, so authorised readers (the CISO) still see the history in clear.
//
// Keys rotate: the first key of the ring encrypts, every key decrypts, and each payload
// names the key that sealed it.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const (
	// Encoding marks an encrypted payload.
	Encoding = "binary/encrypted"
	// keyIDHeader names the key that sealed a payload.
	keyIDHeader = "encryption-key-id"
)

// Keyring holds the encryption keys, newest first.
type Keyring struct {
	ids   []string
	aeads map[string]cipher.AEAD
}

// ParseKeys reads POLICYFLOW_CODEC_KEYS: comma-separated `id:base64key` pairs, each key 32
// bytes (AES-256), the first one used to encrypt. Generate a key with
// `openssl rand -base64 32`. The error never contains key material.
func ParseKeys(s string) (*Keyring, error) {
	r := &Keyring{aeads: map[string]cipher.AEAD{}}
	for _, part := range strings.Split(s, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || id == "" || strings.ContainsAny(id, " \t") {
			return nil, errors.New("POLICYFLOW_CODEC_KEYS: each key is id:base64 (e.g. 2026a:…)")
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("POLICYFLOW_CODEC_KEYS: key %q must be 32 bytes in base64 (openssl rand -base64 32)", id)
		}
		if _, dup := r.aeads[id]; dup {
			return nil, fmt.Errorf("POLICYFLOW_CODEC_KEYS: key id %q appears twice", id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		r.ids = append(r.ids, id)
		r.aeads[id] = aead
	}
	return r, nil
}

// Codec is a converter.PayloadCodec that seals payloads with the keyring.
type Codec struct {
	Keys *Keyring
}

var _ converter.PayloadCodec = Codec{}

// Encode seals each payload with the newest key; the key's ID is the additional data, so a
// payload cannot be passed off under another key.
func (c Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := c.Keys.ids[0]
	aead := c.Keys.aeads[id]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{converter.MetadataEncoding: []byte(Encoding), keyIDHeader: []byte(id)},
			Data:     aead.Seal(nonce, nonce, plain, []byte(id)),
		}
	}
	return out, nil
}

// Decode opens sealed payloads with the key they name and passes others through, so
// histories written before encryption was turned on stay readable.
func (c Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[keyIDHeader])
		aead, ok := c.Keys.aeads[id]
		if !ok {
			return nil, fmt.Errorf("decode payload: no key %q in POLICYFLOW_CODEC_KEYS", id)
		}
		n := aead.NonceSize()
		if len(p.Data) < n {
			return nil, errors.New("decode payload: too short")
		}
		plain, err := aead.Open(nil, p.Data[:n], p.Data[n:], []byte(id))
		if err != nil {
			return nil, errors.New("decode payload: it was altered or sealed with another key")
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return nil, fmt.Errorf("decode payload: %w", err)
		}
		out[i] = &orig
	}
	return out, nil
}

// DataConverter wraps Temporal's default converter with the codec, or returns the default
// when ring is nil (encryption off).
func DataConverter(ring *Keyring) converter.DataConverter {
	if ring == nil {
		return converter.GetDefaultDataConverter()
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), Codec{Keys: ring})
}

// FailureConverter turns errors into Temporal failures. With encryption on, a failure's
// message and stack trace are encrypted too (the SDK's "common attributes"): an activity's
// error text (an SMTP refusal, a database error) may name a person or an address, and would
// otherwise sit in history in clear beside the encrypted payloads. With ring nil it is the
// SDK's default.
func FailureConverter(ring *Keyring) converter.FailureConverter {
	if ring == nil {
		return temporal.GetDefaultFailureConverter()
	}
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter: DataConverter(ring), EncodeCommonAttributes: true,
	})
}
