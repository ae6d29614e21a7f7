package codec_test

import (
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/policyflow/policyflow/codec"
)

const (
	key2026 = "2026:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	key2025 = "2025:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
)

func ring(t *testing.T, s string) *codec.Keyring {
	t.Helper()
	r, err := codec.ParseKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type decision struct {
	TaskID, Choice, DeciderID string
}

func TestRoundTripHidesTheData(t *testing.T) {
	dc := codec.DataConverter(ring(t, key2026))
	in := decision{"EXC-1/ciso_review/1", "approve", "山田"}
	p, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(p.Data), "approve") || strings.Contains(string(p.Data), "山田") {
		t.Fatal("the payload is readable")
	}
	if string(p.Metadata["encoding"]) != codec.Encoding {
		t.Errorf("metadata = %v", p.Metadata)
	}
	var out decision
	if err := dc.FromPayload(p, &out); err != nil || out != in {
		t.Fatalf("round trip = %+v, %v", out, err)
	}
}

// After rotation the new key encrypts and the old one still opens older history.
func TestKeyRotation(t *testing.T) {
	old := codec.DataConverter(ring(t, key2025))
	p, err := old.ToPayload(decision{Choice: "reject"})
	if err != nil {
		t.Fatal(err)
	}
	rotated := codec.DataConverter(ring(t, key2026+","+key2025))
	var out decision
	if err := rotated.FromPayload(p, &out); err != nil || out.Choice != "reject" {
		t.Fatalf("old payload after rotation: %+v, %v", out, err)
	}
	fresh, _ := rotated.ToPayload(decision{Choice: "approve"})
	if string(fresh.Metadata["encryption-key-id"]) != "2026" {
		t.Errorf("new payloads sealed with %q", fresh.Metadata["encryption-key-id"])
	}
	// Without the old key, old history cannot be read.
	if err := codec.DataConverter(ring(t, key2026)).FromPayload(p, &out); err == nil {
		t.Error("opened a payload without its key")
	}
}

func TestTamperedPayloadIsRefused(t *testing.T) {
	c := codec.Codec{Keys: ring(t, key2026)}
	enc, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"x"`)}})
	if err != nil {
		t.Fatal(err)
	}
	enc[0].Data[len(enc[0].Data)-1] ^= 1
	if _, err := c.Decode(enc); err == nil {
		t.Fatal("a tampered payload was accepted")
	}
}

func TestPlainPayloadsPassThrough(t *testing.T) {
	plain, _ := converter.GetDefaultDataConverter().ToPayload("recorded before encryption")
	out, err := codec.Codec{Keys: ring(t, key2026)}.Decode([]*commonpb.Payload{plain})
	if err != nil || string(out[0].Data) != `"recorded before encryption"` {
		t.Fatalf("%v %v", out, err)
	}
}

func TestParseKeysErrorsNeverShowKeys(t *testing.T) {
	for _, s := range []string{"", "nokey", "a:notbase64!!", "a:c2hvcnQ=", key2026 + "," + key2026} {
		_, err := codec.ParseKeys(s)
		if err == nil {
			t.Errorf("%q accepted", s)
			continue
		}
		if strings.Contains(err.Error(), "MDEy") || strings.Contains(err.Error(), "c2hvcnQ") {
			t.Errorf("error shows key material: %v", err)
		}
	}
}

// With the codec on, a failure's message (which may name an address) leaves the process
// encrypted, and comes back whole for those who hold the key.
func TestFailureMessagesAreEncrypted(t *testing.T) {
	const secret = "550 mailbox unavailable: taro.yamada@town.example"
	fc := codec.FailureConverter(ring(t, key2026))
	f := fc.ErrorToFailure(temporal.NewApplicationError(secret, "Undeliverable"))
	raw, err := protojson.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "taro.yamada") || strings.Contains(f.GetMessage(), "mailbox") {
		t.Fatalf("the failure leaves the process in clear: %s", raw)
	}
	if f.GetEncodedAttributes() == nil {
		t.Fatal("no encoded attributes: the message was dropped, not encrypted")
	}
	back := fc.FailureToError(f)
	if !strings.Contains(back.Error(), secret) {
		t.Errorf("decoded failure = %q; want the original message", back.Error())
	}
	// Without keys the SDK's default keeps the message, as before.
	if f := codec.FailureConverter(nil).ErrorToFailure(temporal.NewApplicationError(secret, "x")); f.GetMessage() != secret {
		t.Errorf("default converter changed the message: %q", f.GetMessage())
	}
}
