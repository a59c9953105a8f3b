package edge

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchyard/switchyard/actors"
)

// legBase is what inbound and outbound legs share: the dialog, the sink, a worker goroutine
// that runs commands in order (so a CallActor never waits on the network), and the handling
// of in-dialog requests from the peer.
type legBase struct {
	e    *Edge
	self actors.Leg
	uuid string
	d    dialog

	infoMu sync.Mutex
	info   actors.LegInfo

	sinkMu sync.Mutex
	sink   actors.LegSink
	early  []any // messages produced before Bind

	cmds     chan func()
	done     chan struct{}
	doneOnce sync.Once

	answered atomic.Bool
	ended    atomic.Bool

	pendingMu sync.Mutex
	pending   map[uint64]chan reply
	nextSeq   atomic.Uint64

	ackMu   sync.Mutex
	lastAck *sip.Request // the ACK of our last 2xx-answered INVITE, re-sent on retransmissions
}

// reply is a CallActor's answer to a request this leg received.
type reply struct {
	code        int
	contentType string
	body        []byte
}

func (l *legBase) init(e *Edge, self actors.Leg, uuid string) {
	l.e, l.self, l.uuid = e, self, uuid
	l.cmds = make(chan func(), 64)
	l.done = make(chan struct{})
	l.pending = map[uint64]chan reply{}
	go l.work()
}

// UUID is the leg's channel uuid.
func (l *legBase) UUID() string { return l.uuid }

// Info describes the leg.
func (l *legBase) Info() actors.LegInfo {
	l.infoMu.Lock()
	defer l.infoMu.Unlock()
	return l.info
}

// Bind sets the sink and flushes messages produced before it.
func (l *legBase) Bind(s actors.LegSink) {
	l.sinkMu.Lock()
	l.sink = s
	early := l.early
	l.early = nil
	l.sinkMu.Unlock()
	for _, m := range early {
		s.Deliver(m)
	}
}

func (l *legBase) deliver(msg any) {
	l.sinkMu.Lock()
	s := l.sink
	if s == nil {
		l.early = append(l.early, msg)
	}
	l.sinkMu.Unlock()
	if s != nil {
		s.Deliver(msg)
	}
}

// enqueue runs f on the leg's worker, in order. It never blocks the caller.
func (l *legBase) enqueue(f func()) {
	select {
	case l.cmds <- f:
	default:
		go func() {
			select {
			case l.cmds <- f:
			case <-l.done:
			}
		}()
	}
}

func (l *legBase) work() {
	for {
		select {
		case f := <-l.cmds:
			f()
		case <-l.done:
			return
		case <-l.e.closing:
			return
		}
	}
}

// terminate ends the leg: forget the dialog, stop the worker.
func (l *legBase) terminate() {
	l.doneOnce.Do(func() {
		l.ended.Store(true)
		l.e.dialogs.remove(l.d.callID, l.self.(dialogLeg))
		close(l.done)
	})
}

func (l *legBase) dlg() *dialog { return &l.d }

