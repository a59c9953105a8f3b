package edge

import (
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
)

// onInvite handles initial INVITEs (re-INVITEs carry a To tag and go to their dialog):
// 100 Trying, domain resolution, digest auth (407), then the call goes to the caller's
// domain actor with an inbound leg. The handler lives until the leg's final response is out
// (sipgo ends the transaction when it returns).
func (e *Edge) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if tagOf(req.To().Params) != "" {
		e.onInDialog(req, tx)
		return
	}
	snap := e.node.Snapshot()
	if t, ok := snap.TrunkBySource(sourceIP(req)); ok {
		e.onTrunkInvite(req, tx, t)
		return
	}
	d, _, ok := e.requestDomain(req)
	if !ok {
		// Not from an extension: a carrier authenticating with credentials addresses its
		// trunk's host (DECISIONS 7); anything else is refused without a challenge.
		if t, ok := snap.TrunkByHost(req.Recipient.Host); ok {
			e.onTrunkInvite(req, tx, t)
			return
		}
		respond(tx, req, 403, "Forbidden")
		return
	}
	acct, ok := e.authenticate(req, tx, d)
	if !ok {
		return
	}
	if d.Locked() {
		respond(tx, req, 403, "Forbidden", reasonHeader(403, "domain locked"))
		return
	}
	// RFC 3261 §16.3 / DECISIONS 16: Max-Forwards 0 gets 483 where a B-leg would be created.
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		respond(tx, req, 483, "Too Many Hops")
		return
	}
	if req.Contact() == nil {
		respond(tx, req, 400, "Missing Contact")
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 100, "Trying", nil))
	leg := e.newInLeg(req, tx)
	e.node.Invite(&actors.InviteRequest{
		Leg: leg, DomainID: d.ID(), Caller: acct, Dialled: req.Recipient.User,
		SDP: append([]byte(nil), req.Body()...), Received: leg.info.Created,
	})
	leg.serve()
}

// securityEvent publishes a failed authentication as CUSTOM switchyard::auth_failure
// (Asterisk-style reason names, RELIABILITY F5).
func (e *Edge) securityEvent(req *sip.Request, d *actors.DomainView, user, reason string) {
	ev := events.NewCustom("switchyard::auth_failure")
	ev.Domain = d.Name()
	ev.Add("Domain", d.Name())
	ev.Add("Username", user)
	ev.Add("Method", string(req.Method))
	ev.Add("Network-IP", sourceIP(req).String())
	ev.Add("Reason", reason)
	ev.Add("Event-Time", time.Now().UTC().Format(time.RFC3339))
	e.node.Bus().Publish(ev)
}
