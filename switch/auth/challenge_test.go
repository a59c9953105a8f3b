package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/icholy/digest"
)

func TestChallenge(t *testing.T) {
	clk := newFakeClock()
	s := newTestSigner(t, clk, 0)
	tests := []struct {
		name     string
		p        ChallengeParams
		wantAlgs []string
		opaque   string
		stale    bool
		wantErr  error
	}{
		{name: "default order MD5 then SHA-256", p: ChallengeParams{Realm: "acme.example"}, wantAlgs: []string{MD5, SHA256}},
		{name: "SHA-256 first when configured", p: ChallengeParams{Realm: "acme.example", Algorithms: []string{SHA256, MD5}}, wantAlgs: []string{SHA256, MD5}},
		{name: "single algorithm", p: ChallengeParams{Realm: "acme.example", Algorithms: []string{SHA256}}, wantAlgs: []string{SHA256}},
		{name: "opaque and stale", p: ChallengeParams{Realm: "acme.example", Opaque: "op1", Stale: true}, wantAlgs: []string{MD5, SHA256}, opaque: "op1", stale: true},
		{name: "empty realm", p: ChallengeParams{}, wantErr: ErrBadChallenge},
		{name: "quote in realm", p: ChallengeParams{Realm: `a"b`}, wantErr: ErrBadChallenge},
		{name: "CRLF in realm", p: ChallengeParams{Realm: "a\r\nVia: x"}, wantErr: ErrBadChallenge},
		{name: "backslash in opaque", p: ChallengeParams{Realm: "r", Opaque: `a\b`}, wantErr: ErrBadChallenge},
		{name: "realm too long", p: ChallengeParams{Realm: strings.Repeat("a", maxFieldLen+1)}, wantErr: ErrBadChallenge},
		{name: "unknown algorithm", p: ChallengeParams{Realm: "r", Algorithms: []string{"SHA-512"}}, wantErr: ErrUnsupportedAlgorithm},
		{name: "lower-case algorithm name", p: ChallengeParams{Realm: "r", Algorithms: []string{"md5"}}, wantErr: ErrUnsupportedAlgorithm},
		{name: "duplicate algorithm", p: ChallengeParams{Realm: "r", Algorithms: []string{MD5, MD5}}, wantErr: ErrBadChallenge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, err := s.Challenge(tt.p)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Challenge: %v", err)
			}
			if len(vals) != len(tt.wantAlgs) {
				t.Fatalf("got %d values, want %d", len(vals), len(tt.wantAlgs))
			}
			var nonce string
			for i, v := range vals {
				// Parse with an independent client implementation (the one sipgo uses).
				c, err := digest.ParseChallenge(v)
				if err != nil {
					t.Fatalf("value %d %q does not parse: %v", i, v, err)
				}
				if c.Algorithm != tt.wantAlgs[i] {
					t.Errorf("value %d algorithm %q, want %q", i, c.Algorithm, tt.wantAlgs[i])
				}
				if c.Realm != tt.p.Realm || !c.SupportsQOP("auth") || c.Opaque != tt.opaque || c.Stale != tt.stale {
					t.Errorf("value %d = %+v", i, c)
				}
				if i == 0 {
					nonce = c.Nonce
				} else if c.Nonce != nonce {
					t.Errorf("value %d nonce differs from the first", i)
				}
			}
			if st, _ := s.Check(nonce, tt.p.Realm); st != NonceFresh {
				t.Errorf("challenge nonce state %v", st)
			}
			if !strings.HasPrefix(vals[0], `Digest realm="`+tt.p.Realm+`", nonce="`) || !strings.Contains(vals[0], `, qop="auth"`) {
				t.Errorf("unexpected shape %q", vals[0])
			}
		})
	}
}
