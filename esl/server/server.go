// Package server is the inbound event socket (ESL) server: one session per TCP connection,
// FreeSWITCH-compatible commands mapped onto the switch facade, tenant-scoped sessions and a
// bounded, drop-counting event queue per session.
//
// Limits (documented per PROTOCOL §2 and DECISIONS 15): a session's event queue holds
// Options.EventQueueCap events (default events.DefaultQueueCap = 4096); after more than
// events.MaxConsecutiveDrops (500) drops in a row the session gets the "killed listener because
// of lost events" notice and is closed. The auth deadline (default 25 s) covers the whole
// unauthenticated phase. Announced Allowed-* lists are capped at MaxAnnouncedNames names.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
)

// Switch is what the event socket needs from the running switch (implemented by actors.Node).
type Switch interface {
	Bus() *events.Bus
	Status() actors.SwitchStatus
	Channels(scope actors.Scope) []actors.ChannelInfo
	Calls(scope actors.Scope) []actors.CallInfo
	Registrations(scope actors.Scope) []actors.RegistrationInfo
	ChannelVars(ctx context.Context, scope actors.Scope, uuid string) ([]events.Header, error)
	SetChannelVar(ctx context.Context, scope actors.Scope, uuid, name, value string) error
	Hangup(ctx context.Context, scope actors.Scope, uuid, cause string) error
	Bridge(ctx context.Context, scope actors.Scope, uuidA, uuidB string) error
	Transfer(ctx context.Context, scope actors.Scope, uuid, dest string) error
	Hold(ctx context.Context, scope actors.Scope, uuid string, hold bool) error
	SendInfo(ctx context.Context, scope actors.Scope, uuid, contentType, body string) error
	Originate(ctx context.Context, scope actors.Scope, req actors.OriginateRequest) (string, error)
	HangupAll(ctx context.Context, scope actors.Scope, cause, varName, varValue string) int
	GlobalVar(name string) (string, bool)
	Reload(ctx context.Context) error
	DomainLimits(ctx context.Context, scope actors.Scope, domain string) (actors.DomainLimits, error)
	AuthenticateESLUser(user, domain, password string) (actors.ESLGrant, error)
}

// Defaults.
const (
	DefaultAddr          = "127.0.0.1:8021"
	DefaultPassword      = "ClueCon"
	DefaultAuthTimeout   = 25 * time.Second
	DefaultMaxConns      = 1024
	DefaultMaxConnsPerIP = 128
	DefaultHeartbeat     = 20 * time.Second
	DefaultBanThreshold  = 5
	DefaultBanWindow     = time.Minute
	DefaultBanDuration   = 10 * time.Minute
	DefaultAPITimeout    = 90 * time.Second
	// MaxAnnouncedNames caps each Allowed-Events / Allowed-API list announced in the userauth
	// reply (the session still enforces the whole list), so the reply stays well-formed (§1.4).
	MaxAnnouncedNames = 64
)

// Options configure a Server. Zero fields take the defaults above.
type Options struct {
	Addr     string
	Password string
	// ACL lists the allowed peer prefixes; empty means loopback only (127.0.0.0/8, ::1).
	ACL           []netip.Prefix
	MaxConns      int
	MaxConnsPerIP int
	// AuthTimeout bounds the whole unauthenticated phase (Switchyard differs from FS, §2 item 4).
	AuthTimeout time.Duration
	// Heartbeat is the HEARTBEAT period; negative disables it.
	Heartbeat time.Duration
	// EventQueueCap is each session's event queue; default events.DefaultQueueCap.
	EventQueueCap int
	// BanThreshold wrong passwords from one IP within BanWindow ban it for BanDuration (E4).
	BanThreshold int
	BanWindow    time.Duration
	BanDuration  time.Duration
	// APITimeout bounds one api/bgapi call into the switch (originate may wait for an answer).
	APITimeout time.Duration
	// AllowInsecurePassword lets a non-loopback Addr use an empty or "ClueCon" password
	// (development only; DECISIONS 10).
	AllowInsecurePassword bool
	// Version is reported by `api version` and HEARTBEAT.
	Version string
	Logger  zerolog.Logger
	Switch  Switch
}

// Server is the inbound ESL listener.
type Server struct {
	opts Options
	sw   Switch
	bus  *events.Bus
	log  zerolog.Logger
	pass [32]byte
	acl  []netip.Prefix

	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	ln       net.Listener
	sessions map[*session]struct{}
	perIP    map[netip.Addr]int
	fails    map[netip.Addr][]time.Time
	banned   map[netip.Addr]time.Time
	closed   bool
	wg       sync.WaitGroup

	logSink *LogSink
}

