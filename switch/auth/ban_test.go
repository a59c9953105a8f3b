package auth

import (
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestFailureTracker(t *testing.T) {
	ip := netip.MustParseAddr("127.0.0.2")
	other := netip.MustParseAddr("127.0.0.3")
	type ev struct {
		at      time.Duration // offset from t0
		ip      netip.Addr
		fail    bool // true: Fail; false: check Banned
		wantBan bool // Fail → banNow; check → Banned
	}
	fails := func(from time.Duration, step time.Duration, n int, who netip.Addr) []ev {
		out := make([]ev, 0, n)
		for i := 0; i < n; i++ {
			out = append(out, ev{at: from + time.Duration(i)*step, ip: who, fail: true})
		}
		return out
	}
	cat := func(parts ...[]ev) []ev {
		var out []ev
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name   string
		cfg    FailureConfig
		events []ev
	}{
		{name: "nine failures no ban", events: cat(fails(0, time.Second, 9, ip), []ev{{at: 10 * time.Second, ip: ip}})},
		{name: "tenth failure bans once", events: cat(fails(0, time.Second, 9, ip), []ev{
			{at: 9 * time.Second, ip: ip, fail: true, wantBan: true},
			{at: 10 * time.Second, ip: ip, fail: true, wantBan: false},
			{at: 11 * time.Second, ip: ip, wantBan: true},
			{at: 11 * time.Second, ip: other, wantBan: false},
		})},
		{name: "failures outside the window do not count", events: cat(fails(0, 7*time.Second, 10, ip), []ev{{at: 70 * time.Second, ip: ip}})},
		{name: "ban expires after 600 s", events: cat(fails(0, 0, 9, ip), []ev{
			{at: 0, ip: ip, fail: true, wantBan: true},
			{at: 599 * time.Second, ip: ip, wantBan: true},
			{at: 600 * time.Second, ip: ip, wantBan: false},
		})},
		{name: "counting restarts after expiry", events: cat(fails(0, 0, 9, ip), []ev{{at: 0, ip: ip, fail: true, wantBan: true}},
			fails(601*time.Second, 0, 9, ip), []ev{{at: 601 * time.Second, ip: ip, fail: true, wantBan: true}})},
		{name: "custom threshold and ban length", cfg: FailureConfig{Threshold: 3, Window: 5 * time.Second, BanFor: 5 * time.Second}, events: []ev{
			{at: 0, ip: ip, fail: true},
			{at: time.Second, ip: ip, fail: true},
			{at: 2 * time.Second, ip: ip, fail: true, wantBan: true},
			{at: 6 * time.Second, ip: ip, wantBan: true},
			{at: 7 * time.Second, ip: ip, wantBan: false},
		}},
		{name: "IPv4-mapped IPv6 is the same source", cfg: FailureConfig{Threshold: 2}, events: []ev{
			{at: 0, ip: ip, fail: true},
			{at: 0, ip: netip.MustParseAddr("::ffff:127.0.0.2"), fail: true, wantBan: true},
			{at: 0, ip: netip.MustParseAddr("::ffff:127.0.0.2"), wantBan: true},
		}},
		{name: "IPv6 source", cfg: FailureConfig{Threshold: 2}, events: []ev{
			{at: 0, ip: netip.MustParseAddr("2001:db8::1"), fail: true},
			{at: 0, ip: netip.MustParseAddr("2001:db8::1"), fail: true, wantBan: true},
			{at: 0, ip: netip.MustParseAddr("2001:db8::2"), wantBan: false},
		}},
	}
	t0 := time.Unix(1_800_000_000, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := NewFailureTracker(tt.cfg)
			for i, e := range tt.events {
				now := t0.Add(e.at)
				if e.fail {
					if got := ft.Fail(e.ip, ReasonInvalidPassword, now); got != e.wantBan {
						t.Fatalf("event %d: Fail = %v, want %v", i, got, e.wantBan)
					}
				} else if got := ft.Banned(e.ip, now); got != e.wantBan {
					t.Fatalf("event %d: Banned = %v, want %v", i, got, e.wantBan)
				}
			}
		})
	}
}

func TestFailureTrackerListAndLift(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	ft := NewFailureTracker(FailureConfig{Threshold: 1, BanFor: time.Minute})
	a, b := netip.MustParseAddr("127.0.0.9"), netip.MustParseAddr("127.0.0.2")
	ft.Fail(a, ReasonInvalidAccountID, t0)
	ft.Fail(b, ReasonInvalidPassword, t0.Add(time.Second))
	got := ft.List(t0.Add(2 * time.Second))
	want := []Ban{
		{IP: b, Until: t0.Add(time.Second + time.Minute), Reason: ReasonInvalidPassword},
		{IP: a, Until: t0.Add(time.Minute), Reason: ReasonInvalidAccountID},
	}
	if len(got) != len(want) {
		t.Fatalf("List = %+v", got)
	}
	for i := range want {
		if got[i].IP != want[i].IP || !got[i].Until.Equal(want[i].Until) || got[i].Reason != want[i].Reason {
			t.Fatalf("List[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if !ft.Lift(a) {
		t.Fatal("Lift(a) = false, want true")
	}
	if ft.Lift(a) {
		t.Fatal("second Lift(a) = true, want false")
	}
	if ft.Banned(a, t0.Add(2*time.Second)) {
		t.Fatal("a still banned after Lift")
	}
	if l := ft.List(t0.Add(time.Minute + 2*time.Second)); len(l) != 0 {
		t.Fatalf("expired bans listed: %+v", l)
	}
}

func TestFailureTrackerBounded(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	const maxIPs = shardCount * 2
	ft := NewFailureTracker(FailureConfig{Threshold: 1, MaxIPs: maxIPs})
	for i := 0; i < 1000; i++ {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		if !ft.Fail(ip, ReasonInvalidPassword, t0) {
			t.Fatalf("ip %v not banned", ip)
		}
	}
	if n := len(ft.List(t0)); n > maxIPs {
		t.Fatalf("%d bans held, cap %d", n, maxIPs)
	}
	ft2 := NewFailureTracker(FailureConfig{Threshold: 5, MaxIPs: maxIPs})
	for i := 0; i < 1000; i++ {
		ft2.Fail(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), ReasonInvalidPassword, t0)
	}
	tracked := 0
	for i := range ft2.shards {
		tracked += ft2.shards[i].failures.len()
	}
	if tracked > maxIPs {
		t.Fatalf("%d IPs tracked, cap %d", tracked, maxIPs)
	}
}

func TestFailureTrackerConcurrent(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	ft := NewFailureTracker(FailureConfig{})
	ip := netip.MustParseAddr("127.0.0.2")
	var wg sync.WaitGroup
	var mu sync.Mutex
	bans := 0
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if ft.Fail(ip, "r"+strconv.Itoa(w), t0) {
					mu.Lock()
					bans++
					mu.Unlock()
				}
				ft.Banned(ip, t0)
			}
		}(w)
	}
	wg.Wait()
	if bans != 1 {
		t.Fatalf("ban-now returned %d times, want exactly 1", bans)
	}
}
