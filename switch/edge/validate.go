package edge

import (
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
