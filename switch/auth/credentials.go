package auth

import (
	"errors"
	"fmt"
	"strings"
)

// Limits on untrusted Authorization input.
const (
	// MaxHeaderLen caps a whole Authorization/Proxy-Authorization value.
	MaxHeaderLen = 4096
	// maxFieldLen caps each parameter except uri.
	maxFieldLen = 256
	// maxURILen caps the digest uri (Kamailio's RURI_MAX_SIZE is 512; allow headroom).
	maxURILen = 1024
	// maxParams caps the number of parameters in one header value.
	maxParams = 32
)

// Errors returned by ParseCredentials (wrapped with context; test with errors.Is).
var (
	ErrUnsupportedScheme    = errors.New("unsupported authorization scheme")
	ErrUnsupportedAlgorithm = errors.New("unsupported digest algorithm")
	ErrUnsupportedQOP       = errors.New("unsupported digest qop")
	ErrMalformed            = errors.New("malformed digest credentials")
	ErrMissingField         = errors.New("missing digest field")
	ErrTooLong              = errors.New("digest credentials too long")
)

// Credentials are the digest parameters of one Authorization or Proxy-Authorization value.
type Credentials struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string // the digest uri as the client sent it (verify over this, DECISIONS 1)
	Response  string // lower-case hex
	Algorithm string // MD5 (default) or SHA-256, canonical spelling
	QOP       string // "" or "auth"
	NC        string // 8 hex digits as sent (only with qop)
	CNonce    string // only with qop
	Opaque    string
}

// ParseCredentials parses a Digest Authorization/Proxy-Authorization header value.
// Basic and any other scheme give ErrUnsupportedScheme. Required: username, realm,
// nonce, uri, response; with qop=auth also nc (1–8 hex digits) and cnonce. Unknown
// parameters are ignored, duplicates rejected. It never panics.
func ParseCredentials(headerValue string) (Credentials, error) {
	var c Credentials
	if len(headerValue) > MaxHeaderLen {
		return c, fmt.Errorf("parse credentials: %d bytes, limit %d: %w", len(headerValue), MaxHeaderLen, ErrTooLong)
	}
	v := strings.TrimLeft(headerValue, " \t")
	sp := strings.IndexAny(v, " \t")
	scheme := v
	if sp >= 0 {
		scheme, v = v[:sp], v[sp:]
	} else {
		v = ""
	}
	if !strings.EqualFold(scheme, "Digest") {
		return c, fmt.Errorf("parse credentials: scheme %q: %w", truncate(scheme), ErrUnsupportedScheme)
	}
	p := paramParser{s: v}
	seen := make(map[string]bool, 10)
	for n := 0; ; n++ {
		name, val, ok, err := p.next()
		if err != nil {
			return Credentials{}, fmt.Errorf("parse credentials: %w", err)
		}
		if !ok {
			break
		}
		if n >= maxParams {
			return Credentials{}, fmt.Errorf("parse credentials: more than %d parameters: %w", maxParams, ErrTooLong)
		}
		key := strings.ToLower(name)
		if seen[key] {
			return Credentials{}, fmt.Errorf("parse credentials: duplicate parameter %q: %w", key, ErrMalformed)
		}
		seen[key] = true
		limit := maxFieldLen
		if key == "uri" {
			limit = maxURILen
		}
		if len(val) > limit {
			return Credentials{}, fmt.Errorf("parse credentials: %s longer than %d bytes: %w", key, limit, ErrTooLong)
		}
		switch key {
		case "username":
			c.Username = val
		case "realm":
			c.Realm = val
		case "nonce":
			c.Nonce = val
		case "uri":
			c.URI = val
		case "response":
			c.Response = strings.ToLower(val)
		case "algorithm":
			c.Algorithm = val
		case "qop":
			c.QOP = val
		case "nc":
			// RFC 2617 nc is a token; quoted values are tolerated as many stacks send them.
			c.NC = val
		case "cnonce":
			c.CNonce = val
		case "opaque":
			c.Opaque = val
		}
	}
	if err := c.normalize(); err != nil {
		return Credentials{}, fmt.Errorf("parse credentials: %w", err)
	}
	return c, nil
}

