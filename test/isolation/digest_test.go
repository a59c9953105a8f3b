package isolation

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/switch/auth"
)

func itoa(n int64) string               { return strconv.FormatInt(n, 10) }
func sprintf(f string, a ...any) string { return fmt.Sprintf(f, a...) }
func sorted(s []string) []string        { s = slices.Clone(s); slices.Sort(s); return s }
func challengeOf(res *sip.Response) []string {
	return headerValues(res, "WWW-Authenticate", "Proxy-Authenticate")
}

func headerValues(res *sip.Response, names ...string) []string {
	var out []string
	for _, n := range names {
		for _, h := range res.GetHeaders(n) {
			out = append(out, h.Value())
		}
	}
	return out
}

// assertNoSecrets checks RELIABILITY A6 for one tenant: neither the admin API (accounts and
// ESL users, item and list) nor any log line carries a password or an HA1.
func assertNoSecrets(t *testing.T, s *stack, tn *tenant) {
	t.Helper()
	var secrets []string
	for user, pw := range tn.passwords {
		id := identity(user)
		secrets = append(secrets, pw, auth.HA1(auth.MD5, id, tn.name, pw), auth.HA1(auth.SHA256, id, tn.name, pw))
	}
	secrets = append(secrets, tn.secrets...)
	dom := "/admin/domain/" + itoa(tn.id)
	bodies := []string{string(s.api(http.MethodGet, dom+"/sip_account/", s.opToken, "").body),
		string(s.api(http.MethodGet, dom+"/esl_user/", s.opToken, "").body)}
	for _, id := range tn.accounts {
		bodies = append(bodies, string(s.api(http.MethodGet, dom+"/sip_account/"+itoa(id), s.opToken, "").body))
	}
	bodies = append(bodies, string(s.api(http.MethodGet, "/admin/audit?domain_id="+itoa(tn.id), s.opToken, "").body))
	logs := s.logs.String()
	if logs == "" {
		t.Fatal("no log output captured")
	}
	for _, sec := range secrets {
		for _, b := range bodies {
			if strings.Contains(b, sec) {
				t.Errorf("admin API response carries a secret of %s: %.200s", tn.name, b)
			}
		}
		if strings.Contains(logs, sec) {
			t.Errorf("a log line carries a secret of %s (%d bytes of logs)", tn.name, len(logs))
		}
	}
}

