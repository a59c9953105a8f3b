package edge

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/rs/zerolog"
)

func newTestGuard(t testing.TB, o SecurityOptions) *guard {
	t.Helper()
	g, err := newGuard(o, zerolog.Nop())
	if err != nil {
		t.Fatalf("new guard: %v", err)
	}
	return g
}

func TestGuardFloodFromOneSource(t *testing.T) {
	g := newTestGuard(t, SecurityOptions{FloodRequests: 50, FloodWindow: time.Second})
	var flooded []netip.Addr
	g.onFlood = func(ip netip.Addr) { flooded = append(flooded, ip) }
	attacker, client := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")
	now := time.Unix(1_700_000_000, 0)
	admitted, served := 0, 0
	for i := 0; i < 400; i++ {
		at := now.Add(time.Duration(i) * time.Millisecond) // 400 packets in 0.4 s
		if g.admit(attacker, at) {
			admitted++
		}
		if i%20 == 0 && g.admit(client, at) {
			served++
		}
	}
	if admitted > 100 {
		t.Errorf("flooding source admitted %d of 400 packets, want it cut near the limit of 50", admitted)
	}
	if served != 20 {
		t.Errorf("other source served %d of 20 packets during the flood", served)
	}
	if g.droppedFlood.Load() != uint64(400-admitted) {
		t.Errorf("droppedFlood %d, want %d", g.droppedFlood.Load(), 400-admitted)
	}
	if len(flooded) != 1 || flooded[0] != attacker {
		t.Errorf("one flood event for 127.0.0.2 expected, got %v", flooded)
	}
}

func TestGuardAllowlistAndBan(t *testing.T) {
	g := newTestGuard(t, SecurityOptions{FloodRequests: 5, FloodWindow: time.Second, Allowlist: []string{"127.0.0.8/30"},
		BanFailures: 3, BanWindow: time.Minute, BanTime: time.Minute})
	trunk, bad := netip.MustParseAddr("127.0.0.9"), netip.MustParseAddr("127.0.0.4")
	now := time.Now()
	for i := 0; i < 100; i++ {
		if !g.admit(trunk, now) {
			t.Fatalf("allowlisted source dropped at packet %d", i)
		}
	}
	var banned []string
	g.onBan = func(ip netip.Addr, reason string) { banned = append(banned, ip.String()+" "+reason) }
	for i := 0; i < 3; i++ {
		g.failed(bad, "InvalidPassword")
		g.failed(trunk, "InvalidPassword")
	}
	if g.admit(bad, time.Now()) {
		t.Fatal("banned source admitted")
	}
	if g.droppedBanned.Load() != 1 {
		t.Fatalf("droppedBanned %d, want 1", g.droppedBanned.Load())
	}
	if len(banned) != 1 || banned[0] != "127.0.0.4 InvalidPassword" {
		t.Fatalf("ban events %v", banned)
	}
	if !g.admit(netip.Addr{}, time.Now()) {
		t.Fatal("a packet without a source address must not be dropped by the guard")
	}
}

func TestNewGuardRejectsBadAllowlist(t *testing.T) {
	for _, bad := range []string{"not-an-ip", "127.0.0.1/99", ""} {
		t.Run(bad, func(t *testing.T) {
			if _, err := newGuard(SecurityOptions{Allowlist: []string{bad}}, zerolog.Nop()); err == nil {
				t.Fatalf("allowlist %q accepted", bad)
			}
		})
	}
}

func TestScannerUserAgents(t *testing.T) {
	tests := []struct {
		name string
		ua   string
		want bool
	}{
		{"friendly-scanner", "User-Agent: friendly-scanner\r\n", true},
		{"sipvicious upper case", "USER-AGENT:SIPVicious 0.3\r\n", true},
		{"sipcli", "User-Agent : sipcli/v1.8\r\n", true},
		{"pplsip", "user-agent: pplsip\r\n", true},
		{"vaxsipuseragent", "User-Agent: VaxSIPUserAgent/3.1\r\n", true},
		{"ordinary phone", "User-Agent: Linphone/5.2\r\n", false},
		{"scanner name in another header", "Subject: friendly-scanner\r\n", false},
		{"scanner name in the body only", "", false},
	}
	g := newTestGuard(t, SecurityOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := strings.Replace(baseRequest, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\n"+tt.ua, 1)
			if tt.ua == "" {
				msg = withBody(baseRequest, "text/plain", "User-Agent: friendly-scanner")
			}
			if got := isScanner([]byte(msg)); got != tt.want {
				t.Fatalf("isScanner = %v, want %v", got, tt.want)
			}
			before := g.droppedScanner.Load()
			reply, pass := g.screen([]byte(msg))
			if tt.want && (pass || reply != nil || g.droppedScanner.Load() != before+1) {
				t.Fatalf("scanner not dropped silently and counted: pass=%v reply=%q count=%d", pass, reply, g.droppedScanner.Load())
			}
			if !tt.want && !pass {
				t.Fatalf("ordinary request dropped: %q", reply)
			}
		})
	}
}

