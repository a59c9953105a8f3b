package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/esl"
)

var (
	goodbyeNotice = string(esl.AppendDisconnect(nil, esl.DisconnectGoodbye))
	rudeRejection = esl.RudeRejection + goodbyeNotice
)

const (
	replyQueueCap = 64
	logQueueCap   = 256
	maxBgJobs     = 64
	closeWriteTTL = 2 * time.Second
)

// DisconnectReason is the notice sent before the server closes a session.
type DisconnectReason struct {
	Body  string
	Extra []esl.Header
}

// outMsg is one queued write; close ends the session after the write.
type outMsg struct {
	data  []byte
	close bool
	// seq, when non-zero, is the subState version this reply announces: the writer writes every
	// event accepted under that version only after this reply (see writeEvent).
	seq uint64
}

// session is one inbound connection: the reader goroutine runs commands in order, the writer
// goroutine owns the socket's write side and merges replies, events and log lines.
type session struct {
	srv  *Server
	conn net.Conn
	ip   netip.Addr
	// bw batches the writer's output: frames are flushed when nothing else is ready to write,
	// so a burst of events costs one write(2) instead of one per event.
	bw *bufio.Writer

	out  chan outMsg
	logs chan []byte
	done chan struct{} // closed when the session ends
	end  sync.Once

	state atomic.Pointer[subState] // committed snapshot, read by publishers and the writer
	sub   *events.Subscription

	// reader-goroutine state: the latest intended snapshot and an uncommitted one
	cur        *subState
	version    uint64       // last subState version handed out
	pendingSeq uint64       // version the next reply announces
	scopeV     actors.Scope // set once at auth, before any background job
	written    uint64       // writer: highest announced version written
	barrier    atomic.Uint64

	// reader-goroutine state
	authed    atomic.Bool
	grant     *actors.ESLGrant // nil for an operator (auth) session
	allowAPI  map[string]bool  // nil = all
	logLevel  atomic.Int32     // -2 = not logging
	lingerSec atomic.Int64     // 0 = no linger, -1 = until exit, >0 seconds
	lingerOn  atomic.Bool

	bgSlots  chan struct{}
	bgWG     sync.WaitGroup
	subReady chan struct{} // closed once sub is set
}

func newSession(s *Server, c net.Conn, ip netip.Addr) *session {
	ss := &session{
		srv: s, conn: c, ip: ip,
		out: make(chan outMsg, replyQueueCap), logs: make(chan []byte, logQueueCap),
		done: make(chan struct{}), bgSlots: make(chan struct{}, maxBgJobs), subReady: make(chan struct{}),
	}
	ss.logLevel.Store(-2)
	ss.cur = &subState{format: esl.FormatPlain, scope: actors.Scope{}}
	ss.state.Store(ss.cur)
	return ss
}

func (ss *session) scope() actors.Scope { return ss.scopeV }

// lost is the session's dropped-event count (safe from any goroutine: sub is published by
// closing subReady).
func (ss *session) lost() uint64 {
	select {
	case <-ss.subReady:
		return ss.sub.Dropped()
	default:
		return 0
	}
}

// setState publishes a new subscription snapshot; the next reply announces it, and events
// accepted under it are written after that reply (reader goroutine).
func (ss *session) setState(st *subState) {
	st.seq = ss.announce()
	ss.cur = st
	ss.state.Store(st)
}

// announce reserves the next reply: events the writer takes from the queue from now on are
// written only after that reply (a state change, or an api whose events must follow its
// response, PROTOCOL §3.3). Reader goroutine only.
func (ss *session) announce() uint64 {
	ss.version++
	ss.pendingSeq = ss.version
	ss.barrier.Store(ss.version)
	return ss.version
}

// send queues bytes for the writer (blocking only against this session's own writer), with
// any pending state change (reader goroutine only).
func (ss *session) send(b []byte) {
	m := outMsg{data: b, seq: ss.pendingSeq}
	ss.pendingSeq = 0
	select {
	case ss.out <- m:
	case <-ss.done:
	}
}

