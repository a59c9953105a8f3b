package server

import (
	"context"
	"errors"
	"strings"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/esl"
)

func (ss *session) apiCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(ss.srv.ctx, ss.srv.opts.APITimeout)
}

// cmdAPI runs an api command synchronously; the reply is always api/response (§1.4).
func (ss *session) cmdAPI(p esl.Parsed) {
	if !p.HasArgs {
		ss.apiResponse("-ERR command not found\n")
		return
	}
	name, arg := esl.SplitAPI(p.Args)
	if !ss.apiAllowed(name) {
		ss.apiResponse("-ERR permission denied\n")
		return
	}
	ss.announce()
	out := ss.runAPI(name, arg)
	ss.apiResponse(out)
	ss.publishAPIEvent(name, arg)
}

func (ss *session) publishAPIEvent(name, arg string) {
	e := events.New("API")
	e.Domain = ss.scope().Domain
	e.SetOrigin("switch_loadable_module.c", "switch_api_execute", 1)
	e.Add("API-Command", strings.TrimSpace(name))
	if a := strings.TrimSpace(arg); a != "" {
		e.Add("API-Command-Argument", a)
	}
	ss.srv.bus.Publish(e)
}

// cmdBgAPI answers +OK Job-UUID at once and publishes BACKGROUND_JOB with the output later,
// scoped to the issuing tenant (DECISIONS 5).
func (ss *session) cmdBgAPI(p esl.Parsed, cmd *esl.Command) {
	name, arg := esl.SplitAPI(p.Args)
	if !p.HasArgs || !ss.apiAllowed(name) {
		if !p.HasArgs {
			ss.reply("-ERR command not found")
		} else {
			ss.reply("-ERR permission denied")
		}
		return
	}
	job := cmd.Get("Job-UUID")
	if len(job) > 36 {
		job = job[:36]
	}
	if strings.TrimSpace(job) == "" {
		job = events.NewUUID()
	}
	ss.reply("+OK Job-UUID: "+esl.EscapeText(job), esl.Header{Name: "Job-UUID", Value: esl.EscapeText(job)})
	domain := ss.scope().Domain
	ss.bgSlots <- struct{}{}
	ss.bgWG.Add(1)
	go func() {
		defer ss.bgWG.Done()
		defer func() { <-ss.bgSlots }()
		out := ss.runAPI(name, arg)
		e := events.New("BACKGROUND_JOB")
		e.Domain = domain
		e.SetOrigin("mod_event_socket.c", "api_exec", 1)
		e.Add("Job-UUID", job)
		e.Add("Job-Command", name)
		if arg != "" {
			e.Add("Job-Command-Arg", arg)
		}
		e.Body, e.HasBody = out, true
		ss.srv.bus.Publish(e)
		ss.publishAPIEvent(name, arg)
	}()
}

// noSuchChannel is FreeSWITCH's answer for unknown uuids, and for foreign ones (DECISIONS 4).
const noSuchChannel = "-ERR No such channel!\n"

func isNoChannel(err error) bool {
	return errors.Is(err, actors.ErrNoSuchChannel) || errors.Is(err, actors.ErrPermission)
}

