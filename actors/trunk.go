package actors

import (
	"context"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/persistence"
)

// TrunkInviteRequest is an INVITE from a carrier that the edge identified as one of the
// incoming trunks (by source address or credentials), before any domain resolution.
type TrunkInviteRequest struct {
	Leg          Leg
	Trunk        *TrunkView
	Dialled      string // the destination field as received (R-URI or To user part)
	CallerNumber string
	CallerName   string
	SDP          []byte
	Received     time.Time
}

// Prober checks a gateway's liveness with an out-of-dialog OPTIONS; the edge implements it.
// It returns the final status code (408 when nothing answered).
type Prober interface {
	Probe(ctx context.Context, addr, transport string) int
}

type (
	trunkInvite     struct{ req *TrunkInviteRequest }
	trunksUpdated   struct{ snap *Snapshot }
	trunkCallStart  struct{ uuid string }
	probeTick       struct{}
	probeResult     struct{ code int }
	gatewayUpdated  struct{ view *GatewayView }
	trunkLiveQuery  struct{}
	trunkLiveStatus struct {
		ActiveCalls int
	}
)

// trunksActor parents one incomingTrunkActor per incoming trunk and one gatewayActor per
// termination gateway, reconciled on every configuration change.
type trunksActor struct {
	node     *Node
	incoming map[int64]*actor.PID
	gateways map[int64]*actor.PID
}

func newTrunks(n *Node) actor.Actor {
	return &trunksActor{node: n, incoming: map[int64]*actor.PID{}, gateways: map[int64]*actor.PID{}}
}

// Receive reconciles trunk and gateway actors.
func (t *trunksActor) Receive(ctx actor.Context) {
	m, ok := ctx.Message().(*trunksUpdated)
	if !ok {
		return
	}
	want := map[int64]bool{}
	for _, tv := range m.snap.IncomingTrunks() {
		want[tv.Config.ID] = true
		if _, ok := t.incoming[tv.Config.ID]; ok {
			continue
		}
		id := tv.Config.ID
		pid, err := ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newIncomingTrunk(t.node, id) }), "incoming:"+strconv.FormatInt(id, 10))
		if err == nil {
			t.incoming[id] = pid
			t.node.trunkPIDs.Store(id, pid)
		}
	}
	for id, pid := range t.incoming {
		if !want[id] {
			ctx.Poison(pid)
			delete(t.incoming, id)
			t.node.trunkPIDs.Delete(id)
		}
	}
	want = map[int64]bool{}
	for _, gv := range m.snap.Gateways() {
		want[gv.Config.ID] = true
		if pid, ok := t.gateways[gv.Config.ID]; ok {
			ctx.Send(pid, &gatewayUpdated{view: gv})
			continue
		}
		g := gv
		pid, err := ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newGateway(t.node, g) }), "gateway:"+strconv.FormatInt(g.Config.ID, 10))
		if err == nil {
			t.gateways[g.Config.ID] = pid
		}
	}
	for id, pid := range t.gateways {
		if !want[id] {
			ctx.Poison(pid)
			delete(t.gateways, id)
			t.node.gatewayUp.Delete(id)
		}
	}
}

// incomingTrunkActor takes a carrier's INVITE: DID lookup (disabled/unknown numbers are
// refused with an incoming-trunk CDR), then hands the call to the DID's domain, and watches the
// calls it passed on (DECISIONS 12).
type incomingTrunkActor struct {
	node   *Node
	id     int64
	log    zerolog.Logger
	active int
	calls  map[string]bool
}

func newIncomingTrunk(n *Node, id int64) actor.Actor {
	return &incomingTrunkActor{node: n, id: id, calls: map[string]bool{},
		log: n.log.With().Str("actor", "incoming-trunk").Int64("trunk_id", id).Logger()}
}

