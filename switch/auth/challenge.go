package auth

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadChallenge reports a Challenge request that cannot be encoded safely.
var ErrBadChallenge = errors.New("bad challenge parameters")

// DefaultAlgorithms is the default challenge order: MD5 first (SIPp answers only
// the first challenge and only MD5), then SHA-256 (DECISIONS 1).
var DefaultAlgorithms = []string{MD5, SHA256}

// ChallengeParams describes one challenge round.
type ChallengeParams struct {
	// Realm is the resolved domain name (required; no quotes, backslashes or control characters).
	Realm string
	// Algorithms is the ordered list to offer, each MD5 or SHA-256, no duplicates;
	// empty means DefaultAlgorithms.
	Algorithms []string
	// Opaque is echoed by clients; empty omits it.
	Opaque string
	// Stale adds stale=true (send it only after a Verify result of Stale; DECISIONS 11).
	Stale bool
}

// Challenge issues one nonce for p.Realm and returns one header value per algorithm,
// in order, all sharing that nonce, realm and qop="auth", e.g.
//
//	Digest realm="acme.example", nonce="…", algorithm=MD5, qop="auth"
//
// The caller puts them in WWW-Authenticate (401, REGISTER) or Proxy-Authenticate (407).
func (s *NonceSigner) Challenge(p ChallengeParams) ([]string, error) {
	if err := checkQuotable("realm", p.Realm, true); err != nil {
		return nil, err
	}
	if err := checkQuotable("opaque", p.Opaque, false); err != nil {
		return nil, err
	}
	algs := p.Algorithms
	if len(algs) == 0 {
		algs = DefaultAlgorithms
	}
	seen := make(map[string]bool, len(algs))
	for _, a := range algs {
		if a != MD5 && a != SHA256 {
			return nil, fmt.Errorf("challenge for realm %q: algorithm %q: %w", p.Realm, a, ErrUnsupportedAlgorithm)
		}
		if seen[a] {
			return nil, fmt.Errorf("challenge for realm %q: duplicate algorithm %q: %w", p.Realm, a, ErrBadChallenge)
		}
		seen[a] = true
	}
	nonce := s.Issue(p.Realm)
	out := make([]string, 0, len(algs))
	for _, a := range algs {
		var b strings.Builder
		b.Grow(96 + len(p.Realm) + len(nonce) + len(p.Opaque))
		b.WriteString(`Digest realm="`)
		b.WriteString(p.Realm)
		b.WriteString(`", nonce="`)
		b.WriteString(nonce)
		b.WriteString(`", algorithm=`)
		b.WriteString(a)
		b.WriteString(`, qop="auth"`)
		if p.Opaque != "" {
			b.WriteString(`, opaque="`)
			b.WriteString(p.Opaque)
			b.WriteString(`"`)
		}
		if p.Stale {
			b.WriteString(`, stale=true`)
		}
		out = append(out, b.String())
	}
	return out, nil
}

// checkQuotable rejects values that cannot go inside a quoted-string verbatim.
func checkQuotable(field, v string, required bool) error {
	if v == "" {
		if required {
			return fmt.Errorf("challenge: empty %s: %w", field, ErrBadChallenge)
		}
		return nil
	}
	if len(v) > maxFieldLen {
		return fmt.Errorf("challenge: %s longer than %d bytes: %w", field, maxFieldLen, ErrBadChallenge)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '"' || c == '\\' || c < 0x20 || c == 0x7f {
			return fmt.Errorf("challenge: %s contains byte 0x%02x: %w", field, c, ErrBadChallenge)
		}
	}
	return nil
}
