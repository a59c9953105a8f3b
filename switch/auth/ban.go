package auth

import (
	"net/netip"
	"sort"
	"sync"
	"time"
)

// Defaults for FailureTracker (DECISIONS 3).
const (
	DefaultBanThreshold  = 10
	DefaultBanWindow     = 60 * time.Second
	DefaultBanDuration   = 600 * time.Second
	DefaultMaxTrackedIPs = 1 << 16
)

// Ban is one active ban.
type Ban struct {
	IP     netip.Addr
	Until  time.Time
	Reason string // the reason of the failure that triggered the ban
}

// FailureConfig configures a FailureTracker; zero fields take the defaults.
type FailureConfig struct {
	Threshold int           // failures within Window that trigger a ban (default 10)
	Window    time.Duration // sliding window (default 60 s)
	BanFor    time.Duration // ban length (default 600 s)
	MaxIPs    int           // cap on tracked IPs, for failures and for bans separately (default 65536)
}

// FailureTracker counts failed credential checks per source IP in a sliding window and
// bans an IP once it reaches the threshold (DECISIONS 3: count only failures, never
// challenges). Every method takes the current time, so tests use a fake clock. Memory
// is bounded: least recently failing IPs are forgotten first, and when the ban table is
// full the ban closest to expiry is dropped. It is safe for concurrent use.
type FailureTracker struct {
	cfg    FailureConfig
	shards [shardCount]failShard
}

type failShard struct {
	mu       sync.Mutex
	failures *lru[netip.Addr, failRing]
	bans     map[netip.Addr]Ban
	maxBans  int
}

// failRing holds the times of the last Threshold failures, oldest first.
type failRing struct {
	times []int64
}

// NewFailureTracker returns a tracker with cfg's zero fields defaulted.
func NewFailureTracker(cfg FailureConfig) *FailureTracker {
	if cfg.Threshold <= 0 {
		cfg.Threshold = DefaultBanThreshold
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultBanWindow
	}
	if cfg.BanFor <= 0 {
		cfg.BanFor = DefaultBanDuration
	}
	if cfg.MaxIPs <= 0 {
		cfg.MaxIPs = DefaultMaxTrackedIPs
	}
	t := &FailureTracker{cfg: cfg}
	for i := range t.shards {
		t.shards[i].failures = newLRU[netip.Addr, failRing](perShard(cfg.MaxIPs))
		t.shards[i].bans = make(map[netip.Addr]Ban)
		t.shards[i].maxBans = perShard(cfg.MaxIPs)
	}
	return t
}

// Config returns the effective configuration.
func (t *FailureTracker) Config() FailureConfig { return t.cfg }

// Fail records one failed credential check from ip at now with a reason (for example
// ReasonInvalidPassword). It returns true exactly once per ban: when this failure makes
// the IP reach the threshold. Failures from an IP that is already banned are ignored.
func (t *FailureTracker) Fail(ip netip.Addr, reason string, now time.Time) (banNow bool) {
	ip = ip.Unmap()
	sh := &t.shards[shardOfAddr(ip)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if b, ok := sh.bans[ip]; ok {
		if now.Before(b.Until) {
			return false
		}
		delete(sh.bans, ip)
	}
	ns := now.UnixNano()
	cutoff := ns - int64(t.cfg.Window)
	r, ok := sh.failures.get(ip)
	if !ok {
		sh.failures.put(ip, failRing{times: make([]int64, 0, t.cfg.Threshold)})
		r, _ = sh.failures.peek(ip)
	}
	// Drop failures that slid out of the window, then append this one.
	keep := r.times[:0]
	for _, ts := range r.times {
		if ts > cutoff {
			keep = append(keep, ts)
		}
	}
	r.times = append(keep, ns)
	if len(r.times) < t.cfg.Threshold {
		return false
	}
	sh.failures.remove(ip)
	if len(sh.bans) >= sh.maxBans {
		sh.evictBan(now)
	}
	sh.bans[ip] = Ban{IP: ip, Until: now.Add(t.cfg.BanFor), Reason: reason}
	return true
}

// evictBan frees one slot: expired bans first, else the one expiring soonest.
func (sh *failShard) evictBan(now time.Time) {
	var victim netip.Addr
	var soonest time.Time
	for ip, b := range sh.bans {
		if !now.Before(b.Until) {
			delete(sh.bans, ip)
			return
		}
		if !victim.IsValid() || b.Until.Before(soonest) {
			victim, soonest = ip, b.Until
		}
	}
	delete(sh.bans, victim)
}

// Banned reports whether ip is banned at now. Packets from a banned IP are dropped silently.
func (t *FailureTracker) Banned(ip netip.Addr, now time.Time) bool {
	ip = ip.Unmap()
	sh := &t.shards[shardOfAddr(ip)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b, ok := sh.bans[ip]
	if !ok {
		return false
	}
	if now.Before(b.Until) {
		return true
	}
	delete(sh.bans, ip)
	return false
}

// Lift removes a ban and the IP's failure history; it reports whether a ban existed.
func (t *FailureTracker) Lift(ip netip.Addr) bool {
	ip = ip.Unmap()
	sh := &t.shards[shardOfAddr(ip)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, ok := sh.bans[ip]
	delete(sh.bans, ip)
	sh.failures.remove(ip)
	return ok
}

// List returns the bans still active at now, sorted by IP. (It takes now, unlike the
// brief's List(), so that expired bans are never reported.)
func (t *FailureTracker) List(now time.Time) []Ban {
	var out []Ban
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for ip, b := range sh.bans {
			if now.Before(b.Until) {
				out = append(out, b)
			} else {
				delete(sh.bans, ip)
			}
		}
		sh.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].IP.Less(out[j].IP) })
	return out
}
