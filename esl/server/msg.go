package server

import (
	"context"
	"strings"

	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/esl"
)

// cmdSendEvent fires an event built from the packet (PROTOCOL §3.10): Command and the client's
// headers first, then Event-UUID and Event-Subclass, then the standard block.
func (ss *session) cmdSendEvent(p esl.Parsed, cmd *esl.Command) {
	name, ok := canonicalEventName(strings.TrimSpace(p.Args))
	if !ok || name == "ALL" {
		name = "CLONE"
	}
	id := events.NewUUID()
	hs := []events.Header{{Name: "Command", Value: cmd.Line}}
	subclass := ""
	for _, h := range cmd.Headers {
		if name == "CUSTOM" && strings.EqualFold(h.Name, "Event-Subclass") {
			subclass = h.Value
			continue
		}
		hs = append(hs, h)
	}
	hs = append(hs, events.Header{Name: "Event-UUID", Value: id})
	if name == "CUSTOM" && subclass != "" {
		hs = append(hs, events.Header{Name: "Event-Subclass", Value: subclass})
	}
	e := events.NewFromPacket(name, hs)
	e.Domain = ss.scope().Domain
	e.SetOrigin("mod_event_socket.c", "parse_command", 1)
	if len(cmd.Body) > 0 {
		e.Body = string(cmd.Body)
	}
	// An event addressed to a live channel goes to that channel's queue, not to subscribers.
	if uid := cmd.Get("Unique-ID"); uid == "" || !ss.channelVisible(uid) {
		ss.srv.bus.Publish(e)
	}
	ss.reply("+OK " + id)
}

// cmdSendMsg maps call-command hangup and execute onto the switch facade (§3.11). Unknown and
// foreign uuids get the same -ERR invalid session id (DECISIONS 4).
func (ss *session) cmdSendMsg(p esl.Parsed, cmd *esl.Command) {
	uuid := strings.TrimSpace(p.Args)
	if uuid == "" {
		uuid = cmd.Get("session-id")
	}
	if uuid == "" {
		uuid = ss.cur.myUUID
	}
	ch, ok := ss.findChannel(uuid)
	if !ok {
		ss.reply("-ERR invalid session id [" + esl.EscapeText(uuid) + "]")
		return
	}
	ctx, cancel := ss.apiCtx()
	defer cancel()
	sw, scope := ss.srv.sw, ss.scope()
	switch cc := cmd.Get("call-command"); cc {
	case "hangup":
		if err := sw.Hangup(ctx, scope, uuid, events.ParseCause(cmd.Get("hangup-cause"))); err != nil {
			ss.reply("-ERR invalid session id [" + esl.EscapeText(uuid) + "]")
			return
		}
		ss.reply("+OK")
	case "execute":
		app := cmd.Get("execute-app-name")
		if app == "" {
			ss.reply("+OK")
			return
		}
		arg := cmd.Get("execute-app-arg")
		if !cmd.Has("execute-app-arg") && len(cmd.Body) > 0 && strings.HasPrefix(strings.ToLower(cmd.Get("content-type")), "text/plain") {
			arg = string(cmd.Body)
		}
		appUUID := cmd.Get("Event-UUID")
		if appUUID == "" {
			appUUID = events.NewUUID()
		}
		run, supported := ss.app(app, arg, uuid)
		if !supported {
			ss.reply("-ERR unsupported application " + esl.EscapeText(app))
			return
		}
		ss.reply("+OK")
		vars, _ := sw.ChannelVars(ctx, scope, uuid)
		c := channelFromInfo(ch, vars)
		ex := events.ExecuteEvent("CHANNEL_EXECUTE", c, nil, app, arg, appUUID, "")
		ex.SetOrigin("switch_core_session.c", "switch_core_session_exec", 1)
		ss.srv.bus.Publish(ex)
		resp := run()
		if vars2, err := sw.ChannelVars(ctx, scope, uuid); err == nil {
			c.Variables = vars2
		}
		done := events.ExecuteEvent("CHANNEL_EXECUTE_COMPLETE", c, nil, app, arg, appUUID, resp)
		done.SetOrigin("switch_core_session.c", "switch_core_session_exec", 1)
		ss.srv.bus.Publish(done)
	default:
		ss.reply("-ERR unsupported call-command " + esl.EscapeText(cc))
	}
}

// app returns a runner for the dialplan applications the facade supports: hangup, transfer,
// set/export/unset, bridge (to another live uuid). The runner's result is Application-Response.
func (ss *session) app(name, arg, uuid string) (func() string, bool) {
	sw, scope := ss.srv.sw, ss.scope()
	do := func(f func(ctx context.Context) error) func() string {
		return func() string {
			ctx, cancel := ss.apiCtx()
			defer cancel()
			if err := f(ctx); err != nil {
				return "-ERR " + oneLine(err.Error())
			}
			return ""
		}
	}
	switch name {
	case "hangup":
		return do(func(ctx context.Context) error { return sw.Hangup(ctx, scope, uuid, events.ParseCause(arg)) }), true
	case "transfer":
		dest, _, _ := strings.Cut(strings.TrimSpace(arg), " ")
		return do(func(ctx context.Context) error { return sw.Transfer(ctx, scope, uuid, dest) }), true
	case "set", "export", "unset":
		k, v, _ := strings.Cut(arg, "=")
		if name == "unset" {
			k, v = strings.TrimSpace(arg), ""
		}
		return do(func(ctx context.Context) error { return sw.SetChannelVar(ctx, scope, uuid, k, v) }), true
	case "bridge":
		other := strings.TrimSpace(arg)
		if !ss.channelVisible(other) {
			return nil, false
		}
		return do(func(ctx context.Context) error { return sw.Bridge(ctx, scope, uuid, other) }), true
	}
	return nil, false
}
