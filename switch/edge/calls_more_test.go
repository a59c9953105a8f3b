package edge

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
)

func register(t *testing.T, s *testSwitch, phones ...*phone) {
	t.Helper()
	for _, p := range phones {
		if res := p.register(s.addr(), 300, nil); res.StatusCode != 200 {
			t.Fatalf("register %s: %d %s", p.identity, res.StatusCode, res.Reason)
		}
	}
}

func TestCancelBeforeAnswer(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	tn := s.tenant("acme.example", "10001", "001", "100", "101")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	register(t, s, a, b)
	b.setMode("ring")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan *call, 1)
	go func() { done <- a.dial(ctx, s.addr(), "101") }()
	recvOr(t, b.invites, "INVITE at the callee")
	cancel(nil) // sipgo's WaitAnswer sends CANCEL on context cancellation
	select {
	case <-b.cancels:
	case <-time.After(10 * time.Second):
		t.Fatal("callee never saw the CANCEL")
	}
	<-done
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
	cdrs := s.waitCDRs(tn.domain.ID, 1)
	if cdrs[0].HangupCause != "ORIGINATOR_CANCEL" || cdrs[0].SIPCode != 487 {
		t.Fatalf("CDR after CANCEL: %+v", cdrs[0])
	}
}

func TestForkFirstAnswerWins(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	tn := s.tenant("acme.example", "10001", "001", "100", "101")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b1 := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	b2 := newPhone(t, "127.0.0.5", identity("001", "101"), "acme.example", password("101"))
	register(t, s, a, b1, b2)
	b2.setMode("ring")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := a.dial(ctx, s.addr(), "101")
	if c.err != nil {
		t.Fatalf("call: %v", c.err)
	}
	recvOr(t, b1.invites, "INVITE at fork 1")
	recvOr(t, b2.invites, "INVITE at fork 2")
	select {
	case <-b2.cancels:
	case <-time.After(5 * time.Second):
		t.Fatal("the losing fork never got CANCEL")
	}
	if err := c.hangup(); err != nil {
		t.Fatal(err)
	}
	recvOr(t, b1.byes, "BYE at the answering fork")
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
}

func TestCalleeHangsUp(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	tn := s.tenant("acme.example", "10001", "001", "100", "101")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	register(t, s, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := a.dial(ctx, s.addr(), "101")
	if c.err != nil {
		t.Fatalf("call: %v", c.err)
	}
	recvOr(t, b.invites, "INVITE")
	// The callee's dialog: hang up from B through its server dialog cache.
	inv := <-waitDialog(t, b)
	if err := inv.Bye(ctx); err != nil {
		t.Fatalf("callee BYE: %v", err)
	}
	recvOr(t, a.byes, "BYE at the caller")
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
	cdr := s.waitCDRs(tn.domain.ID, 1)[0]
	if cdr.DisconnectedBy != "callee" {
		t.Fatalf("disconnected_by %q, want callee", cdr.DisconnectedBy)
	}
}

func TestReinviteAndInfoRelayed(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	s.tenant("acme.example", "10001", "001", "100", "101")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	register(t, s, a, b)
	sub := s.bus.Subscribe(eventsFor("CHANNEL_HOLD", "DTMF"))
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := a.dial(ctx, s.addr(), "101")
	if c.err != nil {
		t.Fatalf("call: %v", c.err)
	}
	recvOr(t, b.invites, "INVITE")
	// Hold: re-INVITE with a=sendonly from the caller.
	hold := strings.Replace(testSDP, "a=rtpmap:0 PCMU/8000\r\n", "a=rtpmap:0 PCMU/8000\r\na=sendonly\r\n", 1)
	req := sip.NewRequest(sip.INVITE, c.dlg.InviteResponse.Contact().Address)
	req.SetBody([]byte(hold))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res, err := c.dlg.Do(ctx, req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE: %v %v", res, err)
	}
	_ = c.dlg.WriteRequest(sip.NewRequest(sip.ACK, c.dlg.InviteResponse.Contact().Address))
	got := recvOr(t, b.reinvite, "re-INVITE at the callee")
	if !strings.Contains(string(got.Body()), "a=sendonly") {
		t.Fatalf("re-INVITE SDP not relayed: %q", got.Body())
	}
	info := sip.NewRequest(sip.INFO, c.dlg.InviteResponse.Contact().Address)
	info.SetBody([]byte("Signal=5\r\nDuration=160\r\n"))
	info.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	if res, err := c.dlg.Do(ctx, info); err != nil || res.StatusCode != 200 {
		t.Fatalf("INFO: %v %v", res, err)
	}
	recvOr(t, b.infos, "INFO at the callee")
	names := map[string]bool{}
	deadline := time.After(5 * time.Second)
	for len(names) < 2 {
		select {
		case e := <-sub.C():
			names[e.Name()] = true
		case <-deadline:
			t.Fatalf("events seen %v, want CHANNEL_HOLD and DTMF", names)
		}
	}
	_ = c.hangup()
}

func TestCrossCustomerAndCrossDomain(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	acme := s.tenant("acme.example", "10001", "001", "100")
	other := s.customer(acme.domain.ID, "002")
	s.account(acme.domain.ID, other.ID, "100")
	globex := s.tenant("globex.example", "20002", "007", "200")
	s.reload()
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("002", "100"), "acme.example", password("100"))
	g := newPhone(t, "127.0.0.5", identity("007", "200"), "globex.example", password("200"))
	register(t, s, a, b, g)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	// Another customer of the same domain by client_prefix*extension.
	c := a.dial(ctx, s.addr(), "002*100")
	if c.err != nil {
		t.Fatalf("cross-customer call: %v", c.err)
	}
	recvOr(t, b.invites, "INVITE at the other customer")
	_ = c.hangup()

	// Cross-domain dialling is off by default (DECISIONS 9).
	if got := a.dial(ctx, s.addr(), "20002*007*200").code(); got != 403 {
		t.Fatalf("cross-domain with the flag off: got %d, want 403", got)
	}
	for _, d := range []*tenant{acme, globex} {
		dd := *d.domain
		dd.AllowCrossDomainDialling = true
		s.update(&dd)
	}
	c = a.dial(ctx, s.addr(), "20002*007*200")
	if c.err != nil {
		t.Fatalf("cross-domain call: %v (codes %v)", c.err, c.codes)
	}
	inv := recvOr(t, g.invites, "INVITE in the other domain")
	if inv.From().Address.User != "001*100" {
		t.Fatalf("cross-domain caller id %q, want the full name 001*100", inv.From().Address.User)
	}
	s.waitLimits(globex.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 1 })
	_ = c.hangup()
	s.waitLimits(globex.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
	s.waitLimits(acme.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
	// A bare extension never leaves the caller's tenant (T1).
	if got := g.dial(ctx, s.addr(), "100").code(); got != 404 {
		t.Fatalf("bare extension across tenants: got %d, want 404", got)
	}
}

func TestNATReceivedRport(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	s.tenant("acme.example", "10001", "001", "100", "101")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	register(t, s, a)
	// B registers a Contact it cannot be reached at (a private address behind its NAT, here an
	// unused loopback address); the switch must call it at the REGISTER's source instead.
	bogus := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: b.identity, Host: "127.0.0.99", Port: 5999}}
	if res := b.register(s.addr(), 300, bogus); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := a.dial(ctx, s.addr(), "101")
	if c.err != nil {
		t.Fatalf("call to a NATed phone: %v", c.err)
	}
	inv := recvOr(t, b.invites, "INVITE at the NATed phone")
	if inv.Recipient.Host != "127.0.0.99" {
		t.Fatalf("Request-URI should keep the registered contact, got %s", inv.Recipient.String())
	}
	_ = c.hangup()
}