// TestScannerDroppedOnTheWire sends a scanner OPTIONS to a running switch: no answer, counted.
func TestScannerDroppedOnTheWire(t *testing.T) {
	s := startSwitch(t, switchOpts{})
	msg := strings.Replace(probeOptions("LOCAL", "udp"), "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nUser-Agent: friendly-scanner\r\n", 1)
	msg = strings.ReplaceAll(msg, probeCallID, "scanner-call")
	replies := udpTorture(t, "127.0.0.5", s.addr(), []byte(msg), dropped)
	if len(replies) != 0 {
		t.Fatalf("scanner answered: %q", replies)
	}
	if n := s.edge.guard.droppedScanner.Load(); n != 1 {
		t.Fatalf("droppedScanner %d, want 1", n)
	}
}

func TestScreen(t *testing.T) {
	tests := []struct {
		name     string
		msg      string
		pass     bool
		replyPfx string // "" means no reply
	}{
		{"valid request", baseRequest, true, ""},
		{"valid response", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", true, ""},
		{"bad response dropped silently", "SIP/2.0 4294967301 x\r\nVia: SIP/2.0/UDP h\r\n\r\n", false, ""},
		{"unparseable request", strings.Replace(baseRequest, "From: <sip:001*100@acme.example>;tag=f1", `From: "unterminated <sip:a@b>;tag=1`, 1), false, "SIP/2.0 400 "},
		{"lower-case method", strings.Replace(baseRequest, "OPTIONS sip:", "options sip:", 1), false, "SIP/2.0 501 "},
		{"novel scheme", strings.Replace(baseRequest, "OPTIONS sip:100@acme.example", "OPTIONS soap.beep://192.0.2.1:3002", 1), false, "SIP/2.0 416 "},
		{"bad version", strings.Replace(baseRequest, "SIP/2.0\r\nVia", "SIP/3.0\r\nVia", 1), false, "SIP/2.0 505 "},
		{"garbage", "\x00\x01hello", false, ""},
	}
	g := newTestGuard(t, SecurityOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply, pass := g.screen([]byte(tt.msg))
			if pass != tt.pass {
				t.Fatalf("pass = %v, want %v (reply %q)", pass, tt.pass, reply)
			}
			if tt.replyPfx == "" && reply != nil {
				t.Fatalf("want no reply, got %q", reply)
			}
			if tt.replyPfx != "" && !strings.HasPrefix(string(reply), tt.replyPfx) {
				t.Fatalf("want reply %q…, got %q", tt.replyPfx, reply)
			}
		})
	}
}

func TestForceRport(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // the top Via line after the call; "" = unchanged message
	}{
		{"adds rport", "Via: SIP/2.0/UDP h:5060;branch=z9hG4bK1\r\n", "Via: SIP/2.0/UDP h:5060;branch=z9hG4bK1;rport\r\n"},
		{"keeps empty rport", "Via: SIP/2.0/UDP h;rport;branch=z9hG4bK1\r\n", ""},
		{"keeps valued rport", "Via: SIP/2.0/UDP h;branch=z9hG4bK1;RPORT=5\r\n", ""},
		{"compact name, first of two values", "v: SIP/2.0/UDP a;branch=z9hG4bK1 , SIP/2.0/UDP b\r\n", "v: SIP/2.0/UDP a;branch=z9hG4bK1;rport , SIP/2.0/UDP b\r\n"},
		{"folded value", "Via  : SIP/2.0/UDP\r\n  h;branch=z9hG4bK1\r\n", "Via  : SIP/2.0/UDP\r\n  h;branch=z9hG4bK1;rport\r\n"},
		{"branch containing rport text", "Via: SIP/2.0/UDP h;branch=z9hG4bKrport\r\n", "Via: SIP/2.0/UDP h;branch=z9hG4bKrport;rport\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := "OPTIONS sip:a@b SIP/2.0\r\n" + tt.in + "Call-ID: x\r\n\r\n"
			got := string(forceRport([]byte(in)))
			if tt.want == "" {
				if got != in {
					t.Fatalf("changed: %q", got)
				}
				return
			}
			if want := "OPTIONS sip:a@b SIP/2.0\r\n" + tt.want + "Call-ID: x\r\n\r\n"; got != want {
				t.Fatalf("got  %q\nwant %q", got, want)
			}
		})
	}
	t.Run("responses untouched", func(t *testing.T) {
		in := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n"
		if got := string(forceRport([]byte(in))); got != in {
			t.Fatalf("changed: %q", got)
		}
	})
	for name, in := range map[string]string{
		"odd Via left alone":               "OPTIONS sip:a@b SIP/2.0\r\nV:// 0,\r\n\r\n",
		"malformed request line":           " AAA: SIP\r\nVia: SIP/2.0/UDP h\r\n\r\n",
		"LWS-laden protocol left to sipgo": "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP  /  2.0/UDP h\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			if got := string(forceRport([]byte(in))); got != in {
				t.Fatalf("changed: %q", got)
			}
		})
	}
	t.Run("no Via", func(t *testing.T) {
		in := "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n"
		if got := string(forceRport([]byte(in))); got != in {
			t.Fatalf("changed: %q", got)
		}
	})
}

