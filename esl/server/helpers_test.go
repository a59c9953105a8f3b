package server_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/esl"
	"github.com/switchyard/switchyard/esl/esltest"
	"github.com/switchyard/switchyard/esl/server"
)

type env struct {
	srv  *server.Server
	sw   *esltest.Switch
	addr string
}

func start(t *testing.T, mod func(*server.Options)) *env {
	t.Helper()
	sw := esltest.NewSwitch()
	sw.AddUser("agent", "acme.example", "secret", actors.ESLGrant{})
	sw.AddUser("bob", "beta.example", "pw", actors.ESLGrant{})
	sw.AddUser("limited", "acme.example", "pw", actors.ESLGrant{AllowedAPI: []string{"status", "show"}, AllowedEvents: []string{"CHANNEL_CREATE", "HEARTBEAT"}})
	opts := server.Options{Addr: "127.0.0.1:0", Switch: sw, Heartbeat: -1, Logger: zerolog.New(zerolog.NewTestWriter(t))}
	if mod != nil {
		mod(&opts)
	}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return &env{srv: srv, sw: sw, addr: srv.Addr().String()}
}

func (e *env) conn(t *testing.T) *esltest.Conn {
	t.Helper()
	c := esltest.Dial(t, e.addr)
	c.Auth("ClueCon")
	return c
}

func (e *env) tenant(t *testing.T, who string) *esltest.Conn {
	t.Helper()
	c := esltest.Dial(t, e.addr)
	c.ExpectBytes(esl.AuthRequest)
	c.Send("userauth " + who + "\n\n")
	f := c.Read()
	if f.Get("Reply-Text") != "+OK accepted" {
		t.Fatalf("userauth %s: %v", who, f.Headers)
	}
	return c
}

func (e *env) addChannel(domain string) *events.Channel {
	return e.sw.AddChannel(events.Channel{Domain: domain, Name: "sofia/internal/1000@" + domain,
		CallerIDName: "Alice Smith", CallerIDNumber: "1000", Destination: "5000",
		Variables: []events.Header{{Name: "caller_id_number", Value: "1000"}}})
}

// sync makes sure every earlier command was handled: api replies are in order.
func syncConn(t *testing.T, c *esltest.Conn) {
	t.Helper()
	if got := c.API("uuid_exists nope"); got != "false" {
		t.Fatalf("sync: %q", got)
	}
}

func noCR(t *testing.T, c *esltest.Conn) {
	t.Helper()
	if strings.Contains(c.Raw.String(), "\r") {
		t.Errorf("server sent a CR byte")
	}
}

var scopeAll = actors.Scope{}

func newChan(domain, name string) events.Channel {
	return events.Channel{Domain: domain, Name: "sofia/internal/" + name + "@" + domain, CallerIDName: name, CallerIDNumber: "1000"}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func grant(apis []string) actors.ESLGrant { return actors.ESLGrant{AllowedAPI: apis} }

func limits(domain string) actors.DomainLimits {
	return actors.DomainLimits{Domain: domain, Status: "active", ActiveCallLimit: 10, ActiveCalls: 2, ExternalCallLimit: 5}
}
