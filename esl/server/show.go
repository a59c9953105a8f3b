package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/esl"
)

// fsVersionShort is the FreeSWITCH version whose wire behaviour we follow.
const fsVersionShort = "1.10.12"

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// upTime formats a duration as FreeSWITCH does: years … microseconds, singular for 1.
func upTime(d time.Duration) string {
	us := d.Microseconds()
	const (
		usMs  = int64(1000)
		usSec = 1000 * usMs
		usMin = 60 * usSec
		usHr  = 60 * usMin
		usDay = 24 * usHr
		usYr  = 365 * usDay
	)
	y := us / usYr
	us %= usYr
	dd := us / usDay
	us %= usDay
	h := us / usHr
	us %= usHr
	m := us / usMin
	us %= usMin
	s := us / usSec
	us %= usSec
	ms := us / usMs
	us %= usMs
	return strings.Join([]string{plural(y, "year"), plural(dd, "day"), plural(h, "hour"),
		plural(m, "minute"), plural(s, "second"), plural(ms, "millisecond"), plural(us, "microsecond")}, ", ")
}

func (s *Server) uptime(st actors.SwitchStatus) time.Duration {
	if st.Started.IsZero() {
		return 0
	}
	return s.bus.Now().Sub(st.Started)
}

// statusText is `api status` (PROTOCOL §8; trailing spaces on lines 4 and 5 are FS's).
func (s *Server) statusText() string {
	st := s.sw.Status()
	var b strings.Builder
	fmt.Fprintf(&b, "UP %s\n", upTime(s.uptime(st)))
	fmt.Fprintf(&b, "FreeSWITCH (Version %s-switchyard-%s 64bit) is ready\n", fsVersionShort, s.opts.Version)
	fmt.Fprintf(&b, "%d session(s) since startup\n", st.SessionsTotal)
	fmt.Fprintf(&b, "%d session(s) - peak %d, last 5min %d \n", st.SessionsActive, st.SessionsPeak, st.SessionsPeak5m)
	fmt.Fprintf(&b, "%d session(s) per Sec out of max %d, peak %d, last 5min %d \n", int(st.SessionsPerSec), st.MaxSessionsPerS, int(st.SessionsPerSec), int(st.SessionsPerSec))
	fmt.Fprintf(&b, "%d session(s) max\n", st.MaxSessions)
	b.WriteString("min idle cpu 0.00/100.00\n")
	b.WriteString("Current Stack Size/Max 240K/8192K\n")
	return b.String()
}

func (s *Server) uptimeText(unit string) string {
	d := s.uptime(s.sw.Status())
	var n int64
	switch strings.ToLower(unit) {
	case "us":
		n = d.Microseconds()
	case "ms":
		n = d.Milliseconds()
	case "m":
		n = int64(d / time.Minute)
	case "h":
		n = int64(d / time.Hour)
	case "d":
		n = int64(d / (24 * time.Hour))
	default:
		n = int64(d / time.Second)
	}
	return strconv.FormatInt(n, 10)
}

var channelCols = strings.Split("uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,application,application_data,dialplan,context,read_codec,read_rate,read_bit_rate,write_codec,write_rate,write_bit_rate,secure,hostname,presence_id,presence_data,accountcode,callstate,callee_name,callee_num,callee_direction,call_uuid,sent_callee_name,sent_callee_num,initial_cid_name,initial_cid_num,initial_ip_addr,initial_dest,initial_dialplan,initial_context", ",")

var callCols = strings.Split("uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,presence_id,presence_data,accountcode,callstate,callee_name,callee_num,callee_direction,call_uuid,hostname,sent_callee_name,sent_callee_num,b_uuid,b_direction,b_created,b_created_epoch,b_name,b_state,b_cid_name,b_cid_num,b_ip_addr,b_dest,b_presence_id,b_presence_data,b_accountcode,b_callstate,b_callee_name,b_callee_num,b_callee_direction,b_sent_callee_name,b_sent_callee_num,call_created_epoch", ",")

var regCols = strings.Split("reg_user,realm,token,url,expires,network_ip,network_port,network_proto,hostname,metadata", ",")

func channelRow(c actors.ChannelInfo) map[string]string {
	created, epoch := "", ""
	if !c.Created.IsZero() {
		created = c.Created.Local().Format("2006-01-02 15:04:05")
		epoch = strconv.FormatInt(c.Created.Unix(), 10)
	}
	return map[string]string{
		"uuid": c.UUID, "direction": c.Direction, "created": created, "created_epoch": epoch,
		"name": c.Name, "state": c.State, "cid_name": c.CIDName, "cid_num": c.CIDNum,
		"ip_addr": c.IPAddr, "dest": c.Dest, "application": c.Application,
		"application_data": c.ApplicationData, "dialplan": "XML", "context": c.Domain,
		"read_codec": c.ReadCodec, "write_codec": c.WriteCodec, "hostname": c.Hostname,
		"callstate": c.CallState, "call_uuid": c.CallUUID, "initial_cid_name": c.CIDName,
		"initial_cid_num": c.CIDNum, "initial_ip_addr": c.IPAddr, "initial_dest": c.Dest,
		"initial_dialplan": "XML", "initial_context": c.Domain,
	}
}

