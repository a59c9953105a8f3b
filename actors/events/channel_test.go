package events

import (
	"strings"
	"testing"
	"time"
)

func aLeg() *Channel {
	t0 := time.UnixMicro(1714557600671081)
	return &Channel{
		UUID: "d0b1da34-a727-11e4-9728-6f83a2e5e50a", Direction: "inbound", State: "CS_INIT", CallState: "DOWN",
		Name: "sofia/internal/1000@acme.example", PresenceID: "1000@acme.example", Username: "1000", Dialplan: "XML",
		CallerIDName: "Alice Smith", CallerIDNumber: "1000", NetworkAddr: "192.0.2.10", ANI: "1000",
		Destination: "5000", Source: "mod_sofia", Context: "acme.example", ProfileIndex: "1", Created: t0,
		Domain: "acme.example", Variables: []Header{{"sip_call_id", "a84b4c76e66710@192.0.2.10"}},
	}
}

// TestChannelCreateOrder checks the header order of PROTOCOL §6.7.
func TestChannelCreateOrder(t *testing.T) {
	b := fixedBus()
	s := b.Subscribe(SubscribeOptions{})
	ev := ChannelEvent("CHANNEL_CREATE", aLeg(), nil)
	if ev.Domain != "acme.example" {
		t.Fatal("Domain not kept")
	}
	b.Publish(ev)
	e := <-s.C()
	want := strings.Fields(`Event-Name Core-UUID FreeSWITCH-Hostname FreeSWITCH-Switchname FreeSWITCH-IPv4
	FreeSWITCH-IPv6 Event-Date-Local Event-Date-GMT Event-Date-Timestamp Event-Calling-File
	Event-Calling-Function Event-Calling-Line-Number Event-Sequence Channel-State Channel-Call-State
	Channel-State-Number Channel-Name Unique-ID Call-Direction Presence-Call-Direction Channel-HIT-Dialplan
	Channel-Presence-ID Channel-Call-UUID Answer-State Caller-Direction Caller-Logical-Direction
	Caller-Username Caller-Dialplan Caller-Caller-ID-Name Caller-Caller-ID-Number Caller-Orig-Caller-ID-Name
	Caller-Orig-Caller-ID-Number Caller-Network-Addr Caller-ANI Caller-Destination-Number Caller-Unique-ID
	Caller-Source Caller-Context Caller-Channel-Name Caller-Profile-Index Caller-Profile-Created-Time
	Caller-Channel-Created-Time Caller-Channel-Answered-Time Caller-Channel-Progress-Time
	Caller-Channel-Progress-Media-Time Caller-Channel-Hangup-Time Caller-Channel-Transfer-Time
	Caller-Channel-Resurrect-Time Caller-Channel-Bridged-Time Caller-Channel-Last-Hold
	Caller-Channel-Hold-Accum Caller-Screen-Bit Caller-Privacy-Hide-Name Caller-Privacy-Hide-Number
	variable_direction variable_uuid variable_call_uuid variable_sip_call_id variable_domain_name`)
	if got := names(e); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("order\n got %v\nwant %v", got, want)
	}
	for k, v := range map[string]string{"Channel-State-Number": "2", "Answer-State": "ringing", "Caller-Channel-Answered-Time": "0", "Caller-Profile-Created-Time": "1714557600671081", "Channel-HIT-Dialplan": "true"} {
		if e.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, e.Get(k), v)
		}
	}
}

func TestChannelEventVariants(t *testing.T) {
	a, bl := aLeg(), aLeg()
	bl.UUID, bl.Direction = "0a30dd7c-c222-482f-a322-b1218a15f8cd", "outbound"
	tests := []struct {
		name  string
		ev    *Event
		check func(t *testing.T, e *Event)
	}{
		{"state has no variables", ChannelEvent("CHANNEL_STATE", a, nil), func(t *testing.T, e *Event) {
			if e.Get("variable_uuid") != "" {
				t.Fatal("variables on CHANNEL_STATE")
			}
		}},
		{"callstate pre-headers", CallStateEvent(&Channel{UUID: "u", CallState: "RINGING"}, nil, "DOWN"), func(t *testing.T, e *Event) {
			if e.Headers[1].Name != "Original-Channel-Call-State" || e.Headers[2].Value != "2" {
				t.Fatal(e.Headers)
			}
		}},
		{"bridge on A with Other-Leg", BridgeEvent("CHANNEL_BRIDGE", a, bl), func(t *testing.T, e *Event) {
			if e.Headers[1].Value != a.UUID || e.Headers[2].Value != bl.UUID || e.Get("Other-Type") != "originatee" || e.Get("Other-Leg-Unique-ID") != bl.UUID {
				t.Fatal(e.Headers)
			}
		}},
		{"B-leg is originator", ChannelEvent("CHANNEL_ANSWER", bl, a), func(t *testing.T, e *Event) {
			if e.Get("Other-Type") != "originator" || e.Get("Channel-HIT-Dialplan") != "false" {
				t.Fatal(e.Headers)
			}
		}},
		{"execute complete", ExecuteEvent("CHANNEL_EXECUTE_COMPLETE", a, nil, "answer", "", "X", ""), func(t *testing.T, e *Event) {
			if e.Get("Application-UUID") != "X" || e.Get("Application-Response") != "_none_" || e.Get("variable_current_application") != "answer" {
				t.Fatal(e.Headers)
			}
		}},
		{"destroy state number", ChannelEvent("CHANNEL_DESTROY", &Channel{UUID: "u", State: "CS_REPORTING"}, nil), func(t *testing.T, e *Event) {
			if e.Get("Channel-State-Number") != "12" {
				t.Fatal(e.Headers)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, tc.ev) })
	}
}

func TestHangupComplete(t *testing.T) {
	a := aLeg()
	a.Answered = a.Created.Add(4 * time.Second)
	a.State, a.CallState = "CS_REPORTING", "HANGUP"
	a.SetHangup("normal_clearing", 200, a.Created.Add(70*time.Second))
	e := ChannelEvent("CHANNEL_HANGUP_COMPLETE", a, nil)
	if e.Headers[1].Name != "Hangup-Cause" || e.Get("Answer-State") != "hangup" {
		t.Fatal(e.Headers[:3])
	}
	for k, v := range map[string]string{"variable_hangup_cause": "NORMAL_CLEARING", "variable_hangup_cause_q850": "16", "variable_sip_term_status": "200", "variable_proto_specific_hangup_cause": "sip:200", "variable_duration": "70", "variable_billsec": "66"} {
		if e.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, e.Get(k), v)
		}
	}
	n := 0
	for _, h := range e.Headers {
		if h.Name == "Hangup-Cause" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("Hangup-Cause %d times, want 2", n)
	}
}
