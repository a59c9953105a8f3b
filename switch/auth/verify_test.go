package auth

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icholy/digest"
)

const (
	testRealm = "acme.example"
	testUser  = "100"
	testPass  = "s3cret"
)

// clientAnswer builds credentials the way a sipgo client would (icholy/digest), from
// the challenge value for alg, then parses them back with ParseCredentials.
func clientAnswer(t testing.TB, chal []string, alg, user, pass, method, uri string, nc int, qop bool) Credentials {
	t.Helper()
	for _, v := range chal {
		c, err := digest.ParseChallenge(v)
		if err != nil {
			t.Fatalf("parse challenge %q: %v", v, err)
		}
		if c.Algorithm != alg {
			continue
		}
		if !qop {
			c.QOP = nil
		}
		d, err := digest.Digest(c, digest.Options{Method: method, URI: uri, Username: user, Password: pass, Count: nc, Cnonce: "0a4f113b"})
		if err != nil {
			t.Fatalf("digest: %v", err)
		}
		cred, err := ParseCredentials(d.String())
		if err != nil {
			t.Fatalf("ParseCredentials(%q): %v", d.String(), err)
		}
		return cred
	}
	t.Fatalf("no %s challenge in %q", alg, chal)
	return Credentials{}
}

// lookupFor returns a lookup over the stored HA1s of one account and counts calls.
func lookupFor(user, pass, realm string, known bool, calls *atomic.Int32) func(string) (string, bool) {
	return func(alg string) (string, bool) {
		if calls != nil {
			calls.Add(1)
		}
		if !known {
			return "", false
		}
		return HA1(alg, user, realm, pass), true
	}
}

type verifyEnv struct {
	clk *fakeClock
	s   *NonceSigner
	v   *Verifier
}

func newVerifyEnv(t testing.TB) *verifyEnv {
	clk := newFakeClock()
	s := newTestSigner(t, clk, 300*time.Second)
	v, err := NewVerifier(s, NewReplayTracker(0), 0)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return &verifyEnv{clk: clk, s: s, v: v}
}

func (e *verifyEnv) challenge(t testing.TB, realm string) []string {
	t.Helper()
	ch, err := e.s.Challenge(ChallengeParams{Realm: realm})
	if err != nil {
		t.Fatalf("Challenge: %v", err)
	}
	return ch
}

