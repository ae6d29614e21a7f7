package api

import (
	"container/list"
	"context"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/models"
)

// The residents' reporting window (§5.3(2)4) is open to anyone, so it is limited three ways:
//
//   - per address prefix: an IPv6 /64 (what one subscriber is given; its 2^64 addresses are
//     one client) or an IPv4 address, at most PublicReportBurst requests per window;
//   - all addresses together, at most the town's ceiling per window, so a flood from many
//     prefixes cannot bury the GISO's office in reports;
//   - in memory, only a bounded table of the prefixes already refused in the current window
//     (lruTable), so a flood of addresses cannot grow the process.
//
// The counts are kept in the database (models.RateWindow), one row per prefix and window,
// so several API processes behind one load balancer share one limit.

// limitTableSize bounds the prefixes an API process remembers as refused.
const limitTableSize = 10000

// publicLimiter counts the public window's requests in the database and refuses those over
// the limits with 429 and Retry-After.
type publicLimiter struct {
	// name prefixes the keys it counts under, so that limiters sharing the table count
	// apart: "" for the public window, "signin:" for the staff pages' sign-in.
	name      string
	store     *models.Store
	perPrefix int
	ceiling   int
	every     time.Duration
	now       func() time.Time
	log       *slog.Logger

	mu        sync.Mutex
	refused   *lruTable // prefix, or "*" for the ceiling -> end of the window it is refused in
	forgotten time.Time // the window whose predecessors' rows were last deleted
}

func newPublicLimiter(store *models.Store, perPrefix, ceiling int, every time.Duration, now func() time.Time, log *slog.Logger) *publicLimiter {
	return &publicLimiter{store: store, perPrefix: perPrefix, ceiling: ceiling, every: every, now: now, log: log,
		refused: newLRUTable(limitTableSize)}
}

// allCount is the prefix under which every request is counted for the ceiling.
const allCount = "*"

// allow counts a request from addr, or says why not and for how long: byPrefix is false
// when the ceiling of all addresses refused it.
func (l *publicLimiter) allow(ctx context.Context, addr string) (ok, byPrefix bool, wait time.Duration, err error) {
	now := l.now()
	start := now.Truncate(l.every)
	end := start.Add(l.every)
	prefix := l.name + clientPrefix(addr)
	all := l.name + allCount

	l.mu.Lock()
	refusedAll := l.refusedUntil(all, now)
	refusedPrefix := l.refusedUntil(prefix, now)
	forget := !l.forgotten.Equal(start)
	l.forgotten = start
	l.mu.Unlock()
	switch {
	case refusedPrefix:
		return false, true, end.Sub(now), nil
	case refusedAll:
		return false, false, end.Sub(now), nil
	}
	if forget {
		// The previous window is kept: a request at its very end may still be counting.
		if err := l.store.ForgetRates(ctx, start.Add(-l.every)); err != nil {
			l.log.Warn("public window: forgetting old counts failed", "err", err)
		}
	}

	n, err := l.store.CountRate(ctx, prefix, start)
	if err != nil {
		return false, false, 0, err
	}
	if n > l.perPrefix {
		l.refuse(prefix, end)
		return false, true, end.Sub(now), nil
	}
	n, err = l.store.CountRate(ctx, all, start)
	if err != nil {
		return false, false, 0, err
	}
	if n > l.ceiling {
		if l.refuse(all, end) {
			l.log.Warn("public window: the ceiling of requests from all addresses is reached; every resident is refused until the window ends",
				"ceiling", l.ceiling, "window", l.every.String(), "until", end)
		}
		return false, false, end.Sub(now), nil
	}
	return true, true, 0, nil
}

// refusedUntil reports whether key is refused at now. l.mu is held.
func (l *publicLimiter) refusedUntil(key string, now time.Time) bool {
	until, ok := l.refused.get(key)
	return ok && now.Before(until)
}

// refuse remembers that key is refused until end; it reports whether it was not already.
func (l *publicLimiter) refuse(key string, end time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	until, ok := l.refused.get(key)
	l.refused.put(key, end)
	return !ok || !until.Equal(end)
}

