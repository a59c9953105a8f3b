package esl

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadCommand(t *testing.T) {
	tests := []struct {
		name, in, line string
		headers        []Header
		body           string
	}{
		{"lf", "auth ClueCon\n\n", "auth ClueCon", nil, ""},
		{"crlf", "auth ClueCon\r\n\r\n", "auth ClueCon", nil, ""},
		{"leading blank lines", "\n\n\r\napi status\n\n", "api status", nil, ""},
		{"headers keep case, empty dropped", "sendmsg u\nCall-Command: execute\nexecute-app-arg: \nnocolon\n\n", "sendmsg u", []Header{hdr("Call-Command", "execute")}, ""},
		{"body", "sendevent CUSTOM\nContent-Length: 5\n\nhello", "sendevent CUSTOM", []Header{hdr("Content-Length", "5")}, "hello"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewReader(strings.NewReader(tc.in), Limits{}).ReadCommand()
			if err != nil {
				t.Fatal(err)
			}
			if c.Line != tc.line || string(c.Body) != tc.body || len(c.Headers) != len(tc.headers) {
				t.Fatalf("got %+v", c)
			}
			for i := range tc.headers {
				if c.Headers[i] != tc.headers[i] {
					t.Fatalf("header %d: %v", i, c.Headers[i])
				}
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		lim  Limits
		want error
	}{
		{"negative length", "x\nContent-Length: -1\n\n", Limits{}, ErrBadContentLength},
		{"non-numeric", "x\nContent-Length: 12a\n\n", Limits{}, ErrBadContentLength},
		{"huge", "x\nContent-Length: 99999999999999999999\n\n", Limits{}, ErrBadContentLength},
		{"over 16 MiB", "x\nContent-Length: 16777217\n\n", Limits{}, ErrBodyTooLarge},
		{"long line", "api " + strings.Repeat("x", 100) + "\n\n", Limits{MaxLine: 64}, ErrLineTooLong},
		{"too many headers", "x\na: 1\nb: 2\nc: 3\n\n", Limits{MaxHeaders: 2}, ErrTooManyHeaders},
		{"header block too large", "x\na: " + strings.Repeat("y", 200) + "\n\n", Limits{MaxHeaderBytes: 100}, ErrHeaderTooLarge},
		{"short body", "x\nContent-Length: 10\n\nabc", Limits{}, io.ErrUnexpectedEOF},
		{"eof mid block", "x\na: 1\n", Limits{}, io.ErrUnexpectedEOF},
		{"empty", "", Limits{}, io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tc.in), tc.lim).ReadCommand()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		line, kw, args string
		err            error
	}{
		{"API status", "api", "status", nil},
		{"events plain all", "event", "plain all", nil},
		{"api  status", "api", " status", nil},
		{"...", "exit", "", nil},
		{"nixevent X", "nixevent", "X", nil},
		{"unload mod_event_socket", "api", "bgapi unload mod_event_socket", nil},
		{"foo", "", "", ErrUnknownCommand},
		{"  ", "", "", ErrEmptyCommand},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			p, err := ParseCommand(tc.line)
			if !errors.Is(err, tc.err) || p.Keyword != tc.kw || p.Args != tc.args {
				t.Fatalf("got %+v %v", p, err)
			}
		})
	}
}

func TestEncodeValue(t *testing.T) {
	for in, want := range map[string]string{
		"Alice Smith": "Alice%20Smith", "sofia/internal/1000@x:5060": "sofia/internal/1000%40x%3A5060",
		"Müller": "M%C3%BCller", "a,b/c-d_e.f~": "a,b/c-d_e.f~", "%2B": "%2B", "100%": "100%25", "": "_undef_",
		"%2b": "%252b",
	} {
		t.Run(in, func(t *testing.T) {
			if got := EncodeValue(in); got != want {
				t.Fatalf("%q → %q, want %q", in, got, want)
			}
			if in != "" && DecodeValue(EncodeValue(in)) != in && in != "%2B" {
				t.Fatalf("round trip of %q", in)
			}
		})
	}
	if got := EscapeText("50% off%41\n\x7f"); got != "50%25 off%2541%0A%7F" {
		t.Fatal(got)
	}
}

