package baresiptest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/persistence"
	"github.com/switchyard/switchyard/switch/edge"
)

// testSwitch is a real node + edge on a temp Badger dir, SIP on 127.0.0.1:<random>.
type testSwitch struct {
	store *persistence.Store
	bus   *events.Bus
	node  *actors.Node
	edge  *edge.Edge
}

func startSwitch(t *testing.T) *testSwitch {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(testLogLevel())
	store, err := persistence.Open(persistence.Options{Dir: t.TempDir(), Small: true, Logger: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if _, err := store.Bootstrap(); err != nil {
		t.Fatalf("bootstrap store: %v", err)
	}
	bus := events.NewBus(events.BusConfig{})
	node, err := actors.New(actors.Options{Store: store, Bus: bus, Logger: log,
		Registrar: actors.RegistrarOptions{MinExpires: 10}})
	if err != nil {
		t.Fatalf("new node: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := node.Start(ctx); err != nil {
		t.Fatalf("start node: %v", err)
	}
	e, err := edge.New(edge.Options{Node: node, Logger: log, UDP: "127.0.0.1:0", TCP: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("new edge: %v", err)
	}
	if err := e.Start(); err != nil {
		t.Fatalf("start edge: %v", err)
	}
	s := &testSwitch{store: store, bus: bus, node: node, edge: e}
	t.Cleanup(func() {
		_ = e.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = node.Stop(ctx)
		_ = store.Close()
	})
	return s
}

// tenant provisions domain name (challenging with algs in that order; nil = the switch
// default) with one customer (client prefix) and the given accounts, each with password
// "pw-<user>-secret", then reloads the node.
func (s *testSwitch) tenant(t *testing.T, name, domainPrefix, clientPrefix string, algs []string, users ...string) (*persistence.Domain, map[string]*persistence.SIPAccount) {
	t.Helper()
	who := persistence.Actor{Identity: "test"}
	d, err := persistence.Create(s.store, &persistence.Domain{Name: name, DomainPrefix: domainPrefix, DigestAlgorithms: algs}, who)
	if err != nil {
		t.Fatalf("create domain: %v", err)
	}
	c, err := persistence.Create(s.store, &persistence.Customer{DomainID: d.ID, Name: "cust-" + clientPrefix, ClientPrefix: clientPrefix}, who)
	if err != nil {
		t.Fatalf("create customer: %v", err)
	}
	accounts := map[string]*persistence.SIPAccount{}
	for _, u := range users {
		a, err := persistence.Create(s.store, &persistence.SIPAccount{DomainID: d.ID, CustomerID: c.ID, Username: u, Password: password(u)}, who)
		if err != nil {
			t.Fatalf("create account %s: %v", u, err)
		}
		accounts[u] = a
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.node.Reload(ctx); err != nil {
		t.Fatalf("reload: %v", err)
	}
	return d, accounts
}

func password(user string) string { return "pw-" + user + "-secret" }

func testLogLevel() zerolog.Level {
	if l, err := zerolog.ParseLevel(os.Getenv("SWITCHYARD_TEST_LOG")); err == nil && l != zerolog.NoLevel {
		return l
	}
	return zerolog.WarnLevel
}