// Hangup sends BYE on an answered leg and reports LegEnded.
func (l *legBase) hangup(cause string) {
	l.enqueue(func() {
		if l.ended.Load() {
			return
		}
		bye := l.e.newRequest(&l.d, sip.BYE, nil, "")
		if cause != "" && cause != "NORMAL_CLEARING" {
			bye.AppendHeader(sip.NewHeader("Reason", `Q.850;cause=0;text="`+cause+`"`))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
		l.e.do(ctx, bye)
		cancel()
		l.terminate()
		l.deliver(&actors.LegEnded{Leg: l.self})
	})
}

// Reinvite sends an in-dialog INVITE and reports the final answer.
func (l *legBase) Reinvite(seq uint64, sdp []byte) {
	l.enqueue(func() {
		inv := l.e.newRequest(&l.d, sip.INVITE, sdp, "application/sdp")
		ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
		defer cancel()
		tx, err := l.e.client.TransactionRequest(ctx, inv)
		if err != nil {
			l.deliver(&actors.LegReinviteAnswered{Leg: l.self, Seq: seq, Code: 503})
			return
		}
		defer tx.Terminate()
		for {
			select {
			case res := <-tx.Responses():
				if res.StatusCode < 200 {
					continue
				}
				if res.IsSuccess() {
					ack := l.e.newRequest(&l.d, sip.ACK, nil, "")
					ack.CSeq().SeqNo = inv.CSeq().SeqNo
					l.rememberAck(ack)
					_ = l.e.client.WriteRequest(ack)
				}
				l.deliver(&actors.LegReinviteAnswered{Leg: l.self, Seq: seq, Code: res.StatusCode, SDP: res.Body()})
				return
			case <-tx.Done():
				l.deliver(&actors.LegReinviteAnswered{Leg: l.self, Seq: seq, Code: 408})
				return
			}
		}
	})
}

// SendRequest sends an in-dialog non-INVITE request and reports its final code.
func (l *legBase) SendRequest(seq uint64, method, contentType string, body []byte, headers ...[2]string) {
	l.enqueue(func() {
		req := l.e.newRequest(&l.d, sip.RequestMethod(method), body, contentType)
		for _, h := range headers {
			req.AppendHeader(sip.NewHeader(h[0], h[1]))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
		code := l.e.do(ctx, req)
		cancel()
		l.deliver(&actors.LegRequestAnswered{Leg: l.self, Seq: seq, Code: code})
	})
}

// RespondReinvite answers a re-INVITE this leg received.
func (l *legBase) RespondReinvite(seq uint64, code int, sdp []byte) {
	l.answerPending(seq, reply{code: code, contentType: "application/sdp", body: sdp})
}

// RespondRequest answers an in-dialog request this leg received.
func (l *legBase) RespondRequest(seq uint64, code int, contentType string, body []byte) {
	l.answerPending(seq, reply{code: code, contentType: contentType, body: body})
}

func (l *legBase) answerPending(seq uint64, r reply) {
	l.pendingMu.Lock()
	ch, ok := l.pending[seq]
	delete(l.pending, seq)
	l.pendingMu.Unlock()
	if ok {
		ch <- r
	}
}

// onRequest handles an in-dialog request from the peer: BYE ends the call; re-INVITE and
// the other methods are relayed by the CallActor, whose answer we wait for.
func (l *legBase) onRequest(req *sip.Request, tx sip.ServerTransaction) {
	// A request inside the dialog proves the peer got our 2xx: stop retransmitting it.
	if da, ok := l.self.(dialogLeg); ok {
		da.onAck(nil)
	}
	switch req.Method {
	case sip.BYE:
		confirmed := make(chan struct{})
		var once sync.Once
		l.deliver(&actors.LegHungUp{Leg: l.self, Confirm: func() { once.Do(func() { close(confirmed) }) }})
		select {
		case <-confirmed:
		case <-time.After(2 * time.Second):
		}
		respond(tx, req, 200, "OK")
		l.terminate()
		return
	case sip.INVITE:
		ch, seq := l.expect()
		l.deliver(&actors.LegReinviteReceived{Leg: l.self, Seq: seq, SDP: append([]byte(nil), req.Body()...)})
		r := l.await(ch, seq, 30*time.Second)
		res := sip.NewResponseFromRequest(req, r.code, phrase(r.code, ""), nil)
		if r.code >= 200 && r.code < 300 {
			res.AppendHeader(l.e.contact(l.d.transport))
			if len(r.body) > 0 {
				res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
				res.SetBody(r.body)
			}
		}
		_ = tx.Respond(res)
		return
	}
	ch, seq := l.expect()
	msg := &actors.LegRequestReceived{Leg: l.self, Seq: seq, Method: string(req.Method), Body: append([]byte(nil), req.Body()...)}
	if ct := req.GetHeader("Content-Type"); ct != nil {
		msg.ContentType = ct.Value()
	}
	if req.Method == sip.REFER {
		if rt := req.GetHeader("Refer-To"); rt != nil {
			msg.ReferTo, msg.Replaces = parseReferTo(rt.Value())
		}
	}
	l.deliver(msg)
	r := l.await(ch, seq, 30*time.Second)
	res := sip.NewResponseFromRequest(req, r.code, phrase(r.code, ""), r.body)
	if len(r.body) > 0 && r.contentType != "" {
		res.AppendHeader(sip.NewHeader("Content-Type", r.contentType))
	}
	_ = tx.Respond(res)
}

func (l *legBase) expect() (chan reply, uint64) {
	seq := l.nextSeq.Add(1)
	ch := make(chan reply, 1)
	l.pendingMu.Lock()
	l.pending[seq] = ch
	l.pendingMu.Unlock()
	return ch, seq
}

func (l *legBase) await(ch chan reply, seq uint64, d time.Duration) reply {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r := <-ch:
		return r
	case <-t.C:
	case <-l.done:
	}
	l.pendingMu.Lock()
	delete(l.pending, seq)
	l.pendingMu.Unlock()
	return reply{code: 408}
}

func (l *legBase) rememberAck(ack *sip.Request) {
	l.ackMu.Lock()
	l.lastAck = ack
	l.ackMu.Unlock()
}

// onRetransmitted2xx re-sends the ACK of our last INVITE when its 2xx is retransmitted.
func (l *legBase) onRetransmitted2xx(res *sip.Response) {
	l.ackMu.Lock()
	ack := l.lastAck
	l.ackMu.Unlock()
	if ack != nil && res.CSeq() != nil && ack.CSeq().SeqNo == res.CSeq().SeqNo {
		_ = l.e.client.WriteRequest(ack.Clone())
	}
}

// parseReferTo returns the user part of a Refer-To URI and its Replaces header, if any.
func parseReferTo(v string) (user, replaces string) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	if i := strings.Index(strings.ToLower(v), "?replaces="); i >= 0 {
		replaces = v[i+10:]
		v = v[:i]
	}
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.IndexByte(v, '@'); i >= 0 {
		v = v[:i]
	}
	return v, replaces
}
