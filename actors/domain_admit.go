package actors

import (
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchyard/switchyard/switch/dialplan"
)

// admitOutgoing handles an INVITE placed by one of this domain's accounts: number analysis,
// target lookup, limits, then a CallActor child.
func (d *domainActor) admitOutgoing(ctx actor.Context, req *InviteRequest) {
	if d.stopping {
		d.refuse(req, 503, "switch stopping", "SYSTEM_SHUTDOWN")
		return
	}
	dest, err := dialplan.Analyze(req.Dialled, d.caller(req), d.plan())
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
	default:
		// External numbers leave through termination routes (the trunks work); none yet.
		d.refuse(req, 404, "no route", "NO_ROUTE_DESTINATION")
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
	d.node.system.Root.Send(d.node.cdrWriter, &writeCDR{cdr: rejectionCDR(req, d.view, code, cause, reason)})
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

// plan is this domain's numbering plan for number analysis.
func (d *domainActor) plan() dialplan.Plan {
	p := dialplan.Plan{Domain: dialplan.Domain{Name: d.view.Name(), Prefix: d.view.Config.DomainPrefix, AllowCrossDomain: d.view.Config.AllowCrossDomainDialling}}
	for _, c := range d.view.Customers {
		p.Customers = append(p.Customers, dialplan.Customer{ID: c.Config.ID, ClientPrefix: c.Config.ClientPrefix})
	}
	for _, o := range d.node.Snapshot().Domains() {
		if o.ID() != d.id {
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
	pid, ok := d.accounts[o.account.ID()]
	if !ok {
		fail("USER_NOT_REGISTERED")
		return
	}
	o.accountPID = pid
	customers := []int64{o.account.Config.CustomerID}
	if o.target != nil {
		if o.targetPID, ok = d.accounts[o.target.ID()]; !ok {
			fail("USER_NOT_REGISTERED")
			return
		}
		if o.target.Config.CustomerID != o.account.Config.CustomerID {
			customers = append(customers, o.target.Config.CustomerID)
		}
	}
	if limit := d.limitCheck(customers); limit != "" {
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
	a := &admission{uuid: m.uuid, pid: cpid, customers: customers}
	d.calls[m.uuid] = a
	d.byPID[cpid.Id] = m.uuid
	d.count(a)
}
