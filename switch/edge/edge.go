// Package edge is the SIP side of the switch: the sipgo user agent and its UDP/TCP listeners,
// request validation, domain resolution and digest authentication of REGISTER and INVITE,
// and the Leg/Dialer implementations that the actors drive. Every blocking SIP operation runs
// here, on request or leg goroutines; results reach the actors as messages.
package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/switch/auth"
)

// Options configure the edge.
type Options struct {
	Node   *actors.Node
	Logger zerolog.Logger
	// UDP and TCP listen addresses ("0.0.0.0:5060"); empty disables that transport.
	UDP, TCP string
	// Host is the address put in our Contact and Via headers; default: the listen IP, or
	// 127.0.0.1 when listening on all interfaces.
	Host string
	// NonceSecret signs digest nonces (random when empty); NonceExpiry defaults to 300 s.
	NonceSecret []byte
	NonceExpiry time.Duration
	// UserAgent is our User-Agent/Server header value.
	UserAgent string
	// Security holds the flood and brute-force knobs.
	Security SecurityOptions
}

// SecurityOptions configure flood control and brute-force bans (DECISIONS 2, 3).
type SecurityOptions struct {
	// FloodRequests per FloodWindow from one source IP before its requests are dropped
	// (0 disables flood control).
	FloodRequests int
	FloodWindow   time.Duration
	// Allowlist sources are never flood-limited or banned.
	Allowlist []string
	// BanFailures failed credential checks within BanWindow ban the source for BanTime.
	BanFailures int
	BanWindow   time.Duration
	BanTime     time.Duration
}

// Edge is the running SIP front end.
type Edge struct {
	opts    Options
	log     zerolog.Logger
	node    *actors.Node
	ua      *sipgo.UserAgent
	server  *sipgo.Server
	client  *sipgo.Client
	dialogs *dialogIndex
	nonces  *auth.NonceSigner
	verify  *auth.Verifier
	guard   *guard
	parser  *sip.Parser

	udpConn  net.PacketConn
	tcpLn    net.Listener
	host     string
	udpPort  int
	tcpPort  int
	wg       sync.WaitGroup
	closing  chan struct{}
	stopOnce sync.Once
}

// New builds the edge and its sipgo stack; Start opens the listeners.
func New(opts Options) (*Edge, error) {
	if opts.Node == nil {
		return nil, errors.New("edge: Options.Node is required")
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "Switchyard"
	}
	e := &Edge{opts: opts, log: opts.Logger.With().Str("component", "sip").Logger(), node: opts.Node,
		dialogs: newDialogIndex(), closing: make(chan struct{})}
	signer, err := auth.NewNonceSigner(auth.NonceConfig{Secret: opts.NonceSecret, Expiry: opts.NonceExpiry})
	if err != nil {
		return nil, fmt.Errorf("nonce signer: %w", err)
	}
	e.nonces = signer
	if e.verify, err = auth.NewVerifier(signer, nil, 0); err != nil {
		return nil, fmt.Errorf("digest verifier: %w", err)
	}
	e.parser = sip.NewParser()
	allowLargeUDPMessages()
	if e.guard, err = newGuard(opts.Security, e.log); err != nil {
		return nil, err
	}
	e.wireSecurityEvents()
	slogger := slog.New(zerolog.NewSlogHandler(opts.Logger.Level(maxLevel(opts.Logger.GetLevel(), zerolog.InfoLevel)).With().Str("component", "sipgo").Logger()))
	sip.SetDefaultLogger(slogger)
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(opts.UserAgent),
		// The switch addresses peers by IP (binding sources, Via received/rport); it never
		// resolves names from requests, so an attacker's Via host cannot make it query DNS or
		// connect elsewhere.
		sipgo.WithUserAgentDNSResolver(noDNS),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(slogger),
			sip.WithTransportLayerReadFilter(e.readFilter),
		),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(slogger),
			sip.WithTransactionLayerUnhandledResponseHandler(e.onUnhandledResponse),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("sip user agent: %w", err)
	}
	e.ua = ua
	if e.server, err = sipgo.NewServer(ua, sipgo.WithServerLogger(slogger)); err != nil {
		return nil, fmt.Errorf("sip server: %w", err)
	}
	e.registerHandlers()
	return e, nil
}

var udpSizeOnce sync.Once

