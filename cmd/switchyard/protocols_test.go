package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// eslConn is a minimal event-socket client: write a command, read one framed reply.
type eslConn struct {
	conn net.Conn
	r    *textproto.Reader
}

func dialESL(t *testing.T, addr string) *eslConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial ESL %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return &eslConn{conn: c, r: textproto.NewReader(bufio.NewReader(c))}
}

// read returns the headers and body of the next frame.
func (e *eslConn) read(t *testing.T) (textproto.MIMEHeader, string) {
	t.Helper()
	h, err := e.r.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("read ESL frame: %v", err)
	}
	var body string
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			t.Fatalf("bad Content-Length %q", cl)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(e.r.R, b); err != nil {
			t.Fatalf("read ESL body: %v", err)
		}
		body = string(b)
	}
	return h, body
}

func (e *eslConn) send(t *testing.T, cmd string) (textproto.MIMEHeader, string) {
	t.Helper()
	if _, err := e.conn.Write([]byte(cmd + "\n\n")); err != nil {
		t.Fatalf("send %q: %v", cmd, err)
	}
	return e.read(t)
}

// sipOptions is an OPTIONS request from local to target over transport.
func sipOptions(transport, local, target, callID string) string {
	return fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\n"+
		"Via: SIP/2.0/%s %s;branch=z9hG4bK-%s;rport\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: <sip:probe@%s>;tag=probe1\r\n"+
		"To: <sip:%s>\r\n"+
		"Call-ID: %s\r\n"+
		"CSeq: 1 OPTIONS\r\n"+
		"Content-Length: 0\r\n\r\n", target, transport, local, callID, local, target, callID)
}

// checkSIP200 checks a response is a 200 OK to the request with callID.
func checkSIP200(t *testing.T, resp, callID string) {
	t.Helper()
	if !strings.HasPrefix(resp, "SIP/2.0 200 OK\r\n") {
		t.Fatalf("response is not 200 OK:\n%s", resp)
	}
	for _, want := range []string{"Call-ID: " + callID, "CSeq: 1 OPTIONS"} {
		if !strings.Contains(resp, want) {
			t.Fatalf("response lacks %q:\n%s", want, resp)
		}
	}
}

// TestProtocolListeners: the ESL and SIP listeners of the binary answer on the configured ports.
func TestProtocolListeners(t *testing.T) {
	t.Parallel()
	p := startSwitch(t, t.TempDir())

	t.Run("ESL auth and api status", func(t *testing.T) {
		e := dialESL(t, p.esl)
		if h, _ := e.read(t); h.Get("Content-Type") != "auth/request" {
			t.Fatalf("greeting Content-Type %q, want auth/request", h.Get("Content-Type"))
		}
		if h, _ := e.send(t, "auth ClueCon"); h.Get("Reply-Text") != "+OK accepted" {
			t.Fatalf("auth reply %q, want +OK accepted", h.Get("Reply-Text"))
		}
		h, body := e.send(t, "api status")
		if h.Get("Content-Type") != "api/response" {
			t.Fatalf("api status Content-Type %q, want api/response", h.Get("Content-Type"))
		}
		if !strings.HasPrefix(body, "UP ") || !strings.Contains(body, "is ready") {
			t.Fatalf("api status body:\n%s", body)
		}
	})

	t.Run("ESL wrong password", func(t *testing.T) {
		e := dialESL(t, p.esl)
		e.read(t)
		h, _ := e.send(t, "auth NotClueCon")
		if !strings.HasPrefix(h.Get("Reply-Text"), "-ERR") {
			t.Fatalf("auth with a wrong password replied %q, want -ERR", h.Get("Reply-Text"))
		}
	})

	t.Run("SIP OPTIONS over UDP", func(t *testing.T) {
		c, err := net.Dial("udp", p.sip)
		if err != nil {
			t.Fatalf("dial SIP UDP: %v", err)
		}
		t.Cleanup(func() { _ = c.Close() })
		if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		const callID = "udp-options-probe@127.0.0.1"
		if _, err := c.Write([]byte(sipOptions("UDP", c.LocalAddr().String(), p.sip, callID))); err != nil {
			t.Fatalf("send OPTIONS: %v", err)
		}
		buf := make([]byte, 65535)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no answer to OPTIONS over UDP: %v", err)
		}
		checkSIP200(t, string(buf[:n]), callID)
	})

	t.Run("SIP OPTIONS over TCP", func(t *testing.T) {
		c, err := net.DialTimeout("tcp", p.sip, 5*time.Second)
		if err != nil {
			t.Fatalf("dial SIP TCP: %v", err)
		}
		t.Cleanup(func() { _ = c.Close() })
		if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		const callID = "tcp-options-probe@127.0.0.1"
		if _, err := c.Write([]byte(sipOptions("TCP", c.LocalAddr().String(), p.sip, callID))); err != nil {
			t.Fatalf("send OPTIONS: %v", err)
		}
		br := bufio.NewReader(c)
		var sb strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("no complete answer to OPTIONS over TCP: %v (got %q)", err, sb.String())
			}
			sb.WriteString(line)
			if line == "\r\n" {
				break
			}
		}
		checkSIP200(t, sb.String(), callID)
	})

	p.stopClean(t)
}
