package edge

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/actors/events"
)

// TestFloodFromOneSourceSparesOthers: 127.0.0.2 floods INVITEs at up to 20,000/s for a bounded
// 3 s while 127.0.0.3 calls 127.0.0.4; every good call completes, the flooder is cut off after
// about the limit, and one switchyard::flood event is published for the episode.
func TestFloodFromOneSourceSparesOthers(t *testing.T) {
	s := startSwitch(t, switchOpts{security: SecurityOptions{FloodRequests: 200, FloodWindow: 2 * time.Second}})
	s.tenant("acme.example", "10001", "001", "100", "101")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	register(t, s, a, b)
	floods := s.bus.Subscribe(eventsFor("CUSTOM"))
	defer floods.Close()

	attacker, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer attacker.Close()
	var answered atomic.Int64
	go func() {
		buf := make([]byte, 65535)
		for {
			if _, _, err := attacker.ReadFrom(buf); err != nil {
				return
			}
			answered.Add(1)
		}
	}()
	target, _ := net.ResolveUDPAddr("udp", s.addr())
	sent := make(chan int, 1)
	go func() {
		n := 0
		start := time.Now()
		for time.Since(start) < 3*time.Second && n < 60000 {
			for i := 0; i < 200; i++ {
				msg := fmt.Sprintf("INVITE sip:101@acme.example SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-f%d;rport\r\n"+
					"From: <sip:001*100@acme.example>;tag=f%d\r\nTo: <sip:101@acme.example>\r\nCall-ID: flood-%d\r\n"+
					"CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:x@%s>\r\nContent-Length: 0\r\n\r\n",
					attacker.LocalAddr(), n, n, n, attacker.LocalAddr())
				_, _ = attacker.WriteTo([]byte(msg), target)
				n++
			}
			time.Sleep(10 * time.Millisecond) // ≈ 20,000 packets per second
		}
		sent <- n
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 5; i++ {
		c := a.dial(ctx, s.addr(), "101")
		if c.err != nil {
			t.Fatalf("good call %d during the flood: %v", i, c.err)
		}
		recvOr(t, b.invites, "INVITE at the callee")
		if err := c.hangup(); err != nil {
			t.Fatal(err)
		}
	}
	total := <-sent
	got := answered.Load()
	t.Logf("flooder sent %d INVITEs, got %d answers", total, got)
	if got > 1000 {
		t.Fatalf("flooder got %d answers: flood control did not cut it off", got)
	}
	count := 0
	for len(floods.C()) > 0 {
		if e := <-floods.C(); e.Subclass() == "switchyard::flood" {
			count++
			if e.Get("Network-IP") != "127.0.0.2" {
				t.Fatalf("flood event names %q", e.Get("Network-IP"))
			}
		}
	}
	if count != 1 {
		t.Fatalf("%d flood events, want exactly 1 per episode", count)
	}
}

// TestBruteForceBan: K failed digest checks from one source ban it (DECISIONS 3): while banned
// even the right password gets no answer, other sources are served, one ban event and an audit
// entry are written, and the admin-facing Bans/LiftBan work.
func TestBruteForceBan(t *testing.T) {
	s := startSwitch(t, switchOpts{security: SecurityOptions{BanFailures: 5, BanWindow: time.Minute, BanTime: time.Minute}})
	s.tenant("acme.example", "10001", "001", "100", "101")
	bans := s.bus.Subscribe(events.SubscribeOptions{Filter: func(e *events.Event) bool { return e.Subclass() == "switchyard::ban" }})
	defer bans.Close()
	cracker := newPhone(t, "127.0.0.2", identity("001", "100"), "acme.example", "guess-guess-guess")
	for i := 0; i < 5; i++ {
		if res := cracker.register(s.addr(), 300, nil); res.StatusCode != 403 {
			t.Fatalf("guess %d: %d", i, res.StatusCode)
		}
	}
	select {
	case e := <-bans.C():
		if e.Get("Network-IP") != "127.0.0.2" || e.Get("Reason") == "" {
			t.Fatalf("ban event: %+v", e.Headers)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no switchyard::ban event")
	}
	right := newPhone(t, "127.0.0.2", identity("001", "100"), "acme.example", password("100"))
	if res, err := right.tryRegister(s.addr(), 300, nil, 2*time.Second); err == nil {
		t.Fatalf("a banned source got an answer: %d", res.StatusCode)
	}
	other := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	if res := other.register(s.addr(), 300, nil); res.StatusCode != 200 {
		t.Fatalf("the account must still work from other sources: %d", res.StatusCode)
	}
	if list := s.edge.Bans(); len(list) != 1 || list[0].IP != "127.0.0.2" {
		t.Fatalf("bans: %+v", list)
	}
	if st := s.edge.SecurityStats(); st.DroppedBanned == 0 || st.ActiveBans != 1 {
		t.Fatalf("stats: %+v", st)
	}
	audit, err := s.store.ListAudit(0, time.Time{}, time.Now().Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range audit {
		if e.Action == "ban" && string(e.Kind) == "security" {
			found = true
		}
	}
	if !found {
		t.Fatal("no audit entry for the ban")
	}
	if !s.edge.LiftBan("127.0.0.2") {
		t.Fatal("LiftBan found no ban")
	}
	if res := right.register(s.addr(), 300, nil); res.StatusCode != 200 {
		t.Fatalf("after the ban is lifted: %d", res.StatusCode)
	}
}
