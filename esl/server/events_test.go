package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/esl/esltest"
)

// Section D: event, nixevent, noevents, formats.
func TestConformanceEvents(t *testing.T) {
	e := start(t, nil)
	custom := func(sub string) {
		ev := events.NewCustom(sub)
		ev.Add("CC-Action", "agent-status-change")
		e.sw.Bus().Publish(ev)
	}
	marker := func() { e.sw.Bus().Publish(events.New("TRAP")) }
	t.Run("D48 D52 D53 D54 replies", func(t *testing.T) {
		c := e.conn(t)
		for _, tc := range []struct{ send, want string }{
			{"event plain ALL", "+OK event listener enabled plain"},
			{"event plain", "-ERR no keywords supplied"},
			{"event plain NOT_AN_EVENT", "-ERR no keywords supplied"},
			{"event plain NOT_AN_EVENT DTMF", "+OK event listener enabled plain"},
			{"event plain channel_create", "+OK event listener enabled plain"},
			{"event plain SWITCH_EVENT_CHANNEL_CREATE", "+OK event listener enabled plain"},
			{"event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE", "+OK event listener enabled json"},
			{"event CHANNEL_ANSWER", "+OK event listener enabled json"},
			{"nixevent NOPE", "-ERR no keywords supplied"},
			{"events plain all", "+OK event listener enabled plain"},
		} {
			c.Send(tc.send + "\n\n")
			c.ExpectReply(tc.want)
		}
	})
	t.Run("D49 D50 formats", func(t *testing.T) {
		for _, f := range []string{"json", "xml"} {
			c := e.conn(t)
			c.Send("event " + f + " CHANNEL_CREATE\n\n")
			c.ExpectReply("+OK event listener enabled " + f)
			e.addChannel("acme.example")
			if got := c.Read().Get("Content-Type"); got != "text/event-"+f {
				t.Fatalf("%s: %s", f, got)
			}
		}
	})
	t.Run("D55 accumulate D59 nixevent", func(t *testing.T) {
		c := e.conn(t)
		c.Send("event plain CHANNEL_CREATE\n\nevent plain CHANNEL_ANSWER\n\n")
		c.ExpectReply("+OK event listener enabled plain")
		c.ExpectReply("+OK event listener enabled plain")
		ch := e.addChannel("acme.example")
		c.ExpectEvent("CHANNEL_CREATE")
		e.sw.Fire("CHANNEL_ANSWER", ch.UUID)
		c.ExpectEvent("CHANNEL_ANSWER")
		c.Send("event plain ALL\n\nnixevent CHANNEL_STATE\n\n")
		c.ExpectReply("+OK event listener enabled plain")
		c.ExpectReply("+OK events nixed")
		e.sw.Fire("CHANNEL_STATE", ch.UUID)
		e.sw.Fire("CHANNEL_PARK", ch.UUID)
		if ev := c.ExpectEvent("CHANNEL_PARK"); ev == nil {
			t.Fatal("no park")
		}
	})
	t.Run("D56 D57 D58 custom", func(t *testing.T) {
		a, b, all := e.conn(t), e.conn(t), e.conn(t)
		a.Send("event plain CUSTOM callcenter::info\n\n")
		b.Send("event plain TRAP CUSTOM\n\n")
		all.Send("event plain ALL\n\n")
		for _, x := range []*esltest.Conn{a, b, all} {
			x.ExpectReply("+OK event listener enabled plain")
		}
		custom("other::thing")
		custom("callcenter::info")
		marker()
		if ev := a.ExpectEvent("CUSTOM"); ev.Subclass() != "callcenter::info" {
			t.Fatalf("got subclass %q", ev.Subclass())
		}
		f := b.Read() // CUSTOM alone: no subclassed events; TRAP is next
		if !strings.Contains(string(f.Body), "Event-Name: TRAP") {
			t.Fatalf("b got %q", f.Body)
		}
		if ev := all.ExpectEvent("CUSTOM"); ev.Subclass() != "other::thing" {
			t.Fatal("ALL must include every subclass")
		}
		e.sw.Bus().Publish(events.New("HEARTBEAT"))
		all.ExpectEvent("HEARTBEAT")
	})
	t.Run("D61 noevents", func(t *testing.T) {
		c := e.conn(t)
		c.Send("event plain ALL\n\nnoevents\n\n")
		c.ExpectReply("+OK event listener enabled plain")
		c.ExpectReply("+OK no longer listening for events")
		marker()
		c.Send("noevents\n\n")
		c.ExpectReply("-ERR not listening for events")
	})
	t.Run("D63 D64 framing and sequence under load", func(t *testing.T) {
		c := e.conn(t)
		c.Send("event plain ALL\n\n")
		c.ExpectReply("+OK event listener enabled plain")
		go func() {
			for range 200 {
				marker()
			}
		}()
		var last uint64
		apis := 0
		for i := 0; i < 20; i++ {
			c.Send("api version short\n\n")
		}
		for apis < 20 || last < 200 {
			f := c.Read()
			if f.Get("Content-Type") == "api/response" {
				if string(f.Body) != "1.10.12\n" {
					t.Fatalf("api body %q", f.Body)
				}
				apis++
				continue
			}
			ev, err := esltest.ParseEvent(f.Get("Content-Type"), f.Body)
			if err != nil {
				t.Fatal(err)
			}
			seq, _ := strconv.ParseUint(ev.Get("Event-Sequence"), 10, 64)
			if seq <= last {
				t.Fatalf("sequence %d after %d", seq, last)
			}
			last = seq
			if ev.Name() == "TRAP" && seq >= 200 {
				last = 200
			}
		}
	})
}