// runAPI executes one api command and returns its output (PROTOCOL §3.3, §8).
func (ss *session) runAPI(rawName, rawArg string) string {
	name := strings.ToLower(strings.TrimSpace(rawName))
	arg := strings.TrimSpace(rawArg)
	argv := strings.Fields(arg)
	ctx, cancel := ss.apiCtx()
	defer cancel()
	scope := ss.scope()
	sw := ss.srv.sw
	switch name {
	case "status":
		return ss.srv.statusText()
	case "version":
		if strings.EqualFold(arg, "short") {
			return fsVersionShort + "\n"
		}
		return "FreeSWITCH Version " + fsVersionShort + "-switchyard-" + ss.srv.opts.Version + " (switchyard " + ss.srv.opts.Version + ")\n"
	case "uptime":
		return ss.srv.uptimeText(arg)
	case "create_uuid":
		return events.NewUUID()
	case "show":
		return ss.show(argv)
	case "uuid_exists":
		if len(argv) < 1 {
			return "-USAGE: <uuid>\n"
		}
		if ss.channelVisible(argv[0]) {
			return "true"
		}
		return "false"
	case "uuid_dump":
		return ss.uuidDump(ctx, argv)
	case "uuid_getvar":
		if len(argv) < 2 {
			return "-USAGE: <uuid> <var>\n"
		}
		vars, err := sw.ChannelVars(ctx, scope, argv[0])
		if err != nil {
			return errText(err, noSuchChannel)
		}
		for _, v := range vars {
			// ChannelVars gives uuid_dump's headers: channel variables appear as variable_<name>.
			if (v.Name == argv[1] || v.Name == "variable_"+argv[1]) && v.Value != "" {
				return v.Value
			}
		}
		return "_undef_"
	case "uuid_setvar":
		if len(argv) < 2 {
			return "-USAGE: <uuid> <var> [value]\n"
		}
		val := ""
		if len(argv) > 2 {
			val = strings.Join(argv[2:], " ")
		}
		if err := sw.SetChannelVar(ctx, scope, argv[0], argv[1], val); err != nil {
			return errText(err, noSuchChannel)
		}
		return "+OK\n"
	case "uuid_kill":
		if len(argv) < 1 {
			return "-USAGE: <uuid> [cause]\n"
		}
		cause := "MANAGER_REQUEST"
		if len(argv) > 1 {
			cause = events.ParseCause(argv[1])
		}
		if err := sw.Hangup(ctx, scope, argv[0], cause); err != nil {
			return errText(err, noSuchChannel)
		}
		return "+OK\n"
	case "uuid_bridge":
		if len(argv) < 2 {
			return "-USAGE: <uuid> <other_uuid>\n"
		}
		if err := sw.Bridge(ctx, scope, argv[0], argv[1]); err != nil {
			return errText(err, "-ERR Invalid uuid\n")
		}
		return "+OK " + argv[1] + "\n"
	case "uuid_transfer":
		return ss.uuidTransfer(ctx, argv)
	case "uuid_hold":
		return ss.uuidHold(ctx, argv)
	case "uuid_send_info":
		if len(argv) < 2 {
			return "-USAGE: <uuid> [mime_type mime_subtype] <message>\n"
		}
		ct, body := "text/plain", strings.Join(argv[1:], " ")
		if len(argv) >= 4 {
			ct, body = argv[1]+"/"+argv[2], strings.Join(argv[3:], " ")
		}
		if err := sw.SendInfo(ctx, scope, argv[0], ct, body); err != nil {
			return errText(err, noSuchChannel)
		}
		return "+OK Success\n"
	case "originate":
		req, err := ParseOriginate(arg)
		if err != nil {
			return originateUsage
		}
		uuid, err := sw.Originate(ctx, scope, req)
		if err != nil {
			var ce *actors.CauseError
			if errors.As(err, &ce) {
				return "-ERR " + ce.Cause + "\n"
			}
			if isNoChannel(err) {
				return "-ERR USER_NOT_REGISTERED\n"
			}
			return "-ERR " + oneLine(err.Error()) + "\n"
		}
		return "+OK " + uuid + "\n"
	case "hupall":
		return ss.hupall(ctx, argv)
	case "global_getvar":
		v, _ := sw.GlobalVar(arg)
		return v
	case "reloadxml":
		if err := sw.Reload(ctx); err != nil {
			return "+OK [" + oneLine(err.Error()) + "]\n"
		}
		return "+OK [Success]\n"
	case "domain_limits", "domain_status":
		return ss.domainLimits(ctx, argv)
	case "event_socket_stats":
		return ss.socketStats()
	}
	return "-ERR " + strings.TrimSpace(rawName) + " Command not found!\n"
}

