package server_test

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/esl"
	"github.com/switchyard/switchyard/esl/esltest"
	"github.com/switchyard/switchyard/esl/server"
)

// Section G: sendmsg, sendevent, filter, myevents, misc.
func TestConformanceCommands(t *testing.T) {
	e := start(t, nil)
	c := e.conn(t)
	ch := e.addChannel("acme.example")
	replies := []struct{ name, send, want string }{
		{"G100 unknown uuid", "sendmsg 0000\ncall-command: hangup\n\n", "-ERR invalid session id [0000]"},
		{"G101 no uuid", "sendmsg\ncall-command: hangup\n\n", "-ERR invalid session id []"},
		{"G111 delete all", "filter delete all", "+OK filter deleted. [all][]"},
		{"G112 no value", "filter Event-Name", "-ERR invalid syntax"},
		{"G186 bare filter", "filter", "-ERR command not found"},
		{"G186 bare delete", "filter delete", "-ERR invalid syntax"},
		{"G188 filter escape", "filter X-Tag 100%", "+OK filter added. [X-Tag]=[100%25]"},
		{"G119 divert unbound", "divert_events on", "-ERR not controlling a session."},
		{"G120 linger unbound", "linger", "-ERR not controlling a session"},
		{"G120 nolinger unbound", "nolinger", "-ERR not controlling a session"},
		{"G121 log", "log", "+OK log level  [7]"},
		{"G121 log info", "log info", "+OK log level info [6]"},
		{"G121 log bogus", "log bogus", "-ERR invalid log level"},
		{"G187 disable", "log disable", "+OK log level disable [-1]"},
		{"G187 100", "log 100", "+OK log level 100 [63]"},
		{"G187 -3", "log -3", "+OK log level -3 [0]"},
		{"G187 64", "log 64", "-ERR invalid log level"},
		{"G122 nolog", "nolog", "+OK no longer logging"},
		{"G122 nolog again", "nolog", "-ERR not loging"},
		{"G124 getvar unbound", "getvar uuid", "-ERR command not found"},
		{"G sendmsg unicast", "sendmsg " + ch.UUID + "\ncall-command: unicast\n\n", "-ERR unsupported call-command unicast"},
	}
	for _, tc := range replies {
		t.Run(tc.name, func(t *testing.T) {
			c.Send(strings.TrimSuffix(tc.send, "\n\n") + "\n\n")
			c.ExpectReply(tc.want)
		})
	}
	c.Send("filter delete all\n\n")
	c.ExpectReply("+OK filter deleted. [all][]")
	t.Run("G102 hangup cause", func(t *testing.T) {
		x := e.addChannel("acme.example")
		c.Send("sendmsg " + x.UUID + "\ncall-command: hangup\nhangup-cause: CALL_REJECTED\n\n")
		c.ExpectReply("+OK")
		if rec := e.sw.Recorded(); rec[len(rec)-1] != "Hangup "+x.UUID+" CALL_REJECTED" {
			t.Fatalf("recorded %v", rec)
		}
	})
	t.Run("G93 G99 G103 execute with Event-UUID", func(t *testing.T) {
		w := e.conn(t)
		w.Send("event plain CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE\n\n")
		w.ExpectReply("+OK event listener enabled plain")
		c.Send("sendmsg " + ch.UUID + "\ncall-command: execute\nexecute-app-name: set\nexecute-app-arg: k=v\nEvent-UUID: X-1\n\n")
		c.ExpectReply("+OK")
		ex := w.ExpectEvent("CHANNEL_EXECUTE")
		done := w.ExpectEvent("CHANNEL_EXECUTE_COMPLETE")
		if ex.Get("Application-UUID") != "X-1" || done.Get("Application-UUID") != "X-1" || done.Get("Application") != "set" ||
			done.Get("Application-Response") != "_none_" || done.Get("variable_current_application") != "set" || done.Get("variable_k") != "v" {
			t.Fatalf("execute events %v", done.Headers)
		}
	})
	t.Run("G107 G108 sendevent custom", func(t *testing.T) {
		w := e.conn(t)
		w.Send("event plain CUSTOM acme::test\n\n")
		w.ExpectReply("+OK event listener enabled plain")
		c.Send("sendevent CUSTOM\nEvent-Subclass: acme::test\nfoo: bar\nContent-Length: 5\n\nhello")
		id := strings.TrimPrefix(c.Read().Get("Reply-Text"), "+OK ")
		ev := w.ExpectEvent("CUSTOM")
		names := []string{}
		for _, h := range ev.Headers[:6] {
			names = append(names, h.Name)
		}
		if strings.Join(names, ",") != "Command,foo,Content-Length,Event-UUID,Event-Subclass,Event-Name" || ev.Get("Event-UUID") != id || ev.Body != "hello" {
			t.Fatalf("sendevent %v body %q", ev.Headers, ev.Body)
		}
	})
	t.Run("G182 G183 sendevent to channel and CLONE", func(t *testing.T) {
		w := e.conn(t)
		w.Send("event plain ALL\n\n")
		w.ExpectReply("+OK event listener enabled plain")
		c.Send("sendevent CUSTOM\nEvent-Subclass: acme::test\nUnique-ID: " + ch.UUID + "\n\n")
		c.Read()
		c.Send("sendevent NOT_AN_EVENT\nfoo: bar\n\n")
		c.Read()
		if ev := w.ExpectEvent("CLONE"); ev.Get("foo") != "bar" {
			t.Fatalf("clone %v", ev.Headers)
		}
	})
	t.Run("G109 G110 G113 G114 G115 G185 filters", func(t *testing.T) {
		w := e.conn(t)
		w.Send("event plain ALL\n\nfilter Unique-ID " + ch.UUID + "\n\n")
		w.ExpectReply("+OK event listener enabled plain")
		w.ExpectReply("+OK filter added. [Unique-ID]=[" + ch.UUID + "]")
		other := e.addChannel("acme.example")
		e.sw.Fire("CHANNEL_PARK", ch.UUID)
		if ev := w.ExpectEvent("CHANNEL_PARK"); ev.Get("Unique-ID") != ch.UUID {
			t.Fatal("filtered wrong channel")
		}
		w.Send("filter delete Unique-ID " + ch.UUID + "\n\nfilter Event-Name /^CHANNEL_(ANSWER|HANGUP)$/\n\n")
		w.ExpectReply("+OK filter deleted. [Unique-ID][" + ch.UUID + "]")
		w.ExpectReply("+OK filter added. [Event-Name]=[/^CHANNEL_(ANSWER|HANGUP)$/]")
		e.sw.Fire("CHANNEL_PARK", other.UUID)
		e.sw.Fire("CHANNEL_ANSWER", other.UUID)
		if got := w.Read(); !strings.Contains(string(got.Body), "Event-Name: CHANNEL_ANSWER") {
			t.Fatalf("regex filter let through %q", got.Body[:40])
		}
		w.Send("filter delete all\n\nfilter Event-Name /^channel_answer$/\n\n")
		w.Read()
		w.Read()
		e.sw.Fire("CHANNEL_ANSWER", other.UUID)
		w.Send("filter Event-Name /^channel_park$/i\n\n")
		w.Read()
		e.sw.Fire("CHANNEL_PARK", other.UUID)
		if got := w.Read(); !strings.Contains(string(got.Body), "Event-Name: CHANNEL_PARK") {
			t.Fatal("regex must be case-sensitive without /i and match with /i")
		}
		w.Send("filter delete all\n\nfilter Event-Name channel_answer\n\nfilter Event-Name -/^CHANNEL_/\n\n")
		w.Read()
		w.Read()
		w.Read()
		e.sw.Fire("CHANNEL_ANSWER", other.UUID)
		w.ExpectEvent("CHANNEL_ANSWER")
		w.Send("filter delete all\n\nfilter Event-Name -HEARTBEAT\n\n")
		w.Read()
		w.Read()
		e.sw.Fire("CHANNEL_ANSWER", other.UUID)
		w.Send("filter delete Event-Name -HEARTBEAT\n\nfilter Event-Name TRAP\n\n")
		w.ExpectReply("+OK filter deleted. [Event-Name][-HEARTBEAT]")
		w.Read()
		e.sw.Bus().Publish(events.New("TRAP"))
		w.ExpectEvent("TRAP") // nothing passed while only a negative filter existed
	})
	t.Run("G186 negative delete", func(t *testing.T) {
		w := e.conn(t)
		w.Send("filter Caller-Context -internal\n\nfilter delete Caller-Context internal\n\nfilter delete Caller-Context -internal\n\n")
		w.ExpectReply("+OK filter added. [Caller-Context]=[-internal]")
		w.ExpectReply("+OK filter deleted. [Caller-Context][internal]")
		w.ExpectReply("+OK filter deleted. [Caller-Context][-internal]")
	})
	t.Run("G116 G118 myevents bound", func(t *testing.T) {
		x := e.addChannel("acme.example")
		w := e.conn(t)
		w.Send("myevents " + x.UUID + "\n\nmyevents " + x.UUID + "\n\n")
		w.ExpectReply("+OK Events Enabled")
		w.ExpectReply("-ERR aready enabled.")
		e.sw.Fire("CHANNEL_ANSWER", ch.UUID)
		e.sw.Fire("CHANNEL_PARK", x.UUID)
		if ev := w.ExpectEvent("CHANNEL_PARK"); ev.Get("Unique-ID") != x.UUID {
			t.Fatal("myevents leaked another channel")
		}
		w.Send("getvar caller_id_number\n\n")
		w.ExpectReply("1000")
		c.API("uuid_kill " + x.UUID)
		w.ExpectEvent("CHANNEL_HANGUP")
		w.ExpectEvent("CHANNEL_HANGUP_COMPLETE")
		want := "Content-Type: text/disconnect-notice\nControlled-Session-UUID: " + x.UUID + "\nContent-Disposition: disconnect\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
		if got := w.ExpectClosed(); got != want {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("G117 G184 myevents unknown", func(t *testing.T) {
		w := e.conn(t)
		w.Send("myevents 0000 json\n\n")
		w.ExpectReply("-ERR invalid uuid")
		w.Send("myevents json\n\n")
		w.ExpectReply("+OK Events Enabled")
		e.sw.Bus().Publish(events.New("TRAP"))
		e.sw.Fire("CHANNEL_PARK", ch.UUID)
		if f := w.Read(); f.Get("Content-Type") != "text/event-json" || !strings.Contains(string(f.Body), `"CHANNEL_PARK"`) {
			t.Fatalf("got %q", f.Body)
		}
	})
	t.Run("G188 getvar escaping", func(t *testing.T) {
		x := e.addChannel("acme.example")
		long := strings.Repeat("v", 600)
		for k, v := range map[string]string{"promo": "50% off%41", "nl": "a\nb", "long": long} {
			e.sw.SetChannelVar(t.Context(), scopeAll, x.UUID, k, v)
		}
		w := e.conn(t)
		w.Send("myevents " + x.UUID + "\n\n")
		w.ExpectReply("+OK Events Enabled")
		for _, tc := range [][2]string{{"promo", "50%25 off%2541"}, {"nl", "a%0Ab"}, {"long", long}} {
			w.Send("getvar " + tc[0] + "\n\n")
			w.ExpectReply(tc[1])
		}
		w.Send("linger 5\n\ndivert_events on\n\nresume\n\n")
		w.ExpectReply("+OK will linger 5 seconds")
		w.ExpectReply("+OK events diverted")
		w.ExpectReply("+OK")
	})
	t.Run("G121 G123 G187 log data", func(t *testing.T) {
		quiet := e.conn(t)
		w := e.conn(t)
		w.Send("log info\n\n")
		w.ExpectReply("+OK log level info [6]")
		logger := zerolog.New(e.srv.LogSink())
		logger.Debug().Msg("too verbose")
		logger.Info().Msg("hello log")
		f := w.Read()
		if f.Get("Content-Type") != "log/data" || f.Get("Log-Level") != "6" || !strings.Contains(string(f.Body), "hello log") || !f.Has("User-Data") || !strings.Contains(w.Raw.String(), "User-Data: \n") {
			t.Fatalf("log/data %v %q", f.Headers, f.Body)
		}
		if got := quiet.API("version short"); got != "1.10.12\n" {
			t.Fatalf("quiet session got %q before its reply", got)
		}
	})
	for _, item := range []string{"G104 loops", "G105 modesl execute", "G106 eslgo AnswerCall"} {
		t.Run(item, func(t *testing.T) {
			t.Skip("needs media applications on live calls (later issue: call actor / media); G105 execute completion is covered by TestModeslConformance with `set`")
		})
	}
}

// Section H is outbound mode.
func TestConformanceOutbound(t *testing.T) {
	for i := 125; i <= 142; i++ {
		t.Run(fmt.Sprintf("H%d", i), func(t *testing.T) {
			t.Skip("later issue (outbound ESL sockets, dialplan `socket` app): not part of issue 4")
		})
	}
	for _, i := range []int{189, 190, 191} {
		t.Run(fmt.Sprintf("H%d", i), func(t *testing.T) { t.Skip("later issue (outbound ESL sockets)") })
	}
}

// Section J: robustness and tenant isolation.
func TestConformanceTenants(t *testing.T) {
	e := start(t, nil)
	a := e.tenant(t, "agent@acme.example:secret")
	b := e.tenant(t, "bob@beta.example:pw")
	op := e.conn(t)
	for _, x := range []*esltest.Conn{a, b, op} {
		x.Send("event plain ALL\n\n")
		x.ExpectReply("+OK event listener enabled plain")
	}
	chB := e.addChannel("beta.example")
	chA := e.addChannel("acme.example")
	t.Run("J174 events isolated", func(t *testing.T) {
		if ev := a.ExpectEvent("CHANNEL_CREATE"); ev.Get("Unique-ID") != chA.UUID {
			t.Fatal("tenant A saw tenant B's channel")
		}
		if ev := b.ExpectEvent("CHANNEL_CREATE"); ev.Get("Unique-ID") != chB.UUID {
			t.Fatal("tenant B")
		}
		op.ExpectEvent("CHANNEL_CREATE")
		op.ExpectEvent("CHANNEL_CREATE")
	})
	t.Run("J175 foreign uuid like unknown", func(t *testing.T) {
		a := e.tenant(t, "agent@acme.example:secret")
		unknown := a.API("uuid_kill 00000000-0000-0000-0000-000000000000")
		if got := a.API("uuid_kill " + chB.UUID); got != unknown || got != "-ERR No such channel!\n" {
			t.Fatalf("foreign %q unknown %q", got, unknown)
		}
		a.Send("sendmsg " + chB.UUID + "\ncall-command: hangup\n\n")
		a.ExpectReply("-ERR invalid session id [" + chB.UUID + "]")
		if got := a.API("uuid_getvar " + chB.UUID + " x"); got != "-ERR No such channel!\n" {
			t.Fatalf("%q", got)
		}
		if got := a.API("domain_limits beta.example"); got != "-ERR unknown domain\n" {
			t.Fatalf("%q", got)
		}
	})
	t.Run("J176 show scoped", func(t *testing.T) {
		a := e.tenant(t, "agent@acme.example:secret")
		if got := a.API("show channels"); !strings.HasSuffix(got, "\n1 total.\n") || strings.Contains(got, chB.UUID) {
			t.Fatalf("%q", got)
		}
	})
	t.Run("J178 bgapi scoped", func(t *testing.T) {
		a := e.tenant(t, "agent@acme.example:secret")
		a.Send("event plain BACKGROUND_JOB\n\n")
		a.ExpectReply("+OK event listener enabled plain")
		a.Send("bgapi version short\n\n")
		job := a.Read().Get("Job-UUID")
		if ev := a.ExpectEvent("BACKGROUND_JOB"); ev.Get("Job-UUID") != job {
			t.Fatal("issuer missed its job")
		}
		if ev := op.ExpectEvent("BACKGROUND_JOB"); ev.Get("Job-UUID") != job {
			t.Fatal("operator missed the job")
		}
		e.sw.Bus().Publish(events.New("HEARTBEAT"))
		if ev := b.Read(); !strings.Contains(string(ev.Body), "Event-Name: HEARTBEAT") {
			t.Fatalf("tenant B got %q before HEARTBEAT", ev.Body)
		}
	})
	t.Run("J171 100 concurrent sessions", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				c := e.conn(t)
				c.Send("event plain ALL\n\napi version short\n\n")
				c.ExpectReply("+OK event listener enabled plain")
				f, err := c.ReadErr()
				for err == nil && f.Get("Content-Type") != "api/response" {
					f, err = c.ReadErr()
				}
				if err != nil || string(f.Body) != "1.10.12\n" {
					t.Errorf("session: %v %v", err, f)
				}
			})
		}
		wg.Wait()
	})
	t.Run("J172 close mid-body", func(t *testing.T) {
		c := e.conn(t)
		c.Send("sendevent CUSTOM\nContent-Length: 100\n\nabc")
		_ = c.NetConn().Close()
		syncConn(t, e.conn(t))
	})
	t.Run("J177 malformed", func(t *testing.T) {
		c := e.conn(t)
		c.Send(":\n:\n\n\x00\xff\xfe junk\n\napi version short\n\n")
		c.ExpectReply("-ERR command not found")
		c.ExpectReply("-ERR command not found")
		c.ExpectAPI("1.10.12\n")
	})
	t.Run("J173 outer headers clean", func(t *testing.T) {
		for _, x := range []*esltest.Conn{a, b, op} {
			scanOuter(t, x.Raw.String())
		}
	})
}