func sample() *Event {
	return &Event{Headers: []Header{hdr("Event-Name", "BACKGROUND_JOB"), hdr("Event-Date-Local", "2024-05-01 12:00:00"), hdr("Job-Command-Arg", "user/1001 &park()")}, Body: "a<b>&c\u00e9\r\n"}
}

func TestMarshal(t *testing.T) {
	e := sample()
	plain := string(MarshalPlain(e))
	if plain != "Event-Name: BACKGROUND_JOB\nEvent-Date-Local: 2024-05-01%2012%3A00%3A00\nJob-Command-Arg: user/1001%20%26park()\nContent-Length: 10\n\na<b>&c\u00e9\r\n" {
		t.Fatalf("plain %q", plain)
	}
	js := string(MarshalJSON(e))
	if js != `{"Event-Name":"BACKGROUND_JOB","Event-Date-Local":"2024-05-01 12:00:00","Job-Command-Arg":"user/1001 &park()","Content-Length":"10","_body":"a<b>&c`+"\u00e9"+`\r\n"}` {
		t.Fatalf("json %q", js)
	}
	x := string(MarshalXML(e))
	if x != "<event>\n  <headers>\n    <Event-Name>BACKGROUND_JOB</Event-Name>\n    <Event-Date-Local>2024-05-01%2012%3A00%3A00</Event-Date-Local>\n    <Job-Command-Arg>user/1001%20%26park()</Job-Command-Arg>\n  </headers>\n  <Content-Length>10</Content-Length>\n  <body>a&lt;b&gt;&amp;c&#xE9;&#xD;\n  </body>\n</event>\n" {
		t.Fatalf("xml %q", x)
	}
	empty := &Event{Headers: []Header{hdr("Event-Name", "BACKGROUND_JOB")}, HasBody: true}
	if got := string(MarshalJSON(empty)); !strings.HasSuffix(got, `"Content-Length":"0","_body":""}`) {
		t.Fatal(got)
	}
	if got := string(MarshalPlain(empty)); got != "Event-Name: BACKGROUND_JOB\n\n" {
		t.Fatal(got)
	}
	for name, round := range map[string]func() (*Event, error){
		"plain": func() (*Event, error) { return ParsePlain(MarshalPlain(e)) },
		"json":  func() (*Event, error) { return ParseJSON(MarshalJSON(e)) },
	} {
		t.Run(name+" round trip", func(t *testing.T) {
			got, err := round()
			if err != nil || got.Body != e.Body || len(got.Headers) != 3 || got.Headers[2] != e.Headers[2] {
				t.Fatalf("%v %+v", err, got)
			}
		})
	}
}

func TestWriters(t *testing.T) {
	if got := string(AppendAPIResponse(nil, "")); got != "Content-Type: api/response\nContent-Length: 14\n\n-ERR no reply\n" {
		t.Fatal(got)
	}
	if got := string(AppendDisconnect(nil, DisconnectGoodbye)); got != "Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"+DisconnectGoodbye {
		t.Fatal(got)
	}
	ev := string(AppendEvent(nil, FormatPlain, &Event{Headers: []Header{hdr("Event-Name", "TRAP")}}))
	if ev != "Content-Length: 18\nContent-Type: text/event-plain\n\nEvent-Name: TRAP\n\n" {
		t.Fatal(ev)
	}
	if got := string(AppendLogData(nil, LogLine{Level: 7, Text: "x\n"})); !strings.Contains(got, "User-Data: \n\nx\n") {
		t.Fatal(got)
	}
	f, err := NewReader(bytes.NewReader(AppendReply(nil, "+OK", hdr("Job-UUID", "j"))), Limits{}).ReadFrame()
	if err != nil || f.Get("reply-text") != "+OK" || f.Get("Job-UUID") != "j" {
		t.Fatal(f, err)
	}
}

func hdr(name, value string) Header { return Header{Name: name, Value: value} }
