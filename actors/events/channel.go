package events

import (
	"strconv"
	"time"
)

// Channel is one call leg as channel events describe it: the data behind the §6.3 channel
// headers, the caller profile and the channel variables. The call actor owns one per leg and
// passes it to ChannelEvent for every event it fires.
type Channel struct {
	UUID      string
	Direction string // "inbound" (A-leg) or "outbound" (B-leg)
	State     string // CS_INIT, CS_ROUTING, CS_EXECUTE, …
	CallState string // DOWN, RINGING, EARLY, ACTIVE, HELD, UNHELD, HANGUP
	// AnswerState is ringing, early, answered or hangup; empty means derived from CallState.
	AnswerState string
	Name        string // sofia/internal/1000@acme.example
	HitDialplan bool   // inbound legs and legs that ran a dialplan
	PresenceID  string
	CallUUID    string // the call's A-leg uuid; empty means UUID
	HangupCause string // set once the leg is hanging up

	ReadCodec, WriteCodec           string // PCMU…; empty until media exists
	ReadRate, WriteRate             int
	ReadBitRate, WriteBitRate       int
	Username, Dialplan, Source      string
	CallerIDName, CallerIDNumber    string
	OrigCallerIDName, OrigCallerNum string // empty means the current caller id
	CalleeIDName, CalleeIDNumber    string
	ANI, NetworkAddr, Destination   string
	Context                         string
	ProfileIndex                    string

	Created, Answered, Progress, ProgressMedia, Hangup time.Time
	Transfer, Bridged, LastHold                        time.Time
	HoldAccum                                          time.Duration

	Domain   string // tenant; copied to Event.Domain (never serialised) and variable_domain_name
	OtherLeg string // uuid of the bridged partner, if any

	// Variables are the channel variables in order, emitted as variable_<name>.
	Variables []Header
}

// SetVar sets (or appends) a channel variable.
func (c *Channel) SetVar(name, value string) {
	for i := range c.Variables {
		if c.Variables[i].Name == name {
			c.Variables[i].Value = value
			return
		}
	}
	c.Variables = append(c.Variables, Header{name, value})
}

// Var returns a channel variable ("" if unset).
func (c *Channel) Var(name string) string {
	for _, v := range c.Variables {
		if v.Name == name {
			return v.Value
		}
	}
	return ""
}

// UnsetVar removes a channel variable.
func (c *Channel) UnsetVar(name string) {
	out := c.Variables[:0]
	for _, v := range c.Variables {
		if v.Name != name {
			out = append(out, v)
		}
	}
	c.Variables = out
}

// withVariables lists the events that carry variable_* headers (PROTOCOL §6.3).
var withVariables = map[string]bool{
	"CHANNEL_CREATE": true, "CHANNEL_ORIGINATE": true, "CHANNEL_UUID": true, "CHANNEL_ANSWER": true,
	"CHANNEL_PARK": true, "CHANNEL_UNPARK": true, "CHANNEL_BRIDGE": true, "CHANNEL_UNBRIDGE": true,
	"CHANNEL_PROGRESS": true, "CHANNEL_PROGRESS_MEDIA": true, "CHANNEL_HANGUP": true,
	"CHANNEL_HANGUP_COMPLETE": true, "CHANNEL_DATA": true, "CHANNEL_EXECUTE": true,
	"CHANNEL_EXECUTE_COMPLETE": true, "CHANNEL_DESTROY": true, "CHANNEL_HOLD": true,
	"CHANNEL_UNHOLD": true, "SESSION_HEARTBEAT": true, "API": true, "RECORD_START": true,
	"RECORD_STOP": true, "PLAYBACK_START": true, "PLAYBACK_STOP": true, "CALL_UPDATE": true,
	"MEDIA_BUG_START": true, "MEDIA_BUG_STOP": true, "TEXT": true, "CUSTOM": true,
}

