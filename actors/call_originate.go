package actors

import (
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchyard/switchyard/persistence"
)

// originSpec is an `originate` started from ESL: call an account (the A-leg, an outbound leg),
// then park it or bridge it to a second account (third-party call control, RFC 3725: the first
// leg is offered a held placeholder SDP, the second leg gets the first leg's answer, and the
// first leg is re-INVITEd with the second leg's answer).
type originSpec struct {
	// account is the first party; for a gateway endpoint it stands for the external number
	// (Identity = the number, CustomerID = the gateway's customer) and gateway is set.
	account    *AccountView
	gateway    *GatewayView
	accountPID *actor.PID
	target     *AccountView // nil: park
	targetPID  *actor.PID
	cidName    string
	cidNum     string
	timeout    time.Duration
	reply      *actor.PID // the Node's future: gets *originateResult once A answers or fails
	vars       map[string]string
}

// originateRequest asks a domain to start an originate.
type originateRequest struct {
	uuid   string
	origin *originSpec
}

// originateResult answers an originate: the A-leg uuid, or the cause it failed with.
type originateResult struct {
	uuid  string
	cause string
}

// holdSDP is the placeholder offer of a 3PCC first leg: no media until the re-INVITE.
const holdSDP = "v=0\r\no=switchyard 0 0 IN IP4 0.0.0.0\r\ns=switchyard\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 9 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=inactive\r\n"

// originating: the A-leg forks ring; the first answer becomes the A-leg.
func (c *callActor) originating(ctx actor.Context) {
	o := c.spec.origin
	switch m := ctx.Message().(type) {
	case *actor.Started:
		c.self = ctx.Self()
		c.node.calls.Store(c.uuid, c.self)
		if o.gateway != nil {
			c.dialGateway(ctx, o)
			return
		}
		ctx.Request(o.accountPID, &lookupContacts{})
	case *actor.DeadLetterResponse:
		c.originFailed(ctx, "USER_NOT_REGISTERED")
	case *contactsFound:
		if len(m.bindings) == 0 || c.node.getDialer() == nil {
			c.originFailed(ctx, "USER_NOT_REGISTERED")
			return
		}
		c.fork(ctx, m.bindings, o.account, o.cidNum, o.cidName, []byte(holdSDP), c.uuid)
		c.armRingTimer(ctx)
	case *LegRinging:
		if ls := c.bLegs[m.Leg.UUID()]; ls != nil {
			c.progressed(ls, m.Code == 183 && len(m.SDP) > 0)
		}
	case *LegAnswered:
		ls := c.bLegs[m.Leg.UUID()]
		if ls == nil {
			m.Leg.Hangup("LOSE_RACE")
			return
		}
		c.stopRingTimer()
		delete(c.bLegs, m.Leg.UUID())
		c.cancelForks()
		c.a = ls
		c.answerAt = time.Now()
		c.answered(ls, c.answerAt)
		c.node.system.Root.Send(o.reply, &originateResult{uuid: ls.ch.UUID})
		if o.target == nil {
			c.up = true
			ls.ch.State = "CS_PARK"
			c.fire(ls, "CHANNEL_PARK")
			c.behavior.Become(c.parked)
			return
		}
		ctx.Request(o.targetPID, &lookupContacts{})
		c.behavior.Become(c.originBridging)
	case *LegFailed:
		c.forkFailed(m)
		if len(c.bLegs) == 0 && c.a == nil {
			cause := "NO_ANSWER"
			if c.best != 0 && c.best != 487 {
				cause = sipToCause(c.best)
			}
			c.originFailed(ctx, cause)
		}
	case *ringTimeout:
		if m.gen == c.ringGen {
			c.cancelForks()
			c.originFailed(ctx, "NO_ANSWER")
		}
	case *hangupCommand:
		c.cancelForks()
		c.originFailed(ctx, m.cause)
	}
}

// fork dials one outbound leg per binding of acct.
func (c *callActor) fork(ctx actor.Context, bindings []persistence.Binding, acct *AccountView, fromUser, fromName string, sdp []byte, firstUUID string) {
	for i, b := range bindings {
		id := newUUID()
		if i == 0 && firstUUID != "" {
			id = firstUUID
		}
		leg := c.node.getDialer().Dial(DialRequest{
			UUID: id, Contact: b.Contact, Destination: b.Source, Transport: b.Transport,
			FromUser: fromUser, FromName: fromName, FromDomain: c.spec.domain.Name(),
			ToUser: acct.Identity, ToDomain: acct.DomainName, SDP: sdp,
			Headers: [][2]string{{"X-Switchyard-Call", c.uuid}},
		}, callSink{ctx.ActorSystem().Root, ctx.Self()})
		ls := &legState{leg: leg, ch: c.newChannel(leg, "outbound")}
		ls.ch.CallerIDName, ls.ch.CallerIDNumber, ls.ch.CalleeIDNumber = fromName, fromUser, acct.Identity
		if c.spec.origin != nil {
			for k, v := range c.spec.origin.vars {
				ls.ch.SetVar(k, v)
			}
		}
		c.bLegs[leg.UUID()] = ls
		c.node.legStarted()
		c.outboundCreated(ls)
	}
}