// show implements `show channels|calls|registrations [count] [like <text>] [as json|xml|delim <sep>]`.
func (ss *session) show(argv []string) string {
	if len(argv) == 0 {
		return "-USAGE: channels|calls|registrations [count] [as json|xml|delim <sep>]\n"
	}
	what := strings.ToLower(argv[0])
	count, like, format, delim := false, "", "", ","
	for i := 1; i < len(argv); i++ {
		switch strings.ToLower(argv[i]) {
		case "count":
			count = true
		case "like":
			if i+1 < len(argv) {
				like = argv[i+1]
				i++
			}
		case "as":
			if i+1 < len(argv) {
				format = strings.ToLower(argv[i+1])
				i++
				if format == "delim" && i+1 < len(argv) {
					delim = argv[i+1]
					i++
				}
			}
		}
	}
	scope := ss.scope()
	var cols []string
	var rows []map[string]string
	switch what {
	case "channels":
		cols = channelCols
		for _, c := range ss.srv.sw.Channels(scope) {
			rows = append(rows, channelRow(c))
		}
	case "calls":
		cols = callCols
		for _, call := range ss.srv.sw.Calls(scope) {
			r := channelRow(call.A)
			r["call_created_epoch"] = r["created_epoch"]
			if call.B != nil {
				for k, v := range channelRow(*call.B) {
					r["b_"+k] = v
				}
			}
			rows = append(rows, r)
		}
	case "registrations":
		cols = regCols
		for _, g := range ss.srv.sw.Registrations(scope) {
			rows = append(rows, map[string]string{
				"reg_user": g.RegUser, "realm": g.Realm, "token": g.Token, "url": g.URL,
				"expires": strconv.FormatInt(g.Expires.Unix(), 10), "network_ip": g.NetworkIP,
				"network_port": g.NetworkPort, "network_proto": g.NetworkProto,
				"hostname": g.Hostname, "metadata": g.UserAgent,
			})
		}
	default:
		return "-USAGE: channels|calls|registrations [count] [as json|xml|delim <sep>]\n"
	}
	if like != "" {
		kept := rows[:0]
		for _, r := range rows {
			for _, k := range []string{"uuid", "name", "cid_name", "cid_num", "dest", "reg_user", "realm"} {
				if strings.Contains(r[k], like) {
					kept = append(kept, r)
					break
				}
			}
		}
		rows = kept
	}
	return formatRows(cols, rows, count, format, delim)
}

func formatRows(cols []string, rows []map[string]string, count bool, format, delim string) string {
	n := strconv.Itoa(len(rows))
	switch format {
	case "json":
		if count {
			return `{"row_count":` + n + `,"rows":[]}`
		}
		if len(rows) == 0 {
			return "{\"row_count\": 0}\n"
		}
		e := &events.Event{}
		var b strings.Builder
		b.WriteString(`{"row_count":` + n + `,"rows":[`)
		for i, r := range rows {
			if i > 0 {
				b.WriteByte(',')
			}
			e.Headers = e.Headers[:0]
			for _, c := range cols {
				e.Headers = append(e.Headers, events.Header{Name: c, Value: r[c]})
			}
			b.Write(esl.MarshalJSON(e))
		}
		b.WriteString("]}")
		return b.String()
	case "xml":
		var b strings.Builder
		b.WriteString(`<result row_count="` + n + "\">\n")
		if !count {
			for i, r := range rows {
				fmt.Fprintf(&b, "  <row row_id=\"%d\">\n", i+1)
				for _, c := range cols {
					fmt.Fprintf(&b, "    <%s>%s</%s>\n", c, xmlText(r[c]), c)
				}
				b.WriteString("  </row>\n")
			}
		}
		b.WriteString("</result>\n")
		return b.String()
	}
	if count || len(rows) == 0 {
		return "\n" + n + " total.\n"
	}
	var b strings.Builder
	b.WriteString(strings.Join(cols, delim))
	b.WriteByte('\n')
	vals := make([]string, len(cols))
	for _, r := range rows {
		for i, c := range cols {
			vals[i] = r[c]
		}
		b.WriteString(strings.Join(vals, delim))
		b.WriteByte('\n')
	}
	b.WriteString("\n" + n + " total.\n")
	return b.String()
}

func xmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// channelFromInfo rebuilds an events.Channel for CHANNEL_DATA and execute events.
func channelFromInfo(c actors.ChannelInfo, vars []events.Header) *events.Channel {
	cs := c.CallState
	return &events.Channel{
		UUID: c.UUID, Direction: c.Direction, State: c.State, CallState: cs, Name: c.Name,
		CallUUID: c.CallUUID, CallerIDName: c.CIDName, CallerIDNumber: c.CIDNum,
		NetworkAddr: c.IPAddr, Destination: c.Dest, Context: c.Domain, Dialplan: "XML",
		Source: "mod_sofia", Created: c.Created, Domain: c.Domain, OtherLeg: c.OtherLeg,
		ReadCodec: c.ReadCodec, WriteCodec: c.WriteCodec, Variables: vars,
	}
}

func (ss *session) uuidDump(ctx context.Context, argv []string) string {
	if len(argv) < 1 {
		return "-USAGE: <uuid> [format]\n"
	}
	ch, ok := ss.findChannel(argv[0])
	if !ok {
		return noSuchChannel
	}
	vars, err := ss.srv.sw.ChannelVars(ctx, ss.scope(), ch.UUID)
	if err != nil {
		return errText(err, noSuchChannel)
	}
	e := events.ChannelEvent("CHANNEL_DATA", channelFromInfo(ch, vars), nil)
	e.SetOrigin("mod_commands.c", "uuid_dump_function", 1)
	ss.srv.bus.Stamp(e)
	format := "txt"
	if len(argv) > 1 {
		format = strings.ToLower(argv[1])
	}
	switch format {
	case "json":
		return string(esl.MarshalJSON(e))
	case "xml":
		return string(esl.MarshalXML(e))
	case "plain":
		var b strings.Builder
		for _, h := range e.Headers {
			b.WriteString(h.Name + ": [" + h.Value + "]\n")
		}
		return b.String()
	}
	return string(esl.MarshalPlain(e))
}

func (ss *session) domainLimits(ctx context.Context, argv []string) string {
	if len(argv) < 1 {
		return "-USAGE: <domain> [as json]\n"
	}
	l, err := ss.srv.sw.DomainLimits(ctx, ss.scope(), argv[0])
	if err != nil {
		if errors.Is(err, actors.ErrUnknownDomain) || errors.Is(err, actors.ErrPermission) {
			return "-ERR unknown domain\n"
		}
		return "-ERR " + oneLine(err.Error()) + "\n"
	}
	if len(argv) >= 3 && strings.EqualFold(argv[1], "as") && strings.EqualFold(argv[2], "json") {
		e := &events.Event{}
		add := func(k, v string) { e.Headers = append(e.Headers, events.Header{Name: k, Value: v}) }
		add("domain", l.Domain)
		add("status", l.Status)
		add("active_calls", strconv.Itoa(l.ActiveCalls))
		add("active_call_limit", strconv.Itoa(l.ActiveCallLimit))
		add("external_calls", strconv.Itoa(l.ExternalCalls))
		add("external_call_limit", strconv.Itoa(l.ExternalCallLimit))
		var b strings.Builder
		obj := esl.MarshalJSON(e)
		b.Write(obj[:len(obj)-1])
		b.WriteString(`,"customers":[`)
		for i, c := range l.Customers {
			if i > 0 {
				b.WriteByte(',')
			}
			ce := &events.Event{Headers: []events.Header{
				{Name: "customer_id", Value: strconv.FormatInt(c.CustomerID, 10)}, {Name: "name", Value: c.Name},
				{Name: "client_prefix", Value: c.ClientPrefix}, {Name: "active_calls", Value: strconv.Itoa(c.ActiveCalls)},
				{Name: "capacity_limit", Value: strconv.Itoa(c.CapacityLimit)},
			}}
			b.Write(esl.MarshalJSON(ce))
		}
		b.WriteString("]}\n")
		return b.String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "domain: %s\nstatus: %s\nactive_calls: %d/%d\nexternal_calls: %d/%d\n",
		l.Domain, l.Status, l.ActiveCalls, l.ActiveCallLimit, l.ExternalCalls, l.ExternalCallLimit)
	for _, c := range l.Customers {
		fmt.Fprintf(&b, "customer: %d %s prefix=%s active=%d/%d\n", c.CustomerID, c.Name, c.ClientPrefix, c.ActiveCalls, c.CapacityLimit)
	}
	return b.String()
}

func (ss *session) socketStats() string {
	var queued, capacity int
	if ss.sub != nil {
		queued, capacity = ss.sub.Len(), ss.sub.Cap()
	}
	return fmt.Sprintf("+OK lost-events=%d queued=%d queue-cap=%d\n", ss.lost(), queued, capacity)
}
