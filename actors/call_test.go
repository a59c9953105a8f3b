package actors

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/persistence"
)

type fixture struct {
	t      *testing.T
	store  *persistence.Store
	node   *Node
	dialer *fakeDialer
	domain *persistence.Domain
	caller *AccountView
}

func newFixture(t *testing.T, limit int) *fixture {
	t.Helper()
	store, err := persistence.Open(persistence.Options{Dir: t.TempDir(), Small: true, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	who := persistence.Actor{Identity: "test"}
	d, err := persistence.Create(store, &persistence.Domain{Name: "acme.example", DomainPrefix: "10001",
		Limitations: persistence.Limitations{ActiveCallLimit: limit}}, who)
	if err != nil {
		t.Fatal(err)
	}
	c, err := persistence.Create(store, &persistence.Customer{DomainID: d.ID, Name: "c", ClientPrefix: "001"}, who)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"100", "101"} {
		if _, err := persistence.Create(store, &persistence.SIPAccount{DomainID: d.ID, CustomerID: c.ID, Username: u, Password: "password-" + u}, who); err != nil {
			t.Fatal(err)
		}
	}
	node, err := New(Options{Store: store, Bus: events.NewBus(events.BusConfig{}), Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel),
		Registrar: RegistrarOptions{MinExpires: 60}})
	if err != nil {
		t.Fatal(err)
	}
	dialer := &fakeDialer{legs: make(chan *fakeLeg, 16)}
	node.SetDialer(dialer)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := node.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = node.Stop(context.Background()) })
	f := &fixture{t: t, store: store, node: node, dialer: dialer, domain: d}
	callee, _ := node.Snapshot().Account(d.ID, "001*101")
	res, err := node.Register(ctx, &RegisterRequest{DomainID: d.ID, AccountID: callee.ID(), Expires: 300, Source: "127.0.0.4:5060",
		Transport: "udp", CallID: "reg-1", CSeq: 1, Contacts: []ContactSpec{{URI: "sip:001*101@127.0.0.4:5060", Host: "127.0.0.4", Port: 5060, Expires: -1}}})
	if err != nil || res.Code != 200 {
		t.Fatalf("register callee: %+v %v", res, err)
	}
	f.caller, _ = node.Snapshot().Account(d.ID, "001*100")
	return f
}

// place starts a call from 100 to 101 and returns the A-leg and the forked B-leg.
func (f *fixture) place() (*fakeLeg, *fakeLeg) {
	f.t.Helper()
	a := newFakeLeg("inbound", "001*100", "101")
	f.node.Invite(&InviteRequest{Leg: a, DomainID: f.domain.ID, Caller: f.caller, Dialled: "101", Received: time.Now()})
	select {
	case b := <-f.dialer.legs:
		return a, b
	case op := <-a.seen:
		f.t.Fatalf("call refused before dialing: %s", op)
	case <-time.After(5 * time.Second):
		f.t.Fatal("no B-leg dialled")
	}
	return nil, nil
}

func expectOp(t *testing.T, l *fakeLeg, want string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case op := <-l.seen:
			if op == want {
				return
			}
		case <-deadline:
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("leg never saw %q; ops %v", want, l.ops)
		}
	}
}

