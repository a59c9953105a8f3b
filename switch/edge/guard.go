package edge

import (
	"bytes"
	"fmt"
	"io"
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
	parser         *sip.Parser
	streams        *streamFramer
	onFlood        func(ip netip.Addr)
	onBan          func(ip netip.Addr, reason string)
}

func newGuard(o SecurityOptions, log zerolog.Logger) (*guard, error) {
	g := &guard{log: log, parser: sip.NewParser()}
	g.streams = newStreamFramer(g.screen)
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

// isScanner reports a known scanner User-Agent (RELIABILITY F3) in a raw message. It scans
// the header lines in place, without copying or lower-casing the datagram.
func isScanner(data []byte) bool {
	head := data
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		head = data[:i]
	}
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		if i < 0 {
			return false
		}
		head = head[i+1:]
		const name = "user-agent"
		if len(head) <= len(name) || !asciiPrefixFold(head, name) {
			continue
		}
		rest := bytes.TrimLeft(head[len(name):], " \t")
		if len(rest) == 0 || rest[0] != ':' {
			continue
		}
		line := rest[1:]
		if j := bytes.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
		for _, s := range scannerAgents {
			if containsFold(line, s) {
				return true
			}
		}
	}
	return false
}

// asciiPrefixFold reports whether b starts with the lower-case ASCII prefix p, ignoring case.
func asciiPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if lower(b[i]) != p[i] {
			return false
		}
	}
	return true
}