// Receive handles carrier INVITEs and call lifecycle.
func (a *incomingTrunkActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *trunkInvite:
		a.route(ctx, m.req)
	case *trunkCallStart:
		if s := ctx.Sender(); s != nil && !a.calls[s.Id] {
			a.calls[s.Id] = true
			a.active++
			ctx.Watch(s)
		}
	case *actor.Terminated:
		if a.calls[m.Who.Id] {
			delete(a.calls, m.Who.Id)
			a.active--
		}
	case *trunkLiveQuery:
		ctx.Respond(trunkLiveStatus{ActiveCalls: a.active})
	}
}

// route finds the DID and its destination extension and passes the call to the domain.
func (a *incomingTrunkActor) route(ctx actor.Context, req *TrunkInviteRequest) {
	snap := a.node.Snapshot()
	t := req.Trunk
	refuse := func(code int, cause, reason string, n *persistence.Number) {
		req.Leg.Reject(code, reason)
		now := time.Now()
		rec := incomingCDR(req, n, customerName(snap, t.Config.DomainID, numberCustomer(n, t)), code, nonEmpty(reason, cause), nil, now)
		call := inboundRejectionCDR(req, t.Domain, numberCustomer(n, t), code, cause, reason, now)
		ctx.Send(a.node.cdrWriter, &writeCDR{cdr: &call, incoming: []persistence.IncomingTrunkCDR{rec}})
		a.log.Info().Str("did", req.Dialled).Int("code", code).Str("reason", reason).Msg("incoming call refused")
	}
	n, ok := snap.Number(req.Dialled)
	if !ok || n.DomainID != t.Config.DomainID {
		refuse(404, "UNALLOCATED_NUMBER", "", nil)
		return
	}
	if !n.Enabled() {
		refuse(403, "CALL_REJECTED", "number disabled", n)
		return
	}
	d, ok := snap.Domain(n.DomainID)
	if !ok {
		refuse(404, "UNALLOCATED_NUMBER", "", n)
		return
	}
	cust, ok := d.Customers[n.CustomerID]
	var callee *AccountView
	if ok {
		callee = cust.Accounts[n.Destination]
	}
	if callee == nil {
		refuse(404, "UNALLOCATED_NUMBER", "no destination", n)
		return
	}
	pid, ok := a.node.domains.Load(d.ID())
	if !ok {
		refuse(404, "UNALLOCATED_NUMBER", "", n)
		return
	}
	ctx.Send(pid.(*actor.PID), &inboundCall{req: req, number: n, callee: callee, trunk: ctx.Self()})
}

func numberCustomer(n *persistence.Number, t *TrunkView) int64 {
	if n != nil {
		return n.CustomerID
	}
	return t.Config.CustomerID
}

func customerName(snap *Snapshot, domainID, customerID int64) string {
	if d, ok := snap.Domain(domainID); ok {
		if c, ok := d.Customers[customerID]; ok {
			return c.Config.Name
		}
	}
	return ""
}

// incomingCDR builds an incoming-trunk CDR (seed 001 fields).
func incomingCDR(req *TrunkInviteRequest, n *persistence.Number, customer string, code int, reason string, connect *time.Time, end time.Time) persistence.IncomingTrunkCDR {
	rec := persistence.IncomingTrunkCDR{
		ID: req.Leg.UUID(), DomainID: req.Trunk.Config.DomainID, CustomerID: req.Trunk.Config.CustomerID, Customer: customer,
		IncomingTrunkID: req.Trunk.Config.ID, SrcName: req.CallerName, SrcNumber: req.CallerNumber, DstNumber: req.Dialled,
		LegADisconnectCode: code, LegADisconnectReason: reason, TimeStart: req.Received.UTC(), TimeEnd: end.UTC(),
		GlobalTag: req.Leg.UUID(), OrigCallID: req.Leg.Info().CallID,
	}
	if n != nil {
		rec.DIDNumber, rec.CustomerID = n.Number, n.CustomerID
	}
	if connect != nil {
		c := connect.UTC()
		rec.TimeConnect = &c
		rec.Duration = int64(end.Sub(*connect) / time.Second)
	}
	return rec
}

