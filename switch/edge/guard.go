package edge

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/switch/auth"
)

// guard is the edge's first line (Kamailio REQINIT order): banned sources are dropped
// silently, flooding sources are dropped, scanner User-Agents are dropped, and everything
// else goes on to parsing, validation and authentication.
type guard struct {
	log      zerolog.Logger
	flood    *auth.RateLimiter // nil when disabled
	failures *auth.FailureTracker
	allow    []netip.Prefix

	droppedBanned  atomic.Uint64
	droppedFlood   atomic.Uint64
	droppedScanner atomic.Uint64
	malformed      atomic.Uint64
	onFlood        func(ip netip.Addr)
	onBan          func(ip netip.Addr, reason string)
}

func newGuard(o SecurityOptions, log zerolog.Logger) (*guard, error) {
	g := &guard{log: log}
	for _, a := range o.Allowlist {
		p, err := parsePrefix(a)
		if err != nil {
			return nil, fmt.Errorf("security allowlist %q: %w", a, err)
		}
		g.allow = append(g.allow, p)
	}
	if o.FloodRequests > 0 {
		rl, err := auth.NewRateLimiter(auth.RateConfig{Limit: o.FloodRequests, Window: o.FloodWindow, Allowlist: g.allow})
		if err != nil {
			return nil, fmt.Errorf("flood limiter: %w", err)
		}
		g.flood = rl
	}
	g.failures = auth.NewFailureTracker(auth.FailureConfig{Threshold: o.BanFailures, Window: o.BanWindow, BanFor: o.BanTime})
	return g, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (g *guard) allowed(ip netip.Addr) bool {
	for _, p := range g.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// admit decides whether a packet from ip is processed at all.
func (g *guard) admit(ip netip.Addr, now time.Time) bool {
	if !ip.IsValid() || g.allowed(ip) {
		return true
	}
	if g.failures.Banned(ip, now) {
		g.droppedBanned.Add(1)
		return false
	}
	if g.flood != nil {
		d := g.flood.Allow(ip, now)
		if d.FloodStarted {
			g.log.Warn().Str("source", ip.String()).Msg("flood detected; dropping source")
			if g.onFlood != nil {
				g.onFlood(ip)
			}
		}
		if !d.Allow {
			g.droppedFlood.Add(1)
			return false
		}
	}
	return true
}

// failed records a failed credential check and reports whether the source is now banned.
func (g *guard) failed(ip netip.Addr, reason string) {
	if !ip.IsValid() || g.allowed(ip) {
		return
	}
	if g.failures.Fail(ip, reason, time.Now()) {
		g.log.Warn().Str("source", ip.String()).Str("reason", reason).Msg("source banned after failed authentication")
		if g.onBan != nil {
			g.onBan(ip, reason)
		}
	}
}

var scannerAgents = [][]byte{[]byte("friendly-scanner"), []byte("sipvicious"), []byte("sipcli"), []byte("pplsip"), []byte("vaxsipuseragent")}

// isScanner reports a known scanner User-Agent in a raw message.
func isScanner(data []byte) bool {
	i := bytes.Index(bytes.ToLower(data), []byte("\nuser-agent:"))
	if i < 0 {
		return false
	}
	line := data[i+12:]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	line = bytes.ToLower(line)
	for _, s := range scannerAgents {
		if bytes.Contains(line, s) {
			return true
		}
	}
	return false
}

// readFilter runs on every datagram/segment before sipgo parses it. Returning nil drops it.
// It must never return an error: sipgo would stop reading the socket.
func (e *Edge) readFilter(props sip.TransportReadProps, data []byte) ([]byte, error) {
	ip := addrIP(props.RemoteAddr)
	if e.log.Debug().Enabled() {
		e.log.Debug().Str("transport", props.Transport).Str("from", props.RemoteAddr.String()).Int("bytes", len(data)).Msg("sip read")
	}
	if !e.guard.admit(ip, time.Now()) {
		return nil, nil
	}
	if props.Transport != "UDP" {
		return data, nil
	}
	if isScanner(data) {
		e.guard.droppedScanner.Add(1)
		return nil, nil
	}
	if len(bytes.Trim(data, "\r\n\x00 ")) == 0 {
		return data, nil // keepalive
	}
	if _, err := e.parser.ParseSIP(data); err != nil {
		e.guard.malformed.Add(1)
		if reply := malformedReply(data, err); reply != nil && e.udpConn != nil {
			_, _ = e.udpConn.WriteTo(reply, props.RemoteAddr)
		}
		return nil, nil
	}
	return data, nil
}

func addrIP(a net.Addr) netip.Addr {
	switch v := a.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// malformedReply builds a stateless 400 for a request sipgo cannot parse, copying the
// headers a response needs (Via, From, To, Call-ID, CSeq) verbatim from the raw text.
// Responses (and anything without a request line or those headers) get no reply.
func malformedReply(data []byte, perr error) []byte {
	text := string(data)
	end := strings.Index(text, "\r\n\r\n")
	if end < 0 {
		end = strings.Index(text, "\n\n")
	}
	if end < 0 {
		end = len(text)
	}
	lines := strings.Split(strings.ReplaceAll(text[:end], "\r\n", "\n"), "\n")
	if len(lines) == 0 || strings.HasPrefix(lines[0], "SIP/") {
		return nil
	}
	need := map[string]string{"via": "", "from": "", "to": "", "call-id": "", "cseq": ""}
	short := map[string]string{"v": "via", "f": "from", "t": "to", "i": "call-id"}
	var out []string
	for _, l := range lines[1:] {
		name, _, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		n := strings.ToLower(strings.TrimSpace(name))
		if s, ok := short[n]; ok {
			n = s
		}
		if v, ok := need[n]; ok && (v == "" || n == "via") {
			need[n] = "x"
			out = append(out, strings.TrimRight(l, "\r"))
		}
	}
	for _, k := range []string{"via", "from", "to", "call-id", "cseq"} {
		if need[k] == "" {
			return nil
		}
	}
	warn := strings.Map(func(r rune) rune {
		if r == '"' || r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, perr.Error())
	if len(warn) > 100 {
		warn = warn[:100]
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 400 Bad Request\r\n")
	for _, l := range out {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	b.WriteString("Warning: 399 switchyard \"Malformed request: " + warn + "\"\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}