// allowLargeUDPMessages lifts sipgo's UDP size cap (sip.UDPMTUSize, a package variable: by
// default a message over 1,300 bytes is silently not sent). A response must reach the caller
// even when it echoes many Vias (RFC 4475 longreq); the largest UDP datagram is 65,507 bytes.
// It runs once, before the first listener exists.
func allowLargeUDPMessages() {
	udpSizeOnce.Do(func() { sip.UDPMTUSize = 65507 + 200 })
}

// noDNS is a resolver that refuses every lookup without sending anything.
var noDNS = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("dns lookups are disabled in the switch")
}}

func maxLevel(a, b zerolog.Level) zerolog.Level {
	if a > b {
		return a
	}
	return b
}

// Start opens the UDP and TCP listeners and serves them in the background.
func (e *Edge) Start() error {
	host := e.opts.Host
	if e.opts.UDP != "" {
		conn, err := net.ListenPacket("udp", e.opts.UDP)
		if err != nil {
			return fmt.Errorf("listen sip udp %s: %w", e.opts.UDP, err)
		}
		if uc, ok := conn.(*net.UDPConn); ok {
			_ = uc.SetReadBuffer(8 << 20)
			_ = uc.SetWriteBuffer(8 << 20)
		}
		e.udpConn = conn
		a := conn.LocalAddr().(*net.UDPAddr)
		e.udpPort = a.Port
		if host == "" {
			host = listenHost(a.IP)
		}
	}
	if e.opts.TCP != "" {
		ln, err := net.Listen("tcp", e.opts.TCP)
		if err != nil {
			e.closeListeners()
			return fmt.Errorf("listen sip tcp %s: %w", e.opts.TCP, err)
		}
		e.tcpLn = ln
		a := ln.Addr().(*net.TCPAddr)
		e.tcpPort = a.Port
		if host == "" {
			host = listenHost(a.IP)
		}
	}
	e.host = host
	port := e.udpPort
	if port == 0 {
		port = e.tcpPort
	}
	client, err := sipgo.NewClient(e.ua, sipgo.WithClientHostname(host), sipgo.WithClientPort(port))
	if err != nil {
		e.closeListeners()
		return fmt.Errorf("sip client: %w", err)
	}
	e.client = client
	if e.udpConn != nil {
		e.wg.Add(1)
		go func() { defer e.wg.Done(); _ = e.server.ServeUDP(e.udpConn) }()
	}
	if e.tcpLn != nil {
		e.wg.Add(1)
		go func() { defer e.wg.Done(); _ = e.server.ServeTCP(e.tcpLn) }()
	}
	if e.udpConn != nil {
		waitListening(e.ua.TransportLayer(), "udp", e.udpConn.LocalAddr().String())
	}
	e.node.SetDialer(e)
	e.log.Info().Str("udp", e.UDPAddr()).Str("tcp", e.TCPAddr()).Msg("sip listening")
	return nil
}

