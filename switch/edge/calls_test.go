package edge

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/persistence"
)

func TestRegisterWithDigest(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	tn := s.tenant("acme.example", "10001", "001", "100")
	p := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	res := p.register(s.addr(), 300, nil)
	if res.StatusCode != 200 {
		t.Fatalf("REGISTER: got %d %s", res.StatusCode, res.Reason)
	}
	if c := res.GetHeader("Contact"); c == nil || !strings.Contains(c.Value(), "127.0.0.3") {
		t.Fatalf("200 OK lacks the binding: %v", res.GetHeader("Contact"))
	}
	list, err := s.store.ListBindings(tn.domain.ID, tn.accounts["100"].ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("bindings: %v %v", list, err)
	}
	if list[0].UserAgent != "switchyard-test-phone" || !strings.HasPrefix(list[0].Source, "127.0.0.3:") {
		t.Fatalf("binding lacks source/user agent: %+v", list[0])
	}
	// Expires: 0 removes it.
	if res := p.register(s.addr(), 0, nil); res.StatusCode != 200 {
		t.Fatalf("unREGISTER: %d", res.StatusCode)
	}
	if list, _ := s.store.ListBindings(tn.domain.ID, tn.accounts["100"].ID); len(list) != 0 {
		t.Fatalf("binding survived Expires: 0: %+v", list)
	}
}

func TestRegisterRejections(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	s.tenant("acme.example", "10001", "001", "100")
	cases := []struct {
		name    string
		phone   *phone
		expires int
		want    int
	}{
		{"wrong password", newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", "not-the-password"), 300, 403},
		{"unknown user", newPhone(t, "127.0.0.3", identity("001", "999"), "acme.example", "whatever-pass"), 300, 403},
		{"unknown domain", newPhone(t, "127.0.0.3", identity("001", "100"), "nowhere.example", password("100")), 300, 403},
		{"interval too brief", newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100")), 5, 423},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.phone.register(s.addr(), tc.expires, nil)
			if res.StatusCode != tc.want {
				t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, tc.want)
			}
			if tc.want == 423 && res.GetHeader("Min-Expires") == nil {
				t.Fatal("423 without Min-Expires")
			}
		})
	}
}

func TestCallAnsweredAndHungUp(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	tn := s.tenant("acme.example", "10001", "001", "100", "101")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	for _, p := range []*phone{a, b} {
		if res := p.register(s.addr(), 300, nil); res.StatusCode != 200 {
			t.Fatalf("register %s: %d", p.identity, res.StatusCode)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c := a.dial(ctx, s.addr(), "101")
	if c.err != nil {
		t.Fatalf("call: %v (codes %v)", c.err, c.codes)
	}
	inv := recvOr(t, b.invites, "INVITE at the callee")
	if inv.CallID().Value() == c.dlg.InviteRequest.CallID().Value() {
		t.Fatal("B-leg reuses the A-leg Call-ID; a B2BUA must create a new one")
	}
	if got := inv.From().Address.User; got != "100" {
		t.Fatalf("callee sees caller id %q, want the internal caller id 100", got)
	}
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 1 })
	if err := c.hangup(); err != nil {
		t.Fatalf("BYE: %v", err)
	}
	recvOr(t, b.byes, "BYE at the callee")
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
	cdrs := s.waitCDRs(tn.domain.ID, 1)
	cdr := cdrs[0]
	if cdr.HangupCause != "NORMAL_CLEARING" || cdr.Answer == nil || cdr.DisconnectedBy != "caller" || cdr.Caller != "001*100" || cdr.Callee != "001*101" {
		t.Fatalf("unexpected CDR: %+v", cdr)
	}
	if cdr.ACallID == "" || cdr.BCallID == "" || cdr.ACallID == cdr.BCallID {
		t.Fatalf("CDR call ids: %+v", cdr)
	}
}

func TestCallFailures(t *testing.T) {
	s := startSwitch(t, switchOpts{noAnswer: 1500 * time.Millisecond})
	tn := s.tenant("acme.example", "10001", "001", "100", "101", "102")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	for _, p := range []*phone{a, b} {
		if res := p.register(s.addr(), 300, nil); res.StatusCode != 200 {
			t.Fatalf("register: %d", res.StatusCode)
		}
	}
	cases := []struct {
		name    string
		mode    string
		dialled string
		want    int
	}{
		{"unknown extension", "answer", "555", 404},
		{"not registered", "answer", "102", 480},
		{"busy relayed", "busy", "101", 486},
		{"no answer", "ring", "101", 480},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b.setMode(tc.mode)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c := a.dial(ctx, s.addr(), tc.dialled)
			if got := c.code(); got != tc.want {
				t.Fatalf("got %d (err %v, codes %v), want %d", got, c.err, c.codes, tc.want)
			}
			if tc.mode == "ring" {
				select {
				case <-b.cancels:
				case <-time.After(5 * time.Second):
					t.Fatal("callee never got CANCEL after the no-answer timeout")
				}
			}
		})
	}
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
	s.waitCDRs(tn.domain.ID, len(cases))
}

func TestLimitsAndLock(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	tn := s.tenant("acme.example", "10001", "001", "100", "101", "102")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	c2 := newPhone(t, "127.0.0.5", identity("001", "102"), "acme.example", password("102"))
	for _, p := range []*phone{a, b, c2} {
		if res := p.register(s.addr(), 300, nil); res.StatusCode != 200 {
			t.Fatalf("register: %d", res.StatusCode)
		}
	}
	d := *tn.domain
	d.Limitations.ActiveCallLimit = 1
	s.update(&d)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first := a.dial(ctx, s.addr(), "101")
	if first.err != nil {
		t.Fatalf("first call: %v", first.err)
	}
	second := c2.dial(ctx, s.addr(), "100")
	if got := second.code(); got != 503 {
		t.Fatalf("second call got %d, want 503", got)
	}
	var de interface{ Error() string } = second.err
	_ = de
	if r := reasonOf(second); !strings.Contains(r, "active call limit") {
		t.Fatalf("503 Reason %q does not name the limit", r)
	}
	if err := first.hangup(); err != nil {
		t.Fatal(err)
	}
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })

	d.Status = "locked"
	s.update(&d)
	locked := a.dial(ctx, s.addr(), "101")
	if got := locked.code(); got != 403 {
		t.Fatalf("locked domain call got %d, want 403", got)
	}
	if res := b.register(s.addr(), 300, nil); res.StatusCode != 403 {
		t.Fatalf("locked domain REGISTER got %d, want 403", res.StatusCode)
	}
}

func reasonOf(c *call) string {
	if c.final == nil {
		return ""
	}
	if h := c.final.GetHeader("Reason"); h != nil {
		return h.Value()
	}
	return ""
}

var _ = persistence.Actor{}