// gatewayActor owns one termination gateway's health: an OPTIONS probe every interval; after
// GatewayDownAfter consecutive failures (no answer, 408, 5xx) routes skip it until a probe
// succeeds again.
type gatewayActor struct {
	node    *Node
	view    *GatewayView
	log     zerolog.Logger
	fails   int
	timer   *time.Timer
	probing bool
}

func newGateway(n *Node, v *GatewayView) actor.Actor {
	return &gatewayActor{node: n, view: v, log: n.log.With().Str("actor", "gateway").Int64("gateway_id", v.Config.ID).Logger()}
}

// Receive runs the probe loop.
func (g *gatewayActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		g.node.gatewayUp.Store(g.view.Config.ID, true)
		g.arm(ctx)
	case *gatewayUpdated:
		g.view = m.view
	case *probeTick:
		prober, ok := g.node.getDialer().(Prober)
		if !ok || g.probing || g.view.Addr == "" {
			g.arm(ctx)
			return
		}
		g.probing = true
		root, self, addr, tr, limit := ctx.ActorSystem().Root, ctx.Self(), g.view.Addr, g.view.Config.Transport, g.node.opts.GatewayProbeTimeout
		go func() {
			c, cancel := context.WithTimeout(context.Background(), limit)
			defer cancel()
			root.Send(self, &probeResult{code: prober.Probe(c, addr, tr)})
		}()
	case *probeResult:
		g.probing = false
		alive := m.code >= 200 && m.code < 500 && m.code != 408
		id := g.view.Config.ID
		if alive {
			if g.fails >= g.node.opts.GatewayDownAfter {
				g.log.Info().Msg("gateway is up again")
			}
			g.fails = 0
			g.node.gatewayUp.Store(id, true)
		} else {
			g.fails++
			if g.fails == g.node.opts.GatewayDownAfter {
				g.log.Warn().Int("code", m.code).Msg("gateway down: skipped by routing until it answers OPTIONS")
				g.node.gatewayUp.Store(id, false)
			}
		}
		g.arm(ctx)
	case *actor.Stopping:
		if g.timer != nil {
			g.timer.Stop()
		}
	}
}

func (g *gatewayActor) arm(ctx actor.Context) {
	if g.node.opts.GatewayProbeInterval <= 0 {
		return
	}
	root, self := ctx.ActorSystem().Root, ctx.Self()
	g.timer = time.AfterFunc(g.node.opts.GatewayProbeInterval, func() { root.Send(self, &probeTick{}) })
}

// GatewayUp reports a gateway's health from its OPTIONS probes (unknown gateways count as up).
func (n *Node) GatewayUp(id int64) bool { return n.gatewayIsUp(id) }

// gatewayIsUp reports the health of a gateway (unknown gateways count as up).
func (n *Node) gatewayIsUp(id int64) bool {
	v, ok := n.gatewayUp.Load(id)
	return !ok || v.(bool)
}

// TrunkInvite hands a carrier's INVITE to its incoming trunk's actor. It never blocks.
func (n *Node) TrunkInvite(req *TrunkInviteRequest) {
	pid, ok := n.trunkPIDs.Load(req.Trunk.Config.ID)
	if !ok {
		req.Leg.Reject(503, "trunk not ready")
		return
	}
	n.system.Root.Send(pid.(*actor.PID), &trunkInvite{req: req})
}

// inboundRejectionCDR is the call record of a carrier call refused before a CallActor existed.
func inboundRejectionCDR(req *TrunkInviteRequest, domain string, customerID int64, code int, cause, reason string, end time.Time) persistence.CDR {
	return persistence.CDR{
		UUID: req.Leg.UUID(), DomainID: req.Trunk.Config.DomainID, Domain: domain, CustomerID: customerID,
		Caller: req.CallerNumber, CallerIDName: req.CallerName, Callee: req.Dialled, Direction: "inbound",
		Start: req.Received.UTC(), End: end.UTC(), Duration: int64(end.Sub(req.Received) / time.Second),
		HangupCause: cause, SIPCode: code, DisconnectedBy: "system", ACallID: req.Leg.Info().CallID, Reason: reason,
	}
}
