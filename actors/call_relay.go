package actors

import (
	"bytes"

	"github.com/asynkron/protoactor-go/actor"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/actors/events"
)

// partner returns the other leg of the bridge.
func (c *callActor) partner(ls *legState) *legState {
	if ls == c.a {
		return c.bridged
	}
	if ls == c.bridged {
		return c.a
	}
	return nil
}

func (c *callActor) legOf(l Leg) *legState {
	if c.a != nil && l.UUID() == c.a.leg.UUID() {
		return c.a
	}
	return c.bLegs[l.UUID()]
}

// relayReinvite passes a re-INVITE (hold, unhold, codec change) to the other leg; a second
// one while the first is pending gets 491 Request Pending (RFC 3261 §14.2).
func (c *callActor) relayReinvite(m *LegReinviteReceived) {
	from := c.legOf(m.Leg)
	to := c.partner(from)
	if from == nil || to == nil {
		m.Leg.RespondReinvite(m.Seq, 481, nil)
		return
	}
	for _, p := range c.pending {
		if p.from != nil {
			m.Leg.RespondReinvite(m.Seq, 491, nil)
			return
		}
	}
	c.seq++
	c.pending[c.seq] = pendingRelay{from: from, seq: m.Seq, hold: isHoldSDP(m.SDP)}
	to.leg.Reinvite(c.seq, m.SDP)
}

// reinviteAnswered returns the far side's answer to the leg that asked, and fires HOLD/UNHOLD.
func (c *callActor) reinviteAnswered(m *LegReinviteAnswered) {
	p, ok := c.pending[m.Seq]
	if !ok {
		return
	}
	delete(c.pending, m.Seq)
	if p.from == nil {
		return // our own re-INVITE (uuid_hold): nobody waits for it
	}
	p.from.leg.RespondReinvite(p.seq, m.Code, m.SDP)
	if m.Code < 200 || m.Code >= 300 {
		return
	}
	held := p.from.ch.CallState == "HELD"
	switch {
	case p.hold && !held:
		p.from.ch.LastHold = time.Now()
		c.fire(p.from, "CHANNEL_HOLD")
		c.setCallState(p.from, "HELD")
	case !p.hold && held:
		p.from.ch.HoldAccum += time.Since(p.from.ch.LastHold)
		c.fire(p.from, "CHANNEL_UNHOLD")
		c.setCallState(p.from, "UNHELD")
		c.setCallState(p.from, "ACTIVE")
	}
}

// relayRequest passes an in-dialog INFO/OPTIONS/MESSAGE/NOTIFY/UPDATE to the other leg; SIP
// INFO with DTMF also fires a DTMF event.
func (c *callActor) relayRequest(ctx actor.Context, m *LegRequestReceived) {
	from := c.legOf(m.Leg)
	to := c.partner(from)
	if from == nil || to == nil {
		m.Leg.RespondRequest(m.Seq, 481, "", nil)
		return
	}
	if m.Method == "INFO" && strings.HasPrefix(strings.ToLower(m.ContentType), "application/dtmf-relay") {
		if d, dur, ok := parseDTMFRelay(m.Body); ok {
			c.publishDTMF(from, d, dur)
		}
	}
	if m.Method == "REFER" {
		// The switch is the referee (RFC 3515): it accepts the REFER and does the transfer
		// itself; the transferee's other party never sees the REFER.
		c.refer(ctx, from, m)
		return
	}
	c.seq++
	c.pending[c.seq] = pendingRelay{from: from, seq: m.Seq}
	to.leg.SendRequest(c.seq, m.Method, m.ContentType, m.Body)
}

func (c *callActor) requestAnswered(m *LegRequestAnswered) {
	p, ok := c.pending[m.Seq]
	if !ok {
		return
	}
	delete(c.pending, m.Seq)
	if p.from != nil {
		p.from.leg.RespondRequest(p.seq, m.Code, "", nil)
	}
}

// isHoldSDP reports whether an SDP offer puts the stream on hold (sendonly/inactive or a
// 0.0.0.0 connection address, RFC 3264 §8.4 and its RFC 2543 predecessor).
func isHoldSDP(sdp []byte) bool {
	return bytes.Contains(sdp, []byte("a=sendonly")) || bytes.Contains(sdp, []byte("a=inactive")) ||
		bytes.Contains(sdp, []byte("c=IN IP4 0.0.0.0"))
}

// parseDTMFRelay reads "Signal=5\r\nDuration=160" bodies.
func parseDTMFRelay(body []byte) (string, int, bool) {
	var digit string
	dur := 160
	for _, line := range strings.Split(string(body), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "signal":
			digit = strings.TrimSpace(v)
		case "duration":
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				dur = n
			}
		}
	}
	return digit, dur, digit != ""
}

// sipToCause maps a received SIP final code to a Q.850 cause (PROTOCOL §7.6).
func sipToCause(code int) string {
	switch code {
	case 200:
		return "NORMAL_CLEARING"
	case 401, 402, 403, 407, 603, 608:
		return "CALL_REJECTED"
	case 404:
		return "UNALLOCATED_NUMBER"
	case 485, 604:
		return "NO_ROUTE_DESTINATION"
	case 408, 504:
		return "RECOVERY_ON_TIMER_EXPIRE"
	case 410:
		return "NUMBER_CHANGED"
	case 480:
		return "NO_USER_RESPONSE"
	case 400, 481, 500, 503:
		return "NORMAL_TEMPORARY_FAILURE"
	case 486, 600:
		return "USER_BUSY"
	case 484:
		return "INVALID_NUMBER_FORMAT"
	case 488, 606:
		return "INCOMPATIBLE_DESTINATION"
	case 502:
		return "NETWORK_OUT_OF_ORDER"
	case 405:
		return "SERVICE_UNAVAILABLE"
	case 487:
		return "ORIGINATOR_CANCEL"
	case 482, 483:
		return "EXCHANGE_ROUTING_ERROR"
	}
	return "NORMAL_UNSPECIFIED"
}

// causeToSIP maps a cause to the SIP response sent to a caller (PROTOCOL §7.6, mod_sofia).
func causeToSIP(cause string) int {
	switch events.ParseCause(cause) {
	case "UNALLOCATED_NUMBER", "NO_ROUTE_TRANSIT_NET", "NO_ROUTE_DESTINATION":
		return 404
	case "USER_BUSY":
		return 486
	case "NO_USER_RESPONSE":
		return 408
	case "CALL_REJECTED", "DECLINE", "REJECT_ALL":
		return 603
	case "NORMAL_CIRCUIT_CONGESTION", "SWITCH_CONGESTION", "NORMAL_TEMPORARY_FAILURE", "REQUESTED_CHAN_UNAVAIL":
		return 503
	case "OUTGOING_CALL_BARRED", "INCOMING_CALL_BARRED":
		return 403
	case "ORIGINATOR_CANCEL":
		return 487
	case "RECOVERY_ON_TIMER_EXPIRE":
		return 504
	}
	return 480
}

func newUUID() string { return events.NewUUID() }
