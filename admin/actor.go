package admin

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/persistence"
)

// Write actions reported in ConfigChange.Action.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// writeRequest asks the AdminActor to run one store write. exec performs
// exactly one persistence write call (plus reads) so that a failure changes
// nothing.
type writeRequest struct {
	kind   persistence.Kind
	action string
	exec   func() (writeResult, error)
}

// writeResult is what a successful exec produced.
type writeResult struct {
	rec       persistence.Record
	plaintext string // a newly created token, returned once
}

// writeReply is the AdminActor's answer to a writeRequest.
type writeReply struct {
	res writeResult
	err error
}

// adminActor is the single writer of configuration: it serialises every
// admin write, then tells the live switch what changed.
type adminActor struct {
	live LiveSwitch
	log  zerolog.Logger
}

// Receive implements actor.Actor.
func (a *adminActor) Receive(ctx actor.Context) {
	req, ok := ctx.Message().(*writeRequest)
	if !ok {
		return
	}
	res, err := a.run(req)
	if err == nil && a.live != nil && res.rec != nil {
		a.live.ConfigChanged(ConfigChange{Kind: req.kind, DomainID: res.rec.Scope(), ID: res.rec.GetID(), Action: req.action})
	}
	if err == nil {
		a.log.Info().Str("kind", string(req.kind)).Str("action", req.action).Int64("id", idOf(res.rec)).Msg("admin config write")
	}
	ctx.Respond(&writeReply{res: res, err: err})
}

// run executes the write and turns a panic into an error so that one bad
// request cannot restart the writer.
func (a *adminActor) run(req *writeRequest) (res writeResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error().Str("kind", string(req.kind)).Str("action", req.action).Interface("panic", r).Msg("admin write panicked")
			err = fmt.Errorf("%s %s: internal failure", req.action, req.kind)
		}
	}()
	return req.exec()
}

func idOf(rec persistence.Record) int64 {
	if rec == nil {
		return 0
	}
	return rec.GetID()
}

// write sends one write to the AdminActor and waits for its answer.
func (s *Server) write(kind persistence.Kind, action string, exec func() (writeResult, error)) (writeResult, error) {
	f := s.system.Root.RequestFuture(s.pid, &writeRequest{kind: kind, action: action, exec: exec}, writeTimeout)
	v, err := f.Result()
	if err != nil {
		return writeResult{}, fmt.Errorf("%s %s: %w", action, kind, err)
	}
	reply, ok := v.(*writeReply)
	if !ok {
		return writeResult{}, fmt.Errorf("%s %s: unexpected reply %T", action, kind, v)
	}
	return reply.res, reply.err
}