// normalize validates c and canonicalises Algorithm; Verify also calls it for
// credentials built by hand.
func (c *Credentials) normalize() error {
	for _, f := range []struct{ name, val string }{
		{"username", c.Username}, {"realm", c.Realm}, {"nonce", c.Nonce},
		{"uri", c.URI}, {"response", c.Response},
	} {
		if f.val == "" {
			return fmt.Errorf("%s: %w", f.name, ErrMissingField)
		}
	}
	switch {
	case c.Algorithm == "" || strings.EqualFold(c.Algorithm, MD5):
		c.Algorithm = MD5
	case strings.EqualFold(c.Algorithm, SHA256):
		c.Algorithm = SHA256
	default:
		return fmt.Errorf("algorithm %q: %w", truncate(c.Algorithm), ErrUnsupportedAlgorithm)
	}
	if !isHex(c.Response) {
		return fmt.Errorf("response is not hex: %w", ErrMalformed)
	}
	switch {
	case c.QOP == "":
		// RFC 2069 compatibility: nc and cnonce are meaningless without qop.
		c.NC, c.CNonce = "", ""
	case strings.EqualFold(c.QOP, "auth"):
		c.QOP = "auth"
		if c.NC == "" {
			return fmt.Errorf("nc with qop=auth: %w", ErrMissingField)
		}
		if c.CNonce == "" {
			return fmt.Errorf("cnonce with qop=auth: %w", ErrMissingField)
		}
		if len(c.NC) > 8 || !isHex(c.NC) {
			return fmt.Errorf("nc %q is not 1-8 hex digits: %w", truncate(c.NC), ErrMalformed)
		}
	default:
		return fmt.Errorf("qop %q: %w", truncate(c.QOP), ErrUnsupportedQOP)
	}
	return nil
}

// ncValue returns the numeric nonce count (0 when there is no qop).
func (c *Credentials) ncValue() uint64 {
	var n uint64
	for i := 0; i < len(c.NC); i++ {
		n = n<<4 | uint64(unhex(c.NC[i]))
	}
	return n
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if unhex(s[i]) > 15 {
			return false
		}
	}
	return true
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 255
}

// truncate shortens untrusted input quoted in error messages.
func truncate(s string) string {
	const max = 32
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// paramParser walks `name=value` or `name="quoted"` pairs separated by commas.
type paramParser struct {
	s   string
	pos int
}

func (p *paramParser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\r' || p.s[p.pos] == '\n') {
		p.pos++
	}
}

// next returns the next parameter; ok=false at the end of input.
func (p *paramParser) next() (name, val string, ok bool, err error) {
	p.skipSpace()
	for p.pos < len(p.s) && p.s[p.pos] == ',' { // tolerate empty list elements
		p.pos++
		p.skipSpace()
	}
	if p.pos >= len(p.s) {
		return "", "", false, nil
	}
	start := p.pos
	for p.pos < len(p.s) && isTokenChar(p.s[p.pos]) {
		p.pos++
	}
	name = p.s[start:p.pos]
	if name == "" {
		return "", "", false, fmt.Errorf("unexpected byte 0x%02x at offset %d: %w", p.s[p.pos], p.pos, ErrMalformed)
	}
	p.skipSpace()
	if p.pos >= len(p.s) || p.s[p.pos] != '=' {
		return "", "", false, fmt.Errorf("parameter %q without '=': %w", truncate(name), ErrMalformed)
	}
	p.pos++
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == '"' {
		p.pos++
		var b strings.Builder
		closed := false
		for p.pos < len(p.s) {
			c := p.s[p.pos]
			if c == '\\' {
				if p.pos+1 >= len(p.s) {
					break
				}
				b.WriteByte(p.s[p.pos+1])
				p.pos += 2
				continue
			}
			if c == '"' {
				p.pos++
				closed = true
				break
			}
			if c < 0x20 && c != '\t' {
				return "", "", false, fmt.Errorf("control byte in %q: %w", truncate(name), ErrMalformed)
			}
			b.WriteByte(c)
			p.pos++
		}
		if !closed {
			return "", "", false, fmt.Errorf("unterminated quoted value for %q: %w", truncate(name), ErrMalformed)
		}
		val = b.String()
	} else {
		vs := p.pos
		for p.pos < len(p.s) && isTokenChar(p.s[p.pos]) {
			p.pos++
		}
		val = p.s[vs:p.pos]
		if val == "" {
			return "", "", false, fmt.Errorf("empty value for %q: %w", truncate(name), ErrMalformed)
		}
	}
	p.skipSpace()
	if p.pos < len(p.s) {
		if p.s[p.pos] != ',' {
			return "", "", false, fmt.Errorf("expected ',' after %q: %w", truncate(name), ErrMalformed)
		}
		p.pos++
	}
	return name, val, true, nil
}

// isTokenChar reports RFC 3261 token characters.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", c) >= 0
}
