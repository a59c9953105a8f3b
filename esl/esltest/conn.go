package esltest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/esl"
)

// Timeout bounds every expectation (generous: it only fires when a test is failing).
var Timeout = 10 * time.Second

// Conn is a raw ESL client for transcript tests (send/expect, in the style of nats-server's
// setupConn). All wire bytes received are kept in Raw for whole-suite checks.
type Conn struct {
	t    testing.TB
	c    net.Conn
	br   *bufio.Reader
	Raw  bytes.Buffer
	tee  io.Reader
	read *esl.Reader
}

// Dial connects to addr; the connection closes at test cleanup.
func Dial(t testing.TB, addr string) *Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	cn := &Conn{t: t, c: c}
	cn.tee = io.TeeReader(c, &cn.Raw)
	cn.br = bufio.NewReader(cn.tee)
	cn.read = esl.NewReader(cn.br, esl.Limits{MaxBody: 64 << 20})
	return cn
}

// NetConn exposes the socket.
func (c *Conn) NetConn() net.Conn { return c.c }

// Send writes raw bytes.
func (c *Conn) Send(s string) {
	c.t.Helper()
	_ = c.c.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

// ExpectBytes reads exactly len(want) bytes and compares them.
func (c *Conn) ExpectBytes(want string) {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(Timeout))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c.br, got); err != nil {
		c.t.Fatalf("expect %q: read %q: %v", want, got, err)
	}
	if string(got) != want {
		c.t.Fatalf("expect bytes\n got: %q\nwant: %q", got, want)
	}
}

// Read reads one message.
func (c *Conn) Read() *esl.Frame {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(Timeout))
	f, err := c.read.ReadFrame()
	if err != nil {
		c.t.Fatalf("read message: %v", err)
	}
	return f
}

// ReadErr reads one message, returning the error instead of failing.
func (c *Conn) ReadErr() (*esl.Frame, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(Timeout))
	return c.read.ReadFrame()
}

// ExpectReply reads the next message and checks it is a command/reply with this Reply-Text.
func (c *Conn) ExpectReply(text string) *esl.Frame {
	c.t.Helper()
	f := c.Read()
	if f.Get("Content-Type") != "command/reply" || f.Get("Reply-Text") != text {
		c.t.Fatalf("expect reply %q, got %v body %q", text, f.Headers, f.Body)
	}
	return f
}

// ExpectAPI reads the next message and checks it is an api/response with this body.
func (c *Conn) ExpectAPI(body string) {
	c.t.Helper()
	f := c.Read()
	if f.Get("Content-Type") != "api/response" || string(f.Body) != body {
		c.t.Fatalf("expect api/response %q, got %v body %q", body, f.Headers, f.Body)
	}
}

// API sends `api <cmd>` and returns the api/response body.
func (c *Conn) API(cmd string) string {
	c.t.Helper()
	c.Send("api " + cmd + "\n\n")
	f := c.Read()
	if f.Get("Content-Type") != "api/response" {
		c.t.Fatalf("api %s: got %v", cmd, f.Headers)
	}
	return string(f.Body)
}

// Auth reads auth/request and authenticates with password.
func (c *Conn) Auth(password string) {
	c.t.Helper()
	c.ExpectBytes(esl.AuthRequest)
	c.Send("auth " + password + "\n\n")
	c.ExpectReply("+OK accepted")
}

// ExpectEvent reads messages until an event named name arrives (skipping other events) and
// returns it parsed (plain or json).
func (c *Conn) ExpectEvent(name string) *esl.Event {
	c.t.Helper()
	for {
		f := c.Read()
		ct := f.Get("Content-Type")
		if !strings.HasPrefix(ct, "text/event-") {
			c.t.Fatalf("expect event %s, got %v body %q", name, f.Headers, f.Body)
		}
		e, err := ParseEvent(ct, f.Body)
		if err != nil {
			c.t.Fatalf("parse %s: %v", ct, err)
		}
		if e.Name() == name || e.EventName() == name {
			return e
		}
	}
}

// ExpectClosed reads until EOF and returns everything read after the call.
func (c *Conn) ExpectClosed() string {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(Timeout))
	b, err := io.ReadAll(c.br)
	if err != nil {
		c.t.Fatalf("expect close: %v (read %q)", err, b)
	}
	return string(b)
}

// ParseEvent parses a text/event-plain or text/event-json payload.
func ParseEvent(contentType string, body []byte) (*esl.Event, error) {
	switch contentType {
	case "text/event-plain":
		return esl.ParsePlain(body)
	case "text/event-json":
		return esl.ParseJSON(body)
	}
	return nil, fmt.Errorf("unsupported event type %q", contentType)
}

// ReadAll reads until EOF or an error (a reset after the server closed with unread input is
// normal) and returns what was read after the call.
func (c *Conn) ReadAll() (string, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(Timeout))
	b, err := io.ReadAll(c.br)
	return string(b), err
}
