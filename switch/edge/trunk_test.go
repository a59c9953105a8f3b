package edge

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/persistence"
	sipptest "github.com/switchyard/switchyard/test/sipp"
)

const (
	carrierIP = "127.0.0.20"
	did       = "442070000001"
)

type trunkSetup struct {
	s       *testSwitch
	tn      *tenant
	trunk   *persistence.IncomingTrunk
	number  *persistence.Number
	callee  *phone
	caller  *phone
	gateway func(name, ip string, port int, auth bool) *persistence.TerminationGateway
	route   func(gw *persistence.TerminationGateway, prefix string, prio int, dstRule, dstResult string)
}

// newTrunkSetup provisions acme.example with accounts 100 (may call out, external caller id
// 441234000100) and 101 (rings for the DID), an incoming trunk from 127.0.0.20 and a DID.
func newTrunkSetup(t *testing.T) *trunkSetup {
	t.Helper()
	s := startSwitch(t, switchOpts{})
	tn := s.tenant("acme.example", "10001", "001", "100", "101")
	acct := *tn.accounts["100"]
	acct.AllowOutbound, acct.ExternalCallerID, acct.Password = true, "441234000100", ""
	if _, err := persistence.Update(s.store, &acct, s.who); err != nil {
		t.Fatal(err)
	}
	trunk, err := persistence.Create(s.store, &persistence.IncomingTrunk{DomainID: tn.domain.ID, CustomerID: tn.customer.ID,
		Name: "carrier-a", SourceIPs: []string{carrierIP}}, s.who)
	if err != nil {
		t.Fatal(err)
	}
	num, err := persistence.Create(s.store, &persistence.Number{DomainID: tn.domain.ID, CustomerID: tn.customer.ID, Number: did, Destination: "101"}, s.who)
	if err != nil {
		t.Fatal(err)
	}
	s.reload()
	ts := &trunkSetup{s: s, tn: tn, trunk: trunk, number: num}
	ts.caller = newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	ts.callee = newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	register(t, s, ts.caller, ts.callee)
	ts.gateway = func(name, ip string, port int, withAuth bool) *persistence.TerminationGateway {
		gw := &persistence.TerminationGateway{DomainID: tn.domain.ID, CustomerID: tn.customer.ID, Name: name, Host: ip, Port: port,
			SrcRewriteRule: `^44(\d+)$`, SrcRewriteResult: "0$1"}
		if withAuth {
			gw.AuthName, gw.AuthPassword = "gwuser", "gw-secret-pass"
		}
		g, err := persistence.Create(s.store, gw, s.who)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	ts.route = func(gw *persistence.TerminationGateway, prefix string, prio int, dstRule, dstResult string) {
		if _, err := persistence.Create(s.store, &persistence.TerminationRoute{DomainID: tn.domain.ID, CustomerID: tn.customer.ID,
			GatewayID: gw.ID, DstPrefix: prefix, Priority: prio, DstRewriteRule: dstRule, DstRewriteResult: dstResult}, s.who); err != nil {
			t.Fatal(err)
		}
		s.reload()
	}
	return ts
}

func carrierRun(ctx context.Context, t *testing.T, s *testSwitch, scenario, dialled string) sipptest.Result {
	t.Helper()
	res, err := sipptest.Run(ctx, t, sipptest.Opts{Scenario: scenario, Target: s.addr(), LocalIP: carrierIP, Calls: 1,
		Timeout: 20 * time.Second, InjectionRows: [][]string{{"+15551230000", "carrier.example", dialled}}})
	if err != nil {
		t.Fatalf("carrier: %v", err)
	}
	return res
}

func TestIncomingTrunkCalls(t *testing.T) {
	if !sipptest.Available() {
		t.Skip("sipp not installed")
	}
	ts := newTrunkSetup(t)
	s := ts.s
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("DID rings its extension", func(t *testing.T) {
		res := carrierRun(ctx, t, s, "carrier_uac.xml", did)
		if res.Successful != 1 {
			t.Fatalf("carrier call: %s %s", res.Summary(), res.ErrLog)
		}
		inv := recvOr(t, ts.callee.invites, "INVITE at the DID's extension")
		if inv.From().Address.User != "+15551230000" {
			t.Fatalf("callee sees caller %q", inv.From().Address.User)
		}
		recvOr(t, ts.callee.byes, "BYE at the extension")
		list := waitList(t, func() ([]persistence.IncomingTrunkCDR, error) {
			l, _, err := s.store.ListIncomingCDRs(ts.tn.domain.ID, time.Time{}, time.Now().Add(time.Hour), "", 10)
			return l, err
		}, 1)
		c := list[0]
		if c.DIDNumber != did || c.SrcNumber != "+15551230000" || c.SrcName != "Carrier Caller" || c.IncomingTrunkID != ts.trunk.ID ||
			c.TimeConnect == nil || c.LegADisconnectCode != 200 || c.LegADisconnectReason != "BYE" || c.Customer == "" {
			t.Fatalf("incoming CDR: %+v", c)
		}
	})
	t.Run("unknown DID", func(t *testing.T) {
		if res := carrierRun(ctx, t, s, "carrier_expect_404.xml", "449999999999"); res.Successful != 1 {
			t.Fatalf("%s %s", res.Summary(), res.ErrLog)
		}
	})
	t.Run("disabled DID is refused with a CDR", func(t *testing.T) {
		n := *ts.number
		off := false
		n.Enable = &off
		if _, err := persistence.Update(s.store, &n, s.who); err != nil {
			t.Fatal(err)
		}
		s.reload()
		if res := carrierRun(ctx, t, s, "carrier_expect_403.xml", did); res.Successful != 1 {
			t.Fatalf("%s %s", res.Summary(), res.ErrLog)
		}
		list := waitList(t, func() ([]persistence.IncomingTrunkCDR, error) {
			l, _, err := s.store.ListIncomingCDRs(ts.tn.domain.ID, time.Time{}, time.Now().Add(time.Hour), "", 10)
			return l, err
		}, 3)
		last := list[len(list)-1]
		if last.LegADisconnectCode != 403 || last.DIDNumber != did || last.TimeConnect != nil {
			t.Fatalf("disabled-DID CDR: %+v", last)
		}
		on := true
		n.Enable = &on
		if _, err := persistence.Update(s.store, &n, s.who); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no allowed codec gives 488", func(t *testing.T) {
		tr := *ts.trunk
		tr.Codecs = []string{"G729"}
		if _, err := persistence.Update(s.store, &tr, s.who); err != nil {
			t.Fatal(err)
		}
		s.reload()
		if res := carrierRun(ctx, t, s, "carrier_expect_488.xml", did); res.Successful != 1 {
			t.Fatalf("%s %s", res.Summary(), res.ErrLog)
		}
	})
	s.waitLimits(ts.tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 && l.ExternalCalls == 0 })
}

