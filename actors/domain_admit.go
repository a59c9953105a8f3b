package actors

import (
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchyard/switchyard/persistence"
	"github.com/switchyard/switchyard/switch/dialplan"
)

// admitOutgoing handles an INVITE placed by one of this domain's accounts: number analysis,
// target lookup, limits, then a CallActor child.
func (d *domainActor) admitOutgoing(ctx actor.Context, req *InviteRequest) {
	if d.stopping {
		d.refuse(req, 503, "switch stopping", "SYSTEM_SHUTDOWN")
		return
	}
	dest, err := dialplan.Analyze(req.Dialled, d.caller(req), d.plan)
	if err != nil {
		code, cause := 404, "UNALLOCATED_NUMBER"
		switch {
		case errors.Is(err, dialplan.ErrCrossDomainDenied):
			code, cause = 403, "OUTGOING_CALL_BARRED"
		case errors.Is(err, dialplan.ErrInvalidNumber):
			code, cause = 484, "INVALID_NUMBER_FORMAT"
		}
		d.refuse(req, code, "", cause)
		return
	}
	spec := &callSpec{
		uuid: req.Leg.UUID(), domain: d.view, req: req, dialled: req.Dialled,
		ringTimeout: d.ringTimeout(), direction: "internal", calleeDomain: d.view.Name(),
	}
	customers := []int64{req.Caller.Config.CustomerID}
	switch t := dest.(type) {
	case dialplan.Local:
		cust, ok := d.view.CustomerByPrefix(t.CustomerPrefix)
		if !ok {
			d.refuse(req, 404, "", "UNALLOCATED_NUMBER")
			return
		}
		callee, ok := cust.Accounts[t.Extension]
		if !ok {
			d.refuse(req, 404, "", "UNALLOCATED_NUMBER")
			return
		}
		pid, ok := d.accounts[callee.ID()]
		if !ok {
			d.refuse(req, 480, "", "USER_NOT_REGISTERED")
			return
		}
		if cust.Config.ID != req.Caller.Config.CustomerID {
			customers = append(customers, cust.Config.ID)
		}
		spec.callee, spec.calleePID = callee, pid
	case dialplan.CrossDomain:
		snap := d.node.Snapshot()
		other, ok := snap.DomainByName(t.DomainName)
		if !ok {
			d.refuse(req, 404, "", "UNALLOCATED_NUMBER")
			return
		}
		pid, ok := d.node.domains.Load(other.ID())
		if !ok {
			d.refuse(req, 404, "", "UNALLOCATED_NUMBER")
			return
		}
		spec.crossDomain, spec.crossPrefix, spec.crossExt = pid.(*actor.PID), t.CustomerPrefix, t.Extension
		spec.direction, spec.calleeDomain = "cross_domain", other.Name()
	case dialplan.External:
		d.admitExternal(ctx, req, t.Number)
		return
	default:
		d.refuse(req, 404, "", "UNALLOCATED_NUMBER")
		return
	}
	if limit := d.limitCheck(customers); limit != "" {
		d.log.Warn().Str("limit", limit).Str("caller", req.Caller.Identity).Str("dialled", req.Dialled).
			Int("active_calls", d.active).Msg("call refused at limit")
		d.publishLimit(limit, req.Caller.Identity, req.Dialled)
		d.refuse(req, 503, limit, "NORMAL_CIRCUIT_CONGESTION")
		return
	}
	a := &admission{uuid: spec.uuid, customers: customers}
	props := actor.PropsFromProducer(func() actor.Actor { return newCall(d.node, spec) })
	pid, err := ctx.SpawnNamed(props, "call:"+spec.uuid)
	if err != nil {
		d.log.Error().Err(err).Msg("spawn call")
		d.refuse(req, 500, "", "SWITCH_CONGESTION")
		return
	}
	a.pid = pid
	d.calls[spec.uuid] = a
	d.byPID[pid.Id] = spec.uuid
	d.count(a)
}

