// Package integration runs the whole switch in-process (actors, SIP edge, ESL server) against
// real third-party peers: SIPp for SIP and the npm modesl client for the Event Socket.
package integration

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
	eslserver "github.com/switchyard/switchyard/esl/server"
	"github.com/switchyard/switchyard/persistence"
	"github.com/switchyard/switchyard/switch/edge"
)

// fullSwitch is a running switch with SIP and ESL on loopback random ports.
type fullSwitch struct {
	store *persistence.Store
	node  *actors.Node
	sip   *edge.Edge
	esl   *eslserver.Server
	who   persistence.Actor
}

func startFull(t *testing.T) *fullSwitch {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	store, err := persistence.Open(persistence.Options{Dir: t.TempDir(), Small: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	node, err := actors.New(actors.Options{Store: store, Bus: events.NewBus(events.BusConfig{}), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := node.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sip, err := edge.New(edge.Options{Node: node, Logger: log, UDP: "127.0.0.1:0", TCP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sip.Start(); err != nil {
		t.Fatal(err)
	}
	esl, err := eslserver.New(eslserver.Options{Addr: "127.0.0.1:0", Logger: log, Switch: node})
	if err != nil {
		t.Fatal(err)
	}
	if err := esl.Start(); err != nil {
		t.Fatal(err)
	}
	f := &fullSwitch{store: store, node: node, sip: sip, esl: esl, who: persistence.Actor{Identity: "test"}}
	t.Cleanup(func() {
		_ = sip.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = esl.Shutdown(ctx)
		_ = node.Stop(ctx)
		_ = store.Close()
	})
	return f
}

// tenant creates a domain with one customer ("001") and accounts with password "pw-<user>-secret".
func (f *fullSwitch) tenant(t *testing.T, name, prefix string, users ...string) *persistence.Domain {
	t.Helper()
	d, err := persistence.Create(f.store, &persistence.Domain{Name: name, DomainPrefix: prefix}, f.who)
	if err != nil {
		t.Fatal(err)
	}
	c, err := persistence.Create(f.store, &persistence.Customer{DomainID: d.ID, Name: "main", ClientPrefix: "001"}, f.who)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if _, err := persistence.Create(f.store, &persistence.SIPAccount{DomainID: d.ID, CustomerID: c.ID, Username: u, Password: "pw-" + u + "-secret"}, f.who); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.node.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *fullSwitch) eslPort() (string, string) {
	h, p, _ := net.SplitHostPort(f.esl.Addr().String())
	return h, p
}
