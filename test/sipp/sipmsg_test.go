package sipptest

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file is a minimal stdlib SIP message codec used only by the tests'
// fake peers: just enough to answer SIPp scenarios, not a SIP stack.

type header struct{ name, value string }

type sipMsg struct {
	first string // request line or status line
	hdrs  []header
	body  []byte
}

var compactNames = map[string]string{
	"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length", "c": "content-type",
}

func canonical(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if long, ok := compactNames[n]; ok {
		return long
	}
	return n
}

// parseSIP parses one complete message (headers, blank line, body).
func parseSIP(data []byte) (*sipMsg, error) {
	head, body, ok := bytes.Cut(data, []byte("\r\n\r\n"))
	if !ok {
		return nil, errors.New("sip: no end of headers")
	}
	lines := strings.Split(string(head), "\r\n")
	if len(lines) == 0 || !strings.Contains(lines[0], "SIP/2.0") {
		return nil, fmt.Errorf("sip: bad start line %q", lines[0])
	}
	m := &sipMsg{first: lines[0], body: body}
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(m.hdrs) > 0 {
			m.hdrs[len(m.hdrs)-1].value += " " + strings.TrimSpace(l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("sip: header line without colon %q", l)
		}
		m.hdrs = append(m.hdrs, header{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	if cl := m.get("content-length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || n > len(body) {
			return nil, fmt.Errorf("sip: bad Content-Length %q for %d body bytes", cl, len(body))
		}
		m.body = body[:n]
	}
	return m, nil
}

func (m *sipMsg) isRequest() bool { return !strings.HasPrefix(m.first, "SIP/2.0 ") }

func (m *sipMsg) method() string {
	method, _, _ := strings.Cut(m.first, " ")
	return method
}

func (m *sipMsg) requestURI() string {
	parts := strings.Fields(m.first)
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

func (m *sipMsg) code() int {
	parts := strings.Fields(m.first)
	if len(parts) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(parts[1])
	return n
}

func (m *sipMsg) get(name string) string {
	want := canonical(name)
	for _, h := range m.hdrs {
		if canonical(h.name) == want {
			return h.value
		}
	}
	return ""
}

func (m *sipMsg) all(name string) []string {
	want := canonical(name)
	var out []string
	for _, h := range m.hdrs {
		if canonical(h.name) == want {
			out = append(out, h.value)
		}
	}
	return out
}

func (m *sipMsg) add(name, value string) { m.hdrs = append(m.hdrs, header{name, value}) }

func (m *sipMsg) bytes() []byte {
	var b strings.Builder
	b.WriteString(m.first + "\r\n")
	for _, h := range m.hdrs {
		if canonical(h.name) == "content-length" {
			continue
		}
		b.WriteString(h.name + ": " + h.value + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(m.body)) + "\r\n\r\n")
	b.Write(m.body)
	return []byte(b.String())
}

// cseq returns the CSeq number and method.
func (m *sipMsg) cseq() (int, string) {
	num, method, _ := strings.Cut(m.get("cseq"), " ")
	n, _ := strconv.Atoi(strings.TrimSpace(num))
	return n, strings.TrimSpace(method)
}

// uriHost returns the host of the URI inside a From/To value or a bare URI.
func uriHost(v string) string {
	if i := strings.Index(v, "<"); i >= 0 {
		v = v[i+1:]
		if j := strings.Index(v, ">"); j >= 0 {
			v = v[:j]
		}
	}
	v = strings.TrimPrefix(strings.TrimPrefix(v, "sip:"), "sips:")
	if i := strings.Index(v, "@"); i >= 0 {
		v = v[i+1:]
	}
	v, _, _ = strings.Cut(v, ";")
	v, _, _ = strings.Cut(v, ">")
	if host, _, ok := strings.Cut(v, ":"); ok {
		return host
	}
	return v
}

// uriUser returns the user part of the URI inside a From/To value or a bare URI.
func uriUser(v string) string {
	if i := strings.Index(v, "<"); i >= 0 {
		v = v[i+1:]
	}
	v = strings.TrimPrefix(strings.TrimPrefix(v, "sip:"), "sips:")
	user, _, ok := strings.Cut(v, "@")
	if !ok {
		return ""
	}
	return user
}

// newResponse builds a response to req; toTag is added to To when it has none.
func newResponse(req *sipMsg, code int, reason, toTag string) *sipMsg {
	r := &sipMsg{first: fmt.Sprintf("SIP/2.0 %d %s", code, reason)}
	for _, v := range req.all("via") {
		r.add("Via", v)
	}
	r.add("From", req.get("from"))
	to := req.get("to")
	if toTag != "" && !strings.Contains(to, ";tag=") {
		to += ";tag=" + toTag
	}
	r.add("To", to)
	r.add("Call-ID", req.get("call-id"))
	r.add("CSeq", req.get("cseq"))
	return r
}

// digestParams parses the parameters of a Digest credentials value.
func digestParams(v string) (map[string]string, error) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(scheme, "Digest") {
		return nil, fmt.Errorf("digest: not a Digest value: %q", v)
	}
	out := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; {
		k, after, ok := strings.Cut(rest, "=")
		if !ok {
			return nil, fmt.Errorf("digest: parameter without value in %q", v)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		after = strings.TrimSpace(after)
		var val string
		if strings.HasPrefix(after, `"`) {
			end := strings.Index(after[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("digest: unterminated quote in %q", v)
			}
			val, after = after[1:1+end], after[2+end:]
		} else {
			val, after, _ = strings.Cut(after, ",")
			after = "," + after
		}
		out[k] = strings.TrimSpace(val)
		after = strings.TrimSpace(after)
		rest = strings.TrimSpace(strings.TrimPrefix(after, ","))
	}
	return out, nil
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// digestMD5 computes the RFC 2617 MD5 response over the uri the client sent.
func digestMD5(user, realm, password, method string, p map[string]string) string {
	ha1 := md5hex(user + ":" + realm + ":" + password)
	ha2 := md5hex(method + ":" + p["uri"])
	if p["qop"] == "" {
		return md5hex(ha1 + ":" + p["nonce"] + ":" + ha2)
	}
	return md5hex(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":" + p["qop"] + ":" + ha2)
}