// TestDigestRules is RELIABILITY A1–A3 and A6 at the wire.
func TestDigestRules(t *testing.T) {
	s := startStack(t, stackOpts{})
	md5First := s.provision(tenantSpec{name: "delta.example", prefix: "20001", users: []string{"100", "101"}})
	shaFirst := s.provision(tenantSpec{name: "sigma.example", prefix: "20002", algorithms: []string{"SHA-256", "MD5"}, users: []string{"100"}})
	p := newPhone(t, loopbackIP(3), identity("100"), md5First.name, md5First.passwords["100"])
	regSpec := reqSpec{method: sip.REGISTER, fromUser: identity("100"), fromHost: md5First.name, toUser: identity("100"), toHost: md5First.name, expires: 600}

	t.Run("1000 challenges, distinct nonces", func(t *testing.T) {
		const n, workers = 1000, 8
		nonces := make(chan string, n)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += workers {
					res := p.do(s.sipAddr(), p.build(s.sipAddr(), regSpec))
					hs := res.GetHeaders("WWW-Authenticate")
					if res.StatusCode != 401 || len(hs) != 2 {
						t.Errorf("challenge %d: %d with %d challenges", i, res.StatusCode, len(hs))
						return
					}
					c0, err0 := digest.ParseChallenge(hs[0].Value())
					c1, err1 := digest.ParseChallenge(hs[1].Value())
					if err0 != nil || err1 != nil || c0.Nonce != c1.Nonce {
						t.Errorf("challenge %d: %v %v, nonces %q/%q", i, err0, err1, c0.Nonce, c1.Nonce)
						return
					}
					nonces <- c0.Nonce
				}
			}()
		}
		wg.Wait()
		close(nonces)
		seen := map[string]bool{}
		for nc := range nonces {
			seen[nc] = true
		}
		if len(seen) != n {
			t.Fatalf("%d distinct nonces in %d challenges", len(seen), n)
		}
	})

	t.Run("challenge order per domain", func(t *testing.T) {
		for _, tc := range []struct {
			tn   *tenant
			want []string
		}{{md5First, []string{"MD5", "SHA-256"}}, {shaFirst, []string{"SHA-256", "MD5"}}} {
			sp := regSpec
			sp.fromHost, sp.toHost = tc.tn.name, tc.tn.name
			res := p.do(s.sipAddr(), p.build(s.sipAddr(), sp))
			var got []string
			for _, v := range challengeOf(res) {
				c, err := digest.ParseChallenge(v)
				if err != nil {
					t.Fatalf("parse %q: %v", v, err)
				}
				if c.Realm != tc.tn.name || !c.SupportsQOP("auth") {
					t.Errorf("%s: realm %q qop %v", tc.tn.name, c.Realm, c.QOP)
				}
				got = append(got, strings.ToUpper(c.Algorithm))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: algorithms %v, want %v", tc.tn.name, got, tc.want)
			}
		}
	})

	t.Run("SHA-256 first domain: sipgo answers the first challenge", func(t *testing.T) {
		sp := newPhone(t, loopbackIP(4), identity("100"), shaFirst.name, shaFirst.passwords["100"])
		if res := sp.register(s.sipAddr(), 600); res.StatusCode != 200 {
			t.Fatalf("register with SHA-256: %d %s", res.StatusCode, res.Reason)
		}
		regs := s.node.Registrations(actors.Scope{Domain: shaFirst.name})
		if len(regs) != 1 || regs[0].NetworkIP != sp.ip {
			t.Fatalf("bindings after SHA-256 REGISTER: %+v", regs)
		}
		// And explicitly: an INVITE answered with the SHA-256 challenge by our own digest.
		req := sp.build(s.sipAddr(), reqSpec{method: sip.INVITE, ruriUser: "555", fromUser: identity("100"), fromHost: shaFirst.name, toUser: "555", toHost: shaFirst.name})
		res := sp.do(s.sipAddr(), req)
		cred := authorize(t, req, res, identity("100"), shaFirst.passwords["100"], 0)
		if cred.Algorithm != "SHA-256" {
			t.Fatalf("answered algorithm %q", cred.Algorithm)
		}
		if res = sp.do(s.sipAddr(), req); res.StatusCode != 404 {
			t.Fatalf("authenticated INVITE to a missing extension: %d %s, want 404", res.StatusCode, res.Reason)
		}
	})

	t.Run("replayed Authorization rejected, binding not refreshed", func(t *testing.T) {
		req := p.build(s.sipAddr(), regSpec)
		res := p.do(s.sipAddr(), req)
		authorize(t, req, res, identity("100"), md5First.passwords["100"], 0)
		captured := req.GetHeader("Authorization").Value()
		start := time.Now()
		if res = p.do(s.sipAddr(), req); res.StatusCode != 200 {
			t.Fatalf("genuine REGISTER: %d %s", res.StatusCode, res.Reason)
		}
		before := bindings(s, md5First.name)
		if len(before) != 1 {
			t.Fatalf("bindings after REGISTER: %+v", before)
		}
		// The attacker replays the captured header (same nonce, same nc) in a new transaction,
		// from another address, pointing the binding at itself with a longer expiry.
		attacker := newPhone(t, loopbackIP(5), identity("100"), md5First.name, "")
		for _, variant := range []string{"same request", "attacker contact"} {
			replay := attacker.build(s.sipAddr(), regSpec)
			*replay.CallID() = *req.CallID()
			replay.CSeq().SeqNo = req.CSeq().SeqNo + 1
			if variant == "same request" {
				replay.ReplaceHeader(&p.contact)
			} else {
				replay.ReplaceHeader(sip.NewHeader("Expires", "7200"))
			}
			replay.AppendHeader(sip.NewHeader("Authorization", captured))
			res := attacker.do(s.sipAddr(), replay)
			if res.StatusCode != 401 && res.StatusCode != 403 {
				t.Fatalf("%s replay: %d %s, want a new 401 (or 403)", variant, res.StatusCode, res.Reason)
			}
		}
		after := bindings(s, md5First.name)
		if len(after) != 1 || after[0].NetworkIP != p.ip || !after[0].Expires.Equal(before[0].Expires) || after[0].Expires.After(start.Add(601*time.Second)) {
			t.Fatalf("binding changed by the replay: before %+v, after %+v", before, after)
		}
	})

	t.Run("passwords never in API responses or logs", func(t *testing.T) {
		for _, tn := range []*tenant{md5First, shaFirst} {
			assertNoSecrets(t, s, tn)
		}
	})
}

func bindings(s *stack, domain string) []actors.RegistrationInfo {
	return s.node.Registrations(actors.Scope{Domain: domain})
}
