package actors

import (
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/switch/dialplan"
)

// domainActor is one tenant: its config view, status, limits and live counters. It admits calls
// (made or received), parents its CallActors and AccountActors, and supervises them: a failing
// call is stopped (its counters are released when its Terminated arrives), a failing account is
// restarted and reloads its bindings. Status is a behaviour: active admits, locked refuses.
type domainActor struct {
	node     *Node
	id       int64
	log      zerolog.Logger
	view     *DomainView
	plan     dialplan.Plan // number analysis input, rebuilt on each config update (not per INVITE)
	behavior actor.Behavior

	accounts map[int64]*actor.PID
	calls    map[string]*admission // own calls by uuid (children)
	foreign  map[string]*admission // calls of other domains terminating here (watched)
	xfers    map[string]*admission // the extra slot of a transfer in progress, by call uuid
	byPID    map[string]string     // call pid id → uuid, for Terminated

	active      int
	external    int
	perCustomer map[int64]int
	// stopping is set once Stopping arrives: protoactor still delivers queued user messages
	// then, and a child spawned at that point would never be stopped (the stop would hang).
	stopping bool
}

// admission is one admitted call's share of the counters.
type admission struct {
	uuid      string
	pid       *actor.PID
	customers []int64
	external  bool
}

func newDomain(n *Node, id int64) actor.Actor {
	d := &domainActor{
		node: n, id: id,
		log:         n.log.With().Str("actor", "domain").Int64("domain_id", id).Logger(),
		accounts:    map[int64]*actor.PID{},
		calls:       map[string]*admission{},
		foreign:     map[string]*admission{},
		xfers:       map[string]*admission{},
		byPID:       map[string]string{},
		perCustomer: map[int64]int{},
	}
	d.behavior = actor.NewBehavior()
	d.behavior.Become(d.active_)
	return d
}

// Receive delegates to the current behaviour (active or locked).
func (d *domainActor) Receive(ctx actor.Context) { d.behavior.Receive(ctx) }

// HandleFailure makes the domain the supervisor of its children: calls stop, accounts restart.
func (d *domainActor) HandleFailure(system *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason any, _ any) {
	if strings.Contains(child.Id, "/call:") {
		d.log.Error().Str("call", child.Id).Interface("panic", reason).Msg("call failed; stopping it")
		sup.StopChildren(child)
		return
	}
	if rs.NumberOfFailures(10*time.Second) > 10 {
		d.log.Error().Str("child", child.Id).Interface("panic", reason).Msg("child failing repeatedly; stopping it")
		sup.StopChildren(child)
		return
	}
	rs.Fail()
	d.log.Error().Str("child", child.Id).Interface("panic", reason).Msg("child failed; restarting it")
	sup.RestartChildren(child)
}

// common handles what both behaviours share; it reports whether it handled the message.
func (d *domainActor) common(ctx actor.Context) bool {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		snap := d.node.Snapshot()
		if v, ok := snap.Domain(d.id); ok {
			d.apply(ctx, v)
		}
	case *actor.Stopping:
		d.stopping = true
	case *domainConfigUpdated:
		if !d.stopping {
			d.apply(ctx, m.view)
		}
	case *callEnded:
		d.release(m.uuid)
	case *transferDone:
		d.releaseTransfer(m.uuid)
	case *releaseCall:
		d.release(m.uuid)
	case *actor.Terminated:
		if uuid, ok := d.byPID[m.Who.Id]; ok {
			d.release(uuid)
		}
		for id, pid := range d.accounts {
			if pid.Equal(m.Who) {
				delete(d.accounts, id)
				d.node.accounts.CompareAndDelete(id, pid)
			}
		}
	case *liveQuery:
		ctx.Respond(d.limits())
	case *RegisterRequest:
		if pid, ok := d.accounts[m.AccountID]; ok {
			ctx.Forward(pid)
		} else {
			ctx.Respond(ErrNoSuchAccount)
		}
	case *hangupCommand:
		for _, a := range d.calls {
			ctx.Send(a.pid, m)
		}
	default:
		return false
	}
	return true
}