// admitIncoming is the terminating side of a cross-domain call: find the callee, check this
// domain's limits, and watch the caller's CallActor so a crash releases the counters
// (DECISIONS 12: the admitting side that is not the parent watches).
func (d *domainActor) admitIncoming(ctx actor.Context, m *admitCall) {
	if d.stopping {
		ctx.Respond(&callRefused{code: 503, reason: "switch stopping", cause: "SYSTEM_SHUTDOWN"})
		return
	}
	if !d.view.Config.AllowCrossDomainDialling {
		ctx.Respond(&callRefused{code: 403, reason: "cross-domain dialling not allowed", cause: "INCOMING_CALL_BARRED"})
		return
	}
	cust, ok := d.view.CustomerByPrefix(m.clientPrefix)
	if !ok {
		ctx.Respond(&callRefused{code: 404, cause: "UNALLOCATED_NUMBER"})
		return
	}
	callee, ok := cust.Accounts[m.extension]
	if !ok {
		ctx.Respond(&callRefused{code: 404, cause: "UNALLOCATED_NUMBER"})
		return
	}
	pid, ok := d.accounts[callee.ID()]
	if !ok {
		ctx.Respond(&callRefused{code: 480, cause: "USER_NOT_REGISTERED"})
		return
	}
	customers := []int64{cust.Config.ID}
	if limit := d.limitCheck(customers); limit != "" {
		d.log.Warn().Str("limit", limit).Str("callee", callee.Identity).Str("from_domain", m.callerDomain).Msg("incoming call refused at limit")
		d.publishLimit(limit, m.callerDomain, callee.Identity)
		ctx.Respond(&callRefused{code: 503, reason: limit, cause: "NORMAL_CIRCUIT_CONGESTION"})
		return
	}
	if _, dup := d.foreign[m.uuid]; !dup {
		a := &admission{uuid: m.uuid, pid: ctx.Sender(), customers: customers}
		d.foreign[m.uuid] = a
		if a.pid != nil {
			d.byPID[a.pid.Id] = m.uuid
			ctx.Watch(a.pid)
		}
		d.count(a)
	}
	ctx.Respond(&callAdmitted{account: pid, callee: callee})
}

// refuse answers an INVITE before any CallActor exists and writes its call record.
func (d *domainActor) refuse(req *InviteRequest, code int, reason, cause string) {
	req.Leg.Reject(code, reason)
	rec := rejectionCDR(req, d.view, code, cause, reason)
	d.node.system.Root.Send(d.node.cdrWriter, &writeCDR{cdr: &rec})
}

func (d *domainActor) ringTimeout() time.Duration {
	if s := d.view.Config.NoAnswerTimeout; s > 0 {
		return time.Duration(s) * time.Second
	}
	return d.node.opts.NoAnswerTimeout
}

// caller describes the calling account for number analysis.
func (d *domainActor) caller(req *InviteRequest) dialplan.Caller {
	return dialplan.Caller{CustomerPrefix: req.Caller.ClientPrefix}
}

// buildPlan is a domain's numbering plan for number analysis, from the snapshot the domain's
// view belongs to (every config change installs a new snapshot and updates every domain).
func buildPlan(snap *Snapshot, v *DomainView) dialplan.Plan {
	p := dialplan.Plan{Domain: dialplan.Domain{Name: v.Name(), Prefix: v.Config.DomainPrefix, AllowCrossDomain: v.Config.AllowCrossDomainDialling}}
	for _, c := range v.Customers {
		p.Customers = append(p.Customers, dialplan.Customer{ID: c.Config.ID, ClientPrefix: c.Config.ClientPrefix})
	}
	if snap == nil {
		return p
	}
	for _, o := range snap.Domains() {
		if o.ID() != v.ID() {
			p.OtherDomains = append(p.OtherDomains, dialplan.Domain{Name: o.Name(), Prefix: o.Config.DomainPrefix, AllowCrossDomain: o.Config.AllowCrossDomainDialling})
		}
	}
	return p
}

