package edge

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
)

// inLeg is the caller's side of a call: the switch is its UAS. Its INVITE handler goroutine
// stays in serve() until the final response is out (and, for 2xx, acknowledged).
type inLeg struct {
	legBase
	req *sip.Request // the INVITE, with our To tag added
	tx  sip.ServerTransaction

	finalSent atomic.Bool
	final     chan struct{}
	finalOnce sync.Once
	acked     chan struct{}
	ackOnce   sync.Once
}

func (e *Edge) newInLeg(req *sip.Request, tx sip.ServerTransaction) *inLeg {
	l := &inLeg{tx: tx, final: make(chan struct{}), acked: make(chan struct{})}
	l.req = req.Clone()
	localTag := sip.GenerateTagN(16)
	l.req.To().Params.Add("tag", localTag)
	from, to := req.From(), req.To()
	l.d = dialog{
		callID: req.CallID().Value(), localURI: to.Address, localTag: localTag,
		remoteURI: from.Address, remoteName: from.DisplayName, remoteTag: tagOf(from.Params),
		remoteTarget: req.Contact().Address, destination: req.Source(), transport: req.Transport(),
	}
	l.d.localSeq.Store(100)
	for _, h := range req.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			l.d.routeSet = append(l.d.routeSet, rr.Address)
		}
	}
	l.info = actors.LegInfo{
		Direction: "inbound", CallID: l.d.callID, LocalTag: localTag, RemoteTag: l.d.remoteTag,
		FromUser: from.Address.User, FromName: from.DisplayName, ToUser: req.Recipient.User,
		Remote: req.Source(), Transport: strings.ToLower(req.Transport()), Created: time.Now(),
		SDP: append([]byte(nil), req.Body()...),
	}
	if ua := req.GetHeader("User-Agent"); ua != nil {
		l.info.UserAgent = ua.Value()
	}
	uuid := events.NewUUID()
	l.info.UUID = uuid
	l.init(e, l, uuid)
	e.dialogs.add(l.d.callID, l)
	return l
}

// serve blocks the INVITE handler until the leg's INVITE transaction work is over.
func (l *inLeg) serve() {
	l.tx.OnCancel(func(*sip.Request) {
		if l.finalSent.CompareAndSwap(false, true) {
			l.deliver(&actors.LegCancelled{Leg: l})
			l.closeFinal()
			l.terminate()
		}
	})
	select {
	case <-l.final:
	case <-l.tx.Done():
		if l.finalSent.CompareAndSwap(false, true) {
			l.deliver(&actors.LegCancelled{Leg: l})
			l.terminate()
		}
		// A 2xx already sent: keep waiting for the ACK on our own timer.
		<-l.final
	case <-l.e.closing:
	}
}

func (l *inLeg) closeFinal() { l.finalOnce.Do(func() { close(l.final) }) }

func (l *inLeg) response(code int, sdp []byte) *sip.Response {
	res := sip.NewResponseFromRequest(l.req, code, phrase(code, ""), nil)
	if code > 100 && code < 300 {
		res.AppendHeader(l.e.contact(l.d.transport))
	}
	if len(sdp) > 0 {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.SetBody(sdp)
	}
	return res
}

// Progress relays 180/183 to the caller.
func (l *inLeg) Progress(code int, sdp []byte) {
	l.enqueue(func() {
		if l.finalSent.Load() {
			return
		}
		_ = l.tx.Respond(l.response(code, sdp))
	})
}

// Answer sends 200 with SDP, retransmits it over UDP until the ACK (RFC 3261 §13.3.1.4) and
// reports LegAcked or LegAckTimeout.
func (l *inLeg) Answer(sdp []byte) {
	l.enqueue(func() {
		if !l.finalSent.CompareAndSwap(false, true) {
			return
		}
		l.answered.Store(true)
		res := l.response(200, sdp)
		_ = l.tx.Respond(res)
		go l.awaitAck(res)
	})
}

func (l *inLeg) awaitAck(res *sip.Response) {
	defer l.closeFinal()
	reliable := sip.IsReliable(l.d.transport)
	t1, t2 := 500*time.Millisecond, 4*time.Second
	interval, deadline := t1, time.Now().Add(64*t1)
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-l.acked:
			l.deliver(&actors.LegAcked{Leg: l})
			return
		case <-l.done:
			return
		case <-timer.C:
			if time.Now().After(deadline) {
				l.deliver(&actors.LegAckTimeout{Leg: l})
				return
			}
			if !reliable {
				_ = l.e.server.WriteResponse(res)
				interval = min(interval*2, t2)
			}
			timer.Reset(interval)
		}
	}
}

// onAck is the ACK for our 2xx (in-dialog ACKs for re-INVITEs are absorbed).
func (l *inLeg) onAck(*sip.Request) { l.ackOnce.Do(func() { close(l.acked) }) }

// Reject sends a final failure to the caller.
func (l *inLeg) Reject(code int, reason string) {
	l.enqueue(func() {
		if !l.finalSent.CompareAndSwap(false, true) {
			return
		}
		res := l.response(code, nil)
		if reason != "" {
			res.AppendHeader(reasonHeader(code, reason))
		}
		_ = l.tx.Respond(res)
		l.closeFinal()
		l.terminate()
	})
}

// Cancel on an inbound leg is a 487 (the switch gives up on the caller).
func (l *inLeg) Cancel() { l.Reject(487, "") }

// Hangup ends the caller's side: BYE when answered, 480 when not.
func (l *inLeg) Hangup(cause string) {
	if !l.answered.Load() {
		l.Reject(480, "")
		return
	}
	l.hangup(cause)
}
