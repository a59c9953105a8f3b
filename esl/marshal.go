package esl

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Format is an event serialisation.
type Format string

// Event formats (PROTOCOL §6).
const (
	FormatPlain Format = "plain"
	FormatJSON  Format = "json"
	FormatXML   Format = "xml"
)

// ParseFormat recognises plain, json and xml case-insensitively.
func ParseFormat(s string) (Format, bool) {
	switch strings.ToLower(s) {
	case "plain":
		return FormatPlain, true
	case "json":
		return FormatJSON, true
	case "xml":
		return FormatXML, true
	}
	return "", false
}

func hasBody(e *Event) bool { return e.Body != "" || e.HasBody }

// MarshalPlain serialises e as a plain payload (PROTOCOL §6.4): `Name: <encoded value>` lines,
// then an empty line, or `Content-Length: n`, an empty line and the body. A zero-length body
// counts as none.
func MarshalPlain(e *Event) []byte {
	var b bytes.Buffer
	for _, h := range e.Headers {
		b.WriteString(h.Name)
		b.WriteString(": ")
		b.WriteString(EncodeValue(h.Value))
		b.WriteByte('\n')
	}
	if e.Body != "" {
		b.WriteString("Content-Length: ")
		b.WriteString(strconv.Itoa(len(e.Body)))
		b.WriteString("\n\n")
		b.WriteString(e.Body)
		return b.Bytes()
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// MarshalJSON serialises e as one compact JSON object (PROTOCOL §6.5): keys in header order
// (duplicates kept), every value a string, values not URL-encoded; with a body (also an empty
// one marked HasBody) "Content-Length" and "_body" come last. No trailing newline.
func MarshalJSON(e *Event) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, h := range e.Headers {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, h.Name)
		b.WriteByte(':')
		writeJSONString(&b, h.Value)
	}
	if hasBody(e) {
		if len(e.Headers) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"Content-Length":"`)
		b.WriteString(strconv.Itoa(len(e.Body)))
		b.WriteString(`","_body":`)
		writeJSONString(&b, e.Body)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 {
				fmt.Fprintf(b, `\u%04x`, c)
				continue
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// MarshalXML serialises e as FreeSWITCH's XML event (PROTOCOL §6.6): header text URL-encoded,
// two-space indent, and for a non-empty body <Content-Length> and an escaped <body> as siblings
// of <headers>.
func MarshalXML(e *Event) []byte {
	var b bytes.Buffer
	b.WriteString("<event>\n  <headers>\n")
	for _, h := range e.Headers {
		b.WriteString("    <")
		b.WriteString(h.Name)
		b.WriteByte('>')
		b.WriteString(EncodeValue(h.Value))
		b.WriteString("</")
		b.WriteString(h.Name)
		b.WriteString(">\n")
	}
	b.WriteString("  </headers>\n")
	if e.Body != "" {
		b.WriteString("  <Content-Length>")
		b.WriteString(strconv.Itoa(len(e.Body)))
		b.WriteString("</Content-Length>\n  <body>")
		escapeXML(&b, e.Body)
		if strings.HasSuffix(e.Body, "\n") {
			b.WriteString("  ")
		}
		b.WriteString("</body>\n")
	}
	b.WriteString("</event>\n")
	return b.Bytes()
}

func escapeXML(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '&':
			b.WriteString("&amp;")
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '\r':
			b.WriteString("&#xD;")
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(s[i:])
			fmt.Fprintf(b, "&#x%X;", r)
			i += n
			continue
		default:
			b.WriteByte(c)
		}
		i++
	}
}

// Marshal serialises e in the given format (plain for an unknown one).
func Marshal(f Format, e *Event) []byte {
	switch f {
	case FormatJSON:
		return MarshalJSON(e)
	case FormatXML:
		return MarshalXML(e)
	}
	return MarshalPlain(e)
}

// ParsePlain parses a plain event payload (the inverse of MarshalPlain): URL-decoded values,
// the body after an inner Content-Length. The inner Content-Length header itself is not kept.
func ParsePlain(payload []byte) (*Event, error) {
	e := &Event{}
	rest := payload
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return nil, fmt.Errorf("parse plain event: missing empty line after headers")
		}
		line := strings.TrimRight(string(rest[:i]), "\r")
		rest = rest[i+1:]
		if line == "" {
			break
		}
		h, ok := parseHeader(line)
		if !ok {
			return nil, fmt.Errorf("parse plain event: header line without ':' %q", truncate(line, 64))
		}
		h.Value = DecodeValue(h.Value)
		e.Headers = append(e.Headers, h)
	}
	if n := len(e.Headers); n > 0 && e.Headers[n-1].Name == "Content-Length" {
		cl, err := ParseContentLength(e.Headers[n-1].Value, len(rest))
		if err != nil {
			return nil, fmt.Errorf("parse plain event body: %w", err)
		}
		e.Headers = e.Headers[:n-1]
		e.Body = string(rest[:cl])
		e.HasBody = true
	}
	return e, nil
}
