package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/persistence"
)

// callSpec is what a CallActor starts with; immutable.
type callSpec struct {
	uuid    string
	domain  *DomainView
	req     *InviteRequest
	dialled string
	// Local target: the callee's account actor and view (already admitted by this domain).
	callee    *AccountView
	calleePID *actor.PID
	// Cross-domain target: the other domain's actor admits the call and names the account.
	crossDomain  *actor.PID
	crossPrefix  string
	crossExt     string
	origin       *originSpec // set for `originate`
	inbound      *inboundSpec
	external     *externalSpec
	ringTimeout  time.Duration
	direction    string // "internal" or "cross_domain"
	calleeDomain string
}

// callActor owns one call: the inbound A-leg, the forked outbound B-legs, the state machine
// (behaviours: routing → ringing → answering → answered → ending), timers, events and the CDR.
type callActor struct {
	node     *Node
	spec     *callSpec
	uuid     string
	created  time.Time
	log      zerolog.Logger
	behavior actor.Behavior
	self     *actor.PID

	a       *legState
	bLegs   map[string]*legState
	bridged *legState
	callee  *AccountView

	ringGen   int
	ringTimer *time.Timer
	anyRang   bool
	best      int // best final failure code among B-legs

	answerAt       time.Time
	cause          string
	sipCode        int
	disconnectedBy string
	byeFrom        *legState // the leg whose BYE we confirm once the CDR is stored
	byeConfirm     func()
	finished       bool

	up        bool // both legs answered and the caller's dialog confirmed
	xfer      *transfer
	replacing *attended
	bridging  *pendingBridge
	seq       uint64
	pending   map[uint64]pendingRelay
}

// pendingRelay remembers which leg is waiting for the answer to a relayed request.
type pendingRelay struct {
	from *legState
	seq  uint64
	hold bool
}

type callSink struct {
	root *actor.RootContext
	pid  *actor.PID
}

// Deliver forwards a leg message into the call's mailbox.
func (s callSink) Deliver(msg any) { s.root.Send(s.pid, msg) }

func newCall(n *Node, spec *callSpec) actor.Actor {
	c := &callActor{
		node: n, spec: spec, uuid: spec.uuid, created: time.Now(),
		log:     n.log.With().Str("actor", "call").Str("uuid", spec.uuid).Str("domain", spec.domain.Name()).Logger(),
		bLegs:   map[string]*legState{},
		pending: map[uint64]pendingRelay{},
		callee:  spec.callee,
	}
	c.behavior = actor.NewBehavior()
	if spec.origin != nil {
		c.behavior.Become(c.originating)
	} else {
		c.behavior.Become(c.routing)
	}
	return c
}

// Receive delegates to the current behaviour; lifecycle messages are handled in every state.
func (c *callActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Stopping:
		c.abort(ctx)
		return
	case *actor.Stopped, *actor.Restarting:
		return
	case *channelQuery:
		c.channelData(ctx, m)
		return
	case *transferCommand:
		c.transferByCommand(ctx, m)
		return
	case *bridgeRequest:
		c.bridgeByCommand(ctx, &m.cmd, m.other)
		return
	case *takeLeg:
		c.giveLeg(ctx, m)
		return
	case *handedOver:
		switch {
		case c.bridging != nil:
			c.bridgeTaken(ctx, m)
		case c.replacing != nil:
			c.tookOver(ctx, m)
		default:
			m.ls.leg.Hangup("NORMAL_CLEARING")
		}
		return
	case *controlCommand:
		// Variables can be set at any time; media operations need the call to be up.
		if m.op != "setvar" && (!c.up || c.finished) {
			ctx.Respond(ErrInvalidRequest)
			return
		}
		c.control(ctx, m)
		return
	}
	c.behavior.Receive(ctx)
}