// waitListening returns once sipgo has registered a UDP listener in its connection pool, so the
// first request we send leaves from it (sipgo adds it on its serve goroutine).
func waitListening(tl *sip.TransportLayer, network, addr string) {
	for i := 0; i < 1000; i++ {
		if c, err := tl.GetConnection(network, addr); err == nil && c != nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// listenHost is the address to advertise for a listener: its own IP, or, when it listens on
// every interface, the first non-loopback IPv4 address of this machine (127.0.0.1 if none).
func listenHost(ip net.IP) string {
	if ip != nil && !ip.IsUnspecified() {
		return ip.String()
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil && !n.IP.IsLinkLocalUnicast() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// UDPAddr is the bound UDP address ("" when disabled).
func (e *Edge) UDPAddr() string {
	if e.udpConn == nil {
		return ""
	}
	return e.udpConn.LocalAddr().String()
}

// TCPAddr is the bound TCP address ("" when disabled).
func (e *Edge) TCPAddr() string {
	if e.tcpLn == nil {
		return ""
	}
	return e.tcpLn.Addr().String()
}

// localAddrs are our own SIP addresses (a contact pointing at them would loop).
func (e *Edge) localAddrs() []string {
	var out []string
	if e.udpPort != 0 {
		out = append(out, net.JoinHostPort(e.host, strconv.Itoa(e.udpPort)))
	}
	if e.tcpPort != 0 && e.tcpPort != e.udpPort {
		out = append(out, net.JoinHostPort(e.host, strconv.Itoa(e.tcpPort)))
	}
	return out
}

// Stop closes the listeners and the user agent. Calls still up are ended by the actors.
func (e *Edge) Stop() error {
	e.stopOnce.Do(func() {
		close(e.closing)
		e.closeListeners()
		_ = e.server.Close()
		_ = e.ua.Close()
		e.wg.Wait()
	})
	return nil
}

func (e *Edge) closeListeners() {
	if e.udpConn != nil {
		_ = e.udpConn.Close()
	}
	if e.tcpLn != nil {
		_ = e.tcpLn.Close()
	}
}

// contact is our Contact header for the given transport.
func (e *Edge) contact(transport string) *sip.ContactHeader {
	port := e.udpPort
	if (transport == "TCP" || transport == "tcp") && e.tcpPort != 0 {
		port = e.tcpPort
	}
	c := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "switchyard", Host: e.host, Port: port}}
	if transport == "TCP" || transport == "tcp" {
		c.Address.UriParams.Add("transport", "tcp")
	}
	return c
}

func (e *Edge) registerHandlers() {
	s := e.server
	s.OnRegister(e.guarded(e.onRegister))
	s.OnInvite(e.guarded(e.onInvite))
	s.OnAck(e.onAck)
	s.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		// A CANCEL matching a live INVITE is answered by sipgo; one that matches nothing is 481.
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
	})
	s.OnBye(e.guarded(e.onInDialog))
	for _, m := range []sip.RequestMethod{sip.INFO, sip.REFER, sip.NOTIFY, sip.UPDATE, sip.MESSAGE, sip.PRACK} {
		s.OnRequest(m, e.guarded(e.onInDialog))
	}
	s.OnOptions(e.guarded(e.onOptions))
	s.OnSubscribe(e.guarded(func(req *sip.Request, tx sip.ServerTransaction) {
		respond(tx, req, 489, "Bad Event", sip.NewHeader("Allow-Events", ""))
	}))
	s.OnPublish(e.guarded(func(req *sip.Request, tx sip.ServerTransaction) {
		respond(tx, req, 489, "Bad Event")
	}))
	s.OnNoRoute(e.guarded(func(req *sip.Request, tx sip.ServerTransaction) {
		respond(tx, req, 501, "Not Implemented", sip.NewHeader("Allow", allowed))
	}))
}

const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE, NOTIFY, MESSAGE, PRACK"

// onOptions answers out-of-dialog OPTIONS (keepalives, scanners: the same for everyone) and
// relays in-dialog ones.
func (e *Edge) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if req.To() != nil && tagOf(req.To().Params) != "" {
		e.onInDialog(req, tx)
		return
	}
	respond(tx, req, 200, "OK", sip.NewHeader("Allow", allowed), sip.NewHeader("Accept", "application/sdp"))
}

// onAck routes an ACK for a 2xx to its inbound leg.
func (e *Edge) onAck(req *sip.Request, _ sip.ServerTransaction) {
	if req.CallID() == nil {
		return
	}
	if l, ok := e.dialogs.get(req.CallID().Value()); ok {
		l.onAck(req)
	}
}

// onInDialog routes BYE, INFO, REFER, NOTIFY, UPDATE, MESSAGE and in-dialog OPTIONS.
func (e *Edge) onInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if req.CallID() == nil {
		respond(tx, req, 400, "Bad Request")
		return
	}
	l, ok := e.dialogs.get(req.CallID().Value())
	if !ok {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	l.onRequest(req, tx)
}

// onUnhandledResponse re-ACKs a 2xx retransmitted after its INVITE transaction ended
// (ENGINEERING-NOTES §3).
func (e *Edge) onUnhandledResponse(res *sip.Response) {
	if !res.IsSuccess() || res.CSeq() == nil || res.CSeq().MethodName != sip.INVITE || res.CallID() == nil {
		return
	}
	if l, ok := e.dialogs.get(res.CallID().Value()); ok {
		l.onRetransmitted2xx(res)
	}
}

// ActiveDialogs is the number of Call-IDs the edge tracks (for tests and stats).
func (e *Edge) ActiveDialogs() int { return e.dialogs.len() }
