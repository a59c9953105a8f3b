package auth

import (
	"strconv"
	"testing"
	"time"
)

func TestReplayTracker(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	type use struct {
		nonce string
		nc    uint64
		want  ReplayVerdict
	}
	tests := []struct {
		name string
		uses []use
	}{
		{name: "first use with qop", uses: []use{{"a", 1, ReplayFresh}}},
		{name: "strictly increasing", uses: []use{{"a", 1, ReplayFresh}, {"a", 2, ReplayFresh}, {"a", 10, ReplayFresh}}},
		{name: "equal nc rejected", uses: []use{{"a", 3, ReplayFresh}, {"a", 3, ReplayRejected}}},
		{name: "lower nc rejected", uses: []use{{"a", 3, ReplayFresh}, {"a", 2, ReplayRejected}}},
		{name: "no-qop once", uses: []use{{"a", 0, ReplayFresh}, {"a", 0, ReplayRejected}}},
		{name: "qop after no-qop rejected", uses: []use{{"a", 0, ReplayFresh}, {"a", 1, ReplayRejected}}},
		{name: "no-qop after qop rejected", uses: []use{{"a", 1, ReplayFresh}, {"a", 0, ReplayRejected}}},
		{name: "nonces independent", uses: []use{{"a", 5, ReplayFresh}, {"b", 1, ReplayFresh}, {"a", 6, ReplayFresh}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReplayTracker(0)
			for i, u := range tt.uses {
				if got := r.Accept(u.nonce, t0, u.nc); got != u.want {
					t.Fatalf("use %d (%s nc=%d): got %v, want %v", i, u.nonce, u.nc, got, u.want)
				}
			}
		})
	}
}

func TestReplayTrackerBoundedAndNoReopen(t *testing.T) {
	const capacity = shardCount * 4
	r := NewReplayTracker(capacity)
	t0 := time.Unix(1_800_000_000, 0)
	const n = capacity * 10
	for i := 0; i < n; i++ {
		if got := r.Accept("n"+strconv.Itoa(i), t0.Add(time.Duration(i)), 1); got != ReplayFresh {
			t.Fatalf("nonce %d: %v", i, got)
		}
	}
	if r.Len() > capacity {
		t.Fatalf("tracker holds %d nonces, cap %d", r.Len(), capacity)
	}
	// Every nonce, evicted or not, must refuse a replay of nc=1.
	fresh := 0
	for i := 0; i < n; i++ {
		switch r.Accept("n"+strconv.Itoa(i), t0.Add(time.Duration(i)), 1) {
		case ReplayFresh:
			fresh++
		case ReplayUntracked, ReplayRejected:
		}
	}
	if fresh != 0 {
		t.Fatalf("%d evicted nonces accepted a replay", fresh)
	}
	// A nonce issued after everything evicted is still accepted.
	if got := r.Accept("newest", t0.Add(time.Hour), 1); got != ReplayFresh {
		t.Fatalf("new nonce: %v", got)
	}
}
