package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/persistence"
)

// cdrWriter batches CDRs into the store with group commit: every CDR that arrives while a
// batch is being written joins the next one, and each sender hears cdrStored only after its
// batch is durable. It is the one actor allowed to block on disk (ARCHITECTURE). Poisoning it
// processes everything queued, so a clean stop loses no CDR.
type cdrWriter struct {
	node    *Node
	log     zerolog.Logger
	batch   persistence.CDRBatch
	waiters []*actor.PID
	pending bool
}

const maxCDRBatch = 512

func newCDRWriter(n *Node) actor.Actor {
	return &cdrWriter{node: n, log: n.log.With().Str("actor", "cdr-writer").Logger()}
}

// Receive queues CDRs and flushes them in batches.
func (w *cdrWriter) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *writeCDR:
		if m.cdr != nil {
			w.batch.Calls = append(w.batch.Calls, *m.cdr)
		}
		w.batch.Incoming = append(w.batch.Incoming, m.incoming...)
		w.batch.Termination = append(w.batch.Termination, m.termination...)
		if s := ctx.Sender(); s != nil {
			w.waiters = append(w.waiters, s)
		}
		if w.batch.Len() >= maxCDRBatch {
			w.flush(ctx)
		} else if !w.pending {
			// The flush message queues behind CDRs already in the mailbox: they join this batch.
			w.pending = true
			ctx.Send(ctx.Self(), &flushCDRs{})
		}
	case *flushCDRs:
		w.pending = false
		w.flush(ctx)
	case *actor.Stopping:
		w.flush(ctx)
	}
}

func (w *cdrWriter) flush(ctx actor.Context) {
	if w.batch.Len() == 0 {
		return
	}
	err := w.node.store.AppendCDRBatch(w.batch)
	if err != nil {
		w.log.Error().Err(err).Int("cdrs", w.batch.Len()).Msg("store cdr batch")
	}
	for _, p := range w.waiters {
		ctx.Send(p, &cdrStored{err: err})
	}
	w.batch, w.waiters = persistence.CDRBatch{}, w.waiters[:0]
}
