// Package auth implements SIP digest authentication (RFC 3261, RFC 2617, RFC 8760):
// HA1 computation, stateless HMAC nonces, challenge building and response verification.
// It is pure: no network, storage or actor imports.
package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

// Digest algorithm names as they appear on the wire.
const (
	MD5    = "MD5"
	SHA256 = "SHA-256"
)

// HA1 returns hex(H(username:realm:password)) for the given algorithm (MD5 or SHA-256).
// An unknown algorithm falls back to MD5, the RFC 3261 default.
func HA1(algorithm, username, realm, password string) string {
	return hexHash(algorithm, username+":"+realm+":"+password)
}

func hexHash(algorithm, s string) string {
	var h hash.Hash
	if algorithm == SHA256 {
		h = sha256.New()
	} else {
		h = md5.New()
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}
