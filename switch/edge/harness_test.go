package edge

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/persistence"
)

// testSwitch is a real node + edge on a temp Badger dir, SIP on 127.0.0.1:<random>.
type testSwitch struct {
	t     *testing.T
	store *persistence.Store
	bus   *events.Bus
	node  *actors.Node
	edge  *Edge
	who   persistence.Actor
}

type switchOpts struct {
	noAnswer time.Duration
	probe    time.Duration // gateway OPTIONS interval (0: off in tests)
	security SecurityOptions
	dir      string
}

func startSwitch(t *testing.T, o switchOpts) *testSwitch {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(testLogLevel())
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	store, err := persistence.Open(persistence.Options{Dir: dir, Small: true, Logger: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if _, err := store.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	bus := events.NewBus(events.BusConfig{})
	probe := o.probe
	if probe == 0 {
		probe = -1 // SIPp gateways must not see OPTIONS they do not expect
	}
	node, err := actors.New(actors.Options{Store: store, Bus: bus, Logger: log, NoAnswerTimeout: o.noAnswer,
		Registrar: actors.RegistrarOptions{MinExpires: 10}, GatewayProbeInterval: probe, GatewayDownAfter: 2,
		GatewayProbeTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := node.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Node: node, Logger: log, UDP: "127.0.0.1:0", TCP: "127.0.0.1:0", Security: o.security})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	s := &testSwitch{t: t, store: store, bus: bus, node: node, edge: e, who: persistence.Actor{Identity: "test"}}
	t.Cleanup(s.stop)
	return s
}

var stopMu sync.Mutex

func (s *testSwitch) stop() {
	stopMu.Lock()
	defer stopMu.Unlock()
	if s.edge == nil {
		return
	}
	_ = s.edge.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.node.Stop(ctx)
	_ = s.store.Close()
	s.edge = nil
}

// tenant provisions a domain with one customer and accounts "100", "101"… (password "pw-<user>-secret").
type tenant struct {
	domain   *persistence.Domain
	customer *persistence.Customer
	accounts map[string]*persistence.SIPAccount
}

func (s *testSwitch) tenant(name, prefix, clientPrefix string, users ...string) *tenant {
	s.t.Helper()
	d, err := persistence.Create(s.store, &persistence.Domain{Name: name, DomainPrefix: prefix}, s.who)
	if err != nil {
		s.t.Fatalf("create domain: %v", err)
	}
	tn := &tenant{domain: d, accounts: map[string]*persistence.SIPAccount{}}
	tn.customer = s.customer(d.ID, clientPrefix)
	for _, u := range users {
		tn.accounts[u] = s.account(d.ID, tn.customer.ID, u)
	}
	s.reload()
	return tn
}

func (s *testSwitch) customer(domainID int64, prefix string) *persistence.Customer {
	s.t.Helper()
	c, err := persistence.Create(s.store, &persistence.Customer{DomainID: domainID, Name: "cust-" + prefix, ClientPrefix: prefix}, s.who)
	if err != nil {
		s.t.Fatalf("create customer: %v", err)
	}
	return c
}

func (s *testSwitch) account(domainID, customerID int64, user string) *persistence.SIPAccount {
	s.t.Helper()
	a, err := persistence.Create(s.store, &persistence.SIPAccount{DomainID: domainID, CustomerID: customerID, Username: user, Password: password(user)}, s.who)
	if err != nil {
		s.t.Fatalf("create account %s: %v", user, err)
	}
	return a
}

func password(user string) string { return "pw-" + user + "-secret" }

func (s *testSwitch) reload() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.node.Reload(ctx); err != nil {
		s.t.Fatalf("reload: %v", err)
	}
}

func (s *testSwitch) update(d *persistence.Domain) {
	s.t.Helper()
	if _, err := persistence.Update(s.store, d, s.who); err != nil {
		s.t.Fatalf("update domain: %v", err)
	}
	s.reload()
}

func (s *testSwitch) addr() string { return s.edge.UDPAddr() }

// limits polls the domain's live counters until cond holds (or fails after 5 s).
func (s *testSwitch) waitLimits(domainID int64, cond func(actors.DomainLimits) bool) actors.DomainLimits {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var last actors.DomainLimits
	for time.Now().Before(deadline) {
		v, err := s.node.DomainLive(context.Background(), domainID)
		if err == nil {
			last = v.(actors.DomainLimits)
			if cond(last) {
				return last
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("domain %d counters never reached the expected state; last %+v", domainID, last)
	return last
}

// cdrs polls until the domain has n CDRs.
func (s *testSwitch) waitCDRs(domainID int64, n int) []persistence.CDR {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var list []persistence.CDR
	for time.Now().Before(deadline) {
		list, _, _ = s.store.ListCDRs(domainID, time.Time{}, time.Now().Add(time.Hour), "", 1000)
		if len(list) >= n {
			return list
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("domain %d has %d CDRs, want %d", domainID, len(list), n)
	return nil
}

func testLogLevel() zerolog.Level {
	if l, err := zerolog.ParseLevel(os.Getenv("SWITCHYARD_TEST_LOG")); err == nil && l != zerolog.NoLevel {
		return l
	}
	return zerolog.WarnLevel
}