// routing: the A-leg is up; find the callee's contacts.
func (c *callActor) routing(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		c.self = ctx.Self()
		c.node.calls.Store(c.uuid, c.self)
		c.node.legStarted()
		leg := c.spec.req.Leg
		leg.Bind(callSink{ctx.ActorSystem().Root, ctx.Self()})
		c.a = &legState{leg: leg, ch: c.newChannel(leg, "inbound")}
		c.a.ch.CallerIDName = c.spec.req.Caller.Config.CallerIDName
		c.a.ch.CallerIDNumber = c.spec.req.Caller.Config.InternalCallerID
		c.inboundCreated(c.a)
		if in := c.spec.inbound; in != nil {
			ctx.Request(in.trunk, &trunkCallStart{uuid: c.uuid})
		}
		if c.spec.external != nil {
			c.dialExternal(ctx)
			return
		}
		if c.spec.crossDomain != nil {
			ctx.Request(c.spec.crossDomain, &admitCall{uuid: c.uuid, clientPrefix: c.spec.crossPrefix, extension: c.spec.crossExt, callerDomain: c.spec.domain.Name()})
			return
		}
		ctx.Request(c.spec.calleePID, &lookupContacts{})
	case *callAdmitted:
		c.callee = m.callee
		ctx.Request(m.account, &lookupContacts{})
	case *callRefused:
		c.rejectA(ctx, m.code, m.reason, m.cause)
	case *actor.DeadLetterResponse:
		c.rejectA(ctx, 480, "", "USER_NOT_REGISTERED")
	case *contactsFound:
		c.dial(ctx, m.bindings)
	case *LegCancelled:
		c.cancelled(ctx)
	case *hangupCommand:
		c.rejectA(ctx, causeToSIP(m.cause), "", m.cause)
	}
}

// dial forks one B-leg per registered contact (first 2xx wins).
func (c *callActor) dial(ctx actor.Context, bindings []persistence.Binding) {
	dialer := c.node.getDialer()
	if len(bindings) == 0 || dialer == nil {
		c.rejectA(ctx, 480, "", "USER_NOT_REGISTERED")
		return
	}
	info := c.spec.req.Leg.Info()
	caller := c.spec.req.Caller
	for _, b := range bindings {
		req := DialRequest{
			UUID:        newUUID(),
			Contact:     b.Contact,
			Destination: b.Source,
			Transport:   b.Transport,
			FromUser:    nonEmpty(caller.Config.InternalCallerID, caller.Config.Username),
			FromName:    nonEmpty(caller.Config.CallerIDName, info.FromName),
			FromDomain:  c.spec.domain.Name(),
			ToUser:      c.callee.Identity,
			ToDomain:    c.callee.DomainName,
			SDP:         c.spec.req.SDP,
			Headers:     [][2]string{{"X-Switchyard-Call", c.uuid}},
		}
		if c.spec.direction == "cross_domain" {
			req.FromUser = Identity(caller.ClientPrefix, caller.Config.Username)
		}
		leg := dialer.Dial(req, callSink{ctx.ActorSystem().Root, ctx.Self()})
		ls := &legState{leg: leg, ch: c.newChannel(leg, "outbound")}
		ls.ch.CallerIDName, ls.ch.CallerIDNumber = req.FromName, req.FromUser
		ls.ch.CalleeIDNumber = c.callee.Identity
		c.bLegs[leg.UUID()] = ls
		c.node.legStarted()
		c.outboundCreated(ls)
	}
	c.armRingTimer(ctx)
	c.behavior.Become(c.ringing)
}

func (c *callActor) armRingTimer(ctx actor.Context) {
	c.ringGen++
	gen, root, self := c.ringGen, ctx.ActorSystem().Root, ctx.Self()
	c.ringTimer = time.AfterFunc(c.spec.ringTimeout, func() { root.Send(self, &ringTimeout{gen: gen}) })
}

