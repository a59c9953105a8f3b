package events

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultQueueCap is the default capacity of a subscriber's queue. It is deliberately far below
// FreeSWITCH's 100 000 (DECISIONS 15): a stalled ESL client holds at most this many events.
const DefaultQueueCap = 4096

// MaxConsecutiveDrops is how many events in a row a subscriber may lose before it is killed:
// after more than this many consecutive drops the bus calls its OnKill and closes Killed()
// (FreeSWITCH MAX_MISSED; PROTOCOL §2 item 7). A successful push resets the count.
const MaxConsecutiveDrops = 500

// Identity is the switch identity stamped into every event's standard headers (PROTOCOL §6.2).
type Identity struct {
	CoreUUID   string // new at every start
	Hostname   string
	Switchname string // defaults to Hostname
	IPv4       string
	IPv6       string
}

// BusConfig configures a Bus. The zero value is usable: a random Core-UUID, host "localhost",
// time.Now and the local time zone.
type BusConfig struct {
	Identity Identity
	// Now returns the current time (tests pin it); nil means time.Now.
	Now func() time.Time
	// Location is the zone of Event-Date-Local; nil means time.Local.
	Location *time.Location
}

// Bus fans events out to subscribers. It is plain Go, not an actor. Publish never blocks: each
// subscriber has a bounded queue, and an event that does not fit is counted as dropped for that
// subscriber alone.
type Bus struct {
	id  Identity
	now func() time.Time
	loc *time.Location

	mu   sync.Mutex // serialises sequence numbering and fan-out so every queue is in sequence order
	seq  uint64
	subs map[*Subscription]struct{}
	// nsubs is len(subs), readable without the lock.
	nsubs atomic.Int32
}

// NewBus returns a bus with the given identity.
func NewBus(cfg BusConfig) *Bus {
	b := &Bus{id: cfg.Identity, now: cfg.Now, loc: cfg.Location, subs: make(map[*Subscription]struct{})}
	if b.id.CoreUUID == "" {
		b.id.CoreUUID = NewUUID()
	}
	if b.id.Hostname == "" {
		b.id.Hostname = "localhost"
	}
	if b.id.Switchname == "" {
		b.id.Switchname = b.id.Hostname
	}
	if b.id.IPv4 == "" {
		b.id.IPv4 = "127.0.0.1"
	}
	if b.id.IPv6 == "" {
		b.id.IPv6 = "::1"
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.loc == nil {
		b.loc = time.Local
	}
	return b
}

// Identity returns the identity stamped into events.
func (b *Bus) Identity() Identity { return b.id }

// Now returns the bus clock's current time.
func (b *Bus) Now() time.Time { return b.now() }

// Sequence returns the last Event-Sequence handed out.
func (b *Bus) Sequence() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

// SubscribeOptions configures one subscriber.
type SubscribeOptions struct {
	// QueueCap bounds the queue; 0 means DefaultQueueCap.
	QueueCap int
	// Filter, when set, decides which events enter the queue. It runs on the publisher's
	// goroutine under the bus lock: it must be fast, must not block and must not call the bus.
	Filter func(*Event) bool
	// OnKill, when set, is called once (on the publisher's goroutine, under the bus lock) when
	// the subscriber has dropped more than MaxConsecutiveDrops events in a row. It must not block.
	OnKill func()
}

// Subscription is one subscriber's queue and counters.
type Subscription struct {
	bus    *Bus
	filter func(*Event) bool
	onKill func()
	ch     chan *Event

	dropped     atomic.Uint64
	consecutive atomic.Uint64
	killOnce    sync.Once
	killed      chan struct{}
	closed      bool // guarded by bus.mu
}

// Subscribe registers a subscriber.
func (b *Bus) Subscribe(opts SubscribeOptions) *Subscription {
	n := opts.QueueCap
	if n <= 0 {
		n = DefaultQueueCap
	}
	s := &Subscription{bus: b, filter: opts.Filter, onKill: opts.OnKill, ch: make(chan *Event, n), killed: make(chan struct{})}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.nsubs.Store(int32(len(b.subs)))
	b.mu.Unlock()
	return s
}

// C is the queue. Events are shared between subscribers: treat them as read-only (Clone first).
// C is never closed; select on Killed and stop reading after Close.
func (s *Subscription) C() <-chan *Event { return s.ch }

// Dropped is the number of events lost because the queue was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// ConsecutiveDropped is the number of events lost since the last successful push.
func (s *Subscription) ConsecutiveDropped() uint64 { return s.consecutive.Load() }

// Killed is closed once the subscriber dropped more than MaxConsecutiveDrops events in a row.
// A killed subscription receives nothing more.
func (s *Subscription) Killed() <-chan struct{} { return s.killed }

// Len is the number of queued events.
func (s *Subscription) Len() int { return len(s.ch) }

// Cap is the queue capacity.
func (s *Subscription) Cap() int { return cap(s.ch) }

// Drain discards every queued event.
func (s *Subscription) Drain() {
	for {
		select {
		case <-s.ch:
		default:
			return
		}
	}
}

// Close unsubscribes. It is idempotent.
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	delete(s.bus.subs, s)
	s.bus.nsubs.Store(int32(len(s.bus.subs)))
	s.closed = true
	s.bus.mu.Unlock()
}

