package edge

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// knownMethods are the methods the switch understands; anything else gets 501.
var knownMethods = map[string]bool{
	"INVITE": true, "ACK": true, "CANCEL": true, "BYE": true, "OPTIONS": true, "REGISTER": true,
	"INFO": true, "UPDATE": true, "NOTIFY": true, "MESSAGE": true, "PRACK": true, "REFER": true,
	"SUBSCRIBE": true, "PUBLISH": true,
}

// supportedExtensions are the option tags we accept in Require (RFC 3261 §8.2.2.3).
var supportedExtensions = map[string]bool{"replaces": true, "timer": false}

// problem is a validation failure: the status to answer with and extra headers.
type problem struct {
	code   int
	reason string
	hdrs   []sip.Header
	raw    []string // header lines for a stateless reply built from raw text
}

// validate applies the checks sipgo's lenient parser leaves to us (RELIABILITY A.6, the
// RFC 4475 torture index): version, required and duplicated headers, CSeq/method agreement,
// Request-URI scheme, Require, Content-Length, body type. nil means the request is fine.
func validate(req *sip.Request) *problem {
	if req.SipVersion != "SIP/2.0" {
		return &problem{code: 505, reason: "Version Not Supported"}
	}
	if !knownMethods[string(req.Method)] {
		return &problem{code: 501, reason: "Not Implemented", hdrs: []sip.Header{sip.NewHeader("Allow", allowed)}}
	}
	for _, h := range []string{"Call-ID", "From", "To", "CSeq", "Via"} {
		if len(req.GetHeaders(h)) == 0 {
			return &problem{code: 400, reason: "Missing " + h}
		}
	}
	for _, h := range []string{"Call-ID", "From", "To", "CSeq", "Max-Forwards", "Content-Length"} {
		if len(req.GetHeaders(h)) > 1 {
			return &problem{code: 400, reason: "Multiple " + h}
		}
	}
	if cs := req.CSeq(); cs == nil || string(cs.MethodName) != string(req.Method) {
		return &problem{code: 400, reason: "CSeq Method Mismatch"}
	}
	scheme := strings.ToLower(req.Recipient.Scheme)
	if scheme != "sip" && scheme != "sips" {
		return &problem{code: 416, reason: "Unsupported URI Scheme"}
	}
	if len(req.Recipient.Headers) > 0 {
		return &problem{code: 400, reason: "Headers In Request-URI"}
	}
	if req.Method == sip.REGISTER {
		for _, h := range []sip.Header{req.To(), req.From()} {
			if s := strings.ToLower(addressScheme(h)); s != "sip" && s != "sips" {
				return &problem{code: 400, reason: "Bad Address Of Record"}
			}
		}
	}
	if req.Method != sip.ACK && req.Method != sip.CANCEL {
		var unsupported []string
		for _, h := range req.GetHeaders("Require") {
			for _, tag := range strings.Split(h.Value(), ",") {
				tag = strings.ToLower(strings.TrimSpace(tag))
				if tag != "" && !supportedExtensions[tag] {
					unsupported = append(unsupported, tag)
				}
			}
		}
		if len(unsupported) > 0 {
			return &problem{code: 420, reason: "Bad Extension", hdrs: []sip.Header{sip.NewHeader("Unsupported", strings.Join(unsupported, ", "))}}
		}
	}
	if req.Method == sip.INVITE && len(req.Body()) > 0 {
		ct := req.GetHeader("Content-Type")
		if ct == nil || !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct.Value())), "application/sdp") {
			return &problem{code: 415, reason: "Unsupported Media Type", hdrs: []sip.Header{sip.NewHeader("Accept", "application/sdp")}}
		}
	}
	if req.Method == sip.INVITE {
		if acc := req.GetHeaders("Accept"); len(acc) > 0 {
			ok := false
			for _, h := range acc {
				v := strings.ToLower(h.Value())
				if strings.Contains(v, "application/sdp") || strings.Contains(v, "*/*") || strings.Contains(v, "application/*") {
					ok = true
				}
			}
			if !ok {
				return &problem{code: 406, reason: "Not Acceptable", hdrs: []sip.Header{sip.NewHeader("Warning", `399 switchyard "only application/sdp bodies are supported"`)}}
			}
		}
	}
	return nil
}

// checkRequestLine checks a raw request line ("METHOD SP Request-URI SP SIP-Version", no CRLF)
// for what sipgo cannot report faithfully: it upper-cases methods (RFC 4475 intmeth: methods
// are case-sensitive) and refuses unknown URI schemes at parse time (novelsc must get 416; only sip and sips are served).
// A line that is not exactly three well-formed elements is left to the parser (400); nil means
// nothing to report here.
func checkRequestLine(line []byte) *problem {
	method, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || !isToken(method) {
		return nil
	}
	uri, version, ok := bytes.Cut(rest, []byte(" "))
	if !ok || len(uri) == 0 || bytes.ContainsAny(version, " \t") || len(version) == 0 {
		return nil
	}
	if !bytes.Equal(version, []byte("SIP/2.0")) {
		if !bytes.HasPrefix(version, []byte("SIP/")) {
			return nil
		}
		return &problem{code: 505, reason: "Version Not Supported"}
	}
	if !knownMethods[string(method)] {
		return &problem{code: 501, reason: "Not Implemented", raw: []string{"Allow: " + allowed}}
	}
	scheme, _, ok := bytes.Cut(uri, []byte(":"))
	if !ok || !isScheme(scheme) {
		return nil
	}
	switch strings.ToLower(string(scheme)) {
	case "sip", "sips":
		return nil
	}
	return &problem{code: 416, reason: "Unsupported URI Scheme"}
}