// active_ admits calls.
func (d *domainActor) active_(ctx actor.Context) {
	if d.common(ctx) {
		return
	}
	switch m := ctx.Message().(type) {
	case *inviteReceived:
		d.admitOutgoing(ctx, m.req)
	case *admitCall:
		d.admitIncoming(ctx, m)
	case *admitTransfer:
		d.admitTransfer(ctx, m)
	case *inboundCall:
		d.admitInbound(ctx, m)
	case *originateRequest:
		d.admitOriginate(ctx, m)
	}
}

// locked refuses everything (seed 000: a locked domain cannot make or receive calls).
func (d *domainActor) locked(ctx actor.Context) {
	if d.common(ctx) {
		return
	}
	switch m := ctx.Message().(type) {
	case *inviteReceived:
		d.refuse(m.req, 403, "domain locked", "CALL_REJECTED")
	case *admitCall:
		ctx.Respond(&callRefused{code: 403, reason: "domain locked", cause: "CALL_REJECTED"})
	case *admitTransfer:
		ctx.Respond(&callRefused{code: 403, reason: "domain locked", cause: "CALL_REJECTED"})
	case *inboundCall:
		d.refuseInbound(m, 403, "domain locked", "CALL_REJECTED")
	case *originateRequest:
		ctx.Send(m.origin.reply, &originateResult{cause: "CALL_REJECTED"})
	}
}

// apply installs a new config view: status behaviour, account actors.
func (d *domainActor) apply(ctx actor.Context, v *DomainView) {
	wasLocked := d.view != nil && d.view.Locked()
	d.view = v
	d.plan = buildPlan(d.node.Snapshot(), v)
	d.log = d.node.log.With().Str("actor", "domain").Int64("domain_id", d.id).Str("domain", v.Name()).Logger()
	if v.Locked() {
		d.behavior.Become(d.locked)
		if !wasLocked && len(d.calls) > 0 {
			// DECISIONS 28: a lock ends the domain's live calls.
			d.log.Info().Int("calls", len(d.calls)).Msg("domain locked; ending live calls")
			for _, a := range d.calls {
				ctx.Send(a.pid, &hangupCommand{cause: "CALL_REJECTED"})
			}
		}
	} else {
		d.behavior.Become(d.active_)
	}
	want := map[int64]*AccountView{}
	for _, c := range v.Customers {
		for _, a := range c.Accounts {
			want[a.ID()] = a
		}
	}
	for id, av := range want {
		if pid, ok := d.accounts[id]; ok {
			ctx.Send(pid, &accountUpdated{view: av})
			continue
		}
		accountID := id
		props := actor.PropsFromProducer(func() actor.Actor { return newAccount(d.node, d.id, accountID) })
		pid, err := ctx.SpawnNamed(props, "account:"+strconv.FormatInt(id, 10))
		if err != nil {
			d.log.Error().Err(err).Int64("account_id", id).Msg("spawn account")
			continue
		}
		d.accounts[id] = pid
		d.node.accounts.Store(id, pid)
	}
	for id, pid := range d.accounts {
		if _, ok := want[id]; !ok {
			ctx.Stop(pid)
			delete(d.accounts, id)
			d.node.accounts.CompareAndDelete(id, pid)
		}
	}
}

// limitCheck returns the Reason text of the first limit a new call would exceed, or "".
// Customer capacity is checked before the domain's active and external call limits
// (FEATURES CUS-04); external marks a call to or from an external number (seed 000).
func (d *domainActor) limitCheckExt(customers []int64, external bool) string {
	if r := d.limitCheck(customers); r != "" {
		return r
	}
	if lim := d.view.Config.Limitations.ExternalCallLimit; external && lim > 0 && d.external >= lim {
		return "external call limit"
	}
	return ""
}