// scanOuter checks outer header blocks have no bare % and no control bytes (J173).
func scanOuter(t *testing.T, raw string) {
	t.Helper()
	r := esl.NewReader(strings.NewReader(raw), esl.Limits{MaxBody: 64 << 20})
	for {
		f, err := r.ReadFrame()
		if err != nil {
			return
		}
		for _, h := range f.Headers {
			for i := 0; i < len(h.Value); i++ {
				ch := h.Value[i]
				if ch < 0x20 || ch == 0x7f || (ch == '%' && (i+2 >= len(h.Value) || !isHex(h.Value[i+1]) || !isHex(h.Value[i+2]))) {
					t.Fatalf("bad outer header %s: %q", h.Name, h.Value)
				}
			}
		}
	}
}

func isHex(c byte) bool { return strings.IndexByte("0123456789abcdefABCDEF", c) >= 0 }

// Abuse (RELIABILITY E4, E6, E7, E8).
func TestAbuse(t *testing.T) {
	t.Run("E7 10 MB header line", func(t *testing.T) {
		e := start(t, nil)
		c := e.conn(t)
		go func() {
			_, _ = c.NetConn().Write([]byte("api " + strings.Repeat("x", 10<<20)))
		}()
		if got, _ := c.ReadAll(); got != goodbye { // a reset may follow: we never read the rest
			t.Fatalf("got %q", got)
		}
	})
	for _, cl := range []string{"-1", "abc", "99999999999999999999", "16777217", " 12x"} {
		t.Run("E7 Content-Length "+cl, func(t *testing.T) {
			e := start(t, nil)
			for _, authed := range []bool{false, true} {
				c := esltest.Dial(t, e.addr)
				c.ExpectBytes(esl.AuthRequest)
				if authed {
					c.Send("auth ClueCon\n\n")
					c.ExpectReply("+OK accepted")
				}
				c.Send("sendevent CUSTOM\nContent-Length: " + cl + "\n\n")
				if got := c.ExpectClosed(); got != goodbye {
					t.Fatalf("authed=%v got %q", authed, got)
				}
			}
		})
	}
	t.Run("E8 1000 connections per-IP cap", func(t *testing.T) {
		e := start(t, func(o *server.Options) { o.MaxConnsPerIP = 50 })
		good := e.conn(t)
		var conns []net.Conn
		t.Cleanup(func() {
			for _, c := range conns {
				_ = c.Close()
			}
		})
		refused := 0
		for range 1000 {
			c, err := net.Dial("tcp", e.addr)
			if err != nil {
				refused++
				continue
			}
			conns = append(conns, c)
			buf := make([]byte, len(esl.AuthRequest))
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, _ := c.Read(buf)
			if string(buf[:n]) != esl.AuthRequest {
				refused++
			}
		}
		if refused < 1000-50 {
			t.Fatalf("only %d of 1000 refused with a cap of 50", refused)
		}
		if st := e.srv.Stats(); st.Sessions > 50 {
			t.Fatalf("%d sessions", st.Sessions)
		}
		if got := good.API("version short"); got != "1.10.12\n" {
			t.Fatalf("authenticated client affected: %q", got)
		}
	})
	t.Run("E4 wrong password loop bans", func(t *testing.T) {
		e := start(t, nil)
		for range 5 {
			c := esltest.Dial(t, e.addr)
			c.ExpectBytes(esl.AuthRequest)
			c.Send("auth nope\n\n")
			c.ExpectClosed()
		}
		c := esltest.Dial(t, e.addr)
		if got := c.ExpectClosed(); got != "" {
			t.Fatalf("banned peer got %q", got)
		}
	})
	t.Run("DECISIONS10 insecure bind refused", func(t *testing.T) {
		_, err := server.New(server.Options{Addr: "0.0.0.0:0", Switch: esltest.NewSwitch()})
		if err == nil {
			t.Fatal("non-loopback bind with ClueCon accepted")
		}
		if _, err := server.New(server.Options{Addr: "0.0.0.0:0", Password: "s3cret", Switch: esltest.NewSwitch()}); err != nil {
			t.Fatal(err)
		}
		if _, err := server.New(server.Options{}); err == nil {
			t.Fatal("missing switch accepted")
		}
	})
}