// ChannelEvent builds a channel event named name for ch, with other as the partner leg (nil if
// none). Header order, which DECISIONS 6 and PROTOCOL §6.3/§6.7/§6.8 fix and clients rely on:
//
//  1. Event-Name (the bus inserts the §6.2 standard block right after it when publishing);
//  2. event-specific headers that precede the channel data: Hangup-Cause on
//     CHANNEL_HANGUP_COMPLETE (added here); Original-Channel-Call-State and
//     Channel-Call-State-Number (CallStateEvent); Bridge-A/B-Unique-ID (BridgeEvent);
//  3. channel data: Channel-State, Channel-Call-State, Channel-State-Number, Channel-Name,
//     Unique-ID, Call-Direction, Presence-Call-Direction, Channel-HIT-Dialplan,
//     Channel-Presence-ID, Channel-Call-UUID, Answer-State, Hangup-Cause, codec headers;
//  4. the Caller-* profile (§6.3 field order, 11 µs time headers, Screen-Bit, Privacy-*);
//  5. Other-Type and the Other-Leg-* profile when other is set ("originatee" on an inbound
//     A-leg, "originator" on an outbound B-leg);
//  6. variable_* (direction, uuid, call_uuid, then ch.Variables in order, then domain_name),
//     only on the events that carry variables (not CHANNEL_STATE, _CALLSTATE, _OUTGOING, DTMF).
//
// Headers with an empty value are left out, as FreeSWITCH drops them. Channel-State-Number is
// the target state's number: 2 on CHANNEL_CREATE (CS_INIT), 12 on CHANNEL_DESTROY. The
// returned event's Domain is ch.Domain. The sequence of events per leg is the caller's job
// (DECISIONS 6, PROTOCOL §7.5).
func ChannelEvent(name string, ch *Channel, other *Channel) *Event {
	e := New(name)
	if ch == nil {
		return e
	}
	e.Domain = ch.Domain
	if name == "CHANNEL_HANGUP_COMPLETE" {
		e.addOpt("Hangup-Cause", ch.HangupCause)
	}
	ch.appendData(e, name, other)
	return e
}

// CallStateEvent builds CHANNEL_CALLSTATE with Original-Channel-Call-State (the state before the
// change) and Channel-Call-State-Number ahead of the channel data (PROTOCOL §7.2).
func CallStateEvent(ch *Channel, other *Channel, original string) *Event {
	e := New("CHANNEL_CALLSTATE")
	if ch == nil {
		return e
	}
	e.Domain = ch.Domain
	e.addOpt("Original-Channel-Call-State", original)
	e.Add("Channel-Call-State-Number", strconv.Itoa(CallStateNumber(ch.CallState)))
	ch.appendData(e, "CHANNEL_CALLSTATE", other)
	return e
}

// BridgeEvent builds CHANNEL_BRIDGE or CHANNEL_UNBRIDGE, fired on the A-leg a, with
// Bridge-A-Unique-ID and Bridge-B-Unique-ID before the channel data and b as the other leg.
func BridgeEvent(name string, a, b *Channel) *Event {
	e := New(name)
	if a == nil || b == nil {
		return e
	}
	e.Domain = a.Domain
	e.Add("Bridge-A-Unique-ID", a.UUID)
	e.Add("Bridge-B-Unique-ID", b.UUID)
	a.appendData(e, name, b)
	return e
}

// ExecuteEvent builds CHANNEL_EXECUTE or CHANNEL_EXECUTE_COMPLETE: channel data, then
// Application, Application-Data, Application-UUID (copied from sendmsg's Event-UUID) and, on
// COMPLETE, Application-Response ("_none_" when the app set none). It also sets the channel
// variable current_application.
func ExecuteEvent(name string, ch *Channel, other *Channel, app, data, appUUID, response string) *Event {
	e := New(name)
	if ch == nil {
		return e
	}
	ch.SetVar("current_application", app)
	e.Domain = ch.Domain
	ch.appendData(e, name, other)
	e.Add("Application", app)
	e.addOpt("Application-Data", data)
	e.Add("Application-UUID", appUUID)
	if name == "CHANNEL_EXECUTE_COMPLETE" {
		if response == "" {
			response = "_none_"
		}
		e.Add("Application-Response", response)
	}
	return e
}

