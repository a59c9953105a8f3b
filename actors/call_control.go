package actors

import (
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchyard/switchyard/actors/events"
)

// controlCommand is an ESL control operation on one leg of a live call (uuid_setvar,
// uuid_hold, uuid_send_info). The call answers with an error (nil on success).
type controlCommand struct {
	leg         string // channel uuid
	op          string // "setvar", "hold", "unhold", "info"
	name, value string
	contentType string
	body        []byte
}

// control handles a controlCommand in any state where the legs exist.
func (c *callActor) control(ctx actor.Context, m *controlCommand) {
	ls := c.legByUUID(m.leg)
	if ls == nil {
		ctx.Respond(ErrNoSuchChannel)
		return
	}
	switch m.op {
	case "setvar":
		ls.ch.SetVar(m.name, m.value)
		ctx.Respond(nil)
	case "hold", "unhold":
		partner := c.partner(ls)
		if partner == nil || len(partner.leg.Info().SDP) == 0 {
			ctx.Respond(ErrInvalidRequest)
			return
		}
		// Re-offer the partner's media to this leg, marked sendonly to hold (RFC 3264 §8.4).
		sdp := string(partner.leg.Info().SDP)
		sdp = strings.NewReplacer("a=sendrecv\r\n", "", "a=sendonly\r\n", "", "a=inactive\r\n", "", "a=recvonly\r\n", "").Replace(sdp)
		if m.op == "hold" {
			sdp += "a=sendonly\r\n"
		}
		c.seq++
		c.pending[c.seq] = pendingRelay{hold: m.op == "hold"}
		ls.leg.Reinvite(c.seq, []byte(sdp))
		if m.op == "hold" {
			c.fire(ls, "CHANNEL_HOLD")
			c.setCallState(ls, "HELD")
		} else {
			c.fire(ls, "CHANNEL_UNHOLD")
			c.setCallState(ls, "ACTIVE")
		}
		ctx.Respond(nil)
	case "info":
		c.seq++
		c.pending[c.seq] = pendingRelay{}
		ls.leg.SendRequest(c.seq, "INFO", m.contentType, m.body)
		ctx.Respond(nil)
	default:
		ctx.Respond(ErrInvalidRequest)
	}
}

// channelQuery asks a call for one leg's channel data (uuid_dump / uuid_getvar).
type channelQuery struct{ leg string }

// channelData answers a channelQuery with the leg's CHANNEL_DATA headers (the bus stamps no
// core headers on it: it is never published).
func (c *callActor) channelData(ctx actor.Context, q *channelQuery) {
	ls := c.legByUUID(q.leg)
	if ls == nil {
		ctx.Respond(ErrNoSuchChannel)
		return
	}
	e := events.ChannelEvent("CHANNEL_DATA", ls.ch, c.other(ls))
	ctx.Respond(e.Headers[1:]) // without Event-Name
}

func (c *callActor) legByUUID(uuid string) *legState {
	if c.a != nil && c.a.ch.UUID == uuid {
		return c.a
	}
	for _, ls := range c.bLegs {
		if ls.ch.UUID == uuid {
			return ls
		}
	}
	return nil
}
