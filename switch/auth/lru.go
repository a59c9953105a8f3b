package auth

import (
	"hash/maphash"
	"net/netip"
)

// lruEntry is one element of the intrusive doubly linked list kept by lru.
type lruEntry[K comparable, V any] struct {
	key        K
	val        V
	prev, next *lruEntry[K, V]
}

// lru is a fixed-capacity least-recently-used map. It is not safe for
// concurrent use: callers hold their shard's mutex.
type lru[K comparable, V any] struct {
	cap   int
	items map[K]*lruEntry[K, V]
	head  *lruEntry[K, V] // most recently used
	tail  *lruEntry[K, V] // least recently used
}

func newLRU[K comparable, V any](capacity int) *lru[K, V] {
	if capacity < 1 {
		capacity = 1
	}
	return &lru[K, V]{cap: capacity, items: make(map[K]*lruEntry[K, V])}
}

// get returns a pointer to the value for key and marks it most recently used.
func (l *lru[K, V]) get(key K) (*V, bool) {
	e, ok := l.items[key]
	if !ok {
		return nil, false
	}
	l.moveToFront(e)
	return &e.val, true
}

// peek returns a pointer to the value for key without touching recency.
func (l *lru[K, V]) peek(key K) (*V, bool) {
	e, ok := l.items[key]
	if !ok {
		return nil, false
	}
	return &e.val, true
}

// put inserts or replaces key. When the map is full the least recently used
// entry is evicted first and returned with evicted=true.
func (l *lru[K, V]) put(key K, val V) (evictedKey K, evictedVal V, evicted bool) {
	if e, ok := l.items[key]; ok {
		e.val = val
		l.moveToFront(e)
		return evictedKey, evictedVal, false
	}
	if len(l.items) >= l.cap {
		old := l.tail
		l.unlink(old)
		delete(l.items, old.key)
		evictedKey, evictedVal, evicted = old.key, old.val, true
	}
	e := &lruEntry[K, V]{key: key, val: val}
	l.items[key] = e
	l.pushFront(e)
	return evictedKey, evictedVal, evicted
}

// remove deletes key and reports whether it was present.
func (l *lru[K, V]) remove(key K) bool {
	e, ok := l.items[key]
	if !ok {
		return false
	}
	l.unlink(e)
	delete(l.items, key)
	return true
}

func (l *lru[K, V]) len() int { return len(l.items) }

func (l *lru[K, V]) pushFront(e *lruEntry[K, V]) {
	e.prev = nil
	e.next = l.head
	if l.head != nil {
		l.head.prev = e
	}
	l.head = e
	if l.tail == nil {
		l.tail = e
	}
}

func (l *lru[K, V]) unlink(e *lruEntry[K, V]) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (l *lru[K, V]) moveToFront(e *lruEntry[K, V]) {
	if l.head == e {
		return
	}
	l.unlink(e)
	l.pushFront(e)
}

// shardCount is the number of independently locked shards used by the
// concurrency-safe trackers in this package.
const shardCount = 16

var shardSeed = maphash.MakeSeed()

func shardOfString(s string) int {
	return int(maphash.String(shardSeed, s) % shardCount)
}

func shardOfAddr(a netip.Addr) int {
	b := a.As16()
	return int(maphash.Bytes(shardSeed, b[:]) % shardCount)
}

// perShard splits a total capacity across shards, at least 1 each.
func perShard(total int) int {
	n := total / shardCount
	if n < 1 {
		n = 1
	}
	return n
}