// framerRun feeds segments to one connection's framer and records what passes and the replies.
type framerRun struct {
	f       *streamFramer
	props   sip.TransportReadProps
	replies []string
}

func newFramerRun(t testing.TB) *framerRun {
	g := newTestGuard(t, SecurityOptions{})
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 6), Port: 40000}
	return &framerRun{f: g.streams, props: sip.TransportReadProps{Transport: "TCP",
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}, RemoteAddr: addr}}
}

func (r *framerRun) feed(seg string) (string, error) {
	out, err := r.f.filter(r.props, []byte(seg), time.Now(), func(_ sip.TransportReadProps, b []byte) { r.replies = append(r.replies, string(b)) })
	return string(out), err
}

func TestStreamFramer(t *testing.T) {
	ok2 := strings.Replace(baseRequest, "validate-1", "validate-2", 1)
	bad := strings.Replace(baseRequest, "CSeq: 1 OPTIONS", "CSeq: 99999999999999999999 OPTIONS", 1)
	tests := []struct {
		name     string
		segments []string
		passed   string // concatenation of everything handed to sipgo
		replies  []string
		closes   bool
		pending  int
	}{
		{"one message", []string{baseRequest}, baseRequest, nil, false, 0},
		{"pipeline of two", []string{baseRequest + ok2}, baseRequest + ok2, nil, false, 0},
		{"split in three", []string{baseRequest[:10], baseRequest[10:100], baseRequest[100:]}, baseRequest, nil, false, 0},
		{"split inside the body", []string{withBody(baseRequest, "text/plain", "hello")[:len(baseRequest)+30], withBody(baseRequest, "text/plain", "hello")[len(baseRequest)+30:]},
			withBody(baseRequest, "text/plain", "hello"), nil, false, 0},
		{"keepalive passes", []string{"\r\n\r\n"}, "\r\n\r\n", nil, false, 0},
		{"unparseable message answered, next one served", []string{bad + ok2}, ok2, []string{"SIP/2.0 400 "}, false, 0},
		{"incomplete body waits", []string{strings.Replace(baseRequest, "Content-Length: 0", "Content-Length: 9999", 1)}, "", nil, false, 1},
		{"negative Content-Length closes", []string{strings.Replace(baseRequest, "Content-Length: 0", "Content-Length: -999", 1)}, "", []string{"SIP/2.0 400 "}, true, 0},
		{"missing Content-Length closes", []string{strings.Replace(baseRequest, "Content-Length: 0\r\n", "", 1)}, "", []string{"SIP/2.0 400 "}, true, 0},
		{"conflicting Content-Length closes", []string{strings.Replace(baseRequest, "Content-Length: 0\r\n", "Content-Length: 0\r\nl: 5\r\n", 1) + "12345"}, "", []string{"SIP/2.0 400 "}, true, 0},
		{"oversize Content-Length closes", []string{strings.Replace(baseRequest, "Content-Length: 0", "Content-Length: 70000", 1)}, "", []string{"SIP/2.0 400 "}, true, 0},
		{"endless header section closes", []string{baseRequest[:100] + strings.Repeat("X-Pad: 0123456789\r\n", 4000)}, "", nil, true, 0},
		{"framing error after a good message: served, then closed", []string{baseRequest + "junk\r\n\r\n", ok2}, baseRequest, nil, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newFramerRun(t)
			var passed strings.Builder
			var closeErr error
			for _, seg := range tt.segments {
				out, err := r.feed(seg)
				passed.WriteString(out)
				if err != nil {
					closeErr = err
					break
				}
			}
			if passed.String() != tt.passed {
				t.Fatalf("passed %q\nwant   %q", passed.String(), tt.passed)
			}
			if (closeErr != nil) != tt.closes {
				t.Fatalf("close = %v (%v), want %v", closeErr != nil, closeErr, tt.closes)
			}
			if closeErr != nil && !errors.Is(closeErr, errStreamFraming) {
				t.Fatalf("close error %v does not wrap errStreamFraming", closeErr)
			}
			if len(r.replies) != len(tt.replies) {
				t.Fatalf("replies %q, want %d", r.replies, len(tt.replies))
			}
			for i, p := range tt.replies {
				if !strings.HasPrefix(r.replies[i], p) {
					t.Fatalf("reply %d %q, want %q…", i, r.replies[i], p)
				}
			}
			if !tt.closes {
				if n := r.f.pendingStreams(); n != tt.pending {
					t.Fatalf("pending streams %d, want %d", n, tt.pending)
				}
			}
		})
	}
}