// Subscribers returns the number of live subscriptions. It does not lock: publishers use it
// to skip building events nobody would receive.
func (b *Bus) Subscribers() int { return int(b.nsubs.Load()) }

// Publish stamps the standard headers (unless already stamped) and offers the event to every
// subscriber whose filter accepts it. It never blocks. The bus takes ownership of e: the
// publisher must not change it afterwards (publish a Clone if it wants to keep mutating).
func (b *Bus) Publish(e *Event) {
	if e == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !e.stamped {
		b.seq++
		b.stampLocked(e, b.seq)
	}
	for s := range b.subs {
		if s.filter != nil && !s.filter(e) {
			continue
		}
		select {
		case s.ch <- e:
			s.consecutive.Store(0)
		default:
			s.dropped.Add(1)
			if s.consecutive.Add(1) > MaxConsecutiveDrops {
				s.killOnce.Do(func() {
					close(s.killed)
					delete(b.subs, s)
					b.nsubs.Store(int32(len(b.subs)))
					if s.onKill != nil {
						s.onKill()
					}
				})
			}
		}
	}
}

// Stamp adds the standard headers to e with the next sequence number without publishing it
// (used for events that are answered rather than broadcast, such as uuid_dump output).
func (b *Bus) Stamp(e *Event) {
	if e == nil || e.stamped {
		return
	}
	b.mu.Lock()
	b.seq++
	b.stampLocked(e, b.seq)
	b.mu.Unlock()
}

// stampLocked inserts the standard block in FreeSWITCH order (PROTOCOL §6.2): after a leading
// Event-Name header, or, for packet-built events, appended with its own Event-Name.
func (b *Bus) stampLocked(e *Event, seq uint64) {
	now := b.now()
	file, fn, line := e.originFile, e.originFunc, strconv.Itoa(e.originLine)
	if file == "" {
		file, fn, line = "switchyard.go", "switchyard_event_fire", "1"
	}
	block := []Header{
		{"Core-UUID", b.id.CoreUUID},
		{"FreeSWITCH-Hostname", b.id.Hostname},
		{"FreeSWITCH-Switchname", b.id.Switchname},
		{"FreeSWITCH-IPv4", b.id.IPv4},
		{"FreeSWITCH-IPv6", b.id.IPv6},
		{"Event-Date-Local", now.In(b.loc).Format("2006-01-02 15:04:05")},
		{"Event-Date-GMT", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")},
		{"Event-Date-Timestamp", strconv.FormatInt(now.UnixMicro(), 10)},
		{"Event-Calling-File", file},
		{"Event-Calling-Function", fn},
		{"Event-Calling-Line-Number", line},
		{"Event-Sequence", strconv.FormatUint(seq, 10)},
	}
	var out []Header
	switch {
	case e.appendName != "":
		out = make([]Header, 0, len(e.Headers)+len(block)+1)
		out = append(out, e.Headers...)
		out = append(out, Header{"Event-Name", e.appendName})
		out = append(out, block...)
	case len(e.Headers) > 0 && e.Headers[0].Name == "Event-Name":
		out = make([]Header, 0, len(e.Headers)+len(block))
		out = append(out, e.Headers[0])
		out = append(out, block...)
		out = append(out, e.Headers[1:]...)
	default:
		out = make([]Header, 0, len(e.Headers)+len(block)+1)
		out = append(out, Header{"Event-Name", "CUSTOM"})
		out = append(out, block...)
		out = append(out, e.Headers...)
	}
	e.Headers = out
	e.stamped = true
}

// SetOrigin records where the event comes from (Event-Calling-File, -Function, -Line-Number).
// Clients do not interpret these; FreeSWITCH names are welcome for familiarity.
func (e *Event) SetOrigin(file, function string, line int) {
	e.originFile, e.originFunc, e.originLine = file, function, line
}
