package auth

import (
	"net/netip"
	"testing"
	"time"
)

func TestNewRateLimiter(t *testing.T) {
	tests := []struct {
		name    string
		cfg     RateConfig
		wantErr bool
	}{
		{name: "defaults", cfg: RateConfig{}},
		{name: "negative limit", cfg: RateConfig{Limit: -1}, wantErr: true},
		{name: "negative window", cfg: RateConfig{Window: -time.Second}, wantErr: true},
		{name: "invalid prefix", cfg: RateConfig{Allowlist: []netip.Prefix{{}}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRateLimiter(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestRateLimiter(t *testing.T) {
	flooder := netip.MustParseAddr("127.0.0.2")
	good := netip.MustParseAddr("127.0.0.3")
	harness := netip.MustParseAddr("127.0.0.1")
	type req struct {
		at        time.Duration
		ip        netip.Addr
		n         int // repeat count
		wantAllow bool
		wantStart int // how many of the n report FloodStarted
	}
	tests := []struct {
		name string
		reqs []req
	}{
		{name: "under limit", reqs: []req{{at: 0, ip: good, n: 5, wantAllow: true}}},
		{name: "flood starts once", reqs: []req{
			{at: 0, ip: flooder, n: 5, wantAllow: true},
			{at: 0, ip: flooder, n: 1, wantAllow: false, wantStart: 1},
			{at: 0, ip: flooder, n: 10, wantAllow: false},
			{at: 0, ip: good, n: 5, wantAllow: true},
		}},
		{name: "limit plus one in a burst starts the flood", reqs: []req{
			{at: 0, ip: flooder, n: 6, wantAllow: false, wantStart: 1},
		}},
		{name: "blocked until a window under the limit passes", reqs: []req{
			{at: 0, ip: flooder, n: 5, wantAllow: true},
			{at: 0, ip: flooder, n: 1, wantAllow: false, wantStart: 1},
			{at: 2 * time.Second, ip: flooder, n: 3, wantAllow: false}, // window 0 was over: still flooding
			{at: 4 * time.Second, ip: flooder, n: 1, wantAllow: true},  // window 1 had 3 ≤ 5: episode over
		}},
		{name: "idle gap ends the episode", reqs: []req{
			{at: 0, ip: flooder, n: 5, wantAllow: true},
			{at: 0, ip: flooder, n: 1, wantAllow: false, wantStart: 1},
			{at: 10 * time.Second, ip: flooder, n: 1, wantAllow: true},
		}},
		{name: "second episode reported again", reqs: []req{
			{at: 0, ip: flooder, n: 5, wantAllow: true},
			{at: 0, ip: flooder, n: 1, wantAllow: false, wantStart: 1},
			{at: 10 * time.Second, ip: flooder, n: 5, wantAllow: true},
			{at: 10 * time.Second, ip: flooder, n: 1, wantAllow: false, wantStart: 1},
		}},
		{name: "allowlisted source never limited", reqs: []req{{at: 0, ip: harness, n: 100, wantAllow: true}}},
		{name: "allowlist prefix covers mapped address", reqs: []req{{at: 0, ip: netip.MustParseAddr("::ffff:127.0.0.1"), n: 100, wantAllow: true}}},
	}
	t0 := time.Unix(1_800_000_000, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rl, err := NewRateLimiter(RateConfig{Limit: 5, Window: 2 * time.Second, Allowlist: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range tt.reqs {
				starts := 0
				var last Decision
				for k := 0; k < r.n; k++ {
					last = rl.Allow(r.ip, t0.Add(r.at))
					if last.FloodStarted {
						starts++
					}
				}
				if last.Allow != r.wantAllow || starts != r.wantStart {
					t.Fatalf("req %d: last %+v, starts %d; want allow %v, starts %d", i, last, starts, r.wantAllow, r.wantStart)
				}
				if rl.Flooding(r.ip) == r.wantAllow && r.ip != harness && r.ip.Unmap() != harness {
					t.Fatalf("req %d: Flooding = %v inconsistent with allow %v", i, !r.wantAllow, r.wantAllow)
				}
			}
		})
	}
}

func TestRateLimiterBounded(t *testing.T) {
	const maxIPs = shardCount * 2
	rl, err := NewRateLimiter(RateConfig{MaxIPs: maxIPs})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_800_000_000, 0)
	for i := 0; i < 5000; i++ {
		rl.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), t0)
	}
	n := 0
	for i := range rl.shards {
		n += rl.shards[i].lru.len()
	}
	if n > maxIPs {
		t.Fatalf("%d sources tracked, cap %d", n, maxIPs)
	}
}