// limitCheck checks customer capacity and the domain's active call limit.
func (d *domainActor) limitCheck(customers []int64) string {
	for _, cid := range customers {
		if c, ok := d.view.Customers[cid]; ok && c.Config.CapacityLimit > 0 && d.perCustomer[cid] >= c.Config.CapacityLimit {
			return "customer capacity limit"
		}
	}
	if lim := d.view.Config.Limitations.ActiveCallLimit; lim > 0 && d.active >= lim {
		return "active call limit"
	}
	return ""
}

func (d *domainActor) count(a *admission) {
	d.active++
	if a.external {
		d.external++
	}
	for _, c := range a.customers {
		d.perCustomer[c]++
	}
}

// admitTransfer grants a call's transfer its second slot (seed 000), or refuses at a limit.
func (d *domainActor) admitTransfer(ctx actor.Context, m *admitTransfer) {
	if _, dup := d.xfers[m.uuid]; dup {
		ctx.Respond(&transferAdmitted{})
		return
	}
	if limit := d.limitCheck(m.customers); limit != "" {
		d.publishLimit(limit, "transfer", m.uuid)
		ctx.Respond(&callRefused{code: 503, reason: limit, cause: "NORMAL_CIRCUIT_CONGESTION"})
		return
	}
	a := &admission{uuid: m.uuid, customers: m.customers}
	d.xfers[m.uuid] = a
	d.count(a)
	ctx.Respond(&transferAdmitted{})
}

func (d *domainActor) releaseTransfer(uuid string) {
	if a, ok := d.xfers[uuid]; ok {
		delete(d.xfers, uuid)
		d.uncount(a)
	}
}

// release gives back one admission's counters; unknown uuids are ignored (idempotent).
func (d *domainActor) release(uuid string) {
	d.releaseTransfer(uuid)
	a, ok := d.calls[uuid]
	if ok {
		delete(d.calls, uuid)
	} else if a, ok = d.foreign[uuid]; ok {
		delete(d.foreign, uuid)
	} else {
		return
	}
	if a.pid != nil {
		delete(d.byPID, a.pid.Id)
	}
	d.uncount(a)
}

func (d *domainActor) uncount(a *admission) {
	d.active--
	if a.external {
		d.external--
	}
	for _, c := range a.customers {
		if d.perCustomer[c]--; d.perCustomer[c] <= 0 {
			delete(d.perCustomer, c)
		}
	}
}

func (d *domainActor) limits() DomainLimits {
	dl := DomainLimits{
		Domain: d.view.Name(), Status: d.view.Config.Status,
		ActiveCallLimit: d.view.Config.Limitations.ActiveCallLimit, ExternalCallLimit: d.view.Config.Limitations.ExternalCallLimit,
		ActiveCalls: d.active, ExternalCalls: d.external,
	}
	for id, c := range d.view.Customers {
		dl.Customers = append(dl.Customers, CustomerCounters{
			CustomerID: id, Name: c.Config.Name, ClientPrefix: c.Config.ClientPrefix,
			CapacityLimit: c.Config.CapacityLimit, ActiveCalls: d.perCustomer[id],
		})
	}
	return dl
}

// publishLimit emits CUSTOM switchyard::limit with the decision and counters.
func (d *domainActor) publishLimit(limit, caller, dialled string) {
	e := events.NewCustom("switchyard::limit")
	e.Domain = d.view.Name()
	e.Add("Domain", d.view.Name())
	e.Add("Limit", limit)
	e.Add("Decision", "reject")
	e.Add("Active-Calls", strconv.Itoa(d.active))
	e.Add("Active-Call-Limit", strconv.Itoa(d.view.Config.Limitations.ActiveCallLimit))
	e.Add("External-Calls", strconv.Itoa(d.external))
	e.Add("External-Call-Limit", strconv.Itoa(d.view.Config.Limitations.ExternalCallLimit))
	e.Add("Caller", caller)
	e.Add("Destination", dialled)
	d.node.bus.Publish(e)
}