// ringing: B-legs are being offered; relay progress, wait for the first answer.
func (c *callActor) ringing(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *LegRinging:
		ls := c.bLegs[m.Leg.UUID()]
		if ls == nil {
			return
		}
		media := m.Code == 183 && len(m.SDP) > 0
		ls.rang = true
		c.anyRang = true
		c.progressed(ls, media)
		c.a.leg.Progress(m.Code, m.SDP)
		c.progressed(c.a, media)
	case *LegAnswered:
		ls := c.bLegs[m.Leg.UUID()]
		if ls == nil {
			m.Leg.Hangup("LOSE_RACE")
			return
		}
		c.stopRingTimer()
		c.bridged = ls
		c.answerAt = time.Now()
		c.answered(ls, c.answerAt)
		for id, other := range c.bLegs {
			if id != m.Leg.UUID() {
				other.leg.Cancel()
			}
		}
		c.a.leg.Answer(m.SDP)
		c.behavior.Become(c.answering)
	case *LegFailed:
		c.bLegFailed(ctx, m)
	case *LegCancelled:
		c.cancelled(ctx)
	case *ringTimeout:
		if m.gen != c.ringGen {
			return
		}
		// DECISIONS 30: 480 NO_ANSWER when the callee rang, 408 when it never answered at all.
		code, cause := 480, "NO_ANSWER"
		if !c.anyRang {
			code, cause = 408, "NO_USER_RESPONSE"
		}
		for _, ls := range c.bLegs {
			ls.leg.Cancel()
		}
		c.rejectA(ctx, code, "", cause)
	case *hangupCommand:
		for _, ls := range c.bLegs {
			ls.leg.Cancel()
		}
		c.rejectA(ctx, causeToSIP(m.cause), "", m.cause)
	}
}

// bLegFailed drops one fork; when none is left the caller gets the best failure.
func (c *callActor) bLegFailed(ctx actor.Context, m *LegFailed) {
	if !c.forkFailed(m) {
		return
	}
	if len(c.bLegs) > 0 || c.finished {
		return
	}
	if ex := c.spec.external; ex != nil {
		if failoverCode(m.Code) && ex.next < len(ex.candidates) {
			c.log.Info().Int("code", m.Code).Int64("gateway_id", ex.tried.gateway.Config.ID).Msg("gateway failed; trying the next route")
			c.dialExternal(ctx)
			return
		}
		// The caller sees the last gateway's answer.
		c.rejectA(ctx, m.Code, "", sipToCause(m.Code))
		return
	}
	code := c.best
	if code == 0 || code == 487 {
		code = 480
	}
	c.rejectA(ctx, code, "", sipToCause(code))
}

// forkFailed ends a fork that got a final failure and remembers the best failure code for the
// caller; it reports false for a leg that is not a pending fork.
func (c *callActor) forkFailed(m *LegFailed) bool {
	ls := c.bLegs[m.Leg.UUID()]
	if ls == nil || ls == c.bridged {
		return false
	}
	c.dropFork(ls, m.Code)
	if c.best == 0 || rank(m.Code) < rank(c.best) {
		c.best = m.Code
	}
	return true
}

// rank orders failure codes for the caller: busy beats decline beats unavailable.
func rank(code int) int {
	switch code {
	case 486, 600:
		return 0
	case 603:
		return 1
	case 480, 408:
		return 3
	case 487:
		return 9
	}
	return 2
}

// answering: the A-leg's 200 is out; wait for its ACK.
func (c *callActor) answering(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *LegAcked:
		c.confirmed()
	case *LegReinviteReceived, *LegRequestReceived:
		// A request from the caller inside the dialog proves its ACK was sent (it may still be
		// on its way on another goroutine): the call is up.
		c.confirmed()
		c.inCall(ctx)
	case *LegAckTimeout:
		c.hangupAll(ctx, "RECOVERY_ON_TIMER_EXPIRE", 408, "system", nil)
	case *LegAnswered:
		m.Leg.Hangup("LOSE_RACE")
	case *LegFailed:
		c.lateFork(m)
	case *LegHungUp:
		c.peerHungUp(ctx, m)
	case *hangupCommand:
		c.hangupAll(ctx, m.cause, 200, "system", nil)
	}
}

