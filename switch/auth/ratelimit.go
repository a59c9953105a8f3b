package auth

import (
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// Defaults for RateLimiter (Kamailio pike's module defaults: 30 requests per 2 s).
const (
	DefaultRateLimit  = 30
	DefaultRateWindow = 2 * time.Second
)

// RateConfig configures a RateLimiter; zero numeric fields take the defaults.
type RateConfig struct {
	Limit     int            // requests allowed per Window per source IP (default 30)
	Window    time.Duration  // sampling unit (default 2 s)
	MaxIPs    int            // cap on tracked IPs (default 65536)
	Allowlist []netip.Prefix // sources never limited (DECISIONS 2: the switch's own address, the bench harness)
}

// Decision is the outcome of RateLimiter.Allow.
type Decision struct {
	// Allow is false while the source is flooding.
	Allow bool
	// FloodStarted is true on the single request that starts a flood episode; log or
	// emit an event on it, not on every denied request.
	FloodStarted bool
}

// RateLimiter is a pike-like per-source request counter: a source that sends more
// than Limit requests in one Window is flooding; all its requests are denied until a
// whole window passes with at most Limit requests (denied requests count too). Memory is
// bounded by an LRU of MaxIPs sources. It is safe for concurrent use.
type RateLimiter struct {
	cfg    RateConfig
	shards [shardCount]rateShard
}

type rateShard struct {
	mu  sync.Mutex
	lru *lru[netip.Addr, rateState]
}

type rateState struct {
	windowStart int64 // unix nanos
	count       int
	flooding    bool
}

// NewRateLimiter validates cfg and returns a limiter.
func NewRateLimiter(cfg RateConfig) (*RateLimiter, error) {
	if cfg.Limit < 0 || cfg.Window < 0 || cfg.MaxIPs < 0 {
		return nil, fmt.Errorf("new rate limiter: negative limit %d, window %v or max IPs %d", cfg.Limit, cfg.Window, cfg.MaxIPs)
	}
	if cfg.Limit == 0 {
		cfg.Limit = DefaultRateLimit
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultRateWindow
	}
	if cfg.MaxIPs == 0 {
		cfg.MaxIPs = DefaultMaxTrackedIPs
	}
	allow := make([]netip.Prefix, 0, len(cfg.Allowlist))
	for _, p := range cfg.Allowlist {
		if !p.IsValid() {
			return nil, fmt.Errorf("new rate limiter: invalid allowlist prefix %v", p)
		}
		allow = append(allow, p.Masked())
	}
	cfg.Allowlist = allow
	r := &RateLimiter{cfg: cfg}
	for i := range r.shards {
		r.shards[i].lru = newLRU[netip.Addr, rateState](perShard(cfg.MaxIPs))
	}
	return r, nil
}

// Allow counts one request from ip at now and decides whether to process it.
// Allowlisted sources are always allowed and never tracked.
func (r *RateLimiter) Allow(ip netip.Addr, now time.Time) Decision {
	ip = ip.Unmap()
	for _, p := range r.cfg.Allowlist {
		if p.Contains(ip) {
			return Decision{Allow: true}
		}
	}
	sh := &r.shards[shardOfAddr(ip)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ns := now.UnixNano()
	st, ok := sh.lru.get(ip)
	if !ok {
		sh.lru.put(ip, rateState{windowStart: ns})
		st, _ = sh.lru.peek(ip)
	}
	if elapsed := ns - st.windowStart; elapsed >= int64(r.cfg.Window) || elapsed < 0 {
		// A window ended: the episode ends if that window stayed under the limit, or if
		// more than one window passed (the one in between had no requests at all).
		if st.count <= r.cfg.Limit || elapsed >= 2*int64(r.cfg.Window) {
			st.flooding = false
		}
		st.windowStart, st.count = ns, 0
	}
	st.count++
	if st.count > r.cfg.Limit && !st.flooding {
		st.flooding = true
		return Decision{Allow: false, FloodStarted: true}
	}
	return Decision{Allow: !st.flooding}
}

// Flooding reports whether ip was in a flood episode as of its last Allow call
// (it counts nothing and does not roll the window).
func (r *RateLimiter) Flooding(ip netip.Addr) bool {
	ip = ip.Unmap()
	sh := &r.shards[shardOfAddr(ip)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st, ok := sh.lru.peek(ip)
	return ok && st.flooding
}
