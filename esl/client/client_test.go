package client_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/esl"
	"github.com/switchyard/switchyard/esl/client"
	"github.com/switchyard/switchyard/esl/esltest"
	"github.com/switchyard/switchyard/esl/server"
)

func startServer(t *testing.T, ln net.Listener) (*server.Server, *esltest.Switch) {
	t.Helper()
	sw := esltest.NewSwitch()
	sw.AddUser("agent", "acme.example", "secret", actors.ESLGrant{})
	srv, err := server.New(server.Options{Addr: "127.0.0.1:0", Switch: sw, Heartbeat: -1})
	if err != nil {
		t.Fatal(err)
	}
	if ln == nil {
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
	} else if err := srv.Serve(ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return srv, sw
}

func TestClient(t *testing.T) {
	srv, sw := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{Addr: srv.Addr().String(), Password: "ClueCon", Events: []string{"CHANNEL_CREATE"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	t.Run("api", func(t *testing.T) {
		if got, err := c.API(ctx, "version short"); err != nil || got != "1.10.12\n" {
			t.Fatalf("%q %v", got, err)
		}
	})
	t.Run("bgapi matches Job-UUID", func(t *testing.T) {
		job, body, err := c.BgAPI(ctx, "status")
		if err != nil || len(job) != 36 || !strings.HasPrefix(body, "UP ") {
			t.Fatalf("%s %q %v", job, body, err)
		}
	})
	t.Run("events and sendmsg", func(t *testing.T) {
		ch := sw.AddChannel(events.Channel{Domain: "acme.example", Name: "sofia/internal/1@acme.example"})
		e := <-c.Events()
		if e.Get("Unique-ID") != ch.UUID || e.Name() != "CHANNEL_CREATE" {
			t.Fatalf("%v", e.Headers)
		}
		if err := c.SendMsg(ctx, ch.UUID, []esl.Header{{Name: "call-command", Value: "hangup"}}, nil); err != nil {
			t.Fatal(err)
		}
		if err := c.SendMsg(ctx, "nope", []esl.Header{{Name: "call-command", Value: "hangup"}}, nil); err == nil {
			t.Fatal("unknown uuid accepted")
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		if _, err := client.Dial(ctx, client.Options{Addr: srv.Addr().String(), Password: "bad"}); !errors.Is(err, client.ErrAuth) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("userauth", func(t *testing.T) {
		u, err := client.Dial(ctx, client.Options{Addr: srv.Addr().String(), User: "agent@acme.example", Password: "secret"})
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		if got, _ := u.API(ctx, "reloadxml"); got != "-ERR permission denied\n" {
			t.Fatalf("%q", got)
		}
	})
	t.Run("closed", func(t *testing.T) {
		x, err := client.Dial(ctx, client.Options{Addr: srv.Addr().String(), Password: "ClueCon"})
		if err != nil {
			t.Fatal(err)
		}
		_ = x.Close()
		if _, err := x.API(ctx, "status"); !errors.Is(err, client.ErrClosed) {
			t.Fatalf("%v", err)
		}
	})
}

// TestReconnect: the server goes away and comes back on the same address; the client
// redials, re-authenticates and re-subscribes.
func TestReconnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	srv, _ := startServer(t, ln)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{Addr: addr, Password: "ClueCon", Reconnect: true, MinBackoff: 10 * time.Millisecond, Events: []string{"CHANNEL_CREATE"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = srv.Shutdown(ctx)
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("address not reusable: %v", err)
	}
	_, sw2 := startServer(t, ln2)
	for {
		ch := sw2.AddChannel(events.Channel{Name: "x"})
		select {
		case e := <-c.Events():
			if e.Get("Unique-ID") == ch.UUID {
				return
			}
		case <-time.After(50 * time.Millisecond): // the client may still be redialling; publish again
		case <-ctx.Done():
			t.Fatal("no event after reconnect")
		}
	}
}