// requestLineOK reports a well-formed request line: a token method, a non-empty Request-URI
// and SIP/2.0, separated by single spaces.
func requestLineOK(line []byte) bool {
	method, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || !isToken(method) {
		return false
	}
	uri, version, ok := bytes.Cut(rest, []byte(" "))
	return ok && len(uri) > 0 && bytes.IndexByte(uri, ' ') < 0 && bytes.Equal(version, []byte("SIP/2.0"))
}

// isToken reports an RFC 3261 token (alphanum and -.!%*_+`'~).
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isAlnum(c) && strings.IndexByte("-.!%*_+`'~", c) < 0 {
			return false
		}
	}
	return true
}

// isScheme reports an RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func isScheme(b []byte) bool {
	if len(b) == 0 || !isAlpha(b[0]) {
		return false
	}
	for _, c := range b[1:] {
		if !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isAlnum(c byte) bool { return isAlpha(c) || (c >= '0' && c <= '9') }

func addressScheme(h sip.Header) string {
	switch v := h.(type) {
	case *sip.ToHeader:
		return v.Address.Scheme
	case *sip.FromHeader:
		return v.Address.Scheme
	}
	return "sip"
}

// guarded wraps a handler with validation: a bad request is answered and never reaches it.
// It also recovers a panic in the handler so one request can never take the switch down.
func (e *Edge) guarded(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		defer func() {
			if r := recover(); r != nil {
				e.log.Error().Interface("panic", r).Str("method", string(req.Method)).Msg("sip handler panicked")
				respond(tx, req, 500, "Server Internal Error")
			}
		}()
		if e.log.Debug().Enabled() {
			e.log.Debug().Str("method", string(req.Method)).Str("source", req.Source()).Str("call_id", req.CallID().Value()).Msg("sip request")
		}
		if p := validate(req); p != nil {
			respond(tx, req, p.code, p.reason, p.hdrs...)
			return
		}
		h(req, tx)
	}
}

// malformedReply builds a stateless 400 for a request that does not parse, with the parse
// error in a Warning header. It returns nil when no reply can be built.
func malformedReply(data []byte, perr error) []byte {
	warn := strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, perr.Error())
	if len(warn) > 100 {
		warn = warn[:100]
	}
	return statelessReply(data, 400, "Bad Request", `Warning: 399 switchyard "Malformed request: `+warn+`"`)
}

// statelessReply builds a response to a raw request, copying the headers a response needs
// (every Via, and the first From, To, Call-ID and CSeq, folded lines included) verbatim from
// the raw text, adding a To tag when there is none, then the extra header lines. Responses,
// and requests missing one of those headers, get no reply (nil).
func statelessReply(data []byte, code int, reason string, extra ...string) []byte {
	text := string(data)
	end := strings.Index(text, "\r\n\r\n")
	if end < 0 {
		end = len(text)
	}
	lines := strings.Split(strings.ReplaceAll(text[:end], "\r\n", "\n"), "\n")
	if len(lines) == 0 || strings.HasPrefix(lines[0], "SIP/") {
		return nil
	}
	// Unfold continuation lines into their header.
	var hdrs []string
	for _, l := range lines[1:] {
		l = strings.ReplaceAll(l, "\r", " ")
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(hdrs) > 0 {
			hdrs[len(hdrs)-1] += " " + strings.TrimLeft(l, " \t")
			continue
		}
		hdrs = append(hdrs, l)
	}
	short := map[string]string{"v": "via", "f": "from", "t": "to", "i": "call-id"}
	seen := map[string]bool{}
	var out []string
	for _, l := range hdrs {
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		n := strings.ToLower(strings.TrimSpace(name))
		if s, ok := short[n]; ok {
			n = s
		}
		switch n {
		case "via":
		case "from", "call-id", "cseq":
			if seen[n] {
				continue
			}
		case "to":
			if seen[n] {
				continue
			}
			if !hasParam([]byte(val), "tag") {
				l += ";tag=sy" + strconv.FormatUint(uint64(len(data))*2654435761%1000000007, 36)
			}
		default:
			continue
		}
		seen[n] = true
		out = append(out, l)
	}
	for _, k := range []string{"via", "from", "to", "call-id", "cseq"} {
		if !seen[k] {
			return nil
		}
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 " + strconv.Itoa(code) + " " + reason + "\r\n")
	for _, l := range out {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	for _, l := range extra {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}
