package esl

import "strings"

const upperHex = "0123456789ABCDEF"

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f' }

func isUpperHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }

// urlUnsafe is FreeSWITCH's switch_url_encode set besides control and non-ASCII bytes.
const urlUnsafe = "\r\n #%&+:;<=>?@[\\]^`{|}\""

// EncodeValue URL-encodes a header value as FreeSWITCH's switch_url_encode does for plain and
// xml events (PROTOCOL §6.4): bytes < 0x20 or > 0x7E and the unsafe set become %XX (upper-case
// hex); a '%' already followed by two upper-case hex digits is kept; an empty result is
// "_undef_".
func EncodeValue(s string) string {
	if s == "" {
		return "_undef_"
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isUpperHex(s[i+1]) && isUpperHex(s[i+2]) {
			b.WriteByte(c)
			continue
		}
		if c < 0x20 || c > 0x7E || strings.IndexByte(urlUnsafe, c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// EscapeText percent-encodes client- or channel-supplied text placed in an outer header of a
// command/reply, log/data or disconnect notice (Switchyard rule, PROTOCOL §1.2): every '%'
// becomes %25, every byte below 0x20 and 0x7F becomes %XX; everything else is copied.
func EscapeText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' || c < 0x20 || c == 0x7F {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' || c < 0x20 || c == 0x7F {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// DecodeValue reverses URL encoding (%XX, either hex case); malformed escapes are kept as is.
func DecodeValue(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