func (ss *session) reply(text string, extra ...esl.Header) {
	ss.send(esl.AppendReply(nil, text, extra...))
}

func (ss *session) apiResponse(body string) { ss.send(esl.AppendAPIResponse(nil, body)) }

// disconnect queues the notice and the close; if the queue is full the connection is closed.
func (ss *session) disconnect(r DisconnectReason) {
	msg := outMsg{data: esl.AppendDisconnect(nil, r.Body, r.Extra...), close: true}
	select {
	case ss.out <- msg:
	case <-ss.done:
	default:
		ss.closeConn()
	}
}

func (ss *session) closeConn() {
	ss.end.Do(func() {
		close(ss.done)
		_ = ss.conn.Close()
	})
}

// subscribe creates the bus subscription once the session is authenticated.
func (ss *session) subscribe() {
	ss.sub = ss.srv.bus.Subscribe(events.SubscribeOptions{
		QueueCap: ss.srv.opts.EventQueueCap,
		Filter:   ss.filter,
		OnKill: func() {
			// The writer may be blocked on a client that never reads: bound that write.
			_ = ss.conn.SetWriteDeadline(time.Now().Add(closeWriteTTL))
		},
	})
	close(ss.subReady)
}

// filter runs on publishers' goroutines: it only reads the immutable snapshot.
func (ss *session) filter(e *events.Event) bool {
	st := ss.state.Load()
	if st.my && st.myUUID != "" && e.EventName() == "CHANNEL_HANGUP_COMPLETE" && e.Get("Unique-ID") == st.myUUID {
		return true // always seen: it ends a bound session (§3.7)
	}
	return st.listening() && st.accept(e)
}

func (ss *session) readLoop() {
	defer ss.srv.wg.Done()
	defer ss.finish()
	timer := time.AfterFunc(ss.srv.opts.AuthTimeout, func() {
		if !ss.authed.Load() {
			ss.disconnect(DisconnectReason{Body: esl.DisconnectGoodbye})
		}
	})
	defer timer.Stop()
	ss.send([]byte(esl.AuthRequest))
	r := esl.NewReader(ss.conn, esl.Limits{})
	for {
		cmd, err := r.ReadCommand()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				ss.srv.log.Debug().Err(err).Str("peer", ss.ip.String()).Msg("esl: read")
				ss.disconnect(DisconnectReason{Body: esl.DisconnectGoodbye})
			} else {
				ss.closeConn()
			}
			return
		}
		if !ss.dispatch(cmd) {
			return
		}
	}
}

// finish ends the session: waits for background jobs, unsubscribes, deregisters.
func (ss *session) finish() {
	<-ss.done
	ss.bgWG.Wait()
	if ss.sub != nil {
		ss.sub.Close()
	}
	ss.srv.logSink.remove(ss)
	ss.srv.removeSession(ss)
}

func (ss *session) writeLoop() {
	defer ss.srv.wg.Done()
	ss.bw = bufio.NewWriterSize(ss.conn, 64<<10)
	var evc <-chan *events.Event
	var killed <-chan struct{}
	var lingerTimer <-chan time.Time
	ready := ss.subReady
	for {
		select {
		case m := <-ss.out:
			if !ss.write(m) {
				return
			}
			continue
		default:
		}
		if len(evc) == 0 && len(ss.logs) == 0 && !ss.flush() {
			return
		}
		select {
		case m := <-ss.out:
			if !ss.write(m) {
				return
			}
		case e := <-evc:
			if !ss.repliesBefore() {
				return
			}
			if !ss.writeEvent(e, &lingerTimer) {
				return
			}
		case l := <-ss.logs:
			if !ss.drainReplies() {
				return
			}
			if !ss.write(outMsg{data: l}) {
				return
			}
		case <-killed:
			ss.srv.log.Warn().Str("peer", ss.ip.String()).Uint64("lost", ss.lost()).Msg("esl: killed slow listener")
			_ = ss.conn.SetWriteDeadline(time.Now().Add(closeWriteTTL))
			ss.write(outMsg{data: esl.AppendDisconnect(nil, esl.DisconnectLostEvents), close: true})
			return
		case <-lingerTimer:
			ss.write(outMsg{data: esl.AppendDisconnect(nil, esl.DisconnectGoodbye, ss.controlled("disconnect")...), close: true})
			return
		case <-ss.done:
			return
		case <-ready:
			evc, killed, ready = ss.sub.C(), ss.sub.Killed(), nil
		}
	}
}