func (c *callActor) cancelForks() {
	for _, ls := range c.bLegs {
		if ls != c.bridged {
			ls.leg.Cancel()
		}
	}
}

// originFailed answers the originate with its cause and ends the call record.
func (c *callActor) originFailed(ctx actor.Context, cause string) {
	if c.finished {
		return
	}
	c.stopRingTimer()
	c.node.system.Root.Send(c.spec.origin.reply, &originateResult{cause: cause})
	c.finish(ctx, cause, causeToSIP(cause), "system")
}

// parked: the A-leg is up with no partner until it hangs up or is killed.
func (c *callActor) parked(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *LegHungUp:
		c.peerHungUp(ctx, m)
	case *LegFailed:
		c.lateFork(m)
	case *LegAnswered:
		m.Leg.Hangup("LOSE_RACE")
	case *LegReinviteReceived:
		m.Leg.RespondReinvite(m.Seq, 488, nil)
	case *LegRequestReceived:
		m.Leg.RespondRequest(m.Seq, 200, "", nil)
	case *hangupCommand:
		c.hangupAll(ctx, m.cause, 200, "system", nil)
	}
}

// originBridging: the A-leg is up; ring the target and bridge it in.
func (c *callActor) originBridging(ctx actor.Context) {
	o := c.spec.origin
	switch m := ctx.Message().(type) {
	case *contactsFound:
		if len(m.bindings) == 0 {
			c.hangupAll(ctx, "USER_NOT_REGISTERED", 480, "system", nil)
			return
		}
		c.fork(ctx, m.bindings, o.target, nonEmpty(o.account.Config.InternalCallerID, o.account.Identity), o.account.Config.CallerIDName, c.a.leg.Info().SDP, "")
		c.armRingTimer(ctx)
	case *actor.DeadLetterResponse:
		c.hangupAll(ctx, "USER_NOT_REGISTERED", 480, "system", nil)
	case *LegRinging:
		if ls := c.bLegs[m.Leg.UUID()]; ls != nil {
			c.progressed(ls, m.Code == 183 && len(m.SDP) > 0)
		}
	case *LegAnswered:
		ls := c.bLegs[m.Leg.UUID()]
		if ls == nil || c.bridged != nil {
			m.Leg.Hangup("LOSE_RACE")
			return
		}
		c.stopRingTimer()
		c.bridged = ls
		c.cancelForks()
		c.answered(ls, time.Now())
		c.seq++
		c.pending[c.seq] = pendingRelay{}
		c.a.leg.Reinvite(c.seq, m.SDP)
		c.bridgedLegs(ls)
		c.up = true
		c.behavior.Become(c.inCall)
	case *LegFailed:
		c.forkFailed(m)
		if len(c.bLegs) == 0 {
			c.hangupAll(ctx, sipToCause(c.best), c.best, "system", nil)
		}
	case *ringTimeout:
		if m.gen == c.ringGen {
			c.hangupAll(ctx, "NO_ANSWER", 480, "system", nil)
		}
	case *LegHungUp:
		c.cancelForks()
		c.peerHungUp(ctx, m)
	case *hangupCommand:
		c.hangupAll(ctx, m.cause, 200, "system", nil)
	}
}

// dialGateway places the first leg of `originate sofia/gateway/<gw>/<number>`.
func (c *callActor) dialGateway(ctx actor.Context, o *originSpec) {
	dialer := c.node.getDialer()
	gw := o.gateway
	if dialer == nil || gw.Addr == "" || !c.node.gatewayIsUp(gw.Config.ID) {
		c.originFailed(ctx, "GATEWAY_DOWN")
		return
	}
	req := DialRequest{
		UUID: c.uuid, Contact: "sip:" + o.account.Identity + "@" + gw.Addr, Destination: gw.Addr,
		Transport: strings.ToLower(gw.Config.Transport), FromUser: o.cidNum, FromName: o.cidName,
		FromDomain: c.spec.domain.Name(), ToUser: o.account.Identity, ToDomain: hostOf(gw.Addr), SDP: []byte(holdSDP),
		Headers: [][2]string{{"X-Switchyard-Call", c.uuid}},
	}
	if gw.Config.AuthName != "" {
		req.Auth = &DigestAuth{Username: gw.Config.AuthName, Password: gw.Password, Host: hostOf(gw.Addr)}
	}
	leg := dialer.Dial(req, callSink{ctx.ActorSystem().Root, ctx.Self()})
	ls := &legState{leg: leg, ch: c.newChannel(leg, "outbound")}
	ls.ch.CallerIDName, ls.ch.CallerIDNumber, ls.ch.CalleeIDNumber = o.cidName, o.cidNum, o.account.Identity
	ls.ch.SetVar("sip_gateway_name", gw.Config.Name)
	for k, v := range o.vars {
		ls.ch.SetVar(k, v)
	}
	c.bLegs[leg.UUID()] = ls
	c.node.legStarted()
	c.outboundCreated(ls)
	c.armRingTimer(ctx)
}
