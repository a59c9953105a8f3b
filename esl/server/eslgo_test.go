package server_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mimeClient replays eslgo's wire habits (DECISIONS 26): CRLF lines, canonical header names,
// `api <cmd> ` with a trailing space, and textproto.ReadMIMEHeader for every block.
type mimeClient struct {
	t  *testing.T
	c  net.Conn
	tp *textproto.Reader
	br *bufio.Reader
}

func (m *mimeClient) send(lines ...string) {
	m.t.Helper()
	if _, err := io.WriteString(m.c, strings.Join(lines, "\r\n")+"\r\n\r\n"); err != nil {
		m.t.Fatal(err)
	}
}

func (m *mimeClient) read() (textproto.MIMEHeader, []byte) {
	m.t.Helper()
	_ = m.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	h, err := m.tp.ReadMIMEHeader()
	if err != nil {
		m.t.Fatalf("ReadMIMEHeader: %v", err)
	}
	var body []byte
	if cl := h.Get("Content-Length"); cl != "" {
		n, _ := strconv.Atoi(cl)
		body = make([]byte, n)
		if _, err := io.ReadFull(m.br, body); err != nil {
			m.t.Fatal(err)
		}
	}
	return h, body
}

func TestEslgoHabits(t *testing.T) {
	e := start(t, nil)
	ch := e.addChannel("acme.example")
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	br := bufio.NewReader(c)
	m := &mimeClient{t: t, c: c, br: br, tp: textproto.NewReader(br)}
	if h, _ := m.read(); h.Get("Content-Type") != "auth/request" {
		t.Fatal(h)
	}
	m.send("auth ClueCon")
	if h, _ := m.read(); !strings.HasPrefix(h.Get("Reply-Text"), "+OK") {
		t.Fatal(h)
	}
	t.Run("E47 api with trailing space", func(t *testing.T) {
		m.send("api status ")
		if h, body := m.read(); h.Get("Content-Type") != "api/response" || !bytes.HasPrefix(body, []byte("UP ")) {
			t.Fatalf("%v %q", h, body)
		}
	})
	t.Run("E47 bgapi Job-UUID", func(t *testing.T) {
		m.send("event plain ALL")
		m.read()
		m.send("bgapi version", "Job-Uuid: 11111111-2222-3333-4444-555555555555")
		if h, _ := m.read(); h.Get("Job-Uuid") != "11111111-2222-3333-4444-555555555555" {
			t.Fatal(h)
		}
		for {
			h, body := m.read()
			if !strings.HasPrefix(h.Get("Content-Type"), "text/event-plain") {
				t.Fatalf("unexpected %v", h)
			}
			inner, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(body))).ReadMIMEHeader()
			if err != nil {
				t.Fatalf("E83 payload: %v", err)
			}
			if inner.Get("Event-Name") == "BACKGROUND_JOB" {
				if inner.Get("Job-Uuid") != "11111111-2222-3333-4444-555555555555" {
					t.Fatal(inner)
				}
				break
			}
		}
	})
	t.Run("G106 E82 sendmsg canonical names", func(t *testing.T) {
		m.send("sendmsg "+ch.UUID, "Call-Command: execute", "Execute-App-Name: set", "Execute-App-Arg: a=b", "Event-Lock: true")
		for {
			h, body := m.read()
			if h.Get("Content-Type") == "command/reply" {
				if h.Get("Reply-Text") != "+OK" {
					t.Fatal(h)
				}
				break
			}
			inner, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(body))).ReadMIMEHeader()
			if err != nil || inner.Get("Event-Name") == "" {
				t.Fatalf("E82 event: %v %v", err, inner)
			}
		}
	})
}