// admitOriginate starts an ESL originate: limits, then a CallActor child in originate mode.
func (d *domainActor) admitOriginate(ctx actor.Context, m *originateRequest) {
	o := m.origin
	fail := func(cause string) { ctx.Send(o.reply, &originateResult{cause: cause}) }
	if d.stopping {
		fail("SYSTEM_SHUTDOWN")
		return
	}
	external := o.gateway != nil
	if !external {
		pid, ok := d.accounts[o.account.ID()]
		if !ok {
			fail("USER_NOT_REGISTERED")
			return
		}
		o.accountPID = pid
	}
	customers := []int64{o.account.Config.CustomerID}
	if o.target != nil {
		var ok bool
		if o.targetPID, ok = d.accounts[o.target.ID()]; !ok {
			fail("USER_NOT_REGISTERED")
			return
		}
		if o.target.Config.CustomerID != o.account.Config.CustomerID {
			customers = append(customers, o.target.Config.CustomerID)
		}
	}
	if limit := d.limitCheckExt(customers, external); limit != "" {
		d.publishLimit(limit, "originate", o.account.Identity)
		fail("NORMAL_CIRCUIT_CONGESTION")
		return
	}
	spec := &callSpec{uuid: m.uuid, domain: d.view, origin: o, dialled: o.account.Identity,
		ringTimeout: o.timeout, direction: "originate", calleeDomain: d.view.Name()}
	props := actor.PropsFromProducer(func() actor.Actor { return newCall(d.node, spec) })
	cpid, err := ctx.SpawnNamed(props, "call:"+m.uuid)
	if err != nil {
		fail("DESTINATION_OUT_OF_ORDER")
		return
	}
	a := &admission{uuid: m.uuid, pid: cpid, customers: customers, external: external}
	d.calls[m.uuid] = a
	d.byPID[cpid.Id] = m.uuid
	d.count(a)
}

// admitExternal routes a call to an external number: allow_outbound, the domain's dial
// permission, termination routes of the caller's customer (skipping gateways that are down),
// limits (active, external, customer), then a CallActor that fails over between gateways.
// Every attempt, refused or not, writes a termination CDR.
func (d *domainActor) admitExternal(ctx actor.Context, req *InviteRequest, number string) {
	caller := req.Caller
	ex := &externalSpec{number: number, callerName: caller.Config.CallerIDName,
		callerNumber: nonEmpty(caller.Config.ExternalCallerID, d.view.Config.Defaults.CallerID, caller.Config.Username)}
	if !caller.Config.AllowOutbound {
		d.refuseExternal(req, ex, 403, "outbound calls not allowed", "OUTGOING_CALL_BARRED")
		return
	}
	if !dialplan.Permitted(d.view.Config.Defaults.DialPermission, number) {
		d.refuseExternal(req, ex, 403, "dial permission", "OUTGOING_CALL_BARRED")
		return
	}
	ex.candidates = d.node.Snapshot().candidates(caller.Config.CustomerID, ex.callerNumber, number, d.node.gatewayIsUp)
	if len(ex.candidates) == 0 {
		d.refuseExternal(req, ex, 404, "no route", "NO_ROUTE_DESTINATION")
		return
	}
	customers := []int64{caller.Config.CustomerID}
	if limit := d.limitCheckExt(customers, true); limit != "" {
		d.log.Warn().Str("limit", limit).Str("caller", caller.Identity).Str("dialled", number).Msg("external call refused at limit")
		d.publishLimit(limit, caller.Identity, number)
		d.refuseExternal(req, ex, 503, limit, "NORMAL_CIRCUIT_CONGESTION")
		return
	}
	spec := &callSpec{uuid: req.Leg.UUID(), domain: d.view, req: req, dialled: number, external: ex,
		ringTimeout: d.ringTimeout(), direction: "outbound", calleeDomain: d.view.Name()}
	d.spawnCall(ctx, spec, &admission{uuid: spec.uuid, customers: customers, external: true}, req)
}

