package actors

import (
	"sync"
	"time"

	"github.com/switchyard/switchyard/actors/events"
)

// fakeLeg is an in-memory Leg: it records what the CallActor asked of it, and tests deliver
// the leg's messages through its sink.
type fakeLeg struct {
	uuid string
	info LegInfo

	mu   sync.Mutex
	sink LegSink
	ops  []string
	seen chan string
	// panicOnUUID makes UUID() panic: a way to inject a failure inside a CallActor's Receive.
	panicOnUUID bool
}

func newFakeLeg(direction, from, to string) *fakeLeg {
	id := events.NewUUID()
	return &fakeLeg{uuid: id, seen: make(chan string, 64), info: LegInfo{
		UUID: id, Direction: direction, CallID: "call-" + id, FromUser: from, ToUser: to,
		Remote: "127.0.0.3:5060", Transport: "udp", Created: time.Now(),
	}}
}

func (l *fakeLeg) UUID() string {
	if l.panicOnUUID {
		panic("injected fault")
	}
	return l.uuid
}
func (l *fakeLeg) Info() LegInfo { return l.info }
func (l *fakeLeg) Bind(s LegSink) {
	l.mu.Lock()
	l.sink = s
	l.mu.Unlock()
}

func (l *fakeLeg) record(op string) {
	l.mu.Lock()
	l.ops = append(l.ops, op)
	l.mu.Unlock()
	select {
	case l.seen <- op:
	default:
	}
}

func (l *fakeLeg) deliver(msg any) {
	l.mu.Lock()
	s := l.sink
	l.mu.Unlock()
	s.Deliver(msg)
}

func (l *fakeLeg) Progress(code int, _ []byte)         { l.record("progress") }
func (l *fakeLeg) Answer([]byte)                       { l.record("answer") }
func (l *fakeLeg) Reject(code int, _ string)           { l.record("reject:" + itoa(code)) }
func (l *fakeLeg) Cancel()                             { l.record("cancel") }
func (l *fakeLeg) Hangup(string)                       { l.record("hangup") }
func (l *fakeLeg) Reinvite(uint64, []byte)             { l.record("reinvite") }
func (l *fakeLeg) RespondReinvite(uint64, int, []byte) { l.record("respond-reinvite") }
func (l *fakeLeg) SendRequest(uint64, string, string, []byte, ...[2]string) {
	l.record("request")
}
func (l *fakeLeg) RespondRequest(uint64, int, string, []byte) { l.record("respond-request") }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// fakeDialer hands every outbound leg to the test.
type fakeDialer struct{ legs chan *fakeLeg }

func (d *fakeDialer) Dial(r DialRequest, sink LegSink) Leg {
	l := newFakeLeg("outbound", r.FromUser, r.ToUser)
	l.uuid, l.info.UUID = r.UUID, r.UUID
	l.Bind(sink)
	d.legs <- l
	return l
}
