package server

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/esl"
)

// eventNames is FreeSWITCH's EVENT_NAMES (PROTOCOL §7.1): `event` accepts all of them.
var eventNames = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(`CUSTOM CLONE CHANNEL_CREATE CHANNEL_DESTROY CHANNEL_STATE
	CHANNEL_CALLSTATE CHANNEL_ANSWER CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_EXECUTE
	CHANNEL_EXECUTE_COMPLETE CHANNEL_HOLD CHANNEL_UNHOLD CHANNEL_BRIDGE CHANNEL_UNBRIDGE
	CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_OUTGOING CHANNEL_PARK CHANNEL_UNPARK
	CHANNEL_APPLICATION CHANNEL_ORIGINATE CHANNEL_UUID API LOG INBOUND_CHAN OUTBOUND_CHAN STARTUP
	SHUTDOWN PUBLISH UNPUBLISH TALK NOTALK SESSION_CRASH MODULE_LOAD MODULE_UNLOAD DTMF MESSAGE
	PRESENCE_IN NOTIFY_IN PRESENCE_OUT PRESENCE_PROBE MESSAGE_WAITING MESSAGE_QUERY ROSTER CODEC
	BACKGROUND_JOB DETECTED_SPEECH DETECTED_TONE PRIVATE_COMMAND HEARTBEAT TRAP ADD_SCHEDULE
	DEL_SCHEDULE EXE_SCHEDULE RE_SCHEDULE RELOADXML NOTIFY PHONE_FEATURE PHONE_FEATURE_SUBSCRIBE
	SEND_MESSAGE RECV_MESSAGE REQUEST_PARAMS CHANNEL_DATA GENERAL COMMAND SESSION_HEARTBEAT
	CLIENT_DISCONNECTED SERVER_DISCONNECTED SEND_INFO RECV_INFO RECV_RTCP_MESSAGE
	SEND_RTCP_MESSAGE CALL_SECURE NAT RECORD_START RECORD_STOP PLAYBACK_START PLAYBACK_STOP
	CALL_UPDATE FAILURE SOCKET_DATA MEDIA_BUG_START MEDIA_BUG_STOP CONFERENCE_DATA_QUERY
	CONFERENCE_DATA CALL_SETUP_REQ CALL_SETUP_RESULT CALL_DETAIL DEVICE_STATE TEXT
	SHUTDOWN_REQUESTED CERT_RELOAD ALL`) {
		m[n] = true
	}
	return m
}()

// myEventsSet is what `myevents` subscribes (PROTOCOL §3.7).
var myEventsSet = strings.Fields(`CHANNEL_ANSWER CHANNEL_APPLICATION CHANNEL_BRIDGE CHANNEL_CREATE
CHANNEL_DATA CHANNEL_DESTROY CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP
CHANNEL_HANGUP_COMPLETE CHANNEL_ORIGINATE CHANNEL_UUID CHANNEL_OUTGOING CHANNEL_PARK
CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_STATE CHANNEL_UNBRIDGE CHANNEL_UNPARK
DETECTED_SPEECH DTMF NOTALK TALK`)

// canonicalEventName upper-cases a name and strips SWITCH_EVENT_; ok is false if unknown.
func canonicalEventName(tok string) (string, bool) {
	n := strings.TrimPrefix(strings.ToUpper(tok), "SWITCH_EVENT_")
	return n, eventNames[n]
}

// filter is one `filter` entry. raw is the value as typed (compared by `filter delete`).
type filter struct {
	header string
	raw    string
	neg    bool
	value  string         // comparison value without +/- marker
	re     *regexp.Regexp // positive regex filters only; nil if it failed to compile
	isRe   bool
}

func newFilter(header, raw string) filter {
	f := filter{header: header, raw: raw}
	v := strings.TrimLeft(raw, " ")
	switch {
	case strings.HasPrefix(v, "-"):
		f.neg, f.value = true, v[1:]
		return f
	case strings.HasPrefix(v, "+"):
		v = v[1:]
	}
	f.value = v
	if strings.HasPrefix(v, "/") {
		f.isRe = true
		body, flags := v[1:], ""
		if i := strings.LastIndexByte(body, '/'); i >= 0 {
			body, flags = body[:i], body[i+1:]
		}
		prefix := ""
		if strings.Contains(flags, "i") {
			prefix += "i"
		}
		if strings.Contains(flags, "s") {
			prefix += "s"
		}
		if prefix != "" {
			body = "(?" + prefix + ")" + body
		}
		f.re, _ = regexp.Compile(body) // a bad regex never matches
	}
	return f
}

func (f filter) matches(e *events.Event) bool {
	var val string
	found := false
	for _, h := range e.Headers {
		if strings.EqualFold(h.Name, f.header) {
			val, found = h.Value, true
			break
		}
	}
	if !found {
		return false
	}
	if f.isRe && !f.neg {
		return f.re != nil && f.re.MatchString(val)
	}
	return strings.EqualFold(val, f.value)
}

// subState is an immutable snapshot of what a session receives. The reader goroutine replaces
// it (copy-on-write); the bus reads it from publishers through an atomic pointer.
type subState struct {
	seq        uint64 // version, set by session.setState
	format     esl.Format
	all        bool
	names      map[string]bool // subscribed names (CUSTOM = custom events without subclass)
	subclasses map[string]bool
	nixed      map[string]bool // names excluded while all is set
	filters    []filter

	my      bool   // myevents active
	myUUID  string // bound channel ("" = every channel)
	scope   actors.Scope
	allowed map[string]bool // allowed event names; nil = all
}

func (s *subState) clone() *subState {
	c := *s
	c.names = maps.Clone(s.names)
	c.subclasses = maps.Clone(s.subclasses)
	c.nixed = maps.Clone(s.nixed)
	c.filters = slices.Clone(s.filters)
	if c.names == nil {
		c.names = map[string]bool{}
	}
	if c.subclasses == nil {
		c.subclasses = map[string]bool{}
	}
	if c.nixed == nil {
		c.nixed = map[string]bool{}
	}
	return &c
}

func (s *subState) listening() bool {
	return s.all || len(s.names) > 0 || len(s.subclasses) > 0 || s.my
}

// accept decides whether the session receives e: tenant scope, subscription, myevents and
// filters, in that order.
func (s *subState) accept(e *events.Event) bool {
	name := e.EventName()
	if !s.scope.Operator() && e.Domain != s.scope.Domain && name != "HEARTBEAT" {
		return false
	}
	if s.allowed != nil && !s.allowed[name] {
		return false
	}
	if !s.subscribed(e, name) {
		return false
	}
	if s.my {
		uid := e.Get("Unique-ID")
		if uid == "" || (s.myUUID != "" && uid != s.myUUID) {
			return false
		}
	}
	if len(s.filters) == 0 {
		return true
	}
	pass := false
	for _, f := range s.filters {
		if !f.matches(e) {
			continue
		}
		if f.neg {
			return false
		}
		pass = true
	}
	return pass
}

func (s *subState) subscribed(e *events.Event, name string) bool {
	if name == "CUSTOM" {
		sub := e.Subclass()
		if s.all && !s.nixed["CUSTOM"] {
			return true
		}
		if sub == "" {
			return s.names["CUSTOM"]
		}
		return s.subclasses[sub]
	}
	if s.all && !s.nixed[name] {
		return true
	}
	return s.names[name]
}
