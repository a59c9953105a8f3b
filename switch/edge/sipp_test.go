package edge

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/actors"
	sipptest "github.com/switchyard/switchyard/test/sipp"
)

// TestSIPpScenarios drives the switch with SIPp (Debian's sip-tester), the load and interop
// peer: registration, answered calls, busy, cancel, no answer, limits, lock, cross-customer
// and cross-domain dialling, unknown domains. Callers use 127.0.0.3, callees 127.0.0.4+.
func TestSIPpScenarios(t *testing.T) {
	if !sipptest.Available() {
		t.Skip("sipp not installed (make test installs sip-tester)")
	}
	s := startSwitch(t, switchOpts{noAnswer: 2 * time.Second})
	acme := s.tenant("acme.example", "10001", "001", "100", "101", "102", "103", "104")
	other := s.customer(acme.domain.ID, "002")
	s.account(acme.domain.ID, other.ID, "101")
	globex := s.tenant("globex.example", "20002", "007", "200")
	for _, d := range []*tenant{acme, globex} {
		dd := *d.domain
		dd.AllowCrossDomainDialling = true
		s.update(&dd)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	row := func(id, user, domain, dialled string) []string { return []string{id, password(user), domain, dialled} }

	// callee starts a registered SIPp UAS for an account.
	callee := func(t *testing.T, ip, id, user, domain, scenario string, extra ...string) *sipptest.Process {
		t.Helper()
		p, res, err := sipptest.StartRegistered(ctx, t,
			sipptest.Opts{Target: s.addr(), InjectionRows: [][]string{row(id, user, domain, "")}},
			sipptest.Opts{Scenario: scenario, LocalIP: ip, Calls: 1, Timeout: 30 * time.Second, ExtraArgs: extra})
		if err != nil {
			t.Fatalf("callee %s: %v (%s)", id, err, res.Summary())
		}
		return p
	}
	caller := func(t *testing.T, scenario, dialled string) sipptest.Result {
		t.Helper()
		res, err := sipptest.Run(ctx, t, sipptest.Opts{Scenario: scenario, Target: s.addr(), LocalIP: "127.0.0.3", Calls: 1,
			Timeout: 20 * time.Second, InjectionRows: [][]string{row("001*100", "100", "acme.example", dialled)}})
		if err != nil {
			t.Fatalf("caller: %v", err)
		}
		return res
	}
	ok := func(t *testing.T, res sipptest.Result) {
		t.Helper()
		if res.Successful != 1 || res.Failed != 0 {
			t.Fatalf("SIPp: %s\n%s", res.Summary(), res.ErrLog)
		}
	}

	t.Run("register with digest", func(t *testing.T) {
		ok(t, caller(t, "register_auth.xml", ""))
	})
	t.Run("A calls B and hangs up", func(t *testing.T) {
		b := callee(t, "127.0.0.4", "001*101", "101", "acme.example", "uas_answer.xml")
		ok(t, caller(t, "uac_auth.xml", "101"))
		res, _ := b.Wait()
		ok(t, res)
	})
	t.Run("B busy relayed", func(t *testing.T) {
		b := callee(t, "127.0.0.5", "001*102", "102", "acme.example", "uas_busy.xml")
		ok(t, caller(t, "uac_expect_486.xml", "102"))
		_, _ = b.Wait()
	})
	t.Run("cancel before answer", func(t *testing.T) {
		b := callee(t, "127.0.0.6", "001*103", "103", "acme.example", "uas_ring_noanswer.xml")
		ok(t, caller(t, "uac_cancel.xml", "103"))
		res, _ := b.Wait()
		ok(t, res)
	})
	t.Run("no answer", func(t *testing.T) {
		b := callee(t, "127.0.0.6", "001*103", "103", "acme.example", "uas_ring_noanswer.xml")
		ok(t, caller(t, "uac_expect_480.xml", "103"))
		_, _ = b.Wait()
	})
	t.Run("unknown extension", func(t *testing.T) { ok(t, caller(t, "uac_expect_404.xml", "555")) })
	t.Run("not registered", func(t *testing.T) {
		ok(t, caller(t, "uac_expect_480.xml", "104"))
	})
	t.Run("cross-customer", func(t *testing.T) {
		b := callee(t, "127.0.0.7", "002*101", "101", "acme.example", "uas_answer.xml")
		ok(t, caller(t, "uac_auth.xml", "002*101"))
		_, _ = b.Wait()
	})
	t.Run("cross-domain", func(t *testing.T) {
		b := callee(t, "127.0.0.8", "007*200", "200", "globex.example", "uas_answer.xml")
		ok(t, caller(t, "uac_auth.xml", "20002*007*200"))
		res, _ := b.Wait()
		ok(t, res)
	})
	t.Run("unknown domain gets 403 without challenge", func(t *testing.T) {
		res, err := sipptest.Run(ctx, t, sipptest.Opts{Scenario: "uac_noauth_403.xml", Target: s.addr(), LocalIP: "127.0.0.3", Calls: 1,
			Timeout: 10 * time.Second, InjectionRows: [][]string{{"001*100", "x", "nowhere.example", "101"}}})
		if err != nil {
			t.Fatal(err)
		}
		ok(t, res)
	})
	t.Run("limit reached gives 503 naming it", func(t *testing.T) {
		dd := *acme.domain
		dd.AllowCrossDomainDialling = true
		dd.Limitations.ActiveCallLimit = 1
		s.update(&dd)
		b := callee(t, "127.0.0.4", "001*101", "101", "acme.example", "uas_answer.xml")
		held, err := sipptest.Start(ctx, t, sipptest.Opts{Scenario: "uac_auth.xml", Target: s.addr(), LocalIP: "127.0.0.9", Calls: 1,
			Timeout: 20 * time.Second, ExtraArgs: []string{"-d", "3000"}, InjectionRows: [][]string{row("001*103", "103", "acme.example", "101")}})
		if err != nil {
			t.Fatal(err)
		}
		s.waitLimits(acme.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 1 })
		ok(t, caller(t, "uac_expect_503.xml", "101"))
		res, _ := held.Wait()
		ok(t, res)
		_, _ = b.Wait()
	})
	t.Run("locked domain gets 403", func(t *testing.T) {
		dd := *acme.domain
		dd.Status = "locked"
		s.update(&dd)
		ok(t, caller(t, "uac_expect_403.xml", "101"))
	})
	s.waitLimits(acme.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
}