func TestRegisterOverTCP(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	tn := s.tenant("acme.example", "10001", "001", "100")
	msg := "REGISTER sip:acme.example;transport=tcp SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP LOCAL;branch=z9hG4bK-tcp-1\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:001*100@acme.example>;tag=t1\r\nTo: <sip:001*100@acme.example>\r\n" +
		"Call-ID: tcp-reg-1\r\nCSeq: 1 REGISTER\r\nContact: <sip:001*100@LOCAL;transport=tcp>\r\nContent-Length: 0\r\n\r\n"
	res := tcpExchange(t, s.edge.TCPAddr(), msg, nil)
	if !strings.HasPrefix(res.first, "SIP/2.0 401") {
		t.Fatalf("want 401 over TCP, got %q", res.first)
	}
	list, _ := s.store.ListBindings(tn.domain.ID, tn.accounts["100"].ID)
	if len(list) != 0 {
		t.Fatal("binding created without auth")
	}
}

func TestBindingsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	s := startSwitch(t, switchOpts{dir: dir})
	s.tenant("acme.example", "10001", "001", "100", "101")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	register(t, s, a, b)
	s.stop()
	s2 := startSwitch(t, switchOpts{dir: dir})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// No new REGISTER: the restarted switch reaches B from its persisted binding.
	c := a.dial(ctx, s2.addr(), "101")
	if c.err != nil {
		t.Fatalf("call after restart: %v (codes %v)", c.err, c.codes)
	}
	recvOr(t, b.invites, "INVITE after restart")
	_ = c.hangup()
}

// eventsFor subscribes to the named events only.
func eventsFor(names ...string) events.SubscribeOptions {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	return events.SubscribeOptions{Filter: func(e *events.Event) bool { return want[e.Name()] }}
}

// waitDialog returns the callee's answered server dialog.
func waitDialog(t *testing.T, p *phone) <-chan *sipgo.DialogServerSession {
	t.Helper()
	return p.answered
}

type tcpResult struct{ first string }

// tcpExchange writes msg on a new TCP connection (LOCAL is replaced by its local address) and
// returns the first response.
func tcpExchange(t *testing.T, addr, msg string, _ []string) tcpResult {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg = strings.ReplaceAll(msg, "LOCAL", conn.LocalAddr().String())
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 65535)
	n, _ := conn.Read(buf)
	return tcpResult{first: string(buf[:n])}
}

// TestCDRDurableOnceByeAnswered: the caller's BYE is answered only after the CDR is committed
// (DECISIONS 13), so stopping right after the 200 and reopening the store finds the CDR.
func TestCDRDurableOnceByeAnswered(t *testing.T) {
	dir := t.TempDir()
	s := startSwitch(t, switchOpts{dir: dir})
	tn := s.tenant("acme.example", "10001", "001", "100", "101")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	register(t, s, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := a.dial(ctx, s.addr(), "101")
	if c.err != nil {
		t.Fatal(c.err)
	}
	if err := c.hangup(); err != nil { // returns once the switch answered the BYE
		t.Fatal(err)
	}
	s.stop()
	s2 := startSwitch(t, switchOpts{dir: dir})
	list, _, err := s2.store.ListCDRs(tn.domain.ID, time.Time{}, time.Now().Add(time.Hour), "", 10)
	if err != nil || len(list) != 1 || list[0].HangupCause != "NORMAL_CLEARING" {
		t.Fatalf("CDR after stop: %+v %v", list, err)
	}
}
