package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
)

// DefaultMaxNC is the highest nonce count accepted before a nonce is treated as stale
// (Kamailio's value; RELIABILITY A2).
const DefaultMaxNC = 255

// Status is the outcome of Verify.
type Status int

// Verify outcomes.
const (
	// OK: the response is correct, the nonce fresh and not replayed.
	OK Status = iota
	// Stale: the response is correct but the nonce expired, its nc passed the cap, or its
	// history was evicted; re-challenge with stale=true (DECISIONS 11). Not a failure.
	Stale
	// BadNonce: forged, garbled, or issued for another realm; rejected before any lookup.
	// Re-challenge without stale; not counted toward bans.
	BadNonce
	// Replay: nc not above the last accepted one, or a no-qop nonce reused. Re-challenge.
	Replay
	// Failed: wrong password, unknown user, or a response that does not match the
	// challenge. The caller counts these toward bans (DECISIONS 3).
	Failed
)

// String names the status for logs.
func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Stale:
		return "stale"
	case BadNonce:
		return "bad-nonce"
	case Replay:
		return "replay"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// Failure reasons, named after Asterisk's security events (RELIABILITY F5). They are
// for logs and audit events only, never for the SIP response.
const (
	ReasonInvalidAccountID        = "InvalidAccountID"
	ReasonInvalidPassword         = "InvalidPassword"
	ReasonChallengeResponseFailed = "ChallengeResponseFailed"
)

// Result is what Verify decided.
type Result struct {
	Status    Status
	Algorithm string // the algorithm the client answered with
	// UnknownUser is true when lookup reported no such account. For logging and audit
	// only: the response must be identical to a wrong password (RELIABILITY F4).
	UnknownUser bool
	// Reason is one of the Reason* constants when Status is Failed, BadNonce or Replay.
	Reason string
}

// Verifier checks digest responses against stateless nonces and a replay tracker.
// It is safe for concurrent use.
type Verifier struct {
	signer *NonceSigner
	replay *ReplayTracker
	maxNC  uint64
	dummy  map[string]string // algorithm → random HA1 used for unknown users
}

// NewVerifier builds a verifier. tracker nil means a new tracker of DefaultReplayCapacity;
// maxNC 0 means DefaultMaxNC.
func NewVerifier(signer *NonceSigner, tracker *ReplayTracker, maxNC uint64) (*Verifier, error) {
	if signer == nil {
		return nil, errors.New("new verifier: nil nonce signer")
	}
	if tracker == nil {
		tracker = NewReplayTracker(0)
	}
	if maxNC == 0 {
		maxNC = DefaultMaxNC
	}
	v := &Verifier{signer: signer, replay: tracker, maxNC: maxNC, dummy: make(map[string]string, 2)}
	for _, a := range []string{MD5, SHA256} {
		b := make([]byte, len(hexHash(a, ""))/2)
		rand.Read(b)
		v.dummy[a] = hex.EncodeToString(b)
	}
	return v, nil
}

// Verify checks cred for a request with the given method inside realm (the resolved
// domain name). lookup returns the account's HA1 for the algorithm (ok=false for an
// unknown user). The response is computed over the uri the client sent, never the
// R-URI (DECISIONS 1). Order: nonce signature and realm (BadNonce, no lookup) →
// response (Failed; an unknown user does the same work with a dummy HA1) → expiry
// and nc cap (Stale) → replay (Replay).
func (v *Verifier) Verify(method string, cred Credentials, realm string, lookup func(algorithm string) (ha1 string, ok bool)) Result {
	if err := cred.normalize(); err != nil {
		res := Result{Status: Failed, Algorithm: cred.Algorithm, Reason: ReasonChallengeResponseFailed}
		if errors.Is(err, ErrUnsupportedAlgorithm) {
			res.Algorithm = ""
		}
		return res
	}
	res := Result{Algorithm: cred.Algorithm}
	state, issued := v.signer.Check(cred.Nonce, realm)
	if state == NonceInvalid {
		res.Status, res.Reason = BadNonce, ReasonChallengeResponseFailed
		return res
	}
	ha1, ok := "", false
	if lookup != nil {
		ha1, ok = lookup(cred.Algorithm)
	}
	if !ok {
		ha1 = v.dummy[cred.Algorithm]
		res.UnknownUser = true
	}
	want := expectedResponse(cred.Algorithm, strings.ToLower(ha1), method, &cred)
	match := subtle.ConstantTimeCompare([]byte(want), []byte(cred.Response)) == 1
	switch {
	case res.UnknownUser:
		res.Status, res.Reason = Failed, ReasonInvalidAccountID
		return res
	case !match:
		res.Status, res.Reason = Failed, ReasonInvalidPassword
		return res
	case cred.Realm != realm:
		res.Status, res.Reason = Failed, ReasonChallengeResponseFailed
		return res
	}
	nc := cred.ncValue()
	if state == NonceExpired || nc > v.maxNC {
		res.Status = Stale
		return res
	}
	switch v.replay.Accept(cred.Nonce, issued, nc) {
	case ReplayRejected:
		res.Status, res.Reason = Replay, ReasonChallengeResponseFailed
	case ReplayUntracked:
		res.Status = Stale
	default:
		res.Status = OK
	}
	return res
}

// expectedResponse computes the RFC 2617 response: with qop=auth
// H(HA1:nonce:nc:cnonce:qop:H(method:uri)), without qop H(HA1:nonce:H(method:uri)).
func expectedResponse(alg, ha1, method string, c *Credentials) string {
	ha2 := hexHash(alg, method+":"+c.URI)
	if c.QOP == "" {
		return hexHash(alg, ha1+":"+c.Nonce+":"+ha2)
	}
	return hexHash(alg, ha1+":"+c.Nonce+":"+c.NC+":"+c.CNonce+":"+c.QOP+":"+ha2)
}