// TestSlowConsumer: a client that never reads while 10k events are published (E6, B30).
func TestSlowConsumer(t *testing.T) {
	e := start(t, func(o *server.Options) { o.EventQueueCap = 1024 })
	stalled := e.conn(t)
	stalled.Send("event plain ALL\n\n")
	healthy := e.conn(t)
	healthy.Send("event plain CUSTOM test::marker\n\n")
	healthy.ExpectReply("+OK event listener enabled plain")
	stalled.ExpectReply("+OK event listener enabled plain")
	pad := strings.Repeat("p", 8<<10)
	got := make(chan int, 1)
	go func() {
		n := 0
		for n < 10 {
			if _, err := healthy.ReadErr(); err != nil {
				break
			}
			n++
		}
		got <- n
	}()
	for i := range 10000 {
		ev := events.New("CHANNEL_CREATE")
		ev.Body = pad
		e.sw.Bus().Publish(ev) // must never block
		if i%1000 == 0 {
			e.sw.Bus().Publish(events.NewCustom("test::marker"))
		}
	}
	if n := <-got; n != 10 {
		t.Fatalf("healthy session got %d of 10 markers", n)
	}
	// The stalled session was killed: its connection ends (after the notice, if it fitted).
	stalled.ExpectClosed()
	if e.sw.Bus().Subscribers() > 1 {
		t.Fatalf("killed subscriber still registered: %d", e.sw.Bus().Subscribers())
	}
}

// TestHeartbeat: HEARTBEAT with FreeSWITCH fields and this session's lost count (F97).
func TestHeartbeat(t *testing.T) {
	e := start(t, func(o *server.Options) { o.Heartbeat = 20 * time.Millisecond })
	c := e.conn(t)
	c.Send("event plain HEARTBEAT\n\n")
	c.ExpectReply("+OK event listener enabled plain")
	ev := c.ExpectEvent("HEARTBEAT")
	for _, h := range []string{"Event-Info", "Up-Time", "Session-Count", "Max-Sessions", "Session-Per-Sec", "Switchyard-Lost-Events"} {
		if ev.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	if ev.Get("Event-Info") != "System Ready" || ev.Get("Switchyard-Lost-Events") != "0" {
		t.Fatalf("%v", ev.Headers)
	}
}
