package actors

import (
	"strconv"
	"time"

	"github.com/switchyard/switchyard/actors/events"
)

// legState is one leg of a call with its channel (the data behind its ESL events).
type legState struct {
	leg   Leg
	ch    *events.Channel
	rang  bool
	ended bool // hangup events published
}

// newChannel builds the event channel of a leg.
func (c *callActor) newChannel(leg Leg, direction string) *events.Channel {
	info := leg.Info()
	ch := &events.Channel{
		UUID:           leg.UUID(),
		Direction:      direction,
		State:          "CS_NEW",
		CallState:      "DOWN",
		Name:           "sofia/internal/" + info.ToUser + "@" + c.spec.domain.Name(),
		HitDialplan:    direction == "inbound",
		CallUUID:       c.uuid,
		Username:       info.FromUser,
		Dialplan:       "XML",
		Source:         "mod_sofia",
		CallerIDName:   info.FromName,
		CallerIDNumber: info.FromUser,
		ANI:            info.FromUser,
		NetworkAddr:    hostOf(info.Remote),
		Destination:    info.ToUser,
		Context:        c.spec.domain.Name(),
		Created:        info.Created,
		Domain:         c.spec.domain.Name(),
	}
	if direction == "inbound" {
		ch.Name = "sofia/internal/" + info.FromUser + "@" + c.spec.domain.Name()
	}
	if ch.Created.IsZero() {
		ch.Created = time.Now()
	}
	ch.SetVar("sip_call_id", info.CallID)
	ch.SetVar("sip_from_user", info.FromUser)
	ch.SetVar("sip_to_user", info.ToUser)
	ch.SetVar("sip_network_ip", hostOf(info.Remote))
	ch.SetVar("sip_user_agent", info.UserAgent)
	ch.SetVar("domain_name", c.spec.domain.Name())
	return ch
}

func (c *callActor) publish(e *events.Event) { c.node.bus.Publish(e) }

// listening reports whether anyone subscribes to events: building channel events costs
// more than the call's own signalling, so nobody listening means none are built.
func (c *callActor) listening() bool { return c.node.bus.Subscribers() > 0 }

func (c *callActor) other(ls *legState) *events.Channel {
	if ls == c.a {
		if c.bridged != nil {
			return c.bridged.ch
		}
		return nil
	}
	if c.a == nil {
		return nil
	}
	return c.a.ch
}

// setState fires CHANNEL_STATE for a running-state change.
func (c *callActor) setState(ls *legState, state string) {
	ls.ch.State = state
	if c.listening() {
		c.publish(events.ChannelEvent("CHANNEL_STATE", ls.ch, c.other(ls)))
	}
	c.node.trackChannel(ls.ch, c.uuid)
}

// setCallState fires CHANNEL_CALLSTATE for a call-state change.
func (c *callActor) setCallState(ls *legState, cs string) {
	if ls.ch.CallState == cs {
		return
	}
	orig := ls.ch.CallState
	ls.ch.CallState = cs
	if c.listening() {
		c.publish(events.CallStateEvent(ls.ch, c.other(ls), orig))
	}
	c.node.trackChannel(ls.ch, c.uuid)
}

func (c *callActor) fire(ls *legState, name string) {
	if c.listening() {
		c.publish(events.ChannelEvent(name, ls.ch, c.other(ls)))
	}
}

// inboundCreated is the A-leg's start (PROTOCOL §7.5 rows 1–2, then `bridge` starts).
func (c *callActor) inboundCreated(ls *legState) {
	c.setState(ls, "CS_INIT")
	c.fire(ls, "CHANNEL_CREATE")
	c.setCallState(ls, "RINGING")
	c.setState(ls, "CS_ROUTING")
	c.setState(ls, "CS_EXECUTE")
	c.publish(events.ExecuteEvent("CHANNEL_EXECUTE", ls.ch, nil, "bridge", c.bridgeData(), "", ""))
}

func (c *callActor) bridgeData() string {
	return "user/" + c.spec.dialled + "@" + c.spec.domain.Name()
}

// outboundCreated is a B-leg's start (row 4).
func (c *callActor) outboundCreated(ls *legState) {
	c.fire(ls, "CHANNEL_OUTGOING")
	c.setState(ls, "CS_INIT")
	c.fire(ls, "CHANNEL_CREATE")
	c.fire(ls, "CHANNEL_ORIGINATE")
	c.setState(ls, "CS_ROUTING")
	c.setState(ls, "CS_CONSUME_MEDIA")
}

