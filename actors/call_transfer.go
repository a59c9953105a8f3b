package actors

import (
	"net/url"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// A transfer replaces one side of an answered call: the kept leg stays, its partner leaves,
// and a new leg to the target is bridged in (blind transfer by REFER, or uuid_transfer).
// While it runs the call holds a second slot of its domain's active call limit (seed 000: "each
// act of transferring a call requires 2 active calls").

type (
	// admitTransfer asks the call's domain for the transfer's extra slot.
	admitTransfer struct {
		uuid      string
		customers []int64
	}
	transferAdmitted struct{}
	// transferDone gives the slot back (idempotent).
	transferDone struct{ uuid string }
	// transferCommand is uuid_transfer from ESL.
	transferCommand struct {
		leg  string
		dest string
	}
)

// transfer is the state of one transfer in progress.
type transfer struct {
	keep     *legState // stays in the call
	leaving  *legState // the old partner (the transferor for REFER)
	target   *AccountView
	referSeq uint64 // the REFER's seq on the leaving leg (0: uuid_transfer, no NOTIFY)
	forks    map[string]*legState
	rang     bool
}

// startTransfer validates a transfer and asks the domain for the extra slot.
func (c *callActor) startTransfer(ctx actor.Context, keep *legState, target *AccountView, referSeq uint64) error {
	if c.xfer != nil || keep == nil || c.partner(keep) == nil || target == nil {
		return ErrInvalidRequest
	}
	c.xfer = &transfer{keep: keep, leaving: c.partner(keep), target: target, referSeq: referSeq, forks: map[string]*legState{}}
	ctx.Request(ctx.Parent(), &admitTransfer{uuid: c.uuid, customers: []int64{target.Config.CustomerID}})
	c.behavior.Become(c.transferring)
	return nil
}

// referTarget resolves a REFER's Refer-To user as the transferor would dial it.
func (c *callActor) referTarget(from *legState, user string) *AccountView {
	var acct *AccountView
	switch {
	case c.spec.req != nil && from == c.a:
		acct = c.spec.req.Caller
	case c.spec.origin != nil && from == c.a:
		acct = c.spec.origin.account
	default:
		acct = c.callee
	}
	if acct == nil {
		return nil
	}
	t, ok := extensionIn(c.spec.domain, acct, user)
	if !ok {
		return nil
	}
	return t
}

// notifyTransferor reports the transfer's progress to the REFER sender (RFC 3515 sipfrag).
func (c *callActor) notifyTransferor(status string, final bool) {
	x := c.xfer
	if x == nil || x.referSeq == 0 || x.leaving == nil || x.leaving.ended {
		return
	}
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	c.seq++
	c.pending[c.seq] = pendingRelay{}
	x.leaving.leg.SendRequest(c.seq, "NOTIFY", "message/sipfrag;version=2.0", []byte("SIP/2.0 "+status+"\r\n"),
		[2]string{"Event", "refer"}, [2]string{"Subscription-State", state})
}

// transferring: the target rings; the call stays up between keep and the leaving leg.
func (c *callActor) transferring(ctx actor.Context) {
	x := c.xfer
	switch m := ctx.Message().(type) {
	case *transferAdmitted:
		c.notifyTransferor("100 Trying", false)
		pid, ok := c.node.accounts.Load(x.target.ID())
		if !ok {
			c.transferFailed(ctx, 480)
			return
		}
		ctx.Request(pid.(*actor.PID), &lookupContacts{})
	case *callRefused:
		c.transferFailed(ctx, m.code)
	case *contactsFound:
		if len(m.bindings) == 0 {
			c.transferFailed(ctx, 480)
			return
		}
		keepAcct := c.accountOf(x.keep)
		fromUser, fromName := "", ""
		if keepAcct != nil {
			fromUser, fromName = nonEmpty(keepAcct.Config.InternalCallerID, keepAcct.Identity), keepAcct.Config.CallerIDName
		}
		before := map[string]bool{}
		for id := range c.bLegs {
			before[id] = true
		}
		c.fork(ctx, m.bindings, x.target, nonEmpty(fromUser, x.keep.ch.CallerIDNumber), fromName, x.keep.leg.Info().SDP, "")
		for id, ls := range c.bLegs {
			if !before[id] {
				x.forks[id] = ls
			}
		}
		c.armRingTimer(ctx)
	case *LegRinging:
		if ls := x.forks[m.Leg.UUID()]; ls != nil {
			x.rang = true
			c.progressed(ls, m.Code == 183 && len(m.SDP) > 0)
			c.notifyTransferor("180 Ringing", false)
		}
	case *LegAnswered:
		ls := x.forks[m.Leg.UUID()]
		if ls == nil {
			m.Leg.Hangup("LOSE_RACE")
			return
		}
		c.transferAnswered(ctx, ls, m.SDP)
	case *LegFailed:
		if ls := x.forks[m.Leg.UUID()]; ls != nil {
			c.dropFork(ls, m.Code)
			delete(x.forks, m.Leg.UUID())
			if len(x.forks) == 0 {
				c.transferFailed(ctx, m.Code)
			}
			return
		}
		c.lateFork(m)
	case *ringTimeout:
		if m.gen == c.ringGen {
			for _, ls := range x.forks {
				ls.leg.Cancel()
			}
			c.transferFailed(ctx, 480)
		}
	case *LegHungUp:
		if m.Leg.UUID() == x.leaving.ch.UUID {
			// The transferor may hang up once its REFER is accepted: the transfer goes on.
			c.legGone(x.leaving, "NORMAL_CLEARING")
			if m.Confirm != nil {
				m.Confirm()
			}
			return
		}
		for _, ls := range x.forks {
			ls.leg.Cancel()
		}
		c.transferDone(ctx)
		c.peerHungUp(ctx, m)
	case *LegReinviteAnswered:
		c.reinviteAnswered(m)
	case *LegRequestAnswered:
		c.requestAnswered(m)
	case *LegReinviteReceived:
		m.Leg.RespondReinvite(m.Seq, 491, nil)
	case *LegRequestReceived:
		m.Leg.RespondRequest(m.Seq, 200, "", nil)
	case *hangupCommand:
		for _, ls := range x.forks {
			ls.leg.Cancel()
		}
		c.transferDone(ctx)
		c.hangupAll(ctx, m.cause, 200, "system", nil)
	}
}

// transferAnswered bridges the answering target with the kept leg and drops the leaving one.
func (c *callActor) transferAnswered(ctx actor.Context, winner *legState, sdp []byte) {
	x := c.xfer
	c.stopRingTimer()
	for id, ls := range x.forks {
		if id != winner.ch.UUID {
			ls.leg.Cancel()
		}
	}
	c.answered(winner, time.Now())
	c.notifyTransferor("200 OK", true)
	if !x.leaving.ended {
		x.leaving.leg.Hangup("BLIND_TRANSFER")
		c.legGone(x.leaving, "BLIND_TRANSFER")
	}
	c.seq++
	c.pending[c.seq] = pendingRelay{}
	x.keep.leg.Reinvite(c.seq, sdp)
	delete(c.bLegs, x.keep.ch.UUID) // the kept leg becomes the call's first leg
	c.a, c.bridged = x.keep, winner
	c.bridgedLegs(winner)
	c.transferDone(ctx)
	c.behavior.Become(c.inCall)
}

// legGone ends a leg that leaves the call while the call goes on.
func (c *callActor) legGone(ls *legState, cause string) {
	if ls.ended {
		return
	}
	c.hungUp(ls, cause, 200)
	c.reported(ls)
	c.node.legEnded()
	if ls == c.a {
		c.a = nil
	}
	delete(c.bLegs, ls.ch.UUID)
}

func (c *callActor) dropFork(ls *legState, code int) {
	c.hungUp(ls, sipToCause(code), code)
	c.reported(ls)
	delete(c.bLegs, ls.ch.UUID)
	c.node.legEnded()
}

// transferFailed keeps the original call and tells the transferor.
func (c *callActor) transferFailed(ctx actor.Context, code int) {
	c.stopRingTimer()
	if code == 0 {
		code = 480
	}
	c.notifyTransferor(itoaCode(code)+" Failed", true)
	leaving := c.xfer.leaving
	c.transferDone(ctx)
	if leaving.ended {
		// Nobody is left to talk to the kept leg.
		c.hangupAll(ctx, sipToCause(code), code, "system", nil)
		return
	}
	c.behavior.Become(c.inCall)
}

func (c *callActor) transferDone(ctx actor.Context) {
	if c.xfer == nil {
		return
	}
	c.xfer = nil
	ctx.Send(ctx.Parent(), &transferDone{uuid: c.uuid})
}

// accountOf returns the account behind a leg, when known.
func (c *callActor) accountOf(ls *legState) *AccountView {
	if ls == c.a && c.spec.req != nil {
		return c.spec.req.Caller
	}
	if ls == c.a && c.spec.origin != nil {
		return c.spec.origin.account
	}
	return c.callee
}

func itoaCode(code int) string {
	return string([]byte{byte('0' + code/100%10), byte('0' + code/10%10), byte('0' + code%10)})
}

// refer handles a REFER from one side of an answered call: blind transfer, or attended
// transfer when the Refer-To carries Replaces.
func (c *callActor) refer(ctx actor.Context, from *legState, m *LegRequestReceived) {
	if m.Replaces != "" {
		c.attendedTransfer(ctx, from, m)
		return
	}
	target := c.referTarget(from, m.ReferTo)
	if target == nil {
		m.Leg.RespondRequest(m.Seq, 404, "", nil)
		return
	}
	if c.xfer != nil {
		m.Leg.RespondRequest(m.Seq, 491, "", nil)
		return
	}
	m.Leg.RespondRequest(m.Seq, 202, "", nil)
	if err := c.startTransfer(ctx, c.partner(from), target, m.Seq); err != nil {
		c.log.Warn().Err(err).Msg("refer")
	}
}

// transferByCommand is uuid_transfer <uuid> <extension>: the leg stays, its partner leaves.
func (c *callActor) transferByCommand(ctx actor.Context, m *transferCommand) {
	keep := c.legByUUID(m.leg)
	if keep == nil || !c.up || c.finished {
		ctx.Respond(ErrNoSuchChannel)
		return
	}
	target, ok := extensionIn(c.spec.domain, c.accountOf(c.partner(keep)), m.dest)
	if !ok {
		ctx.Respond(&CauseError{Cause: "UNALLOCATED_NUMBER"})
		return
	}
	if err := c.startTransfer(ctx, keep, target, 0); err != nil {
		ctx.Respond(err)
		return
	}
	ctx.Respond(nil)
}

type (
	// takeOver asks another call to hand over the partner of one of its legs (attended
	// transfer: the leg named by Replaces leaves, its partner joins the requesting call).
	takeOver struct{ leg string }
	// handedOver carries the partner leg, now owned by the requester.
	handedOver struct {
		ls   *legState
		acct *AccountView
	}
)

// attendedTransfer handles REFER with Replaces (RFC 3891): the transferor X talks to Y in this
// call and to Z in another call; Y and Z end up together and both of X's legs are released.
func (c *callActor) attendedTransfer(ctx actor.Context, from *legState, m *LegRequestReceived) {
	callID := m.Replaces
	if u, err := url.QueryUnescape(callID); err == nil {
		callID = u
	}
	callID, _, _ = strings.Cut(callID, ";")
	v, ok := c.node.sipCalls.Load(callID)
	if !ok {
		m.Leg.RespondRequest(m.Seq, 481, "", nil)
		return
	}
	legUUID := v.(string)
	ce, ok := c.node.channels.Load(legUUID)
	if !ok {
		m.Leg.RespondRequest(m.Seq, 481, "", nil)
		return
	}
	other, ok := c.node.calls.Load(ce.(*channelEntry).callID)
	if !ok || other.(*actor.PID).Equal(ctx.Self()) || c.xfer != nil {
		m.Leg.RespondRequest(m.Seq, 481, "", nil)
		return
	}
	m.Leg.RespondRequest(m.Seq, 202, "", nil)
	c.replacing = &attended{transferor: from, keep: c.partner(from), referSeq: m.Seq}
	ctx.Request(other.(*actor.PID), &takeOver{leg: legUUID})
}

// attended is an attended transfer waiting for the other call's leg.
type attended struct {
	transferor *legState
	keep       *legState
	referSeq   uint64
}

// handOver runs in the other call: give away the partner of leg and end this call.
func (c *callActor) handOver(ctx actor.Context, m *takeOver) {
	leaving := c.legByUUID(m.leg)
	if leaving == nil || !c.up || c.finished || c.partner(leaving) == nil {
		ctx.Respond(ErrInvalidRequest)
		return
	}
	ctx.Respond(c.detach(c.partner(leaving)))
	leaving.leg.Hangup("ATTENDED_TRANSFER")
	c.finish(ctx, "ATTENDED_TRANSFER", 200, "system")
}

// tookOver runs in the requesting call once the other call handed its leg over.
func (c *callActor) tookOver(ctx actor.Context, m *handedOver) {
	r := c.replacing
	c.replacing = nil
	if r == nil || c.finished {
		m.ls.leg.Hangup("NORMAL_CLEARING")
		return
	}
	z := m.ls
	z.leg.Bind(callSink{ctx.ActorSystem().Root, ctx.Self()})
	z.ch.CallUUID = c.uuid
	c.bLegs[z.ch.UUID] = z
	c.callee = m.acct
	c.seq++
	c.pending[c.seq] = pendingRelay{}
	r.transferor.leg.SendRequest(c.seq, "NOTIFY", "message/sipfrag;version=2.0", []byte("SIP/2.0 200 OK\r\n"),
		[2]string{"Event", "refer"}, [2]string{"Subscription-State", "terminated;reason=noresource"})
	r.transferor.leg.Hangup("ATTENDED_TRANSFER")
	c.legGone(r.transferor, "ATTENDED_TRANSFER")
	keepSDP, zSDP := r.keep.leg.Info().SDP, z.leg.Info().SDP
	c.seq++
	c.pending[c.seq] = pendingRelay{}
	r.keep.leg.Reinvite(c.seq, zSDP)
	c.seq++
	c.pending[c.seq] = pendingRelay{}
	z.leg.Reinvite(c.seq, keepSDP)
	delete(c.bLegs, r.keep.ch.UUID)
	c.a, c.bridged = r.keep, z
	c.bridgedLegs(z)
	c.node.trackChannel(z.ch, c.uuid)
}

type (
	// bridgeCommand is uuid_bridge <a> <b>, sent to the call that owns leg a.
	bridgeCommand struct{ a, b string }
	// bridgeRequest carries a bridgeCommand with the PID of the call that owns leg b.
	bridgeRequest struct {
		cmd   bridgeCommand
		other *actor.PID
	}
	// takeLeg asks the call that owns leg to hand it over (uuid_bridge); its partner, if any,
	// is hung up and that call ends.
	takeLeg struct{ leg string }
)

// bridgeByCommand starts uuid_bridge: fetch leg b from its call, then bridge it with leg a.
func (c *callActor) bridgeByCommand(ctx actor.Context, m *bridgeCommand, other *actor.PID) {
	a := c.legByUUID(m.a)
	if a == nil || c.finished || !c.up {
		ctx.Respond(ErrNoSuchChannel)
		return
	}
	if other.Equal(ctx.Self()) {
		if c.partner(a) != nil && c.partner(a).ch.UUID == m.b {
			ctx.Respond(nil) // already bridged together
			return
		}
		ctx.Respond(ErrInvalidRequest)
		return
	}
	c.bridging = &pendingBridge{keep: a, reply: ctx.Sender()}
	ctx.Request(other, &takeLeg{leg: m.b})
}

// pendingBridge is a uuid_bridge waiting for the other call's leg.
type pendingBridge struct {
	keep  *legState
	reply *actor.PID
}

// giveLeg runs in the call that owns the requested leg.
func (c *callActor) giveLeg(ctx actor.Context, m *takeLeg) {
	ls := c.legByUUID(m.leg)
	if ls == nil || !c.up || c.finished {
		ctx.Respond(ErrNoSuchChannel)
		return
	}
	partner := c.partner(ls)
	ctx.Respond(c.detach(ls))
	if partner != nil {
		partner.leg.Hangup("NORMAL_CLEARING")
	}
	c.finish(ctx, "NORMAL_CLEARING", 200, "system")
}

// bridgeTaken completes uuid_bridge once the other call handed its leg over.
func (c *callActor) bridgeTaken(ctx actor.Context, m *handedOver) {
	p := c.bridging
	c.bridging = nil
	if c.finished || p.keep.ended {
		m.ls.leg.Hangup("NORMAL_CLEARING")
		c.node.system.Root.Send(p.reply, ErrNoSuchChannel)
		return
	}
	b := m.ls
	b.leg.Bind(callSink{ctx.ActorSystem().Root, ctx.Self()})
	b.ch.CallUUID = c.uuid
	if old := c.partner(p.keep); old != nil {
		old.leg.Hangup("NORMAL_CLEARING")
		c.legGone(old, "NORMAL_CLEARING")
	}
	c.bLegs[b.ch.UUID] = b
	c.callee = m.acct
	keepSDP, bSDP := p.keep.leg.Info().SDP, b.leg.Info().SDP
	c.seq++
	c.pending[c.seq] = pendingRelay{}
	p.keep.leg.Reinvite(c.seq, bSDP)
	c.seq++
	c.pending[c.seq] = pendingRelay{}
	b.leg.Reinvite(c.seq, keepSDP)
	delete(c.bLegs, p.keep.ch.UUID)
	c.a, c.bridged = p.keep, b
	c.bridgedLegs(b)
	c.node.trackChannel(b.ch, c.uuid)
	c.behavior.Become(c.inCall)
	c.node.system.Root.Send(p.reply, &bridgeOK{})
}

// bridgeOK answers a successful uuid_bridge.
type bridgeOK struct{}

// detach removes a leg from this call so that another call can take it over (its events and
// messages go there from now on).
func (c *callActor) detach(ls *legState) *handedOver {
	h := &handedOver{ls: ls, acct: c.accountOf(ls)}
	if ls == c.a {
		c.a = nil
	} else {
		delete(c.bLegs, ls.ch.UUID)
	}
	if c.bridged == ls {
		c.bridged = nil
	}
	return h
}
