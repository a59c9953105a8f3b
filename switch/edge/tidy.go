package edge

import "bytes"

// tidyParams unfolds header lines and removes the linear whitespace RFC 3261 allows around ";" and "=" in header
// parameters (RFC 4475 wsinv: `;tag = 98asjd8`), which sipgo would otherwise keep inside the
// parameter names and values (so it finds no From tag and answers 400). Only the header section
// is touched, and nothing inside double quotes or <…>. A message without such whitespace is
// returned as is, without copying.
func tidyParams(msg []byte) []byte {
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 {
		return msg
	}
	head := msg[:end]
	if bytes.Contains(head, []byte("\r\n ")) || bytes.Contains(head, []byte("\r\n\t")) {
		// Unfold first (RFC 3261 §7.3.1: a line fold is equivalent to a single space).
		head = unfold(head)
		msg = append(append([]byte(nil), head...), msg[end:]...)
		end = len(head)
	}
	if !bytes.Contains(head, []byte(" ;")) && !bytes.Contains(head, []byte("; ")) &&
		!bytes.Contains(head, []byte(" =")) && !bytes.Contains(head, []byte("= ")) &&
		!bytes.Contains(head, []byte("\t;")) && !bytes.Contains(head, []byte(";\t")) {
		return msg
	}
	first := bytes.Index(head, []byte("\r\n"))
	if first < 0 {
		return msg
	}
	out := make([]byte, 0, len(msg))
	out = append(out, head[:first]...)
	quoted, angle := false, false
	body := head[first:]
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\r' || c == '\n':
			if i+1 < len(body) && body[i+1] != ' ' && body[i+1] != '\t' && c == '\n' {
				quoted, angle = false, false // a new header line (not a fold)
			}
		case quoted:
			if c == '\\' && i+1 < len(body) {
				out = append(out, c, body[i+1])
				i++
				continue
			}
			if c == '"' {
				quoted = false
			}
		case c == '"':
			quoted = true
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case !angle && (c == ';' || c == '='):
			for len(out) > 0 && (out[len(out)-1] == ' ' || out[len(out)-1] == '\t') {
				out = out[:len(out)-1]
			}
			out = append(out, c)
			for i+1 < len(body) && (body[i+1] == ' ' || body[i+1] == '\t') {
				i++
			}
			continue
		}
		out = append(out, c)
	}
	out = tidyViaSlashes(out)
	return append(out, msg[end:]...)
}

// tidyViaSlashes removes whitespace around "/" in Via sent-protocols ("SIP  / 2.0 / UDP").
func tidyViaSlashes(head []byte) []byte {
	lines := bytes.Split(head, []byte("\r\n"))
	for i, l := range lines {
		name, _, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		n := bytes.ToLower(bytes.TrimSpace(name))
		if !bytes.Equal(n, []byte("via")) && !bytes.Equal(n, []byte("v")) {
			continue
		}
		var b []byte
		for j := 0; j < len(l); j++ {
			if l[j] == '/' {
				for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
					b = b[:len(b)-1]
				}
				b = append(b, '/')
				for j+1 < len(l) && (l[j+1] == ' ' || l[j+1] == '\t') {
					j++
				}
				continue
			}
			b = append(b, l[j])
		}
		lines[i] = b
	}
	return bytes.Join(lines, []byte("\r\n"))
}

// unfold replaces every CRLF followed by whitespace with one space.
func unfold(head []byte) []byte {
	out := make([]byte, 0, len(head))
	for i := 0; i < len(head); i++ {
		if head[i] == '\r' && i+2 < len(head) && head[i+1] == '\n' && (head[i+2] == ' ' || head[i+2] == '\t') {
			out = append(out, ' ')
			i += 2
			for i+1 < len(head) && (head[i+1] == ' ' || head[i+1] == '\t') {
				i++
			}
			continue
		}
		out = append(out, head[i])
	}
	return out
}
