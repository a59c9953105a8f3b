package edge

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchyard/switchyard/actors"
)

// transferSetup registers 100 (A), 101 (B) and 102 (C) and connects A → B.
func transferSetup(t *testing.T) (*testSwitch, *tenant, *phone, *phone, *phone, *call) {
	t.Helper()
	s := startSwitch(t, switchOpts{})
	tn := s.tenant("acme.example", "10001", "001", "100", "101", "102")
	a := newPhone(t, "127.0.0.3", identity("001", "100"), "acme.example", password("100"))
	b := newPhone(t, "127.0.0.4", identity("001", "101"), "acme.example", password("101"))
	c := newPhone(t, "127.0.0.5", identity("001", "102"), "acme.example", password("102"))
	register(t, s, a, b, c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ab := a.dial(ctx, s.addr(), "101")
	if ab.err != nil {
		t.Fatalf("A→B: %v", ab.err)
	}
	recvOr(t, b.invites, "INVITE at B")
	waitBridged(t, s, 1)
	return s, tn, a, b, c, ab
}

func TestBlindTransferByREFER(t *testing.T) {
	s, tn, a, b, c, ab := transferSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	bd := <-b.answered
	refer := sip.NewRequest(sip.REFER, bd.InviteRequest.Contact().Address)
	refer.AppendHeader(sip.NewHeader("Refer-To", "<sip:102@acme.example>"))
	res, err := bd.Do(ctx, refer)
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	inv := recvOr(t, c.invites, "INVITE at the transfer target")
	if !strings.Contains(string(inv.Body()), "m=audio 40000") {
		t.Fatalf("target must get the transferee's media: %q", inv.Body())
	}
	recvOr(t, a.reinvite, "re-INVITE at the transferee")
	recvOr(t, b.byes, "BYE at the transferor")
	n := recvOr(t, b.notifies, "NOTIFY at the transferor")
	if n.GetHeader("Event") == nil || !strings.Contains(string(n.Body()), "SIP/2.0") {
		t.Fatalf("NOTIFY: %v %q", n.GetHeader("Event"), n.Body())
	}
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 1 })
	if err := ab.hangup(); err != nil {
		t.Fatal(err)
	}
	recvOr(t, c.byes, "BYE at the target after the transferee hangs up")
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
}

func TestUUIDTransfer(t *testing.T) {
	s, tn, a, b, c, ab := transferSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	callUUID := s.node.Calls(actors.Scope{})[0].A.UUID
	if err := s.node.Transfer(ctx, actors.Scope{}, callUUID, "102"); err != nil {
		t.Fatalf("uuid_transfer: %v", err)
	}
	recvOr(t, c.invites, "INVITE at the new extension")
	recvOr(t, b.byes, "BYE at the old partner")
	recvOr(t, a.reinvite, "re-INVITE at the transferred leg")
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 1 })
	_ = ab.hangup()
	recvOr(t, c.byes, "BYE at the new extension")
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
}

func TestAttendedTransferWithReplaces(t *testing.T) {
	s, tn, a, b, c, ab := transferSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	bd := <-b.answered
	// B consults C with a second call.
	bc := b.dial(ctx, s.addr(), "102")
	if bc.err != nil {
		t.Fatalf("B→C: %v", bc.err)
	}
	recvOr(t, c.invites, "consultation INVITE at C")
	waitBridged(t, s, 2)
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 2 })
	// B transfers A to C, replacing its consultation dialog.
	cid := bc.dlg.InviteRequest.CallID().Value()
	toTag, _ := bc.dlg.InviteResponse.To().Params.Get("tag")
	fromTag, _ := bc.dlg.InviteRequest.From().Params.Get("tag")
	replaces := url.QueryEscape(cid + ";to-tag=" + toTag + ";from-tag=" + fromTag)
	refer := sip.NewRequest(sip.REFER, bd.InviteRequest.Contact().Address)
	refer.AppendHeader(sip.NewHeader("Refer-To", "<sip:102@acme.example?Replaces="+replaces+">"))
	res, err := bd.Do(ctx, refer)
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER with Replaces: %v %v", res, err)
	}
	recvOr(t, a.reinvite, "re-INVITE at A (C's media)")
	recvOr(t, c.reinvite, "re-INVITE at C (A's media)")
	recvOr(t, b.byes, "BYE at B")
	recvOr(t, b.byes, "second BYE at B")
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 1 })
	_ = ab.hangup()
	recvOr(t, c.byes, "BYE at C when A hangs up")
	s.waitLimits(tn.domain.ID, func(l actors.DomainLimits) bool { return l.ActiveCalls == 0 })
	cdrs := s.waitCDRs(tn.domain.ID, 2)
	causes := map[string]bool{}
	for _, r := range cdrs {
		causes[r.HangupCause] = true
	}
	if !causes["ATTENDED_TRANSFER"] {
		t.Fatalf("the consultation call's CDR should end with ATTENDED_TRANSFER: %v", causes)
	}
}

// waitBridged waits until n calls are up and bridged (CHANNEL_BRIDGE happened).
func waitBridged(t *testing.T, s *testSwitch, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		up := 0
		for _, c := range s.node.Calls(actors.Scope{}) {
			if c.B != nil && c.A.OtherLeg != "" {
				up++
			}
		}
		if up >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d bridged calls never came up", n)
}
