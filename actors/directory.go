package actors

import (
	"strconv"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// directoryActor loads the tenant configuration, publishes lookup snapshots and keeps one
// DomainActor per domain. Its children restart on failure (the default one-for-one strategy)
// and reload their state.
type directoryActor struct {
	node     *Node
	log      zerolog.Logger
	ready    chan<- error
	domains  map[int64]*actor.PID
	stopping bool // no reload (and no spawn) once stopping: see domainActor.stopping
	// pending coalesces config changes: every change queued before the reload runs is
	// covered by it (a burst of admin writes costs one LoadAll, not one each).
	pending bool
	waiters []*actor.PID
}

// reloadNow is the directory's own trigger to run the coalesced reload.
type reloadNow struct{}

func newDirectory(n *Node, ready chan<- error) *directoryActor {
	return &directoryActor{node: n, log: n.log.With().Str("actor", "directory").Logger(), ready: ready, domains: map[int64]*actor.PID{}}
}

// Receive handles the directory's messages.
func (d *directoryActor) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		err := d.reload(ctx)
		if d.ready != nil {
			d.ready <- err
			d.ready = nil
		}
	case *actor.Stopping:
		d.stopping = true
	case *configChanged:
		if s := ctx.Sender(); s != nil {
			d.waiters = append(d.waiters, s)
		}
		if !d.pending {
			d.pending = true
			ctx.Send(ctx.Self(), &reloadNow{})
		}
	case *reloadNow:
		d.pending = false
		var err error
		if !d.stopping {
			err = d.reload(ctx)
		}
		for _, w := range d.waiters {
			ctx.Send(w, &reloadDone{err: err})
		}
		d.waiters = d.waiters[:0]
	case *actor.Terminated:
		// A domain stopped (deleted); forget it.
		for id, pid := range d.domains {
			if pid.Equal(ctx.Message().(*actor.Terminated).Who) {
				delete(d.domains, id)
				d.node.domains.Delete(id)
			}
		}
	}
}

// reload reads every record, swaps the snapshot and reconciles the domain actors.
// Reading the store here is the one blocking step of a config change (rare, operator-driven).
func (d *directoryActor) reload(ctx actor.Context) error {
	all, err := d.node.store.LoadAll()
	if err != nil {
		d.log.Error().Err(err).Msg("load configuration")
		return err
	}
	snap, err := BuildSnapshot(all)
	if err != nil {
		d.log.Error().Err(err).Msg("build configuration snapshot")
		return err
	}
	d.node.snapshot.Store(snap)
	ctx.Send(d.node.trunks, &trunksUpdated{snap: snap})
	seen := map[int64]bool{}
	for _, dv := range snap.Domains() {
		seen[dv.ID()] = true
		if pid, ok := d.domains[dv.ID()]; ok {
			ctx.Send(pid, &domainConfigUpdated{view: dv, snap: snap})
			continue
		}
		id := dv.ID()
		props := actor.PropsFromProducer(func() actor.Actor { return newDomain(d.node, id) })
		pid, err := ctx.SpawnNamed(props, "domain:"+strconv.FormatInt(id, 10))
		if err != nil {
			d.log.Error().Err(err).Int64("domain_id", id).Msg("spawn domain")
			continue
		}
		d.domains[id] = pid
		d.node.domains.Store(id, pid)
	}
	for id, pid := range d.domains {
		if !seen[id] {
			ctx.Poison(pid)
			delete(d.domains, id)
			d.node.domains.Delete(id)
		}
	}
	return nil
}