func TestStreamFramerNewConnectionOnSameAddress(t *testing.T) {
	r := newFramerRun(t)
	if _, err := r.feed(baseRequest[:50]); err != nil {
		t.Fatal(err)
	}
	// Same address pair, new connection (a new RemoteAddr value): the stale half is dropped.
	r.props.RemoteAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 6), Port: 40000}
	out, err := r.feed(baseRequest)
	if err != nil || out != baseRequest {
		t.Fatalf("new connection got %q, %v", out, err)
	}
}

func TestStreamFramerForgetsSilentConnections(t *testing.T) {
	r := newFramerRun(t)
	start := time.Now()
	if _, err := r.f.filter(r.props, []byte(baseRequest[:50]), start, func(sip.TransportReadProps, []byte) {}); err != nil {
		t.Fatal(err)
	}
	other := r.props
	other.RemoteAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 7), Port: 1}
	if _, err := r.f.filter(other, []byte(baseRequest[:50]), start.Add(pendingTTL+time.Minute), func(sip.TransportReadProps, []byte) {}); err != nil {
		t.Fatal(err)
	}
	if n := r.f.pendingStreams(); n != 1 {
		t.Fatalf("pending streams %d after the TTL, want only the fresh one", n)
	}
}

func TestStreamContentLength(t *testing.T) {
	tests := []struct {
		name, head string
		want       int
		err        bool
	}{
		{"long name", "X\r\nContent-Length: 12\r\n", 12, false},
		{"compact, odd spacing", "X\r\nl   :   7 \r\n", 7, false},
		{"case", "X\r\ncontent-LENGTH: 3\r\n", 3, false},
		{"repeated equal", "X\r\nContent-Length: 3\r\nl: 3\r\n", 3, false},
		{"folded", "X\r\nContent-Length:\r\n 4\r\n", 4, false},
		{"missing", "X\r\nVia: x\r\n", 0, true},
		{"negative", "X\r\nContent-Length: -999\r\n", 0, true},
		{"plus sign", "X\r\nContent-Length: +5\r\n", 0, true},
		{"huge", "X\r\nContent-Length: 99999999999999999999\r\n", 0, true},
		{"empty", "X\r\nContent-Length: \r\n", 0, true},
		{"conflicting", "X\r\nContent-Length: 3\r\nContent-Length: 4\r\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := streamContentLength([]byte(tt.head))
			if (err != nil) != tt.err || n != tt.want {
				t.Fatalf("got %d, %v; want %d, error %v", n, err, tt.want, tt.err)
			}
		})
	}
}

// BenchmarkReadFilter measures the UDP read filter on a typical REGISTER next to sipgo's own
// parse of the same datagram (the cost the filter adds on top of sipgo's parse).
func BenchmarkReadFilter(b *testing.B) {
	msg := []byte("REGISTER sip:acme.example SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-bench;rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:001*100@acme.example>;tag=bench\r\n" +
		"To: <sip:001*100@acme.example>\r\n" +
		"Call-ID: bench-register-1\r\n" +
		"CSeq: 1 REGISTER\r\n" +
		"Contact: <sip:001*100@127.0.0.2:5060>\r\n" +
		"User-Agent: Linphone/5.2\r\n" +
		"Expires: 3600\r\n" +
		"Content-Length: 0\r\n\r\n")
	e := &Edge{log: zerolog.Nop(), guard: newTestGuard(b, SecurityOptions{})}
	props := sip.TransportReadProps{Transport: "UDP", RemoteAddr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 5060}}
	b.Run("filter", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if out, _ := e.readFilter(props, msg); out == nil {
				b.Fatal("dropped")
			}
		}
	})
	b.Run("filter-no-rport", func(b *testing.B) {
		plain := []byte(strings.Replace(string(msg), ";rport", "", 1))
		b.ReportAllocs()
		for b.Loop() {
			if out, _ := e.readFilter(props, plain); out == nil {
				b.Fatal("dropped")
			}
		}
	})
	b.Run("scanner-check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if isScanner(msg) {
				b.Fatal("scanner")
			}
		}
	})
	b.Run("sipgo-parse", func(b *testing.B) {
		p := sip.NewParser()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.ParseSIP(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}
