package esl

import (
	"bytes"
	"testing"
)

// FuzzReadFrame: the reader never panics and never returns a body over the limit.
func FuzzReadFrame(f *testing.F) {
	for _, s := range []string{"auth ClueCon\n\n", "x\nContent-Length: 3\n\nabc", "x\nContent-Length: -1\n\n", "\r\n\r\nContent-Type: command/reply\r\nReply-Text: +OK\r\n\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lim := Limits{MaxLine: 256, MaxHeaders: 16, MaxHeaderBytes: 1024, MaxBody: 1024}
		r := NewReader(bytes.NewReader(in), lim)
		for range 8 {
			fr, err := r.ReadFrame()
			if err != nil {
				break
			}
			if len(fr.Body) > lim.MaxBody || len(fr.Headers) > lim.MaxHeaders {
				t.Fatalf("limits exceeded: %d headers, %d body", len(fr.Headers), len(fr.Body))
			}
		}
		c := NewReader(bytes.NewReader(in), lim)
		for range 8 {
			if _, err := c.ReadCommand(); err != nil {
				break
			}
		}
	})
}

// FuzzParseCommand: parsing never panics and a keyword always comes with a nil error.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"api status", "events plain all", "filter delete all", "...", "bgapi originate {a=b}user/1 &park()", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		p, err := ParseCommand(line)
		if (err == nil) != (p.Keyword != "") {
			t.Fatalf("keyword %q with err %v", p.Keyword, err)
		}
		cmd, arg := SplitAPI(p.Args)
		if len(cmd)+len(arg) > len(p.Args) {
			t.Fatal("split grew")
		}
	})
}