func (f *fixture) active() int {
	v, err := f.node.DomainLive(context.Background(), f.domain.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return v.(DomainLimits).ActiveCalls
}

func (f *fixture) waitActive(n int) {
	f.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.active() != n {
		if time.Now().After(deadline) {
			f.t.Fatalf("active calls %d, want %d", f.active(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCountersNeverLeak runs answered, cancelled, failed and crashed calls side by side and
// checks that the domain's counters come back to zero and that a crash ends only its own call.
func TestCountersNeverLeak(t *testing.T) {
	f := newFixture(t, 0)

	// An answered call stays up while the others come and go.
	keepA, keepB := f.place()
	keepB.deliver(&LegRinging{Leg: keepB, Code: 180})
	expectOp(t, keepA, "progress")
	keepB.deliver(&LegAnswered{Leg: keepB})
	expectOp(t, keepA, "answer")
	keepA.deliver(&LegAcked{Leg: keepA})

	// Cancelled by the caller.
	a, b := f.place()
	a.deliver(&LegCancelled{Leg: a})
	expectOp(t, b, "cancel")

	// Failed at the callee (busy is relayed).
	a, b = f.place()
	b.deliver(&LegFailed{Leg: b, Code: 486})
	expectOp(t, a, "reject:486")

	// Crashed: a panic inside the CallActor ends that call only (caller gets 500).
	a, b = f.place()
	bad := newFakeLeg("outbound", "x", "y")
	bad.panicOnUUID = true
	b.deliver(&LegRinging{Leg: bad, Code: 180})
	expectOp(t, a, "reject:500")
	expectOp(t, b, "cancel")

	f.waitActive(1)

	// The surviving call still works: the callee hangs up, the BYE is confirmed after the CDR.
	confirmed := make(chan struct{})
	keepB.deliver(&LegHungUp{Leg: keepB, Confirm: func() { close(confirmed) }})
	expectOp(t, keepA, "hangup")
	select {
	case <-confirmed:
	case <-time.After(5 * time.Second):
		t.Fatal("BYE never confirmed")
	}
	f.waitActive(0)
	cdrs, _, err := f.store.ListCDRs(f.domain.ID, time.Time{}, time.Now().Add(time.Hour), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	causes := map[string]int{}
	for _, c := range cdrs {
		causes[c.HangupCause]++
	}
	if len(cdrs) != 4 || causes["NORMAL_CLEARING"] != 1 || causes["ORIGINATOR_CANCEL"] != 1 || causes["USER_BUSY"] != 1 || causes["SWITCH_CONGESTION"] != 1 {
		t.Fatalf("CDRs by cause %v (%d records)", causes, len(cdrs))
	}
}

func TestActiveCallLimitRejects(t *testing.T) {
	f := newFixture(t, 1)
	sub := f.node.Bus().Subscribe(events.SubscribeOptions{Filter: func(e *events.Event) bool { return e.Subclass() == "switchyard::limit" }})
	defer sub.Close()
	a, _ := f.place()
	second := newFakeLeg("inbound", "001*100", "101")
	f.node.Invite(&InviteRequest{Leg: second, DomainID: f.domain.ID, Caller: f.caller, Dialled: "101", Received: time.Now()})
	expectOp(t, second, "reject:503")
	select {
	case e := <-sub.C():
		if e.Get("Limit") != "active call limit" || e.Domain != "acme.example" {
			t.Fatalf("limit event: %+v", e.Headers)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no switchyard::limit event")
	}
	a.deliver(&LegCancelled{Leg: a})
	f.waitActive(0)
}

func TestRegistrarRules(t *testing.T) {
	f := newFixture(t, 0)
	acct, _ := f.node.Snapshot().Account(f.domain.ID, "001*100")
	ctx := context.Background()
	reg := func(r RegisterRequest) *RegisterResult {
		t.Helper()
		r.DomainID, r.AccountID, r.Source, r.Transport = f.domain.ID, acct.ID(), "127.0.0.3:5060", "udp"
		res, err := f.node.Register(ctx, &r)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	contact := func(host string, exp int) ContactSpec {
		return ContactSpec{URI: "sip:001*100@" + host + ":5060", Host: host, Port: 5060, Expires: exp}
	}
	cases := []struct {
		name     string
		req      RegisterRequest
		want     int
		bindings int
	}{
		{"two contacts", RegisterRequest{Expires: 300, CallID: "a", CSeq: 1, Contacts: []ContactSpec{contact("127.0.0.3", -1), contact("127.0.0.5", -1)}}, 200, 2},
		{"too brief changes nothing", RegisterRequest{Expires: 0, CallID: "a", CSeq: 2, Contacts: []ContactSpec{contact("127.0.0.3", 0), contact("127.0.0.6", 5)}}, 423, 2},
		{"expires 0 removes one", RegisterRequest{Expires: 0, CallID: "a", CSeq: 3, Contacts: []ContactSpec{contact("127.0.0.3", 0)}}, 200, 1},
		{"broadcast contact", RegisterRequest{Expires: 300, CallID: "a", CSeq: 4, Contacts: []ContactSpec{contact("255.255.255.255", -1)}}, 403, 1},
		{"clamped to max", RegisterRequest{Expires: 1 << 30, CallID: "a", CSeq: 5, Contacts: []ContactSpec{contact("127.0.0.7", -1)}}, 200, 2},
		{"wildcard with nonzero expires", RegisterRequest{Expires: 300, Wildcard: true, CallID: "a", CSeq: 6}, 400, 2},
		{"wildcard removes all", RegisterRequest{Expires: 0, Wildcard: true, CallID: "a", CSeq: 7}, 200, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := reg(tc.req)
			if res.Code != tc.want {
				t.Fatalf("code %d (%s), want %d", res.Code, res.Reason, tc.want)
			}
			list, _ := f.store.ListBindings(f.domain.ID, acct.ID())
			if len(list) != tc.bindings {
				t.Fatalf("%d bindings, want %d", len(list), tc.bindings)
			}
			for _, b := range list {
				if time.Until(b.ExpiresAt) > time.Duration(f.node.opts.Registrar.MaxExpires)*time.Second+time.Second {
					t.Fatalf("expiry not clamped: %v", b.ExpiresAt)
				}
			}
		})
	}
}
