package server

import (
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/esl"
)

// defaultTenantAPI is what a tenant (userauth) session may run when its grant lists no APIs.
var defaultTenantAPI = strings.Fields(`status version uptime show create_uuid uuid_exists uuid_dump
uuid_getvar uuid_setvar uuid_kill uuid_bridge uuid_transfer uuid_hold uuid_send_info originate
hupall domain_limits domain_status event_socket_stats`)

// dispatch runs one command; it returns false when the session must stop reading.
func (ss *session) dispatch(cmd *esl.Command) bool {
	p, err := esl.ParseCommand(cmd.Line)
	if err != nil {
		ss.reply("-ERR command not found")
		return true
	}
	if !ss.authed.Load() {
		switch p.Keyword {
		case "auth":
			return ss.cmdAuth(p)
		case "userauth":
			return ss.cmdUserauth(p)
		case "exit":
			return ss.cmdExit()
		case "api":
			ss.apiResponse("-ERR command not found\n")
		default:
			ss.reply("-ERR command not found")
		}
		return true
	}
	switch p.Keyword {
	case "auth", "userauth":
		ss.reply("-ERR command not found")
	case "exit":
		return ss.cmdExit()
	case "api":
		ss.cmdAPI(p)
	case "bgapi":
		ss.cmdBgAPI(p, cmd)
	case "event":
		ss.cmdEvent(p)
	case "nixevent":
		ss.cmdNixEvent(p)
	case "noevents":
		ss.cmdNoEvents()
	case "myevents":
		ss.cmdMyEvents(p)
	case "filter":
		ss.cmdFilter(p)
	case "divert_events":
		ss.cmdDivert(p)
	case "sendevent":
		ss.cmdSendEvent(p, cmd)
	case "sendmsg":
		ss.cmdSendMsg(p, cmd)
	case "log":
		ss.cmdLog(p)
	case "nolog":
		ss.cmdNoLog()
	case "linger":
		ss.cmdLinger(p)
	case "nolinger":
		ss.cmdNoLinger()
	case "getvar":
		ss.cmdGetVar(p)
	case "resume":
		if ss.cur.myUUID == "" {
			ss.reply("-ERR command not found")
		} else {
			ss.reply("+OK")
		}
	default: // connect: outbound only
		ss.reply("-ERR command not found")
	}
	return true
}

func (ss *session) fail() bool {
	ss.srv.authFailed(ss.ip)
	ss.reply("-ERR invalid")
	ss.disconnect(DisconnectReason{Body: esl.DisconnectGoodbye})
	return false
}

func (ss *session) cmdAuth(p esl.Parsed) bool {
	if !p.HasArgs || !ss.srv.checkPassword(p.Args) {
		return ss.fail()
	}
	ss.authed.Store(true)
	ss.subscribe()
	ss.reply("+OK accepted")
	return true
}

func (ss *session) cmdUserauth(p esl.Parsed) bool {
	userDomain, pass, ok := strings.Cut(p.Args, ":")
	if !ok {
		return ss.fail()
	}
	at := strings.LastIndexByte(userDomain, '@')
	if at <= 0 || at == len(userDomain)-1 {
		return ss.fail()
	}
	user, domain := userDomain[:at], userDomain[at+1:]
	g, err := ss.srv.sw.AuthenticateESLUser(user, domain, pass)
	if err != nil || g.Scope.Operator() {
		ss.srv.log.Info().Str("peer", ss.ip.String()).Str("user", user).Str("domain", domain).Msg("esl: userauth refused")
		return ss.fail()
	}
	ss.grant = &g
	apis := g.AllowedAPI
	if len(apis) == 0 {
		apis = defaultTenantAPI
	}
	ss.allowAPI = map[string]bool{}
	for _, a := range apis {
		ss.allowAPI[strings.ToLower(a)] = true
	}
	st := ss.cur.clone()
	st.scope = g.Scope
	ss.scopeV = g.Scope
	evNames := "all"
	if len(g.AllowedEvents) > 0 {
		st.allowed = map[string]bool{}
		for _, n := range g.AllowedEvents {
			if c, ok := canonicalEventName(n); ok {
				st.allowed[c] = true
			}
		}
		evNames = announce(g.AllowedEvents)
	}
	ss.setState(st)
	ss.authed.Store(true)
	ss.subscribe()
	ss.reply("+OK accepted",
		esl.Header{Name: "Allowed-Events", Value: evNames},
		esl.Header{Name: "Allowed-API", Value: announce(apis)},
		esl.Header{Name: "Allowed-LOG", Value: "false"})
	return true
}

// announce joins at most MaxAnnouncedNames names (escaped) for an Allowed-* header.
func announce(names []string) string {
	if len(names) > MaxAnnouncedNames {
		names = names[:MaxAnnouncedNames]
	}
	return esl.EscapeText(strings.Join(names, ","))
}

