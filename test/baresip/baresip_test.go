package baresiptest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors/events"
)

// startAgent starts a baresip for user on ip, registering at the switch; it is closed in
// t.Cleanup, which logs its output (SIP trace included) on failure or with
// SWITCHYARD_TEST_LOG=debug.
func startAgent(ctx context.Context, t *testing.T, s *testSwitch, ip, user string, autoAnswer bool) *Agent {
	t.Helper()
	a, err := Start(ctx, Config{Dir: t.TempDir(), Identity: "001*" + user, Domain: "acme.example", Password: password(user),
		ListenIP: ip, Registrar: s.edge.UDPAddr(), AutoAnswer: autoAnswer, Lifetime: 90 * time.Second})
	if err != nil {
		t.Fatalf("start baresip %s: %v", user, err)
	}
	t.Cleanup(func() {
		_ = a.Close()
		if t.Failed() || testLogLevel() <= zerolog.DebugLevel {
			t.Logf("baresip %s (%s) output:\n%s", user, ip, a.Output())
		}
	})
	return a
}

// awaitBus reads the subscription until done reports true for every wanted key.
func awaitBus(ctx context.Context, sub *events.Subscription, what string, keys []string, key func(*events.Event) string) error {
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	var seen []string
	for len(want) > 0 {
		select {
		case e := <-sub.C():
			k := key(e)
			if k != "" {
				seen = append(seen, k)
			}
			delete(want, k)
		case <-ctx.Done():
			return fmt.Errorf("%s: still waiting for %v (saw %v): %w", what, keys, seen, ctx.Err())
		}
	}
	return nil
}

// channelEvent keys channel events named name by their Call-Direction.
func channelEvent(name string) func(*events.Event) string {
	return func(e *events.Event) string {
		if e.Name() != name {
			return ""
		}
		return e.Get("Call-Direction")
	}
}

// TestBaresipCall: two real baresip softphones register with digest auth, 001*100 calls
// extension 101, 001*101 answers automatically, the caller hangs up, and the switch writes a
// NORMAL_CLEARING CDR.
func TestBaresipCall(t *testing.T) {
	if err := Available(Config{}); err != nil {
		t.Skipf("baresip unavailable: %v", err)
	}
	s := startSwitch(t)
	domain, accounts := s.tenant(t, "acme.example", "10001", "001", []string{"MD5"}, "100", "101")
	sub := s.bus.Subscribe(events.SubscribeOptions{QueueCap: 4096})
	t.Cleanup(sub.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	caller := startAgent(ctx, t, s, "127.0.0.71", "100", false)
	callee := startAgent(ctx, t, s, "127.0.0.72", "101", true)

	registered := func(e *events.Event) string {
		if e.Subclass() != "sofia::register" {
			return ""
		}
		return e.Get("from-user")
	}
	if err := awaitBus(ctx, sub, "registration", []string{"001*100", "001*101"}, registered); err != nil {
		t.Fatal(err)
	}
	for user, ip := range map[string]string{"100": "127.0.0.71", "101": "127.0.0.72"} {
		list, err := s.store.ListBindings(domain.ID, accounts[user].ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("bindings of %s: %+v, %v", user, list, err)
		}
		if b := list[0]; !strings.HasPrefix(b.Source, ip+":") || !strings.Contains(b.Contact, ip) || !strings.Contains(strings.ToLower(b.UserAgent), "baresip") {
			t.Fatalf("binding of %s is not baresip's on %s: %+v", user, ip, b)
		}
	}

	if _, err := caller.Command(ctx, "dial", "sip:101@acme.example"); err != nil {
		t.Fatalf("dial: %v", err)
	}
	if err := awaitBus(ctx, sub, "answer", []string{"inbound", "outbound"}, channelEvent("CHANNEL_ANSWER")); err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]*Agent{"caller": caller, "callee": callee} {
		if _, err := a.WaitEvent(ctx, "CALL_ESTABLISHED"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	if _, err := caller.Command(ctx, "hangup", ""); err != nil {
		t.Fatalf("hangup: %v", err)
	}
	for name, a := range map[string]*Agent{"caller": caller, "callee": callee} {
		if _, err := a.WaitEvent(ctx, "CALL_CLOSED"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// HANGUP_COMPLETE fires only once the CDR is durable (DECISIONS 13).
	if err := awaitBus(ctx, sub, "hangup", []string{"inbound", "outbound"}, channelEvent("CHANNEL_HANGUP_COMPLETE")); err != nil {
		t.Fatal(err)
	}
	cdrs, _, err := s.store.ListCDRs(domain.ID, time.Time{}, time.Now().Add(time.Hour), "", 10)
	if err != nil || len(cdrs) != 1 {
		t.Fatalf("CDRs: %+v, %v", cdrs, err)
	}
	cdr := cdrs[0]
	if cdr.HangupCause != "NORMAL_CLEARING" || cdr.Answer == nil || cdr.Billsec < 0 || cdr.DisconnectedBy != "caller" ||
		cdr.Caller != "001*100" || cdr.Callee != "001*101" {
		t.Fatalf("unexpected CDR: %+v", cdr)
	}
	if cdr.ACallID == "" || cdr.BCallID == "" || cdr.ACallID == cdr.BCallID {
		t.Fatalf("CDR call ids: %+v", cdr)
	}
}