// repliesBefore writes queued replies, then waits for the reply announcing the current
// subscription version, so an event never overtakes the reply of the command that subscribed
// to it.
func (ss *session) repliesBefore() bool {
	if !ss.drainReplies() {
		return false
	}
	for v := ss.barrier.Load(); ss.written < v; {
		if !ss.flush() {
			return false
		}
		select {
		case m := <-ss.out:
			if !ss.write(m) {
				return false
			}
		case <-ss.done:
			return false
		}
	}
	return true
}

// drainReplies writes every queued reply first, so a reply queued before an event was
// published (bgapi's +OK before its BACKGROUND_JOB, api/response before API) goes first.
func (ss *session) drainReplies() bool {
	for {
		select {
		case m := <-ss.out:
			if !ss.write(m) {
				return false
			}
		default:
			return true
		}
	}
}

func (ss *session) write(m outMsg) bool {
	if m.seq > ss.written {
		ss.written = m.seq
	}
	_, err := ss.bw.Write(m.data)
	if err == nil && m.close {
		err = ss.bw.Flush()
	}
	if err != nil || m.close {
		ss.closeConn()
		return false
	}
	return true
}

// flush sends what the writer has buffered.
func (ss *session) flush() bool {
	if ss.bw.Buffered() == 0 {
		return true
	}
	if err := ss.bw.Flush(); err != nil {
		ss.closeConn()
		return false
	}
	return true
}

func (ss *session) controlled(disposition string) []esl.Header {
	return []esl.Header{{Name: "Controlled-Session-UUID", Value: ss.state.Load().myUUID}, {Name: "Content-Disposition", Value: disposition}}
}

// writeEvent serialises e for this session (HEARTBEAT carries this session's lost-events count,
// DECISIONS 15) and handles the end of a bound channel.
func (ss *session) writeEvent(e *events.Event, linger *<-chan time.Time) bool {
	st := ss.state.Load()
	boundEnd := st.my && st.myUUID != "" && e.EventName() == "CHANNEL_HANGUP_COMPLETE" && e.Get("Unique-ID") == st.myUUID
	if !boundEnd || (st.listening() && st.accept(e)) {
		if e.EventName() == "HEARTBEAT" {
			e = e.Clone()
			e.Add("Switchyard-Lost-Events", strconv.FormatUint(ss.lost(), 10))
		}
		if !ss.write(outMsg{data: esl.AppendEvent(nil, st.format, e)}) {
			return false
		}
	}
	if !boundEnd {
		return true
	}
	sec := ss.lingerSec.Load()
	if !ss.lingerOn.Load() {
		return ss.write(outMsg{data: esl.AppendDisconnect(nil, esl.DisconnectGoodbye, ss.controlled("disconnect")...), close: true})
	}
	notice := esl.AppendDisconnect(nil, "", esl.Header{Name: "Controlled-Session-UUID", Value: st.myUUID},
		esl.Header{Name: "Content-Disposition", Value: "linger"},
		esl.Header{Name: "Channel-Name", Value: e.Get("Channel-Name")},
		esl.Header{Name: "Linger-Time", Value: strconv.FormatInt(sec, 10)})
	if sec > 0 {
		*linger = time.After(time.Duration(sec) * time.Second)
	}
	return ss.write(outMsg{data: notice})
}
