package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/persistence"
)

// finish records how the call ended, fires the first half of every leg's hangup, and asks the
// CDR writer to store the CDR; the call stops once the CDR is durable (ending behaviour).
func (c *callActor) finish(ctx actor.Context, cause string, code int, by string) {
	if c.finished {
		return
	}
	c.finished = true
	c.stopRingTimer()
	c.cause, c.sipCode, c.disconnectedBy = events.ParseCause(cause), code, by
	for _, ls := range c.legs() {
		c.hungUp(ls, c.cause, code)
	}
	ctx.Request(c.node.cdrWriter, c.records())
	c.behavior.Become(c.ending)
}

// ending waits for the CDR to be stored, then completes the hangup and stops.
func (c *callActor) ending(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *cdrStored:
		if m.err != nil {
			c.log.Error().Err(m.err).Msg("store cdr")
		}
		c.complete(ctx)
	case *actor.DeadLetterResponse:
		// The CDR writer is gone (shutting down); finish anyway.
		c.complete(ctx)
	case *LegHungUp:
		if m.Confirm != nil {
			m.Confirm()
		}
	case *LegAnswered:
		m.Leg.Hangup("LOSE_RACE")
	}
}

// complete fires REPORTING/HANGUP_COMPLETE/DESTROY, confirms a pending BYE, tells the domain
// and stops the actor.
func (c *callActor) complete(ctx actor.Context) {
	for _, ls := range c.legs() {
		c.reported(ls)
		c.node.legEnded()
	}
	if c.byeFrom != nil {
		c.confirmBye()
	}
	c.node.calls.Delete(c.uuid)
	ctx.Send(ctx.Parent(), &callEnded{uuid: c.uuid})
	if c.spec.crossDomain != nil {
		ctx.Send(c.spec.crossDomain, &releaseCall{uuid: c.uuid})
	}
	c.a, c.bLegs = nil, map[string]*legState{}
	ctx.Stop(ctx.Self())
}

// confirmBye is set by peerHungUp through the message's Confirm callback.
func (c *callActor) confirmBye() {
	if c.byeConfirm != nil {
		c.byeConfirm()
		c.byeConfirm = nil
	}
}

// abort runs when the call is stopped from outside (a panic in the call, the domain or node
// stopping): release every leg, write the CDR without waiting, forget the channels.
func (c *callActor) abort(ctx actor.Context) {
	c.node.calls.Delete(c.uuid)
	if c.a == nil && len(c.bLegs) == 0 {
		return
	}
	if !c.finished {
		c.finished = true
		c.stopRingTimer()
		c.cause, c.sipCode, c.disconnectedBy = "SWITCH_CONGESTION", 500, "system"
		switch {
		case c.a == nil:
		case c.answerAt.IsZero():
			c.a.leg.Reject(500, "call failed")
		default:
			c.a.leg.Hangup(c.cause)
		}
		if o := c.spec.origin; o != nil && c.a == nil {
			c.node.system.Root.Send(o.reply, &originateResult{cause: c.cause})
		}
		for _, ls := range c.bLegs {
			if ls == c.bridged {
				ls.leg.Hangup(c.cause)
			} else {
				ls.leg.Cancel()
			}
		}
		ctx.Send(c.node.cdrWriter, c.records())
	}
	c.confirmBye()
	for _, ls := range c.legs() {
		c.node.forgetChannel(ls.ch.UUID)
		c.node.legEnded()
	}
	if c.spec.crossDomain != nil {
		ctx.Send(c.spec.crossDomain, &releaseCall{uuid: c.uuid})
	}
	c.a, c.bLegs = nil, map[string]*legState{}
}

// buildCDR makes the call record (FreeSWITCH duration/billsec: DECISIONS 14).
func (c *callActor) buildCDR() persistence.CDR {
	end := time.Now()
	cdr := persistence.CDR{
		UUID:           c.uuid,
		DomainID:       c.spec.domain.ID(),
		Domain:         c.spec.domain.Name(),
		Callee:         c.spec.dialled,
		Direction:      c.spec.direction,
		End:            end.UTC(),
		HangupCause:    c.cause,
		SIPCode:        c.sipCode,
		DisconnectedBy: c.disconnectedBy,
	}
	start := c.created
	if c.a != nil {
		start = c.a.ch.Created
		cdr.ACallID = c.a.leg.Info().CallID
		cdr.CallerIDName = c.a.ch.CallerIDName
	}
	cdr.Start, cdr.Duration = start.UTC(), int64(end.Sub(start)/time.Second)
	switch {
	case c.spec.req != nil:
		cdr.CustomerID, cdr.Caller = c.spec.req.Caller.Config.CustomerID, c.spec.req.Caller.Identity
	case c.spec.origin != nil:
		cdr.CustomerID, cdr.Caller = c.spec.origin.account.Config.CustomerID, c.spec.origin.cidNum
		cdr.Callee = c.spec.origin.account.Identity
		if c.spec.origin.target != nil {
			cdr.Callee = c.spec.origin.target.Identity
		}
	}
	if c.callee != nil {
		cdr.Callee = c.callee.Identity
	}
	if !c.answerAt.IsZero() {
		at := c.answerAt.UTC()
		cdr.Answer = &at
		cdr.Billsec = int64(end.Sub(c.answerAt) / time.Second)
	}
	if c.bridged != nil {
		cdr.BCallID = c.bridged.leg.Info().CallID
	}
	return cdr
}

// rejectionCDR is the call record of a call refused before any CallActor existed
// (DECISIONS 14: limit, lock, unknown target).
func rejectionCDR(req *InviteRequest, domain *DomainView, code int, cause, reason string) persistence.CDR {
	now := time.Now().UTC()
	info := req.Leg.Info()
	return persistence.CDR{
		UUID: req.Leg.UUID(), DomainID: domain.ID(), Domain: domain.Name(),
		CustomerID: req.Caller.Config.CustomerID, Caller: req.Caller.Identity, Callee: req.Dialled,
		CallerIDName: req.Caller.Config.CallerIDName, Direction: "internal",
		Start: req.Received.UTC(), End: now, Duration: int64(now.Sub(req.Received) / time.Second),
		HangupCause: cause, SIPCode: code, DisconnectedBy: "system", ACallID: info.CallID, Reason: reason,
	}
}