func (ss *session) cmdExit() bool {
	ss.reply("+OK bye")
	ss.disconnect(DisconnectReason{Body: esl.DisconnectGoodbye})
	return false
}

func (ss *session) apiAllowed(name string) bool {
	return ss.allowAPI == nil || ss.allowAPI[strings.ToLower(strings.TrimSpace(name))]
}

// parseEventTokens reads `event`/`nixevent` arguments into names and CUSTOM subclasses.
func parseEventTokens(toks []string) (names []string, subclasses []string, custom bool) {
	for _, t := range toks {
		if custom {
			subclasses = append(subclasses, t)
			continue
		}
		n, ok := canonicalEventName(t)
		if !ok {
			continue
		}
		if n == "CUSTOM" {
			custom = true
		}
		names = append(names, n)
	}
	return names, subclasses, custom
}

func (ss *session) cmdEvent(p esl.Parsed) {
	toks := strings.Fields(p.Args)
	st := ss.cur.clone()
	if len(toks) > 0 {
		if f, ok := esl.ParseFormat(toks[0]); ok {
			st.format = f
			toks = toks[1:]
		}
	}
	names, subs, _ := parseEventTokens(toks)
	if len(names) == 0 {
		ss.setState(st)
		ss.reply("-ERR no keywords supplied")
		return
	}
	if st.allowed != nil {
		for _, n := range names {
			if n != "ALL" && !st.allowed[n] {
				ss.setState(st)
				ss.reply("-ERR permission denied")
				return
			}
		}
	}
	for _, n := range names {
		if n == "ALL" {
			st.all = true
			clear(st.nixed)
			continue
		}
		st.names[n] = true
		delete(st.nixed, n)
	}
	for _, sc := range subs {
		st.subclasses[sc] = true
	}
	ss.setState(st)
	ss.reply("+OK event listener enabled " + string(st.format))
}

func (ss *session) cmdNixEvent(p esl.Parsed) {
	names, subs, _ := parseEventTokens(strings.Fields(p.Args))
	if len(names) == 0 {
		ss.reply("-ERR no keywords supplied")
		return
	}
	st := ss.cur.clone()
	for _, n := range names {
		if n == "ALL" {
			st.all = false
			clear(st.names)
			clear(st.subclasses)
			clear(st.nixed)
			continue
		}
		if n == "CUSTOM" && len(subs) > 0 {
			continue
		}
		delete(st.names, n)
		if st.all {
			st.nixed[n] = true
		}
	}
	for _, sc := range subs {
		delete(st.subclasses, sc)
	}
	ss.setState(st)
	ss.reply("+OK events nixed")
}

func (ss *session) cmdNoEvents() {
	st := ss.cur
	if !st.listening() {
		ss.reply("-ERR not listening for events")
		return
	}
	n := st.clone()
	n.all, n.my = false, false
	clear(n.names)
	clear(n.subclasses)
	clear(n.nixed)
	ss.setState(n)
	ss.sub.Drain()
	ss.reply("+OK no longer listening for events")
}

func (ss *session) cmdMyEvents(p esl.Parsed) {
	st := ss.cur
	if st.my {
		ss.reply("-ERR aready enabled.")
		return
	}
	toks := strings.Fields(p.Args)
	n := st.clone()
	uuid := ""
	var format esl.Format
	if len(toks) > 0 {
		if f, ok := esl.ParseFormat(toks[0]); ok && len(toks) == 1 {
			format = f
		} else {
			uuid = toks[0]
			if len(toks) > 1 {
				format, _ = esl.ParseFormat(toks[1])
				if format == "" {
					format = esl.FormatPlain
				}
			}
		}
	}
	if uuid != "" && !ss.channelVisible(uuid) {
		if format != "" {
			ss.reply("-ERR invalid uuid")
			return
		}
		uuid = "" // FS: unknown uuid without a format binds to no channel (§3.7)
	}
	if format == esl.FormatJSON || format == esl.FormatXML {
		n.format = format
	}
	n.my, n.myUUID = true, uuid
	for _, name := range myEventsSet {
		n.names[name] = true
	}
	ss.setState(n)
	ss.reply("+OK Events Enabled")
}

// channelVisible reports whether uuid is a live channel in the session's scope.
func (ss *session) channelVisible(uuid string) bool {
	_, ok := ss.findChannel(uuid)
	return ok
}

func (ss *session) findChannel(uuid string) (actors.ChannelInfo, bool) {
	for _, c := range ss.srv.sw.Channels(ss.scope()) {
		if c.UUID == uuid {
			return c, true
		}
	}
	return actors.ChannelInfo{}, false
}

