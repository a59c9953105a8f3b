package actors

import (
	"time"

	"github.com/switchyard/switchyard/actors/events"
)

// channelEntry is the last published view of one leg, for `show channels` and uuid_* lookups.
type channelEntry struct {
	info      ChannelInfo
	callID    string // the call uuid (A-leg uuid)
	sipCallID string
}

// trackChannel records a leg's current state; called by its CallActor on every change.
func (n *Node) trackChannel(ch *events.Channel, callUUID string) {
	sipCallID := ch.Var("sip_call_id")
	if sipCallID != "" {
		n.sipCalls.Store(sipCallID, ch.UUID)
	}
	n.channels.Store(ch.UUID, &channelEntry{callID: callUUID, sipCallID: sipCallID, info: ChannelInfo{
		UUID: ch.UUID, Direction: ch.Direction, Created: ch.Created, Name: ch.Name,
		State: ch.State, CallState: ch.CallState, CIDName: ch.CallerIDName, CIDNum: ch.CallerIDNumber,
		IPAddr: ch.NetworkAddr, Dest: ch.Destination, Application: "bridge",
		Domain: ch.Domain, CallUUID: callUUID, OtherLeg: ch.OtherLeg, Hostname: n.opts.Hostname,
		ReadCodec: ch.ReadCodec, WriteCodec: ch.WriteCodec,
	}})
}

func (n *Node) forgetChannel(uuid string) {
	if v, ok := n.channels.LoadAndDelete(uuid); ok {
		if id := v.(*channelEntry).sipCallID; id != "" {
			n.sipCalls.CompareAndDelete(id, uuid)
		}
	}
}

func (n *Node) legStarted() {
	n.sessionsTotal.Add(1)
	v := n.sessionsActive.Add(1)
	for {
		p := n.sessionsPeak.Load()
		if v <= p || n.sessionsPeak.CompareAndSwap(p, v) {
			break
		}
	}
	n.rate.add(time.Now())
}

func (n *Node) legEnded() { n.sessionsActive.Add(-1) }