// SetHangup records the end of a leg: Hangup-Cause and the variables clients read on
// CHANNEL_HANGUP / CHANNEL_HANGUP_COMPLETE (hangup_cause, hangup_cause_q850, sip_term_status,
// proto_specific_hangup_cause, start/answer/end epochs, duration, billsec). sipStatus 0 leaves
// the SIP variables out. duration is start→end and billsec answer→end in whole seconds, as in
// FreeSWITCH (DECISIONS 14).
func (c *Channel) SetHangup(cause string, sipStatus int, end time.Time) {
	cause = ParseCause(cause)
	c.HangupCause = cause
	c.Hangup = end
	c.AnswerState = "hangup"
	code, _ := CauseCode(cause)
	if sipStatus > 0 {
		c.SetVar("sip_term_status", strconv.Itoa(sipStatus))
		c.SetVar("proto_specific_hangup_cause", "sip:"+strconv.Itoa(sipStatus))
	}
	c.SetVar("hangup_cause", cause)
	c.SetVar("hangup_cause_q850", strconv.Itoa(code))
	if !c.Created.IsZero() {
		c.SetVar("start_stamp", c.Created.Format("2006-01-02 15:04:05"))
		c.SetVar("start_epoch", strconv.FormatInt(c.Created.Unix(), 10))
	}
	answerEpoch, billsec := int64(0), int64(0)
	if !c.Answered.IsZero() {
		answerEpoch = c.Answered.Unix()
		billsec = end.Unix() - c.Answered.Unix()
	}
	c.SetVar("answer_epoch", strconv.FormatInt(answerEpoch, 10))
	c.SetVar("end_epoch", strconv.FormatInt(end.Unix(), 10))
	duration := int64(0)
	if !c.Created.IsZero() {
		duration = end.Unix() - c.Created.Unix()
	}
	c.SetVar("duration", strconv.FormatInt(max(duration, 0), 10))
	c.SetVar("billsec", strconv.FormatInt(max(billsec, 0), 10))
}

func (e *Event) addOpt(name, value string) {
	if value != "" {
		e.Add(name, value)
	}
}

func (c *Channel) answerState() string {
	if c.AnswerState != "" {
		return c.AnswerState
	}
	switch c.CallState {
	case "HANGUP":
		return "hangup"
	case "ACTIVE", "HELD", "UNHELD":
		return "answered"
	case "EARLY":
		return "early"
	}
	return "ringing"
}

func (c *Channel) appendData(e *Event, name string, other *Channel) {
	stateNum := StateNumber(c.State)
	switch name {
	case "CHANNEL_CREATE":
		if c.State == "CS_INIT" {
			stateNum = StateNumber("CS_ROUTING")
		}
	case "CHANNEL_DESTROY":
		stateNum = StateNumber("CS_DESTROY")
	}
	e.addOpt("Channel-State", c.State)
	e.addOpt("Channel-Call-State", c.CallState)
	if stateNum >= 0 {
		e.Add("Channel-State-Number", strconv.Itoa(stateNum))
	}
	e.addOpt("Channel-Name", c.Name)
	e.Add("Unique-ID", c.UUID)
	e.addOpt("Call-Direction", c.Direction)
	e.addOpt("Presence-Call-Direction", c.Direction)
	hit := c.HitDialplan || c.Direction == "inbound"
	e.Add("Channel-HIT-Dialplan", strconv.FormatBool(hit))
	e.addOpt("Channel-Presence-ID", c.PresenceID)
	e.Add("Channel-Call-UUID", c.callUUID())
	e.Add("Answer-State", c.answerState())
	e.addOpt("Hangup-Cause", c.HangupCause)
	if c.ReadCodec != "" {
		e.Add("Channel-Read-Codec-Name", c.ReadCodec)
		e.Add("Channel-Read-Codec-Rate", strconv.Itoa(c.ReadRate))
		e.Add("Channel-Read-Codec-Bit-Rate", strconv.Itoa(c.ReadBitRate))
	}
	if c.WriteCodec != "" {
		e.Add("Channel-Write-Codec-Name", c.WriteCodec)
		e.Add("Channel-Write-Codec-Rate", strconv.Itoa(c.WriteRate))
		e.Add("Channel-Write-Codec-Bit-Rate", strconv.Itoa(c.WriteBitRate))
	}
	c.appendProfile(e, "Caller")
	if other != nil {
		if c.Direction == "outbound" {
			e.Add("Other-Type", "originator")
		} else {
			e.Add("Other-Type", "originatee")
		}
		other.appendProfile(e, "Other-Leg")
	}
	if !withVariables[name] {
		return
	}
	has := make(map[string]bool, len(c.Variables))
	for _, v := range c.Variables {
		has[v.Name] = true
	}
	if !has["direction"] {
		e.addOpt("variable_direction", c.Direction)
	}
	if !has["uuid"] {
		e.Add("variable_uuid", c.UUID)
	}
	if !has["call_uuid"] {
		e.Add("variable_call_uuid", c.callUUID())
	}
	for _, v := range c.Variables {
		e.addOpt("variable_"+v.Name, v.Value)
	}
	if !has["domain_name"] {
		e.addOpt("variable_domain_name", c.Domain)
	}
}