// confirmed moves an answered call to inCall once the caller's dialog is confirmed.
func (c *callActor) confirmed() {
	c.up = true
	c.answered(c.a, c.answerAt)
	c.bridgedLegs(c.bridged)
	c.behavior.Become(c.inCall)
}

// lateFork handles a losing fork that finished after another fork answered.
func (c *callActor) lateFork(m *LegFailed) {
	if ls := c.bLegs[m.Leg.UUID()]; ls != nil && ls != c.bridged {
		c.hungUp(ls, "LOSE_RACE", m.Code)
		c.reported(ls)
		delete(c.bLegs, m.Leg.UUID())
		c.node.legEnded()
	}
}

// inCall: both legs are up and bridged; relay mid-call requests until someone hangs up.
func (c *callActor) inCall(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *LegHungUp:
		c.peerHungUp(ctx, m)
	case *LegFailed:
		c.lateFork(m)
	case *LegAnswered:
		if c.bLegs[m.Leg.UUID()] != c.bridged {
			m.Leg.Hangup("LOSE_RACE")
		}
	case *LegReinviteReceived:
		c.relayReinvite(m)
	case *LegReinviteAnswered:
		c.reinviteAnswered(m)
	case *LegRequestReceived:
		c.relayRequest(ctx, m)
	case *LegRequestAnswered:
		c.requestAnswered(m)
	case *takeOver:
		c.handOver(ctx, m)
	case *callRefused:
		c.replacing = nil
	case *hangupCommand:
		c.hangupAll(ctx, m.cause, 200, "system", nil)
	}
}

// peerHungUp: one side sent BYE; hang up the other side and finish.
func (c *callActor) peerHungUp(ctx actor.Context, m *LegHungUp) {
	var from *legState
	by := "callee"
	if c.a != nil && m.Leg.UUID() == c.a.leg.UUID() {
		from, by = c.a, "caller"
	} else if ls := c.bLegs[m.Leg.UUID()]; ls != nil {
		from = ls
	}
	if from == nil {
		if m.Confirm != nil {
			m.Confirm()
		}
		return
	}
	c.byeConfirm = m.Confirm
	c.hangupAll(ctx, "NORMAL_CLEARING", 200, by, from)
}

// hangupAll ends every leg (BYE for answered ones, CANCEL for ringing forks) and finishes.
func (c *callActor) hangupAll(ctx actor.Context, cause string, code int, by string, from *legState) {
	if c.finished {
		return
	}
	c.byeFrom = from
	for _, ls := range c.legs() {
		if ls == from {
			continue
		}
		if ls == c.a || ls == c.bridged {
			ls.leg.Hangup(cause)
		} else {
			ls.leg.Cancel()
		}
	}
	c.finish(ctx, cause, code, by)
}

// rejectA answers the caller with a failure (before answer) and finishes.
func (c *callActor) rejectA(ctx actor.Context, code int, reason, cause string) {
	if c.finished {
		return
	}
	c.stopRingTimer()
	c.a.leg.Reject(code, reason)
	c.finish(ctx, cause, code, "system")
}

// cancelled: the caller sent CANCEL (sipgo answered 487 on the A-leg).
func (c *callActor) cancelled(ctx actor.Context) {
	if c.finished {
		return
	}
	c.stopRingTimer()
	for _, ls := range c.bLegs {
		ls.leg.Cancel()
	}
	c.finish(ctx, "ORIGINATOR_CANCEL", 487, "caller")
}

func (c *callActor) legs() []*legState {
	out := make([]*legState, 0, 1+len(c.bLegs))
	if c.a != nil {
		out = append(out, c.a)
	}
	for _, ls := range c.bLegs {
		out = append(out, ls)
	}
	return out
}

func (c *callActor) stopRingTimer() {
	c.ringGen++
	if c.ringTimer != nil {
		c.ringTimer.Stop()
	}
}

func nonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
