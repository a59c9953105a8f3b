package isolation

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// shape is what a scanner can compare between two answers (RELIABILITY A.4, F4): status line,
// header-name multiset, Reason header, and the challenge's realm/algorithm/qop/stale/opaque.
type shape struct {
	status     int
	reason     string
	headers    string
	reasonHdr  string
	challenges string
}

// shapeOf reduces res to its shape; the nonce is left out (it differs per challenge).
func shapeOf(t *testing.T, res *sip.Response) shape {
	t.Helper()
	var names []string
	for _, h := range res.Headers() {
		names = append(names, strings.ToLower(h.Name()))
	}
	sort.Strings(names)
	sh := shape{status: res.StatusCode, reason: res.Reason, headers: strings.Join(names, ",")}
	if h := res.GetHeader("Reason"); h != nil {
		sh.reasonHdr = h.Value()
	}
	var chs []string
	for _, v := range challengeOf(res) {
		c, err := digest.ParseChallenge(v)
		if err != nil {
			t.Fatalf("parse challenge %q: %v", v, err)
		}
		chs = append(chs, strings.Join([]string{c.Realm, c.Algorithm, strings.Join(c.QOP, "|"), c.Opaque, boolStr(c.Stale), boolStr(c.Userhash)}, ";"))
	}
	sh.challenges = strings.Join(chs, " / ")
	return sh
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestEnumerationResistance is RELIABILITY F4: REGISTER, INVITE and OPTIONS for existing and
// non-existing extensions of one tenant are answered identically, before and after credentials.
func TestEnumerationResistance(t *testing.T) {
	s := startStack(t, stackOpts{})
	tn := s.provision(tenantSpec{name: "omega.example", prefix: "30001", users: []string{"100", "101", "102"}})
	scanner := newPhone(t, loopbackIP(9), "scanner", tn.name, "")
	const rounds = 20
	existing := []string{identity("100"), identity("101"), identity("102")}
	missing := []string{identity("199"), identity("4242"), "100", "3735928559"} // svwar starts with a random 32-bit number

	probe := func(method sip.RequestMethod, user, password string) (first, final shape, took time.Duration) {
		sp := reqSpec{method: method, ruriUser: user, fromUser: user, fromHost: tn.name, toUser: user, toHost: tn.name, expires: 600}
		if method == sip.REGISTER {
			sp.ruriUser = ""
		}
		req := scanner.build(s.sipAddr(), sp)
		start := time.Now()
		res := scanner.do(s.sipAddr(), req)
		took = time.Since(start)
		first = shapeOf(t, res)
		if password == "" || (res.StatusCode != 401 && res.StatusCode != 407) {
			return first, first, took
		}
		authorize(t, req, res, user, password, 0)
		final = shapeOf(t, scanner.do(s.sipAddr(), req))
		return first, final, took
	}

	for _, method := range []sip.RequestMethod{sip.REGISTER, sip.INVITE, sip.OPTIONS} {
		t.Run(string(method), func(t *testing.T) {
			var want, wantFinal *shape
			times := map[bool][]time.Duration{}
			for i := range rounds {
				for _, known := range []bool{true, false} {
					list := missing
					if known {
						list = existing
					}
					user := list[i%len(list)]
					pw := "wrong-password-1"
					if method == sip.OPTIONS {
						pw = ""
					}
					first, final, took := probe(method, user, pw)
					times[known] = append(times[known], took)
					if want == nil {
						want, wantFinal = &first, &final
						t.Logf("%s answer: %d %s, headers %s, challenges %s; final %d %s", method, first.status, first.reason, first.headers, first.challenges, final.status, final.reason)
					}
					if first != *want {
						t.Fatalf("%s for %s (known=%v): first answer %+v differs from %+v", method, user, known, first, *want)
					}
					if final != *wantFinal {
						t.Fatalf("%s for %s (known=%v): final answer %+v differs from %+v", method, user, known, final, *wantFinal)
					}
				}
			}
			switch method {
			case sip.REGISTER, sip.INVITE:
				if want.status != 401 && want.status != 407 || wantFinal.status != 403 {
					t.Fatalf("%s: first %d, final %d; want a challenge, then 403", method, want.status, wantFinal.status)
				}
			case sip.OPTIONS:
				if want.status != 200 {
					t.Fatalf("OPTIONS: %d", want.status)
				}
			}
			t.Logf("%s median time: known %v, unknown %v (logged only)", method, median(times[true]), median(times[false]))
		})
	}

	t.Run("unknown domain is 403 without challenge for every user", func(t *testing.T) {
		var want *shape
		for _, user := range append(slices.Clone(existing), missing...) {
			req := scanner.build(s.sipAddr(), reqSpec{method: sip.REGISTER, fromUser: user, fromHost: "nosuch.example", toUser: user, toHost: "nosuch.example", expires: 600})
			sh := shapeOf(t, scanner.do(s.sipAddr(), req))
			if sh.status != 403 || sh.challenges != "" {
				t.Fatalf("%s@nosuch.example: %+v", user, sh)
			}
			if want == nil {
				want = &sh
			} else if sh != *want {
				t.Fatalf("%s: %+v differs from %+v", user, sh, *want)
			}
		}
	})
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	c := slices.Clone(d)
	slices.Sort(c)
	return c[len(c)/2]
}