// progressed fires CHANNEL_PROGRESS (180) or CHANNEL_PROGRESS_MEDIA (183 with SDP).
func (c *callActor) progressed(ls *legState, media bool) {
	now := time.Now()
	if media {
		if ls.ch.ProgressMedia.IsZero() {
			ls.ch.ProgressMedia = now
		}
		c.fire(ls, "CHANNEL_PROGRESS_MEDIA")
		c.setCallState(ls, "EARLY")
		return
	}
	if ls.ch.Progress.IsZero() {
		ls.ch.Progress = now
	}
	c.fire(ls, "CHANNEL_PROGRESS")
	c.setCallState(ls, "RINGING")
}

func (c *callActor) answered(ls *legState, at time.Time) {
	ls.ch.Answered = at
	ls.ch.AnswerState = "answered"
	c.fire(ls, "CHANNEL_ANSWER")
	c.setCallState(ls, "ACTIVE")
}

// bridgedLegs fires CHANNEL_BRIDGE on the A-leg and CS_EXCHANGE_MEDIA on the B-leg (row 7).
func (c *callActor) bridgedLegs(b *legState) {
	now := time.Now()
	c.a.ch.OtherLeg, b.ch.OtherLeg = b.ch.UUID, c.a.ch.UUID
	c.a.ch.Bridged, b.ch.Bridged = now, now
	b.ch.SetVar("bridge_uuid", c.a.ch.UUID)
	c.a.ch.SetVar("bridge_uuid", b.ch.UUID)
	if c.listening() {
		c.publish(events.BridgeEvent("CHANNEL_BRIDGE", c.a.ch, b.ch))
	}
	c.node.trackChannel(c.a.ch, c.uuid)
	c.setState(b, "CS_EXCHANGE_MEDIA")
}

// hungUp fires the first half of a leg's hangup (rows 8–9): HANGUP, the A-leg's UNBRIDGE and
// bridge completion, CS_HANGUP and CALLSTATE HANGUP. The rest (REPORTING, HANGUP_COMPLETE,
// DESTROY) waits until the CDR is durable (DECISIONS 13).
func (c *callActor) hungUp(ls *legState, cause string, sipCode int) {
	if ls.ended {
		return
	}
	ls.ended = true
	ls.ch.SetHangup(cause, sipCode, time.Now())
	c.fire(ls, "CHANNEL_HANGUP")
	if ls == c.a {
		if c.bridged != nil && !c.a.ch.Bridged.IsZero() {
			c.publish(events.BridgeEvent("CHANNEL_UNBRIDGE", c.a.ch, c.bridged.ch))
		}
		c.publish(events.ExecuteEvent("CHANNEL_EXECUTE_COMPLETE", ls.ch, c.other(ls), "bridge", c.bridgeData(), "", ""))
	}
	c.setState(ls, "CS_HANGUP")
	c.setCallState(ls, "HANGUP")
}

// reported fires the end of a leg's life (row 10) and forgets the channel.
func (c *callActor) reported(ls *legState) {
	c.setState(ls, "CS_REPORTING")
	c.fire(ls, "CHANNEL_HANGUP_COMPLETE")
	c.fire(ls, "CHANNEL_DESTROY")
	ls.ch.State = "CS_DESTROY"
	if c.listening() {
		c.publish(events.ChannelEvent("CHANNEL_STATE", ls.ch, c.other(ls)))
	}
	c.node.forgetChannel(ls.ch.UUID)
}

// publishDTMF fires DTMF for a SIP INFO application/dtmf-relay body.
func (c *callActor) publishDTMF(ls *legState, digit string, duration int) {
	e := events.ChannelEvent("DTMF", ls.ch, c.other(ls))
	e.Add("DTMF-Digit", digit)
	e.Add("DTMF-Duration", strconv.Itoa(duration))
	e.Add("DTMF-Source", "INBAND_SIGNALING")
	c.publish(e)
}

func hostOf(hostport string) string {
	for i := len(hostport) - 1; i >= 0; i-- {
		if hostport[i] == ':' {
			h := hostport[:i]
			if len(h) > 1 && h[0] == '[' {
				return h[1 : len(h)-1]
			}
			return h
		}
	}
	return hostport
}
