package api

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// However many keys come, the table holds at most its size, forgetting the least recently
// used first.
func TestLRUTableBound(t *testing.T) {
	tab := newLRUTable(100)
	at := time.Unix(1000, 0)
	tab.put("kept", at)
	for i := 0; i < 100000; i++ {
		tab.put(fmt.Sprintf("2001:db8:%x::/64", i), at)
		if i%50 == 0 {
			tab.get("kept") // used often: never the least recently used
		}
		if tab.len() > 100 || len(tab.index) > 100 {
			t.Fatalf("after %d keys the table holds %d (index %d)", i+1, tab.len(), len(tab.index))
		}
	}
	if _, ok := tab.get("kept"); !ok {
		t.Error("a key used recently was forgotten")
	}
	if _, ok := tab.get("2001:db8:0::/64"); ok {
		t.Error("the oldest key is still held")
	}
	if _, ok := tab.get(fmt.Sprintf("2001:db8:%x::/64", 99999)); !ok {
		t.Error("the newest key was forgotten")
	}
	tab.put("kept", at.Add(time.Hour))
	if got, _ := tab.get("kept"); !got.Equal(at.Add(time.Hour)) || tab.len() != 100 {
		t.Errorf("updating a key: %v, %d keys", got, tab.len())
	}
}

func TestClientPrefix(t *testing.T) {
	for addr, want := range map[string]string{
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::ffff":   "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
		"192.0.2.7":            "192.0.2.7/32",
		"::ffff:192.0.2.7":     "192.0.2.7/32",
		"nonsense":             "unknown",
	} {
		if got := clientPrefix(addr); got != want {
			t.Errorf("%s: %s, want %s", addr, got, want)
		}
	}
}

// X-Forwarded-For from an untrusted peer is warned about once per peer per interval, not
// per request; from a trusted proxy, never.
func TestProxyWarnerOncePerPeer(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	now := time.Unix(1_000_000, 0)
	_, proxy, _ := net.ParseCIDR("10.0.0.0/8")
	w := newProxyWarner([]*net.IPNet{proxy}, 10*time.Minute, func() time.Time { return now }, log)
	send := func(peer string, xff bool) {
		r := httptest.NewRequest("GET", "/healthz", nil)
		r.RemoteAddr = peer + ":4711"
		if xff {
			r.Header.Set("X-Forwarded-For", "198.51.100.1")
		}
		w.check(r)
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return strings.Count(buf.String(), "POLICYFLOW_TRUSTED_PROXIES")
	}
	for i := 0; i < 50; i++ {
		send("192.0.2.1", true)
		send("10.1.2.3", true)   // a trusted proxy
		send("192.0.2.9", false) // no header: nothing to warn about
	}
	if n := count(); n != 1 {
		t.Fatalf("%d warnings for one untrusted peer, want 1:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "peer=192.0.2.1") || !strings.Contains(buf.String(), "level=WARN") {
		t.Errorf("the warning does not name the peer: %s", buf.String())
	}
	send("192.0.2.2", true)
	if n := count(); n != 2 {
		t.Errorf("another peer: %d warnings, want 2", n)
	}
	now = now.Add(11 * time.Minute)
	send("192.0.2.1", true)
	if n := count(); n != 3 {
		t.Errorf("after the interval: %d warnings, want 3", n)
	}
}

type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}
