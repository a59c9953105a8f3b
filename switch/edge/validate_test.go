package edge

import (
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// baseRequest is a valid OPTIONS; tests edit it line by line.
const baseRequest = "OPTIONS sip:100@acme.example SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-v1\r\n" +
	"Max-Forwards: 70\r\n" +
	"From: <sip:001*100@acme.example>;tag=f1\r\n" +
	"To: <sip:100@acme.example>\r\n" +
	"Call-ID: validate-1\r\n" +
	"CSeq: 1 OPTIONS\r\n" +
	"Content-Length: 0\r\n\r\n"

// editRequest replaces old with new in baseRequest (old must occur).
func editRequest(t *testing.T, pairs ...string) string {
	t.Helper()
	msg := baseRequest
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(msg, pairs[i]) {
			t.Fatalf("edit: %q not in the base request", pairs[i])
		}
		msg = strings.Replace(msg, pairs[i], pairs[i+1], 1)
	}
	return msg
}

func withBody(msg, ctype, body string) string {
	msg = strings.Replace(msg, "Content-Length: 0\r\n\r\n", "Content-Type: "+ctype+"\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body, 1)
	return msg
}

func TestValidate(t *testing.T) {
	invite := func(t *testing.T, pairs ...string) string {
		all := append([]string{"OPTIONS sip:", "INVITE sip:", "1 OPTIONS", "1 INVITE"}, pairs...)
		return editRequest(t, all...)
	}
	tests := []struct {
		name   string
		msg    func(t *testing.T) string
		code   int
		header string // a header the answer must carry
	}{
		{"valid OPTIONS", func(t *testing.T) string { return baseRequest }, 0, ""},
		{"valid INVITE with SDP", func(t *testing.T) string { return withBody(invite(t), "application/sdp", "v=0\r\n") }, 0, ""},
		{"version 7.0", func(t *testing.T) string { return editRequest(t, "SIP/2.0\r\nVia", "SIP/7.0\r\nVia") }, 505, ""},
		{"unknown method", func(t *testing.T) string {
			return editRequest(t, "OPTIONS sip:", "NEWMETHOD sip:", "1 OPTIONS", "1 NEWMETHOD")
		}, 501, "Allow"},
		{"missing Call-ID", func(t *testing.T) string { return editRequest(t, "Call-ID: validate-1\r\n", "") }, 400, ""},
		{"missing From", func(t *testing.T) string { return editRequest(t, "From: <sip:001*100@acme.example>;tag=f1\r\n", "") }, 400, ""},
		{"missing To", func(t *testing.T) string { return editRequest(t, "To: <sip:100@acme.example>\r\n", "") }, 400, ""},
		{"missing CSeq", func(t *testing.T) string { return editRequest(t, "CSeq: 1 OPTIONS\r\n", "") }, 400, ""},
		{"two Call-IDs", func(t *testing.T) string {
			return editRequest(t, "Call-ID: validate-1\r\n", "Call-ID: a\r\nCall-ID: b\r\n")
		}, 400, ""},
		{"two Max-Forwards", func(t *testing.T) string {
			return editRequest(t, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nMax-Forwards: 69\r\n")
		}, 400, ""},
		{"two Content-Lengths", func(t *testing.T) string {
			return editRequest(t, "Content-Length: 0\r\n", "Content-Length: 0\r\nl: 0\r\n")
		}, 400, ""},
		{"CSeq method mismatch", func(t *testing.T) string { return editRequest(t, "1 OPTIONS", "1 INVITE") }, 400, ""},
		{"unknown URI scheme", func(t *testing.T) string {
			return editRequest(t, "OPTIONS sip:100@acme.example", "OPTIONS nobody:opaque")
		}, 416, ""},
		{"headers in Request-URI", func(t *testing.T) string {
			return editRequest(t, "OPTIONS sip:100@acme.example", "OPTIONS sip:100@acme.example?Route=%3Csip:x%3E")
		}, 400, ""},
		{"REGISTER with http AOR", func(t *testing.T) string {
			return editRequest(t, "OPTIONS sip:", "REGISTER sip:", "1 OPTIONS", "1 REGISTER", "To: <sip:100@acme.example>", "To: <http://acme.example/100>")
		}, 400, ""},
		{"unsupported Require", func(t *testing.T) string {
			return editRequest(t, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRequire: foo, replaces, Bar\r\n")
		}, 420, "Unsupported"},
		{"supported Require", func(t *testing.T) string {
			return editRequest(t, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRequire: replaces\r\n")
		}, 0, ""},
		{"Require ignored on ACK", func(t *testing.T) string {
			return editRequest(t, "OPTIONS sip:", "ACK sip:", "1 OPTIONS", "1 ACK", "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRequire: foo\r\n")
		}, 0, ""},
		{"INVITE body not SDP", func(t *testing.T) string { return withBody(invite(t), "application/unknownformat", "xyz") }, 415, "Accept"},
		{"INVITE body without Content-Type", func(t *testing.T) string {
			return strings.Replace(invite(t), "Content-Length: 0\r\n\r\n", "Content-Length: 3\r\n\r\nxyz", 1)
		}, 415, "Accept"},
		{"INVITE Accept without SDP", func(t *testing.T) string {
			return invite(t, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nAccept: text/nobodyKnowsThis\r\n")
		}, 406, "Warning"},
		{"INVITE Accept wildcard", func(t *testing.T) string {
			return invite(t, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nAccept: */*\r\n")
		}, 0, ""},
		{"INVITE Accept application/*", func(t *testing.T) string {
			return invite(t, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nAccept: text/plain, application/*\r\n")
		}, 0, ""},
	}
	p := sip.NewParser()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := p.ParseSIP([]byte(tt.msg(t)))
			if err != nil {
				t.Fatalf("fixture does not parse: %v", err)
			}
			prob := validate(m.(*sip.Request))
			if tt.code == 0 {
				if prob != nil {
					t.Fatalf("want no problem, got %d %s", prob.code, prob.reason)
				}
				return
			}
			if prob == nil || prob.code != tt.code {
				t.Fatalf("want %d, got %+v", tt.code, prob)
			}
			if tt.header != "" {
				found := false
				for _, h := range prob.hdrs {
					found = found || strings.EqualFold(h.Name(), tt.header)
				}
				if !found {
					t.Fatalf("%d without %s header: %+v", tt.code, tt.header, prob.hdrs)
				}
			}
		})
	}
}

func TestValidateUnsupportedListsTags(t *testing.T) {
	m, err := sip.NewParser().ParseSIP([]byte(editRequest(t, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRequire: foo, Bar\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	prob := validate(m.(*sip.Request))
	if prob == nil || len(prob.hdrs) != 1 || prob.hdrs[0].Value() != "foo, bar" {
		t.Fatalf("want Unsupported: foo, bar; got %+v", prob)
	}
}

func TestValidateRequestLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		code int
	}{
		{"valid", "INVITE sip:a@b SIP/2.0", 0},
		{"sips", "OPTIONS SIPS:a@b SIP/2.0", 0},
		{"bad version", "OPTIONS sip:a@b SIP/7.0", 505},
		{"lower-case method is unknown", "invite sip:a@b SIP/2.0", 501},
		{"extension method", "!interesting-Method0123456789_*+`.%indeed'~ sip:a@b SIP/2.0", 501},
		{"escaped method is not REGISTER", "RE%47IST%45R sip:a@b SIP/2.0", 501},
		{"novel scheme", "OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0", 416},
		{"tel scheme", "INVITE tel:+15551234 SIP/2.0", 416},
		{"URI in angle brackets left to the parser", "INVITE <sip:a@b> SIP/2.0", 0},
		{"double spaces left to the parser", "INVITE  sip:a@b  SIP/2.0", 0},
		{"trailing space left to the parser", "OPTIONS sip:a@b SIP/2.0  ", 0},
		{"no version left to the parser", "INVITE sip:a@b", 0},
		{"not a version left to the parser", "INVITE sip:a@b HTTP/1.1", 0},
		{"empty", "", 0},
		{"method not a token", "IN<VITE sip:a@b SIP/2.0", 0},
		{"no scheme", "INVITE a@b SIP/2.0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := checkRequestLine([]byte(tt.line))
			got := 0
			if p != nil {
				got = p.code
			}
			if got != tt.code {
				t.Fatalf("%q: want %d, got %d", tt.line, tt.code, got)
			}
		})
	}
}

func TestStatelessReply(t *testing.T) {
	folded := "FOO sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\n ;rport\r\nVia: SIP/2.0/UDP g;branch=z9hG4bK0\r\n" +
		"f: <sip:a@b>;tag=1\r\nt: <sip:c@d>\r\ni: x\r\nCSeq: 1 foo\r\nContact: <sip:e@f>\r\n\r\n"
	tests := []struct {
		name    string
		msg     string
		want    []string // substrings of the reply; nil means no reply
		notWant []string
	}{
		{"copies and unfolds headers, adds To tag", folded,
			[]string{"SIP/2.0 501 Not Implemented\r\n", "v: SIP/2.0/UDP h;branch=z9hG4bK1 ;rport\r\n", "Via: SIP/2.0/UDP g;branch=z9hG4bK0\r\n",
				"f: <sip:a@b>;tag=1\r\n", "t: <sip:c@d>;tag=sy", "i: x\r\n", "CSeq: 1 foo\r\n", "Allow: INVITE", "Content-Length: 0\r\n\r\n"},
			[]string{"Contact"}},
		{"keeps an existing To tag", strings.Replace(folded, "t: <sip:c@d>", "t: <sip:c@d>;tag=9", 1),
			[]string{"t: <sip:c@d>;tag=9\r\n"}, []string{"tag=sy"}},
		{"response gets nothing", "SIP/2.0 200 OK\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 X\r\n\r\n", nil, nil},
		{"missing CSeq gets nothing", strings.Replace(folded, "CSeq: 1 foo\r\n", "", 1), nil, nil},
		{"missing Via gets nothing", strings.NewReplacer("v: SIP/2.0/UDP h;branch=z9hG4bK1\r\n ;rport\r\n", "", "Via: SIP/2.0/UDP g;branch=z9hG4bK0\r\n", "").Replace(folded), nil, nil},
		{"empty input gets nothing", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(statelessReply([]byte(tt.msg), 501, "Not Implemented", "Allow: "+allowed))
			if tt.want == nil {
				if got != "" {
					t.Fatalf("want no reply, got %q", got)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Fatalf("reply lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Fatalf("reply has %q:\n%s", w, got)
				}
			}
			if _, err := sip.NewParser().ParseSIP([]byte(got)); err != nil {
				t.Fatalf("reply does not parse: %v\n%s", err, got)
			}
		})
	}
}

func TestMalformedReplyWarning(t *testing.T) {
	msg := strings.Replace(baseRequest, "From: <sip:001*100@acme.example>;tag=f1", `From: "unterminated <sip:a@b>;tag=1`, 1)
	_, perr := sip.NewParser().ParseSIP([]byte(msg))
	if perr == nil {
		t.Fatal("fixture parses")
	}
	got := string(malformedReply([]byte(msg), perr))
	if !strings.HasPrefix(got, "SIP/2.0 400 Bad Request\r\n") || !strings.Contains(got, `Warning: 399 switchyard "Malformed request: `) {
		t.Fatalf("want 400 with Warning, got %q", got)
	}
	if strings.Count(headerLine(got, "Warning"), `"`) != 2 {
		t.Fatalf("Warning text must not carry quotes from the error: %q", headerLine(got, "Warning"))
	}
}
