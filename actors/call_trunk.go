package actors

import (
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchyard/switchyard/persistence"
)

// inboundSpec is a call that arrived through an incoming trunk.
type inboundSpec struct {
	req    *TrunkInviteRequest
	number *persistence.Number
	trunk  *actor.PID
}

// externalSpec is a call to an external number through termination routes and gateways.
type externalSpec struct {
	number       string // as dialled
	callerNumber string // before rewrite (external caller id)
	callerName   string
	candidates   []candidate
	next         int
	tried        *candidate
	triedCallID  string
}

// DigestAuth are a gateway's credentials for answering its 401/407 on an outbound leg; the edge
// answers only a challenge that comes from Host (DECISIONS 17).
type DigestAuth struct {
	Username string
	Password string
	Host     string
}

// failoverCode reports whether a gateway's final answer lets the call try the next route
// (issue: 408, 5xx and 503).
func failoverCode(code int) bool { return code == 408 || code >= 500 && code < 600 }

// dialExternal places the B-leg toward the next candidate gateway.
func (c *callActor) dialExternal(ctx actor.Context) {
	ex := c.spec.external
	dialer := c.node.getDialer()
	if dialer == nil || ex.next >= len(ex.candidates) {
		c.rejectA(ctx, 503, "", "NORMAL_TEMPORARY_FAILURE")
		return
	}
	cand := ex.candidates[ex.next]
	ex.next++
	ex.tried = &cand
	gw := cand.gateway
	req := DialRequest{
		UUID: newUUID(), Contact: "sip:" + cand.dst + "@" + gw.Addr, Destination: gw.Addr,
		Transport: strings.ToLower(gw.Config.Transport), FromUser: cand.src, FromName: ex.callerName,
		FromDomain: c.spec.domain.Name(), ToUser: cand.dst, ToDomain: hostOf(gw.Addr), SDP: c.spec.req.SDP,
		Headers: [][2]string{{"X-Switchyard-Call", c.uuid}},
	}
	if gw.Config.AuthName != "" {
		req.Auth = &DigestAuth{Username: gw.Config.AuthName, Password: gw.Password, Host: hostOf(gw.Addr)}
	}
	leg := dialer.Dial(req, callSink{ctx.ActorSystem().Root, ctx.Self()})
	ex.triedCallID = leg.Info().CallID
	ls := &legState{leg: leg, ch: c.newChannel(leg, "outbound")}
	ls.ch.CallerIDName, ls.ch.CallerIDNumber, ls.ch.CalleeIDNumber = ex.callerName, cand.src, cand.dst
	ls.ch.SetVar("sip_gateway_name", gw.Config.Name)
	c.bLegs[leg.UUID()] = ls
	c.node.legStarted()
	c.outboundCreated(ls)
	if ex.next == 1 {
		c.armRingTimer(ctx)
	}
	c.behavior.Become(c.ringing)
}

// records builds everything the call writes at its end: the call record plus the incoming-trunk
// or termination CDR when a trunk carried it.
func (c *callActor) records() *writeCDR {
	rec := c.buildCDR()
	w := &writeCDR{cdr: &rec}
	end := rec.End
	var connect *time.Time
	if !c.answerAt.IsZero() {
		t := c.answerAt
		connect = &t
	}
	code, reason := c.legADisconnect()
	if in := c.spec.inbound; in != nil {
		snap := c.node.Snapshot()
		name := ""
		if snap != nil {
			name = customerName(snap, in.number.DomainID, in.number.CustomerID)
		}
		w.incoming = append(w.incoming, incomingCDR(in.req, in.number, name, code, reason, connect, end))
	}
	if ex := c.spec.external; ex != nil {
		w.termination = append(w.termination, c.terminationCDR(code, reason, connect, end))
	}
	return w
}

// legADisconnect is the seed's "Lega Disconnect Code/Reason" from the caller's point of view:
// 200 OK when the destination ended the call, 200 BYE when the caller did, else the failure.
func (c *callActor) legADisconnect() (int, string) {
	if !c.answerAt.IsZero() {
		if c.disconnectedBy == "caller" {
			return 200, "BYE"
		}
		return 200, "OK"
	}
	return c.sipCode, c.cause
}

func (c *callActor) terminationCDR(code int, reason string, connect *time.Time, end time.Time) persistence.TerminationCDR {
	ex := c.spec.external
	caller := c.spec.req.Caller
	rec := persistence.TerminationCDR{
		ID: c.uuid, DomainID: c.spec.domain.ID(), CustomerID: caller.Config.CustomerID,
		TimeStart: c.created.UTC(), TimeEnd: end.UTC(), GlobalTag: c.uuid, LegADisconnectCode: code,
		LegADisconnectReason: reason, SrcNameIn: ex.callerName, SrcNumberIn: ex.callerNumber, DstNumberIn: ex.number,
		OrigCallID: c.spec.req.Leg.Info().CallID, LocalTag: ex.triedCallID,
	}
	if cv, ok := c.spec.domain.Customers[caller.Config.CustomerID]; ok {
		rec.Customer = cv.Config.Name
	}
	if ex.tried != nil {
		rec.GatewayID, rec.RouteID = ex.tried.gateway.Config.ID, ex.tried.route.config.ID
		rec.SrcNumberOut, rec.DstNumberOut = ex.tried.src, ex.tried.dst
	}
	if connect != nil {
		t := connect.UTC()
		rec.TimeConnect = &t
		rec.Duration = int64(end.Sub(*connect) / time.Second)
	}
	return rec
}
