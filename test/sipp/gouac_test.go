package sipptest

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// goUAC is a stdlib SIP caller over UDP used to drive SIPp callee scenarios.
type goUAC struct {
	t      testing.TB
	conn   *net.UDPConn
	target string
	callID string
	branch string
	tag    string
}

func newGoUAC(t testing.TB, target string) *goUAC {
	t.Helper()
	raddr, err := net.ResolveUDPAddr("udp4", target)
	if err != nil {
		t.Fatalf("resolve %s: %v", target, err)
	}
	conn, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 3)}, raddr)
	if err != nil {
		t.Fatalf("dial %s: %v", target, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &goUAC{t: t, conn: conn, target: target, callID: newToken() + "@gouac", branch: "z9hG4bK" + newToken(), tag: newToken()}
}

func (c *goUAC) request(method, branch string, cseq int, toTag string) *sipMsg {
	local := c.conn.LocalAddr().String()
	m := &sipMsg{first: fmt.Sprintf("%s sip:100@%s SIP/2.0", method, c.target)}
	m.add("Via", "SIP/2.0/UDP "+local+";branch="+branch)
	m.add("From", "<sip:caller@acme.example>;tag="+c.tag)
	to := "<sip:100@acme.example>"
	if toTag != "" {
		to += ";tag=" + toTag
	}
	m.add("To", to)
	m.add("Call-ID", c.callID)
	m.add("CSeq", fmt.Sprintf("%d %s", cseq, method))
	m.add("Contact", "<sip:caller@"+local+">")
	m.add("Max-Forwards", "70")
	if method == "INVITE" {
		m.add("Content-Type", "application/sdp")
		m.body = []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.3\r\ns=-\r\nc=IN IP4 127.0.0.3\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n")
	}
	return m
}

func (c *goUAC) send(m *sipMsg) error {
	_, err := c.conn.Write(m.bytes())
	return err
}

// await reads until a response with one of codes for method arrives; other
// messages (100 Trying, retransmissions) are skipped.
func (c *goUAC) await(method string, codes ...int) (*sipMsg, error) {
	deadline := time.Now().Add(10 * time.Second)
	if err := c.conn.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	for {
		n, err := c.conn.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("await %s %v: %w", method, codes, err)
		}
		m, err := parseSIP(append([]byte(nil), buf[:n]...))
		if err != nil {
			return nil, fmt.Errorf("await %s %v: %w", method, codes, err)
		}
		if m.isRequest() {
			continue
		}
		if _, meth := m.cseq(); meth != method {
			continue
		}
		for _, code := range codes {
			if m.code() == code {
				return m, nil
			}
		}
		if m.code() >= 200 {
			return nil, fmt.Errorf("await %s %v: got %q", method, codes, m.first)
		}
	}
}

func toTag(m *sipMsg) string {
	_, tag, _ := strings.Cut(m.get("to"), ";tag=")
	tag, _, _ = strings.Cut(tag, ";")
	return tag
}

// answeredCall: INVITE -> 180 -> 200 -> ACK -> BYE -> 200.
func (c *goUAC) answeredCall() error {
	if err := c.send(c.request("INVITE", c.branch, 1, "")); err != nil {
		return err
	}
	if _, err := c.await("INVITE", 180); err != nil {
		return err
	}
	ok, err := c.await("INVITE", 200)
	if err != nil {
		return err
	}
	tag := toTag(ok)
	if err := c.send(c.request("ACK", "z9hG4bK"+newToken(), 1, tag)); err != nil {
		return err
	}
	if err := c.send(c.request("BYE", "z9hG4bK"+newToken(), 2, tag)); err != nil {
		return err
	}
	_, err = c.await("BYE", 200)
	return err
}

// busyCall: INVITE -> 486 -> ACK.
func (c *goUAC) busyCall() error {
	if err := c.send(c.request("INVITE", c.branch, 1, "")); err != nil {
		return err
	}
	busy, err := c.await("INVITE", 486)
	if err != nil {
		return err
	}
	return c.send(c.request("ACK", c.branch, 1, toTag(busy)))
}

// cancelledCall: INVITE -> 180 -> CANCEL -> 200 (CANCEL) + 487 -> ACK.
func (c *goUAC) cancelledCall() error {
	if err := c.send(c.request("INVITE", c.branch, 1, "")); err != nil {
		return err
	}
	if _, err := c.await("INVITE", 180); err != nil {
		return err
	}
	if err := c.send(c.request("CANCEL", c.branch, 1, "")); err != nil {
		return err
	}
	if _, err := c.await("CANCEL", 200); err != nil {
		return err
	}
	term, err := c.await("INVITE", 487)
	if err != nil {
		return err
	}
	return c.send(c.request("ACK", c.branch, 1, toTag(term)))
}