func TestVerifySingle(t *testing.T) {
	type step struct {
		cred    func(e *verifyEnv, ch []string) Credentials
		method  string
		realm   string
		known   bool
		advance time.Duration
		want    Status
		reason  string
		unknown bool
		lookups int32 // expected lookup calls for this step; -1 = don't care
	}
	ans := func(alg, pass, uri string, nc int, qop bool) func(*verifyEnv, []string) Credentials {
		return func(e *verifyEnv, ch []string) Credentials {
			return clientAnswer(t, ch, alg, testUser, pass, "REGISTER", uri, nc, qop)
		}
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "MD5 qop=auth ok", steps: []step{{cred: ans(MD5, testPass, "sip:acme.example", 1, true), want: OK, known: true, lookups: 1}}},
		{name: "SHA-256 qop=auth ok", steps: []step{{cred: ans(SHA256, testPass, "sip:acme.example", 1, true), want: OK, known: true, lookups: 1}}},
		{name: "uri differs from R-URI (SIPp host:port) ok", steps: []step{{cred: ans(MD5, testPass, "sip:127.0.0.1:5060", 1, true), want: OK, known: true, lookups: 1}}},
		{name: "wrong password", steps: []step{{cred: ans(MD5, "nope", "sip:acme.example", 1, true), want: Failed, reason: ReasonInvalidPassword, known: true, lookups: 1}}},
		{name: "unknown user looks like wrong password", steps: []step{{cred: ans(MD5, testPass, "sip:acme.example", 1, true), want: Failed, reason: ReasonInvalidAccountID, unknown: true, lookups: 1}}},
		{name: "unknown user SHA-256", steps: []step{{cred: ans(SHA256, testPass, "sip:acme.example", 1, true), want: Failed, reason: ReasonInvalidAccountID, unknown: true, lookups: 1}}},
		{name: "method mismatch fails", steps: []step{{cred: ans(MD5, testPass, "sip:acme.example", 1, true), method: "INVITE", want: Failed, reason: ReasonInvalidPassword, known: true, lookups: 1}}},
		{name: "forged nonce rejected before lookup (A1)", steps: []step{{cred: func(e *verifyEnv, ch []string) Credentials {
			c := clientAnswer(t, ch, MD5, testUser, testPass, "REGISTER", "sip:x", 1, true)
			c.Nonce = "forged"
			return c
		}, want: BadNonce, reason: ReasonChallengeResponseFailed, known: true, lookups: 0}}},
		{name: "nonce for another realm rejected before lookup (A4)", steps: []step{{cred: ans(MD5, testPass, "sip:x", 1, true), realm: "beta.example", want: BadNonce, reason: ReasonChallengeResponseFailed, known: true, lookups: 0}}},
		{name: "replay same nc (A2)", steps: []step{
			{cred: ans(MD5, testPass, "sip:x", 1, true), want: OK, known: true, lookups: 1},
			{cred: ans(MD5, testPass, "sip:x", 1, true), want: Replay, reason: ReasonChallengeResponseFailed, known: true, lookups: 1},
		}},
		{name: "increasing nc accepted, lower rejected", steps: []step{
			{cred: ans(MD5, testPass, "sip:x", 1, true), want: OK, known: true, lookups: -1},
			{cred: ans(MD5, testPass, "sip:x", 2, true), want: OK, known: true, lookups: -1},
			{cred: ans(MD5, testPass, "sip:x", 5, true), want: OK, known: true, lookups: -1},
			{cred: ans(MD5, testPass, "sip:x", 4, true), want: Replay, reason: ReasonChallengeResponseFailed, known: true, lookups: -1},
		}},
		{name: "wrong password does not burn nc", steps: []step{
			{cred: ans(MD5, "nope", "sip:x", 9, true), want: Failed, reason: ReasonInvalidPassword, known: true, lookups: -1},
			{cred: ans(MD5, testPass, "sip:x", 1, true), want: OK, known: true, lookups: -1},
		}},
		{name: "nc 255 ok, 256 stale", steps: []step{
			{cred: ans(MD5, testPass, "sip:x", 255, true), want: OK, known: true, lookups: -1},
			{cred: ans(MD5, testPass, "sip:x", 256, true), want: Stale, known: true, lookups: -1},
		}},
		{name: "no qop nonce works once", steps: []step{
			{cred: ans(MD5, testPass, "sip:x", 0, false), want: OK, known: true, lookups: -1},
			{cred: ans(MD5, testPass, "sip:x", 0, false), want: Replay, reason: ReasonChallengeResponseFailed, known: true, lookups: -1},
		}},
		{name: "no qop SHA-256 ok", steps: []step{{cred: ans(SHA256, testPass, "sip:x", 0, false), want: OK, known: true, lookups: -1}}},
		{name: "expired nonce with correct digest is stale (A3)", steps: []step{{cred: ans(MD5, testPass, "sip:x", 1, true), advance: 301 * time.Second, want: Stale, known: true, lookups: 1}}},
		{name: "expired nonce with wrong digest fails (A3)", steps: []step{{cred: ans(MD5, "nope", "sip:x", 1, true), advance: 301 * time.Second, want: Failed, reason: ReasonInvalidPassword, known: true, lookups: 1}}},
		{name: "realm field differs from the nonce realm", steps: []step{{cred: func(e *verifyEnv, ch []string) Credentials {
			c := clientAnswer(t, ch, MD5, testUser, testPass, "REGISTER", "sip:x", 1, true)
			c.Realm = "beta.example"
			return c
		}, want: Failed, known: true, lookups: 1, reason: ReasonChallengeResponseFailed}}},
		{name: "hand-built credentials with bad algorithm fail", steps: []step{{cred: func(e *verifyEnv, ch []string) Credentials {
			c := clientAnswer(t, ch, MD5, testUser, testPass, "REGISTER", "sip:x", 1, true)
			c.Algorithm = "SHA-512"
			return c
		}, want: Failed, known: true, lookups: 0, reason: ReasonChallengeResponseFailed}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newVerifyEnv(t)
			ch := e.challenge(t, testRealm)
			for i, st := range tt.steps {
				cred := st.cred(e, ch)
				e.clk.Advance(st.advance)
				method := st.method
				if method == "" {
					method = "REGISTER"
				}
				realm := st.realm
				if realm == "" {
					realm = testRealm
				}
				var calls atomic.Int32
				res := e.v.Verify(method, cred, realm, lookupFor(testUser, testPass, testRealm, st.known, &calls))
				if res.Status != st.want || res.Reason != st.reason || res.UnknownUser != st.unknown {
					t.Fatalf("step %d: got %+v, want status %v reason %q unknown %v", i, res, st.want, st.reason, st.unknown)
				}
				if st.lookups >= 0 && calls.Load() != st.lookups {
					t.Fatalf("step %d: lookup called %d times, want %d", i, calls.Load(), st.lookups)
				}
				if res.Status != Failed || res.Reason != ReasonChallengeResponseFailed {
					if res.Algorithm != cred.Algorithm {
						t.Fatalf("step %d: algorithm %q, want %q", i, res.Algorithm, cred.Algorithm)
					}
				}
			}
		})
	}
}

