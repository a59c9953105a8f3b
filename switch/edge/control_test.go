package edge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/actors"
)

// TestOriginateAndKill drives the ESL control facade against real phones: originate to park,
// originate with &bridge (3PCC), uuid_hold, uuid_setvar, uuid_kill, and tenant scoping.
func TestOriginateAndKill(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	tn := s.tenant("acme.example", "10001", "001", "100", "101")
	s.tenant("globex.example", "20002", "007", "200")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	register(t, s, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	op := actors.Scope{}

	t.Run("park then kill", func(t *testing.T) {
		uuid, err := s.node.Originate(ctx, op, actors.OriginateRequest{Endpoint: "user/100@acme.example", Destination: "&park()", UUID: "c0ffee00-0000-4000-8000-000000000001"})
		if err != nil {
			t.Fatalf("originate: %v", err)
		}
		if uuid != "c0ffee00-0000-4000-8000-000000000001" {
			t.Fatalf("origination_uuid not honoured: %s", uuid)
		}
		inv := recvOr(t, a.invites, "originated INVITE")
		if !strings.Contains(string(inv.Body()), "a=inactive") {
			t.Fatalf("3PCC first offer should be held: %q", inv.Body())
		}
		s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 1 })
		if err := s.node.Hangup(ctx, op, uuid, "NORMAL_CLEARING"); err != nil {
			t.Fatalf("uuid_kill: %v", err)
		}
		recvOr(t, a.byes, "BYE after uuid_kill")
		s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
	})

	t.Run("bridge two phones", func(t *testing.T) {
		uuid, err := s.node.Originate(ctx, op, actors.OriginateRequest{Endpoint: "user/100@acme.example", Destination: "&bridge(user/101@acme.example)"})
		if err != nil {
			t.Fatalf("originate: %v", err)
		}
		recvOr(t, a.invites, "INVITE at A")
		inv := recvOr(t, b.invites, "INVITE at B")
		if !strings.Contains(string(inv.Body()), "m=audio 40000") {
			t.Fatalf("B should get A's media: %q", inv.Body())
		}
		re := recvOr(t, a.reinvite, "re-INVITE at A with B's media")
		if !strings.Contains(string(re.Body()), "m=audio 40000") {
			t.Fatalf("A re-INVITE SDP: %q", re.Body())
		}
		if err := s.node.SetChannelVar(ctx, op, uuid, "agent", "42"); err != nil {
			t.Fatalf("uuid_setvar: %v", err)
		}
		if err := s.node.Hold(ctx, op, uuid, true); err != nil {
			t.Fatalf("uuid_hold: %v", err)
		}
		held := recvOr(t, a.reinvite, "hold re-INVITE")
		if !strings.Contains(string(held.Body()), "a=sendonly") {
			t.Fatalf("hold SDP: %q", held.Body())
		}
		if n := len(s.node.Calls(op)); n != 1 {
			t.Fatalf("show calls: %d calls", n)
		}
		if got := s.node.HangupAll(ctx, op, "", "", ""); got != 1 {
			t.Fatalf("hupall ended %d calls", got)
		}
		recvOr(t, a.byes, "BYE at A")
		recvOr(t, b.byes, "BYE at B")
		s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
	})

	t.Run("failures and scope", func(t *testing.T) {
		var ce *actors.CauseError
		_, err := s.node.Originate(ctx, actors.Scope{Domain: "globex.example"}, actors.OriginateRequest{Endpoint: "user/100@acme.example", Destination: "&park()"})
		if !errors.As(err, &ce) || ce.Cause != "USER_NOT_REGISTERED" {
			t.Fatalf("tenant originate into another domain: %v", err)
		}
		_, err = s.node.Originate(ctx, op, actors.OriginateRequest{Endpoint: "user/200@globex.example", Destination: "&park()"})
		if !errors.As(err, &ce) || ce.Cause != "USER_NOT_REGISTERED" {
			t.Fatalf("originate to an unregistered account: %v", err)
		}
		if err := s.node.Hangup(ctx, op, "no-such-uuid", ""); !errors.Is(err, actors.ErrNoSuchChannel) {
			t.Fatalf("uuid_kill unknown: %v", err)
		}
	})
}

// TestUUIDBridgeParkedLegs originates two parked calls and bridges them (uuid_bridge).
func TestUUIDBridgeParkedLegs(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	tn := s.tenant("acme.example", "10001", "001", "100", "101")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	register(t, s, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	op := actors.Scope{}
	ua, err := s.node.Originate(ctx, op, actors.OriginateRequest{Endpoint: "user/100@acme.example", Destination: "&park()"})
	if err != nil {
		t.Fatal(err)
	}
	ub, err := s.node.Originate(ctx, op, actors.OriginateRequest{Endpoint: "user/101@acme.example", Destination: "&park()"})
	if err != nil {
		t.Fatal(err)
	}
	recvOr(t, a.invites, "INVITE at A")
	recvOr(t, b.invites, "INVITE at B")
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 2 })
	if err := s.node.Bridge(ctx, op, ua, ub); err != nil {
		t.Fatalf("uuid_bridge: %v", err)
	}
	recvOr(t, a.reinvite, "re-INVITE at A")
	recvOr(t, b.reinvite, "re-INVITE at B")
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 1 })
	if calls := s.node.Calls(op); len(calls) != 1 || calls[0].B == nil || calls[0].B.UUID != ub {
		t.Fatalf("show calls after uuid_bridge: %+v", calls)
	}
	if err := s.node.Hangup(ctx, op, ua, ""); err != nil {
		t.Fatal(err)
	}
	recvOr(t, a.byes, "BYE at A")
	recvOr(t, b.byes, "BYE at B")
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
}
