package edge

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
)

// outLeg is the callee's side of a call: the switch is its UAC.
type outLeg struct {
	legBase
	auth       *actors.DigestAuth
	inv        *sip.Request
	cancelCh   chan struct{}
	cancelOnce sync.Once
}

// Dial places an outbound leg toward one registered contact (actors.Dialer).
func (e *Edge) Dial(r actors.DialRequest, sink actors.LegSink) actors.Leg {
	l := &outLeg{cancelCh: make(chan struct{}), auth: r.Auth}
	uuid := r.UUID
	if uuid == "" {
		uuid = events.NewUUID()
	}
	transport := strings.ToUpper(r.Transport)
	if transport == "" {
		transport = "UDP"
	}
	var target sip.Uri
	if err := sip.ParseUri(r.Contact, &target); err != nil {
		target = sip.Uri{Scheme: "sip", User: r.ToUser, Host: hostOf(r.Destination)}
	}
	l.d = dialog{
		callID:    events.NewUUID(),
		localURI:  sip.Uri{Scheme: "sip", User: r.FromUser, Host: r.FromDomain},
		localName: r.FromName, localTag: sip.GenerateTagN(16),
		remoteURI:    sip.Uri{Scheme: "sip", User: r.ToUser, Host: r.ToDomain},
		remoteTarget: target, destination: r.Destination, transport: transport,
	}
	l.info = actors.LegInfo{
		UUID: uuid, Direction: "outbound", CallID: l.d.callID, LocalTag: l.d.localTag,
		FromUser: r.FromUser, FromName: r.FromName, ToUser: r.ToUser, Remote: r.Destination,
		Transport: strings.ToLower(transport), Created: time.Now(),
	}
	l.init(e, l, uuid)
	l.Bind(sink)
	l.inv = e.newRequest(&l.d, sip.INVITE, r.SDP, "application/sdp")
	for _, h := range r.Headers {
		l.inv.AppendHeader(sip.NewHeader(h[0], h[1]))
	}
	e.dialogs.add(l.d.callID, l)
	go l.run()
	return l
}

// run drives the INVITE client transaction until a final response.
func (l *outLeg) run() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tx, err := l.e.client.TransactionRequest(ctx, l.inv)
	if err != nil {
		l.e.log.Warn().Err(err).Str("destination", l.d.destination).Msg("dial")
		l.fail(503, "")
		return
	}
	defer func() { tx.Terminate() }()
	provisional, cancelling, cancelSent, authTried := false, false, false, false
	cancelCh := l.cancelCh
	for {
		select {
		case res := <-tx.Responses():
			code := res.StatusCode
			if code < 200 {
				if code > 100 {
					provisional = true
					if !cancelling {
						l.deliver(&actors.LegRinging{Leg: l, Code: code, SDP: append([]byte(nil), res.Body()...)})
					}
				}
				if cancelling && !cancelSent {
					l.sendCancel()
					cancelSent = true
				}
				continue
			}
			if code < 300 {
				l.established(res)
				if cancelling {
					// The 200 crossed our CANCEL: ACK it and hang up at once.
					l.hangup("ORIGINATOR_CANCEL")
					l.deliver(&actors.LegFailed{Leg: l, Code: 487})
					return
				}
				l.answered.Store(true)
				l.deliver(&actors.LegAnswered{Leg: l, SDP: append([]byte(nil), res.Body()...)})
				return
			}
			if (code == 401 || code == 407) && l.auth != nil && !authTried && !cancelling && hostOf(res.Source()) == l.auth.Host {
				// A termination gateway's challenge, answered once with its credentials
				// (only on a leg to that gateway, only from its host: DECISIONS 17).
				authTried = true
				tx.Terminate()
				next, err := l.e.client.TransactionDigestAuth(ctx, l.inv, res, sipgo.DigestAuth{Username: l.auth.Username, Password: l.auth.Password})
				if err != nil {
					l.e.log.Warn().Err(err).Msg("answer gateway challenge")
					l.fail(code, res.Reason)
					return
				}
				tx = next
				l.d.localSeq.Store(l.inv.CSeq().SeqNo)
				continue
			}
			l.fail(code, res.Reason)
			return
		case <-cancelCh:
			cancelCh = nil
			cancelling = true
			if provisional && !cancelSent {
				l.sendCancel()
				cancelSent = true
			}
		case <-tx.Done():
			code := 408
			if cancelling {
				code = 487
			}
			l.fail(code, "")
			return
		case <-l.e.closing:
			l.fail(503, "")
			return
		}
	}
}