// refuseExternal refuses an outbound external call with a call record and a termination CDR.
func (d *domainActor) refuseExternal(req *InviteRequest, ex *externalSpec, code int, reason, cause string) {
	req.Leg.Reject(code, reason)
	rec := rejectionCDR(req, d.view, code, cause, reason)
	rec.Direction = "outbound"
	now := time.Now().UTC()
	term := persistence.TerminationCDR{
		ID: req.Leg.UUID(), DomainID: d.view.ID(), CustomerID: req.Caller.Config.CustomerID, TimeStart: req.Received.UTC(),
		TimeEnd: now, GlobalTag: req.Leg.UUID(), LegADisconnectCode: code, LegADisconnectReason: nonEmpty(reason, cause),
		SrcNameIn: ex.callerName, SrcNumberIn: ex.callerNumber, DstNumberIn: ex.number, OrigCallID: req.Leg.Info().CallID,
	}
	if c, ok := d.view.Customers[req.Caller.Config.CustomerID]; ok {
		term.Customer = c.Config.Name
	}
	d.node.system.Root.Send(d.node.cdrWriter, &writeCDR{cdr: &rec, termination: []persistence.TerminationCDR{term}})
}

// admitInbound takes a carrier call whose DID rings an extension of this domain.
func (d *domainActor) admitInbound(ctx actor.Context, m *inboundCall) {
	if d.stopping {
		d.refuseInbound(m, 503, "switch stopping", "SYSTEM_SHUTDOWN")
		return
	}
	pid, ok := d.accounts[m.callee.ID()]
	if !ok {
		d.refuseInbound(m, 480, "", "USER_NOT_REGISTERED")
		return
	}
	customers := []int64{m.number.CustomerID}
	if limit := d.limitCheckExt(customers, true); limit != "" {
		d.log.Warn().Str("limit", limit).Str("did", m.number.Number).Msg("inbound call refused at limit")
		d.publishLimit(limit, m.req.CallerNumber, m.number.Number)
		d.refuseInbound(m, 503, limit, "NORMAL_CIRCUIT_CONGESTION")
		return
	}
	req := m.req
	caller := &AccountView{
		Config: persistence.SIPAccount{CustomerID: m.number.CustomerID, Username: req.CallerNumber,
			CallerIDName: req.CallerName, InternalCallerID: req.CallerNumber},
		DomainID: d.id, DomainName: d.view.Name(), Identity: req.CallerNumber,
	}
	inv := &InviteRequest{Leg: req.Leg, DomainID: d.id, Caller: caller, Dialled: req.Dialled, SDP: req.SDP, Received: req.Received}
	spec := &callSpec{uuid: req.Leg.UUID(), domain: d.view, req: inv, dialled: req.Dialled, callee: m.callee, calleePID: pid,
		inbound: &inboundSpec{req: req, number: m.number, trunk: m.trunk}, ringTimeout: d.ringTimeout(), direction: "inbound",
		calleeDomain: d.view.Name()}
	d.spawnCall(ctx, spec, &admission{uuid: spec.uuid, customers: customers, external: true}, inv)
}

// refuseInbound rejects a carrier call with a call record and an incoming-trunk CDR.
func (d *domainActor) refuseInbound(m *inboundCall, code int, reason, cause string) {
	m.req.Leg.Reject(code, reason)
	now := time.Now()
	rec := incomingCDR(m.req, m.number, customerName(d.node.Snapshot(), d.id, m.number.CustomerID), code, nonEmpty(reason, cause), nil, now)
	call := inboundRejectionCDR(m.req, d.view.Name(), m.number.CustomerID, code, cause, reason, now)
	d.node.system.Root.Send(d.node.cdrWriter, &writeCDR{cdr: &call, incoming: []persistence.IncomingTrunkCDR{rec}})
}

// spawnCall starts a CallActor child and counts its admission.
func (d *domainActor) spawnCall(ctx actor.Context, spec *callSpec, a *admission, req *InviteRequest) {
	props := actor.PropsFromProducer(func() actor.Actor { return newCall(d.node, spec) })
	pid, err := ctx.SpawnNamed(props, "call:"+spec.uuid)
	if err != nil {
		d.log.Error().Err(err).Msg("spawn call")
		req.Leg.Reject(500, "")
		return
	}
	a.pid = pid
	d.calls[spec.uuid] = a
	d.byPID[pid.Id] = spec.uuid
	d.count(a)
}