// middleware answers 429 with Retry-After to a request over a limit, and 503 when the
// counts cannot be read (the report could not be stored either).
func (l *publicLimiter) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ok, byPrefix, wait, err := l.allow(c.Request().Context(), c.RealIP())
		if err != nil {
			l.log.Error("public window: counting the request failed", "err", err)
			return errUnavailable
		}
		if !ok {
			c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
			if byPrefix {
				return apiError("rate_limited", "too many reports from this address; try again later")
			}
			return apiError("rate_limited", "the reporting window is busy; try again later")
		}
		return next(c)
	}
}

// clientPrefix is the unit a client is counted by: an IPv6 address's /64, an IPv4 address
// (also when written IPv4-mapped) as a /32.
func clientPrefix(addr string) string {
	ip := net.ParseIP(addr)
	switch {
	case ip == nil:
		return "unknown"
	case ip.To4() != nil:
		return ip.To4().String() + "/32"
	default:
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
}

// proxyWarner warns, loudly and once per peer per interval, when a request carries
// X-Forwarded-For from a peer that is not a trusted proxy: the header is then ignored, so
// behind an unlisted reverse proxy every resident shares the proxy's one rate limit and
// every decision records the proxy's address. The fix is POLICYFLOW_TRUSTED_PROXIES.
type proxyWarner struct {
	trusted []*net.IPNet
	every   time.Duration
	now     func() time.Time
	log     *slog.Logger

	mu     sync.Mutex
	warned *lruTable // peer -> when it may be warned about again
}

func newProxyWarner(trusted []*net.IPNet, every time.Duration, now func() time.Time, log *slog.Logger) *proxyWarner {
	return &proxyWarner{trusted: trusted, every: every, now: now, log: log, warned: newLRUTable(1000)}
}

func (w *proxyWarner) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		w.check(c.Request())
		return next(c)
	}
}

// check warns about r if it carries X-Forwarded-For from an untrusted peer, unless that
// peer was warned about within the interval.
func (w *proxyWarner) check(r *http.Request) {
	if r.Header.Get(echo.HeaderXForwardedFor) == "" {
		return
	}
	peer := echo.ExtractIPDirect()(r)
	if ip := net.ParseIP(peer); ip != nil {
		for _, n := range w.trusted {
			if n.Contains(ip) {
				return
			}
		}
	}
	now := w.now()
	w.mu.Lock()
	again, seen := w.warned.get(peer)
	if seen && now.Before(again) {
		w.mu.Unlock()
		return
	}
	w.warned.put(peer, now.Add(w.every))
	w.mu.Unlock()
	w.log.Warn("X-Forwarded-For from a peer that is not a trusted proxy: the header is ignored, so every client behind this peer shares its rate limit and recorded address; if it is your reverse proxy, add its address to POLICYFLOW_TRUSTED_PROXIES",
		"peer", peer, "next_warning_after", w.every.String())
}

// lruTable maps keys to times and holds at most size keys: adding one more forgets the key
// used least recently. It bounds what a flood of addresses can make a process remember.
// It is not safe for concurrent use; its owner locks.
type lruTable struct {
	size  int
	order *list.List // of *lruEntry, most recently used first
	index map[string]*list.Element
}

type lruEntry struct {
	key string
	at  time.Time
}

func newLRUTable(size int) *lruTable {
	return &lruTable{size: size, order: list.New(), index: make(map[string]*list.Element, size)}
}

// get returns key's time and marks it used.
func (t *lruTable) get(key string) (time.Time, bool) {
	e, ok := t.index[key]
	if !ok {
		return time.Time{}, false
	}
	t.order.MoveToFront(e)
	return e.Value.(*lruEntry).at, true
}

// put sets key's time, forgetting the least recently used key when the table is full.
func (t *lruTable) put(key string, at time.Time) {
	if e, ok := t.index[key]; ok {
		e.Value.(*lruEntry).at = at
		t.order.MoveToFront(e)
		return
	}
	if t.order.Len() >= t.size {
		oldest := t.order.Back()
		t.order.Remove(oldest)
		delete(t.index, oldest.Value.(*lruEntry).key)
	}
	t.index[key] = t.order.PushFront(&lruEntry{key: key, at: at})
}

// len is the number of keys held.
func (t *lruTable) len() int { return t.order.Len() }