// Section E: serialization (events produced through the bus and the server).
func TestConformanceSerialization(t *testing.T) {
	e := start(t, nil)
	c := e.conn(t)
	c.Send("event plain ALL\n\n")
	c.ExpectReply("+OK event listener enabled plain")
	ch := e.sw.AddChannel(events.Channel{Domain: "acme.example", Name: "sofia/internal/1000@x:5060", CallerIDName: "Alice Smith", CallerIDNumber: "1000",
		Variables: []events.Header{{Name: "sip_h_X-Foo", Value: "100%"}, {Name: "promo", Value: "%2B a,b/c-d_e.f~"}, {Name: "who", Value: "Müller"}}})
	f := c.Read()
	if f.Get("Content-Type") != "text/event-plain" || f.Headers[0].Name != "Content-Length" {
		t.Fatalf("E68 envelope %v", f.Headers)
	}
	body := string(f.Body)
	t.Run("E65 standard order", func(t *testing.T) {
		want := []string{"Event-Name", "Core-UUID", "FreeSWITCH-Hostname", "FreeSWITCH-Switchname", "FreeSWITCH-IPv4", "FreeSWITCH-IPv6", "Event-Date-Local", "Event-Date-GMT", "Event-Date-Timestamp", "Event-Calling-File", "Event-Calling-Function", "Event-Calling-Line-Number", "Event-Sequence", "Channel-State", "Channel-Call-State", "Channel-State-Number", "Channel-Name", "Unique-ID", "Call-Direction"}
		lines := strings.Split(body, "\n")
		for i, w := range want {
			if !strings.HasPrefix(lines[i], w+": ") {
				t.Fatalf("line %d = %q, want %s (E65/E76)", i, lines[i], w)
			}
		}
	})
	t.Run("E69 E70 E71 encoding", func(t *testing.T) {
		for _, want := range []string{"Caller-Caller-ID-Name: Alice%20Smith\n", "Channel-Name: sofia/internal/1000%40x%3A5060\n",
			"variable_who: M%C3%BCller\n", "variable_promo: %2B%20a,b/c-d_e.f~\n", "variable_sip_h_X-Foo: 100%25\n", "FreeSWITCH-IPv6: %3A%3A1\n"} {
			if !strings.Contains(body, want) {
				t.Errorf("missing %q", want)
			}
		}
	})
	t.Run("E66 dates", func(t *testing.T) {
		ev, _ := esltest.ParseEvent("text/event-plain", f.Body)
		if !regexp.MustCompile(`^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$`).MatchString(ev.Get("Event-Date-GMT")) ||
			!regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`).MatchString(ev.Get("Event-Date-Local")) ||
			!regexp.MustCompile(`^\d{16}$`).MatchString(ev.Get("Event-Date-Timestamp")) {
			t.Fatalf("dates %v", ev.Headers[5:8])
		}
	})
	t.Run("E83 ReadMIMEHeader parses plain payloads", func(t *testing.T) {
		r := textproto.NewReader(bufio.NewReader(bytes.NewReader(f.Body)))
		h, err := r.ReadMIMEHeader()
		if err != nil || h.Get("Unique-Id") != ch.UUID {
			t.Fatalf("%v %v", err, h)
		}
	})
	t.Run("E72 E73 json", func(t *testing.T) {
		j := e.conn(t)
		j.Send("event json BACKGROUND_JOB\n\nbgapi version short\n\n")
		j.ExpectReply("+OK event listener enabled json")
		j.Read()
		p := j.Read().Body
		var m map[string]any
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range m {
			if _, ok := v.(string); !ok {
				t.Fatalf("%s is not a string", k)
			}
		}
		if !strings.HasSuffix(string(p), `"Content-Length":"8","_body":"1.10.12\n"}`) || bytes.ContainsAny(p[len(p)-1:], "\n") || strings.Contains(string(p), `", "`) {
			t.Fatalf("json %q", p)
		}
	})
	t.Run("E75 custom subclass after block", func(t *testing.T) {
		e.sw.Bus().Publish(events.NewCustom("callcenter::info"))
		ev := c.ExpectEvent("CUSTOM")
		if ev.Headers[13].Name != "Event-Subclass" {
			t.Fatalf("headers %v", ev.Headers)
		}
	})
	t.Run("E77 E78 E79 E80 channel data", func(t *testing.T) {
		ev, _ := esltest.ParseEvent("text/event-plain", f.Body)
		if ev.Get("variable_uuid") != ch.UUID || ev.Get("Caller-Unique-ID") != ch.UUID || ev.Get("Caller-Channel-Answered-Time") != "0" {
			t.Fatal("CHANNEL_CREATE data")
		}
		e.sw.Fire("CHANNEL_STATE", ch.UUID)
		if st := c.ExpectEvent("CHANNEL_STATE"); st.Get("variable_uuid") != "" {
			t.Fatal("CHANNEL_STATE must not carry variables")
		}
		c.API("uuid_kill " + ch.UUID)
		hc := c.ExpectEvent("CHANNEL_HANGUP_COMPLETE")
		if hc.Headers[13].Name != "Hangup-Cause" || hc.Get("variable_hangup_cause_q850") != "703" || hc.Get("variable_billsec") == "" || hc.Get("variable_duration") == "" {
			t.Fatalf("hangup complete %v", hc.Headers)
		}
	})
	for _, item := range []string{"E81 modesl json (TestModeslConformance)", "E82 eslgo plain (TestEslgoHabits)"} {
		t.Run(item, func(t *testing.T) { t.Skip("covered by the named client test") })
	}
}

// Section F needs live SIP calls driven through the call actor.
func TestConformanceCallFlow(t *testing.T) {
	for _, item := range []string{"F84", "F85", "F86", "F87", "F88", "F89", "F90", "F91", "F92", "F93", "F94", "F95", "F96", "F97", "F98"} {
		t.Run(item, func(t *testing.T) {
			t.Skip("later issue (SIP calls): needs live SIP calls through the CallActor; builder order is tested in actors/events and HEARTBEAT in TestHeartbeat")
		})
	}
}
