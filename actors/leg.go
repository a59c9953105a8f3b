package actors

import "time"

// Leg is one SIP call leg as a CallActor drives it. switch/edge implements it with sipgo;
// tests use a fake. Every method returns at once: the edge does the blocking network work on
// the leg's own goroutine and reports what happened as messages (LegRinging, LegAnswered…)
// to the sink the leg was bound to.
type Leg interface {
	// UUID is the channel uuid of this leg (FreeSWITCH Unique-ID).
	UUID() string
	// Info describes the leg for events, CDRs and `show channels`.
	Info() LegInfo
	// Bind sets where the leg reports its messages. It is called once, by the CallActor that
	// owns the leg, before any other method.
	Bind(sink LegSink)

	// Progress sends a provisional response (180 or 183, with optional SDP) on an inbound leg.
	Progress(code int, sdp []byte)
	// Answer sends 200 OK with the SDP on an inbound leg; the leg then reports LegAcked or
	// LegAckTimeout.
	Answer(sdp []byte)
	// Reject sends a final failure response on an inbound leg that is not answered yet.
	// reason becomes a Reason header (`SIP;cause=<code>;text="<reason>"`) when not empty.
	Reject(code int, reason string)
	// Cancel cancels an outbound leg that has not been answered (CANCEL, or nothing when no
	// provisional was received yet and the INVITE is abandoned). The leg reports LegFailed.
	Cancel()
	// Hangup ends an answered leg with BYE (cause goes into a Reason header). The leg reports
	// LegEnded when done.
	Hangup(cause string)
	// Reinvite sends an in-dialog re-INVITE with the SDP; the leg reports LegReinviteAnswered.
	Reinvite(seq uint64, sdp []byte)
	// RespondReinvite answers a re-INVITE this leg received (LegReinviteReceived).
	RespondReinvite(seq uint64, code int, sdp []byte)
	// SendRequest sends an in-dialog request (INFO, OPTIONS, NOTIFY, MESSAGE…) with optional
	// extra headers and reports LegRequestAnswered.
	SendRequest(seq uint64, method string, contentType string, body []byte, headers ...[2]string)
	// RespondRequest answers an in-dialog request this leg received (LegRequestReceived).
	RespondRequest(seq uint64, code int, contentType string, body []byte)
}

// LegSink receives a leg's messages; the CallActor's implementation forwards them to its mailbox.
type LegSink interface {
	Deliver(msg any)
}

// LegInfo describes a leg: its SIP identifiers and its parties.
type LegInfo struct {
	UUID      string
	Direction string // "inbound" or "outbound"
	CallID    string
	LocalTag  string
	RemoteTag string
	FromUser  string
	FromName  string
	ToUser    string
	Remote    string // ip:port of the peer
	Transport string // udp, tcp
	UserAgent string
	Created   time.Time
	// SDP is the offer (inbound legs) or the answer once known (outbound legs).
	SDP []byte
}

// DialRequest asks the edge to place an outbound leg toward one registered contact.
type DialRequest struct {
	UUID         string
	Contact      string // the registered Contact URI
	Destination  string // ip:port to send to (the binding's source address, for NAT)
	Transport    string // udp or tcp
	FromUser     string // caller id number presented to the callee
	FromName     string
	FromDomain   string
	ToUser       string
	ToDomain     string
	SDP          []byte
	Headers      [][2]string // extra headers (e.g. X-Switchyard-Call)
	RingDeadline time.Duration
	// Auth, when set, answers one 401/407 from Auth.Host (a termination gateway).
	Auth *DigestAuth
}

// Dialer creates outbound legs. Dial returns at once; the leg reports to sink.
type Dialer interface {
	Dial(req DialRequest, sink LegSink) Leg
}

// Messages a leg sends to its CallActor.
type (
	// LegRinging: the outbound leg got a provisional response (180/183).
	LegRinging struct {
		Leg  Leg
		Code int
		SDP  []byte
	}
	// LegAnswered: the outbound leg got a 2xx and sent ACK.
	LegAnswered struct {
		Leg Leg
		SDP []byte
	}
	// LegFailed: the outbound leg ended before answer (final failure, timeout, cancelled).
	LegFailed struct {
		Leg    Leg
		Code   int
		Reason string
	}
	// LegCancelled: the caller cancelled the inbound leg before answer (sipgo already sent 487).
	LegCancelled struct{ Leg Leg }
	// LegAcked: the inbound leg's 200 was acknowledged.
	LegAcked struct{ Leg Leg }
	// LegAckTimeout: no ACK for the inbound leg's 200 within 64*T1.
	LegAckTimeout struct{ Leg Leg }
	// LegHungUp: the peer sent BYE on this leg (already answered with 200).
	LegHungUp struct {
		Leg    Leg
		Reason string
		// Confirm, when set, lets the edge answer the BYE with 200 only once the call's CDR
		// is durable (DECISIONS 13). The CallActor calls it exactly once.
		Confirm func()
	}
	// LegEnded: our own Hangup on this leg finished (BYE answered or timed out).
	LegEnded struct{ Leg Leg }
	// LegReinviteReceived: the peer sent a re-INVITE (hold/unhold, codec change).
	LegReinviteReceived struct {
		Leg Leg
		Seq uint64
		SDP []byte
	}
	// LegReinviteAnswered: our re-INVITE on this leg got its final response.
	LegReinviteAnswered struct {
		Leg  Leg
		Seq  uint64
		Code int
		SDP  []byte
	}
	// LegRequestReceived: the peer sent an in-dialog request other than BYE/re-INVITE/ACK.
	LegRequestReceived struct {
		Leg         Leg
		Seq         uint64
		Method      string
		ContentType string
		Body        []byte
		// ReferTo is the Refer-To URI user part of a REFER, and Replaces its Replaces
		// parameter (attended transfer), when Method is REFER.
		ReferTo  string
		Replaces string
	}
	// LegRequestAnswered: our in-dialog request on this leg got its final response.
	LegRequestAnswered struct {
		Leg  Leg
		Seq  uint64
		Code int
	}
)