func TestOutboundRoutesFailoverAndAuth(t *testing.T) {
	if !sipptest.Available() {
		t.Skip("sipp not installed")
	}
	ts := newTrunkSetup(t)
	s := ts.s
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	port1, _ := sipptest.FreePort("127.0.0.30")
	port2, _ := sipptest.FreePort("127.0.0.31")
	bad := ts.gateway("gw-failing", "127.0.0.30", port1, false)
	good := ts.gateway("gw-auth", "127.0.0.31", port2, true)
	ts.route(bad, "44", 0, "", "")
	ts.route(good, "44", 1, `^44(\d+)$`, "0044$1")
	failing, err := sipptest.Start(ctx, t, sipptest.Opts{Scenario: "gw_uas_fail503.xml", LocalIP: "127.0.0.30", LocalPort: port1, Calls: 1, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	authGW, err := sipptest.Start(ctx, t, sipptest.Opts{Scenario: "gw_uas_auth.xml", LocalIP: "127.0.0.31", LocalPort: port2, Calls: 1,
		Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c := ts.caller.dial(ctx, s.addr(), "442079460000")
	if c.err != nil {
		t.Fatalf("outbound call: %v (codes %v)", c.err, c.codes)
	}
	s.waitLimits(ts.tn.domain.ID, func(l actors.DomainLimits) bool { return l.ExternalCalls == 1 })
	if err := c.hangup(); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*sipptest.Process{"failing gateway": failing, "auth gateway": authGW} {
		if res, _ := p.Wait(); res.Successful != 1 {
			t.Fatalf("%s: %s %s", name, res.Summary(), res.ErrLog)
		}
	}
	list := waitList(t, func() ([]persistence.TerminationCDR, error) {
		l, _, err := s.store.ListTerminationCDRs(ts.tn.domain.ID, time.Time{}, time.Now().Add(time.Hour), "", 10)
		return l, err
	}, 1)
	tc := list[0]
	if tc.GatewayID != good.ID || tc.DstNumberIn != "442079460000" || tc.DstNumberOut != "00442079460000" ||
		tc.SrcNumberIn != "441234000100" || tc.SrcNumberOut != "01234000100" || tc.TimeConnect == nil || tc.LegADisconnectReason != "BYE" {
		t.Fatalf("termination CDR: %+v", tc)
	}
	s.waitLimits(ts.tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 && l.ExternalCalls == 0 })
}

func TestOutboundRefusals(t *testing.T) {
	if !sipptest.Available() {
		t.Skip("sipp not installed")
	}
	ts := newTrunkSetup(t)
	s := ts.s
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if got := ts.callee.dial(ctx, s.addr(), "442079460000").code(); got != 403 {
		t.Fatalf("allow_outbound=false: got %d, want 403", got)
	}
	if got := ts.caller.dial(ctx, s.addr(), "442079460000").code(); got != 404 {
		t.Fatalf("no route: got %d, want 404", got)
	}
	port, _ := sipptest.FreePort("127.0.0.32")
	gw := ts.gateway("gw", "127.0.0.32", port, false)
	ts.route(gw, "", 0, "", "")
	d := *ts.tn.domain
	d.Limitations.ExternalCallLimit = 1
	s.update(&d)
	held, err := sipptest.Start(ctx, t, sipptest.Opts{Scenario: "uas_answer.xml", LocalIP: "127.0.0.32", LocalPort: port, Calls: 1, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	first := ts.caller.dial(ctx, s.addr(), "442079460000")
	if first.err != nil {
		t.Fatalf("first external call: %v", first.err)
	}
	second := ts.caller.dial(ctx, s.addr(), "442079460001")
	if second.code() != 503 || !strings.Contains(reasonOf(second), "external call limit") {
		t.Fatalf("second external call: %d %q", second.code(), reasonOf(second))
	}
	// Internal calls do not count toward the external limit.
	internal := ts.caller.dial(ctx, s.addr(), "101")
	if internal.err != nil {
		t.Fatalf("internal call during the external limit: %v", internal.err)
	}
	_ = internal.hangup()
	_ = first.hangup()
	_, _ = held.Wait()
	list := waitList(t, func() ([]persistence.TerminationCDR, error) {
		l, _, err := s.store.ListTerminationCDRs(ts.tn.domain.ID, time.Time{}, time.Now().Add(time.Hour), "", 10)
		return l, err
	}, 4)
	codes := []string{}
	for _, c := range list {
		codes = append(codes, strconv.Itoa(c.LegADisconnectCode))
	}
	if got := strings.Join(codes, ","); got != "403,404,200,503" {
		t.Fatalf("termination CDR codes in order %s, want 403,404,200,503", got)
	}
	s.waitLimits(ts.tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 && l.ExternalCalls == 0 })
}

// waitList polls a store listing until it has at least n records.
func waitList[T any](t *testing.T, list func() ([]T, error), n int) []T {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := list()
		if err != nil {
			t.Fatal(err)
		}
		if len(l) >= n {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records, want %d", len(l), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGatewayHealthSkipsDeadGateway: a gateway that never answers OPTIONS is marked down and
// routing skips it (no INVITE reaches it); a live one takes the call.
func TestGatewayHealthSkipsDeadGateway(t *testing.T) {
	s := startSwitch(t, switchOpts{probe: 100 * time.Millisecond})
	tn := s.tenant("acme.example", "10001", "001", "100")
	acct := *tn.accounts["100"]
	acct.AllowOutbound, acct.Password = true, ""
	if _, err := persistence.Update(s.store, &acct, s.who); err != nil {
		t.Fatal(err)
	}
	dead, err := net.ListenPacket("udp", "127.0.0.33:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dead.Close() })
	invites := make(chan string, 100)
	go func() {
		buf := make([]byte, 65535)
		for {
			n, _, err := dead.ReadFrom(buf)
			if err != nil {
				return
			}
			method, _, _ := strings.Cut(string(buf[:n]), " ")
			invites <- method
		}
	}()
	live := newPhone(t, "127.0.0.34", "gateway", "carrier.example", "unused-password")
	mk := func(name, ip string, port, prio int) {
		gw, err := persistence.Create(s.store, &persistence.TerminationGateway{DomainID: tn.domain.ID, CustomerID: tn.customer.ID,
			Name: name, Host: ip, Port: port}, s.who)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := persistence.Create(s.store, &persistence.TerminationRoute{DomainID: tn.domain.ID, CustomerID: tn.customer.ID,
			GatewayID: gw.ID, Priority: prio}, s.who); err != nil {
			t.Fatal(err)
		}
	}
	mk("dead", "127.0.0.33", dead.LocalAddr().(*net.UDPAddr).Port, 0)
	mk("live", "127.0.0.34", live.port, 1)
	s.reload()
	deadline := time.Now().Add(10 * time.Second)
	for s.node.GatewayUp(1) {
		if time.Now().After(deadline) {
			t.Fatal("the silent gateway was never marked down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	register(t, s, a)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := a.dial(ctx, s.addr(), "442079460000")
	if c.err != nil {
		t.Fatalf("call via the live gateway: %v", c.err)
	}
	recvOr(t, live.invites, "INVITE at the live gateway")
	_ = c.hangup()
	for len(invites) > 0 {
		if m := <-invites; m == "INVITE" {
			t.Fatal("an INVITE reached the gateway that is down")
		}
	}
}

// TestOriginateThroughGateway: `originate sofia/gateway/<gw>/<number> &bridge(user/101@…)` calls
// the number through the termination gateway, then bridges the answered leg to extension 101.
func TestOriginateThroughGateway(t *testing.T) {
	if !sipptest.Available() {
		t.Skip("sipp not installed")
	}
	ts := newTrunkSetup(t)
	s := ts.s
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	port, _ := sipptest.FreePort("127.0.0.35")
	ts.gateway("gw-out", "127.0.0.35", port, false)
	s.reload()
	gw, err := sipptest.Start(ctx, t, sipptest.Opts{Scenario: "uas_answer.xml", LocalIP: "127.0.0.35", LocalPort: port, Calls: 1, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	uuid, err := s.node.Originate(ctx, actors.Scope{}, actors.OriginateRequest{
		Endpoint: "sofia/gateway/gw-out/442079460000", Destination: "&bridge(user/101@acme.example)",
	})
	if err != nil {
		t.Fatalf("originate through the gateway: %v", err)
	}
	recvOr(t, ts.callee.invites, "INVITE at extension 101")
	s.waitLimits(ts.tn.domain.ID, func(l actors.DomainLimits) bool { return l.ExternalCalls == 1 })
	if err := s.node.Hangup(ctx, actors.Scope{}, uuid, ""); err != nil {
		t.Fatal(err)
	}
	recvOr(t, ts.callee.byes, "BYE at extension 101")
	if res, _ := gw.Wait(); res.Successful != 1 {
		t.Fatalf("gateway: %s %s", res.Summary(), res.ErrLog)
	}
	if _, err := s.node.Originate(ctx, actors.Scope{}, actors.OriginateRequest{Endpoint: "sofia/gateway/nope/123", Destination: "&park()"}); err == nil ||
		!strings.Contains(err.Error(), "INVALID_GATEWAY") {
		t.Fatalf("unknown gateway: %v", err)
	}
	s.waitLimits(ts.tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 && l.ExternalCalls == 0 })
}