func (ss *session) cmdFilter(p esl.Parsed) {
	args := strings.TrimLeft(p.Args, " ")
	if strings.TrimSpace(args) == "" {
		ss.reply("-ERR command not found")
		return
	}
	st := ss.cur.clone()
	first, rest, _ := strings.Cut(args, " ")
	if strings.EqualFold(first, "delete") {
		h, v, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
		if h == "" {
			ss.reply("-ERR invalid syntax")
			return
		}
		if strings.EqualFold(h, "all") {
			st.filters = nil
		} else {
			kept := st.filters[:0]
			for _, f := range st.filters {
				if strings.EqualFold(f.header, h) && (v == "" || f.raw == v) {
					continue
				}
				kept = append(kept, f)
			}
			st.filters = kept
		}
		ss.setState(st)
		ss.reply("+OK filter deleted. [" + esl.EscapeText(h) + "][" + esl.EscapeText(v) + "]")
		return
	}
	if strings.EqualFold(first, "add") {
		args = strings.TrimLeft(rest, " ")
	}
	h, v, _ := strings.Cut(args, " ")
	if h == "" || v == "" {
		ss.reply("-ERR invalid syntax")
		return
	}
	st.filters = append(st.filters, newFilter(h, v))
	ss.setState(st)
	ss.reply("+OK filter added. [" + esl.EscapeText(h) + "]=[" + esl.EscapeText(v) + "]")
}

func (ss *session) cmdDivert(p esl.Parsed) {
	if ss.cur.myUUID == "" {
		ss.reply("-ERR not controlling a session.")
		return
	}
	v := strings.TrimSpace(p.Args)
	switch {
	case v == "":
		ss.reply("-ERR missing value.")
	case strings.EqualFold(v, "on"):
		ss.reply("+OK events diverted")
	default:
		ss.reply("+OK events not diverted")
	}
}

var logLevels = map[string]int{"console": 0, "alert": 1, "crit": 2, "err": 3, "error": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}

func (ss *session) cmdLog(p esl.Parsed) {
	if ss.grant != nil {
		ss.reply("-ERR permission denied")
		return
	}
	text := p.Args
	level := 7
	switch t := strings.TrimSpace(text); {
	case t == "":
	case strings.EqualFold(t, "disable"):
		level = -1
	default:
		if l, ok := logLevels[strings.ToLower(t)]; ok {
			level = l
			break
		}
		n, err := strconv.Atoi(t)
		if err != nil {
			ss.reply("-ERR invalid log level")
			return
		}
		switch {
		case n == 64:
			ss.reply("-ERR invalid log level")
			return
		case n < 0:
			level = 0
		case n > 64:
			level = 63
		default:
			level = n
		}
	}
	ss.logLevel.Store(int32(level))
	ss.srv.logSink.add(ss)
	ss.reply("+OK log level " + esl.EscapeText(text) + " [" + strconv.Itoa(level) + "]")
}

func (ss *session) cmdNoLog() {
	if ss.logLevel.Load() == -2 {
		ss.reply("-ERR not loging")
		return
	}
	ss.logLevel.Store(-2)
	ss.srv.logSink.remove(ss)
	for {
		select {
		case <-ss.logs:
			continue
		default:
		}
		break
	}
	ss.reply("+OK no longer logging")
}

func (ss *session) cmdLinger(p esl.Parsed) {
	if ss.cur.myUUID == "" {
		ss.reply("-ERR not controlling a session")
		return
	}
	ss.lingerOn.Store(true)
	if !p.HasArgs {
		ss.lingerSec.Store(-1)
		ss.reply("+OK will linger")
		return
	}
	n, _ := strconv.Atoi(strings.TrimSpace(p.Args))
	ss.lingerSec.Store(int64(n))
	ss.reply("+OK will linger " + strconv.Itoa(n) + " seconds")
}

func (ss *session) cmdNoLinger() {
	if ss.cur.myUUID == "" {
		ss.reply("-ERR not controlling a session")
		return
	}
	ss.lingerOn.Store(false)
	ss.reply("+OK will not linger")
}

func (ss *session) cmdGetVar(p esl.Parsed) {
	uuid := ss.cur.myUUID
	if uuid == "" {
		ss.reply("-ERR command not found")
		return
	}
	ctx, cancel := ss.apiCtx()
	defer cancel()
	vars, err := ss.srv.sw.ChannelVars(ctx, ss.scope(), uuid)
	name := strings.TrimSpace(p.Args)
	if err == nil {
		for _, v := range vars {
			if v.Name == name && v.Value != "" {
				ss.reply(esl.EscapeText(v.Value))
				return
			}
		}
	}
	ss.reply("-ERR command not found")
}
