package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
)

// DefaultNonceExpiry is how long an issued nonce stays fresh (Kamailio's nonce_expire).
const DefaultNonceExpiry = 300 * time.Second

// MinSecretLen is the shortest HMAC secret NewNonceSigner accepts.
const MinSecretLen = 16

const (
	nonceTSLen   = 8  // unix nanoseconds, big endian
	nonceRandLen = 8  // random bytes
	nonceMACLen  = 16 // truncated HMAC-SHA256
	nonceRawLen  = nonceTSLen + nonceRandLen + nonceMACLen
	// NonceLen is the length in characters of every nonce this package issues.
	NonceLen = (nonceRawLen*8 + 5) / 6
)

// NonceState is the outcome of checking a nonce.
type NonceState int

// Nonce check outcomes.
const (
	// NonceInvalid: not issued by this signer, garbled, or issued for another realm.
	NonceInvalid NonceState = iota
	// NonceFresh: authentic and younger than the expiry.
	NonceFresh
	// NonceExpired: authentic but older than the expiry (a correct response is "stale").
	NonceExpired
)

// String names the state for logs.
func (s NonceState) String() string {
	switch s {
	case NonceFresh:
		return "fresh"
	case NonceExpired:
		return "expired"
	default:
		return "invalid"
	}
}

// NonceConfig configures a NonceSigner. The zero value is usable: a random secret,
// DefaultNonceExpiry and the wall clock.
type NonceConfig struct {
	// Secret keys the HMAC. Empty means 32 random bytes; otherwise at least MinSecretLen bytes.
	Secret []byte
	// Expiry is the nonce lifetime; 0 means DefaultNonceExpiry.
	Expiry time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NonceSigner issues and checks stateless nonces:
// base64url(timestamp || random || HMAC-SHA256(secret, timestamp||random||realm)[:16]).
// The realm is bound into the MAC, so a nonce issued for one realm is invalid for another.
// It is safe for concurrent use.
type NonceSigner struct {
	secret []byte
	expiry time.Duration
	now    func() time.Time
}

// NewNonceSigner builds a signer from cfg; it fails only on a too-short secret or negative expiry.
func NewNonceSigner(cfg NonceConfig) (*NonceSigner, error) {
	s := &NonceSigner{expiry: cfg.Expiry, now: cfg.Now}
	switch {
	case len(cfg.Secret) == 0:
		s.secret = make([]byte, 32)
		rand.Read(s.secret)
	case len(cfg.Secret) < MinSecretLen:
		return nil, fmt.Errorf("nonce signer: secret is %d bytes, need at least %d", len(cfg.Secret), MinSecretLen)
	default:
		s.secret = append([]byte(nil), cfg.Secret...)
	}
	if s.expiry < 0 {
		return nil, fmt.Errorf("nonce signer: negative expiry %v", s.expiry)
	}
	if s.expiry == 0 {
		s.expiry = DefaultNonceExpiry
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Expiry returns the configured nonce lifetime.
func (s *NonceSigner) Expiry() time.Duration { return s.expiry }

// Issue returns a fresh nonce bound to realm.
func (s *NonceSigner) Issue(realm string) string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:nonceTSLen], uint64(s.now().UnixNano()))
	rand.Read(raw[nonceTSLen : nonceTSLen+nonceRandLen])
	s.mac(raw[nonceTSLen+nonceRandLen:], raw[:nonceTSLen+nonceRandLen], realm)
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// Check verifies nonce against realm and reports its state and issue time.
// It never looks anything up and never panics, whatever the input.
func (s *NonceSigner) Check(nonce, realm string) (NonceState, time.Time) {
	if len(nonce) != NonceLen {
		return NonceInvalid, time.Time{}
	}
	var raw [nonceRawLen]byte
	n, err := base64.RawURLEncoding.Decode(raw[:], []byte(nonce))
	if err != nil || n != nonceRawLen {
		return NonceInvalid, time.Time{}
	}
	var want [nonceMACLen]byte
	s.mac(want[:], raw[:nonceTSLen+nonceRandLen], realm)
	if !hmac.Equal(want[:], raw[nonceTSLen+nonceRandLen:]) {
		return NonceInvalid, time.Time{}
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:nonceTSLen])))
	if s.now().Sub(issued) > s.expiry {
		return NonceExpired, issued
	}
	return NonceFresh, issued
}

func (s *NonceSigner) mac(dst, body []byte, realm string) {
	m := hmac.New(sha256.New, s.secret)
	m.Write(body)
	m.Write([]byte(realm))
	copy(dst, m.Sum(nil))
}