func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// errText maps facade errors: unknown and foreign channels share one answer (DECISIONS 4).
func errText(err error, noChannel string) string {
	var ce *actors.CauseError
	switch {
	case isNoChannel(err):
		return noChannel
	case errors.As(err, &ce):
		return "-ERR " + ce.Cause + "\n"
	}
	return "-ERR " + oneLine(err.Error()) + "\n"
}

func (ss *session) uuidTransfer(ctx context.Context, argv []string) string {
	const usage = "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n"
	if len(argv) < 2 {
		return usage
	}
	uuid, leg, rest := argv[0], "", argv[1:]
	if rest[0] == "-bleg" || rest[0] == "-both" {
		leg, rest = rest[0], rest[1:]
	}
	if len(rest) < 1 {
		return usage
	}
	dest := rest[0]
	targets := []string{uuid}
	if leg != "" {
		ch, ok := ss.findChannel(uuid)
		if !ok {
			return noSuchChannel
		}
		switch {
		case leg == "-bleg" && ch.OtherLeg != "":
			targets = []string{ch.OtherLeg}
		case leg == "-bleg":
			return "-ERR\n"
		case ch.OtherLeg != "":
			targets = []string{uuid, ch.OtherLeg}
		}
	}
	for _, t := range targets {
		if err := ss.srv.sw.Transfer(ctx, ss.scope(), t, dest); err != nil {
			return errText(err, noSuchChannel)
		}
	}
	return "+OK\n"
}

func (ss *session) uuidHold(ctx context.Context, argv []string) string {
	if len(argv) < 1 {
		return "-USAGE: [off|toggle] <uuid> [<display>]\n"
	}
	hold, uuid := true, argv[0]
	switch strings.ToLower(argv[0]) {
	case "off", "toggle":
		if len(argv) < 2 {
			return "-USAGE: [off|toggle] <uuid> [<display>]\n"
		}
		uuid = argv[1]
		hold = false
		if strings.EqualFold(argv[0], "toggle") {
			ch, ok := ss.findChannel(uuid)
			if !ok {
				return "-ERR Operation failed\n"
			}
			hold = ch.CallState != "HELD"
		}
	}
	if err := ss.srv.sw.Hold(ctx, ss.scope(), uuid, hold); err != nil {
		return "-ERR Operation failed\n"
	}
	return "+OK Success\n"
}

func (ss *session) hupall(ctx context.Context, argv []string) string {
	cause := "MANAGER_REQUEST"
	if len(argv) > 0 {
		cause = events.ParseCause(argv[0])
	}
	var name, value string
	if len(argv) >= 3 {
		name, value = argv[1], argv[2]
	}
	if len(argv) >= 5 {
		ss.hangupMatching(ctx, cause, argv[1:])
	} else {
		ss.srv.sw.HangupAll(ctx, ss.scope(), cause, name, value)
	}
	switch {
	case name == "":
		return "+OK hangup all channels with cause " + cause + "\n"
	case len(argv) >= 5:
		return "+OK hangup all channels matching [" + name + "]=[" + value + "]... with cause: " + cause + "\n"
	}
	return "+OK hangup all channels matching [" + name + "]=[" + value + "] with cause: " + cause + "\n"
}

// hangupMatching hangs up the visible channels whose variables match every name/value pair.
func (ss *session) hangupMatching(ctx context.Context, cause string, pairs []string) {
	for _, ch := range ss.srv.sw.Channels(ss.scope()) {
		vars, err := ss.srv.sw.ChannelVars(ctx, ss.scope(), ch.UUID)
		if err != nil {
			continue
		}
		match := true
		for i := 0; i+1 < len(pairs); i += 2 {
			found := false
			for _, v := range vars {
				if v.Name == pairs[i] && v.Value == pairs[i+1] {
					found = true
					break
				}
			}
			match = match && found
		}
		if match {
			_ = ss.srv.sw.Hangup(ctx, ss.scope(), ch.UUID, cause)
		}
	}
}