// containsFold reports whether b contains the lower-case ASCII needle, ignoring case.
func containsFold(b, needle []byte) bool {
	for i := 0; i+len(needle) <= len(b); i++ {
		if asciiPrefixFold(b[i:], string(needle)) {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// readFilter runs on every datagram/segment before sipgo parses it. Returning nil drops it.
// It returns an error only to make sipgo close a TCP connection whose framing is broken.
func (e *Edge) readFilter(props sip.TransportReadProps, data []byte) ([]byte, error) {
	ip := addrIP(props.RemoteAddr)
	if e.log.Debug().Enabled() {
		e.log.Debug().Str("transport", props.Transport).Str("from", addrString(props.RemoteAddr)).Int("bytes", len(data)).Msg("sip read")
	}
	if !e.guard.admit(ip, time.Now()) {
		return nil, nil
	}
	switch props.Transport {
	case "UDP":
		return e.filterDatagram(props, data), nil
	case "TCP":
		return e.guard.streams.filter(props, data, time.Now(), e.writeStream)
	}
	return data, nil
}

// writeStream writes a stateless reply on the TCP connection a message came in on.
func (e *Edge) writeStream(props sip.TransportReadProps, reply []byte) {
	if props.RemoteAddr == nil {
		return
	}
	c, err := e.ua.TransportLayer().GetConnection("tcp", props.RemoteAddr.String())
	if err != nil {
		return
	}
	if w, ok := c.(io.Writer); ok {
		_, _ = w.Write(reply)
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// filterDatagram screens one UDP datagram: keepalives pass, rejected requests are answered
// statelessly to the packet's source, and accepted requests get rport forced on their top Via
// so every answer goes back where the packet came from (RELIABILITY F6).
func (e *Edge) filterDatagram(props sip.TransportReadProps, data []byte) []byte {
	if len(bytes.Trim(data, "\r\n\x00 ")) == 0 {
		return data // keepalive
	}
	data = tidyParams(data)
	reply, pass := e.guard.screen(data)
	if reply != nil && e.udpConn != nil && props.RemoteAddr != nil {
		_, _ = e.udpConn.WriteTo(reply, props.RemoteAddr)
	}
	if !pass {
		return nil
	}
	return forceRport(data)
}

// screen decides one complete message: pass it to sipgo, or drop it with an optional stateless
// reply. Scanner traffic is dropped silently; the request line is checked raw first (sipgo
// upper-cases methods and refuses unknown URI schemes, RFC 4475 intmeth/novelsc); then the
// message must parse. Responses that do not parse are dropped without an answer.
func (g *guard) screen(msg []byte) (reply []byte, pass bool) {
	if isScanner(msg) {
		g.droppedScanner.Add(1)
		return nil, false
	}
	line := msg
	if i := bytes.IndexByte(msg, '\n'); i >= 0 {
		line = msg[:i]
	}
	isResponse := bytes.HasPrefix(line, []byte("SIP/"))
	if !isResponse {
		if p := checkRequestLine(bytes.TrimSuffix(line, []byte("\r"))); p != nil {
			g.malformed.Add(1)
			return statelessReply(msg, p.code, p.reason, p.raw...), false
		}
	}
	if _, err := g.parser.ParseSIP(msg); err != nil {
		g.malformed.Add(1)
		if isResponse {
			return nil, false
		}
		return malformedReply(msg, err), false
	}
	return nil, true
}

// forceRport adds an empty rport parameter to the top Via of a request that lacks one, like
// Kamailio's force_rport(): sipgo then answers to the packet's source address and port instead
// of the sent-by in the Via. Responses and messages without a Via are returned unchanged.
func forceRport(data []byte) []byte {
	line := data
	if i := bytes.Index(data, []byte("\r\n")); i >= 0 {
		line = data[:i]
	}
	if !requestLineOK(line) {
		return data
	}
	head := data
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		head = data[:i+2]
	}
	pos := 0
	for {
		i := bytes.Index(head[pos:], []byte("\r\n"))
		if i < 0 {
			return data
		}
		pos += i + 2
		v := viaValueStart(head[pos:])
		if v < 0 {
			continue
		}
		start := pos + v
		if !asciiPrefixFold(bytes.TrimLeft(head[start:], " \t"), "sip/2.0/") {
			return data // leave odd Vias to sipgo as they are
		}
		end := firstValueEnd(head, start)
		if hasParam(head[start:end], "rport") {
			return data
		}
		for end > start && (head[end-1] == ' ' || head[end-1] == '\t' || head[end-1] == '\r' || head[end-1] == '\n') {
			end--
		}
		out := make([]byte, 0, len(data)+len(";rport"))
		out = append(out, data[:end]...)
		out = append(out, ";rport"...)
		return append(out, data[end:]...)
	}
}

// viaValueStart returns the offset of the value of a Via header ("Via" or "v", any case, LWS
// before the colon) starting at line, or -1 when line is another header.
func viaValueStart(line []byte) int {
	n := 0
	switch {
	case asciiPrefixFold(line, "via"):
		n = 3
	case asciiPrefixFold(line, "v"):
		n = 1
	default:
		return -1
	}
	for n < len(line) && (line[n] == ' ' || line[n] == '\t') {
		n++
	}
	if n >= len(line) || line[n] != ':' {
		return -1
	}
	return n + 1
}

// firstValueEnd returns where the first comma-separated value of the header whose value
// starts at head[start] ends: at a comma outside quotes or at the CRLF that ends the header
// (a CRLF followed by SP/HT is folding and continues it).
func firstValueEnd(head []byte, start int) int {
	quoted := false
	for i := start; i < len(head); i++ {
		switch c := head[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return i
		case c == '\r' && i+1 < len(head) && head[i+1] == '\n':
			if i+2 >= len(head) || (head[i+2] != ' ' && head[i+2] != '\t') {
				return i
			}
		}
	}
	return len(head)
}

// hasParam reports whether a header value carries the parameter name (";name", LWS allowed
// around the semicolon, followed by "=", ";", LWS or the end).
func hasParam(v []byte, name string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] != ';' {
			continue
		}
		j := i + 1
		for j < len(v) && (v[j] == ' ' || v[j] == '\t' || v[j] == '\r' || v[j] == '\n') {
			j++
		}
		if !asciiPrefixFold(v[j:], name) {
			continue
		}
		k := j + len(name)
		if k == len(v) || bytes.IndexByte([]byte("=; \t\r\n,"), v[k]) >= 0 {
			return true
		}
	}
	return false
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

func truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
	if len(s) > n {
		return s[:n]
	}
	return s
}
