package auth

import (
	"math"
	"sync"
	"time"
)

// DefaultReplayCapacity is the default number of nonces a ReplayTracker remembers.
const DefaultReplayCapacity = 1 << 16

// ReplayVerdict is the outcome of ReplayTracker.Accept.
type ReplayVerdict int

// Replay verdicts.
const (
	// ReplayFresh: the use is new (first use, or nc above the last accepted one); it is now recorded.
	ReplayFresh ReplayVerdict = iota
	// ReplayRejected: nc not above the last accepted one, or a no-qop nonce used a second time.
	ReplayRejected
	// ReplayUntracked: the nonce is older than an entry that was evicted for space, so its
	// history is unknown; treat it as stale (re-challenge with stale=true) rather than accept it.
	ReplayUntracked
)

// ReplayTracker remembers the highest accepted nonce count per nonce (RELIABILITY A2,
// DECISIONS 11). Memory is bounded by a sharded LRU; when an entry is evicted its shard
// remembers the newest evicted issue time, and any unknown nonce issued at or before it
// is reported ReplayUntracked, so eviction never reopens a replay window.
// It is safe for concurrent use.
type ReplayTracker struct {
	shards [shardCount]replayShard
}

type replayShard struct {
	mu    sync.Mutex
	lru   *lru[string, replayEntry]
	floor int64 // newest issue time (unix nanos) among evicted entries
}

type replayEntry struct {
	issued int64
	last   uint64 // highest accepted nc; math.MaxUint64 after a no-qop use
}

// NewReplayTracker returns a tracker for about capacity nonces; capacity <= 0 means
// DefaultReplayCapacity. Size it above (peak challenges per second × nonce expiry).
func NewReplayTracker(capacity int) *ReplayTracker {
	if capacity <= 0 {
		capacity = DefaultReplayCapacity
	}
	t := &ReplayTracker{}
	for i := range t.shards {
		t.shards[i].lru = newLRU[string, replayEntry](perShard(capacity))
		t.shards[i].floor = math.MinInt64
	}
	return t
}

// Accept records a use of nonce (issued at issued) with nonce count nc; nc == 0 means
// the response had no qop, and such a nonce works exactly once. With qop, nc must be
// strictly greater than the last accepted count for that nonce.
func (t *ReplayTracker) Accept(nonce string, issued time.Time, nc uint64) ReplayVerdict {
	sh := &t.shards[shardOfString(nonce)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.lru.get(nonce); ok {
		if nc == 0 || nc <= e.last {
			return ReplayRejected
		}
		e.last = nc
		return ReplayFresh
	}
	iss := issued.UnixNano()
	if iss <= sh.floor {
		return ReplayUntracked
	}
	last := nc
	if nc == 0 {
		last = math.MaxUint64
	}
	if _, old, evicted := sh.lru.put(nonce, replayEntry{issued: iss, last: last}); evicted && old.issued > sh.floor {
		sh.floor = old.issued
	}
	return ReplayFresh
}

// Len returns the number of nonces currently remembered.
func (t *ReplayTracker) Len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += sh.lru.len()
		sh.mu.Unlock()
	}
	return n
}