func (c *Channel) callUUID() string {
	if c.CallUUID != "" {
		return c.CallUUID
	}
	return c.UUID
}

func micros(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMicro(), 10)
}

func (c *Channel) appendProfile(e *Event, p string) {
	e.addOpt(p+"-Direction", c.Direction)
	e.addOpt(p+"-Logical-Direction", c.Direction)
	e.addOpt(p+"-Username", c.Username)
	e.addOpt(p+"-Dialplan", c.Dialplan)
	e.addOpt(p+"-Caller-ID-Name", c.CallerIDName)
	e.addOpt(p+"-Caller-ID-Number", c.CallerIDNumber)
	if c.CallerIDName != "" {
		e.addOpt(p+"-Orig-Caller-ID-Name", firstNonEmpty(c.OrigCallerIDName, c.CallerIDName))
	}
	if c.CallerIDNumber != "" {
		e.addOpt(p+"-Orig-Caller-ID-Number", firstNonEmpty(c.OrigCallerNum, c.CallerIDNumber))
	}
	e.addOpt(p+"-Callee-ID-Name", c.CalleeIDName)
	e.addOpt(p+"-Callee-ID-Number", c.CalleeIDNumber)
	e.addOpt(p+"-Network-Addr", c.NetworkAddr)
	e.addOpt(p+"-ANI", c.ANI)
	e.addOpt(p+"-Destination-Number", c.Destination)
	e.addOpt(p+"-Unique-ID", c.UUID)
	e.addOpt(p+"-Source", c.Source)
	e.addOpt(p+"-Context", c.Context)
	e.addOpt(p+"-Channel-Name", c.Name)
	e.addOpt(p+"-Profile-Index", c.ProfileIndex)
	e.Add(p+"-Profile-Created-Time", micros(c.Created))
	e.Add(p+"-Channel-Created-Time", micros(c.Created))
	e.Add(p+"-Channel-Answered-Time", micros(c.Answered))
	e.Add(p+"-Channel-Progress-Time", micros(c.Progress))
	e.Add(p+"-Channel-Progress-Media-Time", micros(c.ProgressMedia))
	e.Add(p+"-Channel-Hangup-Time", micros(c.Hangup))
	e.Add(p+"-Channel-Transfer-Time", micros(c.Transfer))
	e.Add(p+"-Channel-Resurrect-Time", "0")
	e.Add(p+"-Channel-Bridged-Time", micros(c.Bridged))
	e.Add(p+"-Channel-Last-Hold", micros(c.LastHold))
	e.Add(p+"-Channel-Hold-Accum", strconv.FormatInt(c.HoldAccum.Microseconds(), 10))
	e.Add(p+"-Screen-Bit", "true")
	e.Add(p+"-Privacy-Hide-Name", "false")
	e.Add(p+"-Privacy-Hide-Number", "false")
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