func (l *outLeg) fail(code int, reason string) {
	l.terminate()
	l.deliver(&actors.LegFailed{Leg: l, Code: code, Reason: reason})
}

// established records the dialog from the 2xx and sends the ACK.
func (l *outLeg) established(res *sip.Response) {
	l.infoMu.Lock()
	if to := res.To(); to != nil {
		l.d.remoteTag = tagOf(to.Params)
		l.info.RemoteTag = l.d.remoteTag
	}
	l.info.SDP = append([]byte(nil), res.Body()...)
	l.infoMu.Unlock()
	if c := res.Contact(); c != nil {
		l.d.remoteTarget = c.Address
	}
	rrs := res.GetHeaders("Record-Route")
	l.d.routeSet = nil
	for i := len(rrs) - 1; i >= 0; i-- {
		if rr, ok := rrs[i].(*sip.RecordRouteHeader); ok {
			l.d.routeSet = append(l.d.routeSet, rr.Address)
		}
	}
	ack := l.e.newRequest(&l.d, sip.ACK, nil, "")
	ack.CSeq().SeqNo = l.inv.CSeq().SeqNo
	l.rememberAck(ack)
	_ = l.e.client.WriteRequest(ack)
}

// sendCancel sends CANCEL for the pending INVITE (RFC 3261 §9.1: same Request-URI, Call-ID,
// From, To, CSeq number and top Via).
func (l *outLeg) sendCancel() {
	c := sip.NewRequest(sip.CANCEL, *l.inv.Recipient.Clone())
	if v := l.inv.Via(); v != nil {
		c.AppendHeader(v.Clone())
	}
	c.AppendHeader(sip.HeaderClone(l.inv.From()))
	c.AppendHeader(sip.HeaderClone(l.inv.To()))
	c.AppendHeader(sip.HeaderClone(l.inv.CallID()))
	c.AppendHeader(&sip.CSeqHeader{SeqNo: l.inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	mf := sip.MaxForwardsHeader(70)
	c.AppendHeader(&mf)
	for _, h := range l.inv.GetHeaders("Route") {
		c.AppendHeader(sip.HeaderClone(h))
	}
	c.SetTransport(l.d.transport)
	c.SetDestination(l.inv.Destination())
	l.e.bindLocal(c)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
		defer cancel()
		_, _ = l.e.client.Do(ctx, c)
	}()
}

// Progress, Answer and Reject apply to inbound legs only.
func (l *outLeg) Progress(int, []byte) {}

// Answer applies to inbound legs only.
func (l *outLeg) Answer([]byte) {}

// Reject applies to inbound legs only; on an outbound leg it cancels.
func (l *outLeg) Reject(int, string) { l.Cancel() }

// Cancel abandons an unanswered outbound leg.
func (l *outLeg) Cancel() {
	l.cancelOnce.Do(func() { close(l.cancelCh) })
}

// Hangup sends BYE when answered, CANCEL otherwise.
func (l *outLeg) Hangup(cause string) {
	if !l.answered.Load() {
		l.Cancel()
		return
	}
	l.hangup(cause)
}

// onAck: ACKs from the callee are not expected on an outbound leg.
func (l *outLeg) onAck(*sip.Request) {}

func hostOf(hostport string) string {
	if i := strings.LastIndexByte(hostport, ':'); i > 0 && !strings.Contains(hostport[i:], "]") {
		return strings.Trim(hostport[:i], "[]")
	}
	return hostport
}