// New validates opts and returns a server (not yet listening).
func New(opts Options) (*Server, error) {
	if opts.Switch == nil {
		return nil, errors.New("esl server: Options.Switch is required")
	}
	if opts.Switch.Bus() == nil {
		return nil, errors.New("esl server: Switch.Bus() returned nil")
	}
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Password == "" && !opts.AllowInsecurePassword {
		opts.Password = DefaultPassword
	}
	if opts.AuthTimeout <= 0 {
		opts.AuthTimeout = DefaultAuthTimeout
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.MaxConnsPerIP <= 0 {
		opts.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.EventQueueCap <= 0 {
		opts.EventQueueCap = events.DefaultQueueCap
	}
	if opts.BanThreshold <= 0 {
		opts.BanThreshold = DefaultBanThreshold
	}
	if opts.BanWindow <= 0 {
		opts.BanWindow = DefaultBanWindow
	}
	if opts.BanDuration <= 0 {
		opts.BanDuration = DefaultBanDuration
	}
	if opts.APITimeout <= 0 {
		opts.APITimeout = DefaultAPITimeout
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("esl server: bad Addr %q: %w", opts.Addr, err)
	}
	if !isLoopbackHost(host) && !opts.AllowInsecurePassword && (opts.Password == "" || opts.Password == DefaultPassword) {
		return nil, fmt.Errorf("esl server: refusing to listen on non-loopback %q with an empty or default password (set a password or the dev flag)", opts.Addr)
	}
	acl := opts.ACL
	if len(acl) == 0 {
		acl = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts: opts, sw: opts.Switch, bus: opts.Switch.Bus(), log: opts.Logger, acl: acl,
		pass: sha256.Sum256([]byte(opts.Password)), ctx: ctx, cancel: cancel,
		sessions: map[*session]struct{}{}, perIP: map[netip.Addr]int{},
		fails: map[netip.Addr][]time.Time{}, banned: map[netip.Addr]time.Time{},
	}
	s.logSink = &LogSink{srv: s}
	return s, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// Start listens on Options.Addr and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("esl server: listen %s: %w", s.opts.Addr, err)
	}
	return s.Serve(ln)
}

// Serve serves connections from ln in the background (and the HEARTBEAT ticker).
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return errors.New("esl server: already shut down")
	}
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go s.acceptLoop(ln)
	if s.opts.Heartbeat > 0 {
		s.wg.Add(1)
		go s.heartbeatLoop()
	}
	return nil
}

// Addr is the listening address (nil before Start).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// LogSink returns a writer that turns zerolog JSON lines into log/data messages for sessions
// that sent `log`. Add it to zerolog's writers (zerolog.MultiLevelWriter).
func (s *Server) LogSink() io.Writer { return s.logSink }

// Stats is a snapshot of the server's sessions.
type Stats struct {
	Sessions   int
	LostEvents uint64 // over live sessions
}

// Stats returns the number of live sessions and their lost events.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Sessions: len(s.sessions)}
	for ss := range s.sessions {
		st.LostEvents += ss.lost()
	}
	return st
}

// Shutdown stops accepting, sends every session "The system is being shut down." and closes
// it, then waits for the sessions to end or ctx to expire.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ln := s.ln
	list := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		list = append(list, ss)
	}
	s.mu.Unlock()
	s.cancel()
	if ln != nil {
		_ = ln.Close()
	}
	for _, ss := range list {
		ss.disconnect(DisconnectReason{Body: "The system is being shut down.\n"})
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, ss := range list {
			ss.closeConn()
		}
		return fmt.Errorf("esl server shutdown: %w", ctx.Err())
	}
}

func (s *Server) allowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.acl {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn().Err(err).Msg("esl accept")
			continue
		}
		s.handleConn(c)
	}
}

func remoteAddr(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// handleConn applies ban, ACL and caps, then starts the session's two goroutines.
func (s *Server) handleConn(c net.Conn) {
	ip := remoteAddr(c)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	now := time.Now()
	s.mu.Lock()
	if until, ok := s.banned[ip]; ok {
		if now.Before(until) {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		delete(s.banned, ip)
	}
	if !s.allowed(ip) {
		s.mu.Unlock()
		s.log.Warn().Str("peer", ip.String()).Msg("esl: peer refused by ACL")
		_ = c.SetWriteDeadline(now.Add(time.Second))
		_, _ = io.WriteString(c, rudeRejection)
		_ = c.Close()
		return
	}
	if s.closed || len(s.sessions) >= s.opts.MaxConns || s.perIP[ip] >= s.opts.MaxConnsPerIP {
		s.mu.Unlock()
		_ = c.SetWriteDeadline(now.Add(time.Second))
		_, _ = io.WriteString(c, goodbyeNotice)
		_ = c.Close()
		return
	}
	ss := newSession(s, c, ip)
	s.sessions[ss] = struct{}{}
	s.perIP[ip]++
	s.wg.Add(2)
	s.mu.Unlock()
	go ss.writeLoop()
	go ss.readLoop()
}

func (s *Server) removeSession(ss *session) {
	s.mu.Lock()
	if _, ok := s.sessions[ss]; ok {
		delete(s.sessions, ss)
		if s.perIP[ss.ip]--; s.perIP[ss.ip] <= 0 {
			delete(s.perIP, ss.ip)
		}
	}
	s.mu.Unlock()
}

// checkPassword compares in constant time (hashes first, so lengths do not leak either).
func (s *Server) checkPassword(p string) bool {
	h := sha256.Sum256([]byte(p))
	return subtle.ConstantTimeCompare(h[:], s.pass[:]) == 1
}

// authFailed counts a failed credential check and bans the IP at the threshold.
func (s *Server) authFailed(ip netip.Addr) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.fails[ip][:0]
	for _, t := range s.fails[ip] {
		if now.Sub(t) < s.opts.BanWindow {
			list = append(list, t)
		}
	}
	list = append(list, now)
	if len(list) >= s.opts.BanThreshold {
		s.banned[ip] = now.Add(s.opts.BanDuration)
		delete(s.fails, ip)
		s.log.Warn().Str("peer", ip.String()).Dur("ban", s.opts.BanDuration).Msg("esl: too many wrong passwords, banning source")
		return
	}
	s.fails[ip] = list
}

// Banned reports whether ip is currently refused.
func (s *Server) Banned(ip netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.banned[ip.Unmap()]
	return ok && time.Now().Before(until)
}
