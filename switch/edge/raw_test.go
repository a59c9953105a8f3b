package edge

import (
	"net"
	"strings"
	"testing"
	"time"
)

// rawExchange sends one datagram from a fresh loopback socket and returns the first reply.
func rawExchange(t *testing.T, from, to, msg string) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", net.JoinHostPort(from, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg = strings.ReplaceAll(msg, "LOCAL", local)
	raddr, _ := net.ResolveUDPAddr("udp", to)
	if _, err := conn.WriteTo([]byte(msg), raddr); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 65535)
	n, _, err := conn.ReadFrom(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

func TestRawRegisterChallenge(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	s.tenant("acme.example", "10001", "001", "100")
	msg := "REGISTER sip:acme.example SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP LOCAL;branch=z9hG4bK-raw-1;rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:001*100@acme.example>;tag=raw1\r\n" +
		"To: <sip:001*100@acme.example>\r\n" +
		"Call-ID: raw-register-1\r\n" +
		"CSeq: 1 REGISTER\r\n" +
		"Contact: <sip:001*100@LOCAL>\r\n" +
		"Content-Length: 0\r\n\r\n"
	res := rawExchange(t, "127.0.0.3", s.addr(), msg)
	if !strings.HasPrefix(res, "SIP/2.0 401 ") {
		t.Fatalf("want 401, got %q", res)
	}
	if i, j := strings.Index(res, "algorithm=MD5"), strings.Index(res, "algorithm=SHA-256"); i < 0 || j < 0 || i > j {
		t.Fatalf("challenges must offer MD5 first, then SHA-256: %q", res)
	}
}