// TestRFC2617Vector checks the response formula against RFC 2617 §3.5's published example.
func TestRFC2617Vector(t *testing.T) {
	c := Credentials{Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", URI: "/dir/index.html", QOP: "auth", NC: "00000001", CNonce: "0a4f113b"}
	got := expectedResponse(MD5, HA1(MD5, "Mufasa", "testrealm@host.com", "Circle Of Life"), "GET", &c)
	if want := "6629fae49393a05397450978507c4ef1"; got != want {
		t.Fatalf("response = %s, want %s", got, want)
	}
}

func TestNewVerifierNilSigner(t *testing.T) {
	if _, err := NewVerifier(nil, nil, 0); err == nil {
		t.Fatal("want error for nil signer")
	}
}

func TestVerifyConcurrent(t *testing.T) {
	e := newVerifyEnv(t)
	const workers, per = 8, 50
	var wg sync.WaitGroup
	var ok atomic.Int32
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				ch := e.challenge(t, testRealm)
				cred := clientAnswer(t, ch, SHA256, testUser, testPass, "INVITE", "sip:200@"+testRealm, 1, true)
				if e.v.Verify("INVITE", cred, testRealm, lookupFor(testUser, testPass, testRealm, true, nil)).Status == OK {
					ok.Add(1)
				}
				if e.v.Verify("INVITE", cred, testRealm, lookupFor(testUser, testPass, testRealm, true, nil)).Status != Replay {
					t.Errorf("replayed credentials not rejected")
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() != workers*per {
		t.Fatalf("ok = %d, want %d", ok.Load(), workers*per)
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{MD5, SHA256} {
		b.Run(alg, func(b *testing.B) {
			e := newVerifyEnv(b)
			ch := e.challenge(b, testRealm)
			lookup := lookupFor(testUser, testPass, testRealm, true, nil)
			// Pre-compute answers with increasing nc so every Verify is a fresh OK.
			creds := make([]Credentials, 0, 255)
			for nc := 1; nc <= 255; nc++ {
				creds = append(creds, clientAnswer(b, ch, alg, testUser, testPass, "REGISTER", "sip:"+testRealm, nc, true))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == len(creds) {
					b.StopTimer()
					ch = e.challenge(b, testRealm)
					creds = creds[:0]
					for nc := 1; nc <= 255; nc++ {
						creds = append(creds, clientAnswer(b, ch, alg, testUser, testPass, "REGISTER", "sip:"+testRealm, nc, true))
					}
					i = 0
					b.StartTimer()
				}
				if r := e.v.Verify("REGISTER", creds[i], testRealm, lookup); r.Status != OK {
					b.Fatalf("nc %s: %v", strconv.Itoa(i+1), r.Status)
				}
				i++
			}
		})
	}
}
