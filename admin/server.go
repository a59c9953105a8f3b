// Package admin is Switchyard's embedded HTTP admin API: REST over the
// persistence records, bearer tokens with operator/domain/customer scopes,
// problem+json errors, audit and CDR listing, and an OpenAPI document.
// Every write goes through one AdminActor (the single config writer).
package admin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/persistence"
)

// LiveSwitch is what the admin API needs from the running switch
// (implemented by actors.Node).
type LiveSwitch interface {
	// ConfigChanged is called after a committed write; it must not block.
	ConfigChanged(c ConfigChange)
	// DomainLive returns a JSON-able live view of one domain: status,
	// limits, counters.
	DomainLive(ctx context.Context, domainID int64) (any, error)
}

// ConfigChange describes one committed config write.
type ConfigChange struct {
	Kind     persistence.Kind
	DomainID int64
	ID       int64
	Action   string // create|update|delete
}

// Options configures Start.
type Options struct {
	// Addr is the listen address; empty means 127.0.0.1:8080.
	Addr string
	// Store is the open persistence store (required).
	Store *persistence.Store
	// Live is the running switch; nil disables /live and change notices.
	Live LiveSwitch
	// OperatorTokenHash is HashToken of the operator token; empty means no
	// operator token is accepted.
	OperatorTokenHash string
	// Logger receives access and error lines (never bodies or secrets).
	Logger zerolog.Logger
	// FailedAuthPerMinute is the failed-token budget per client IP and
	// minute before 429; 0 means DefaultFailedAuthPerMinute, < 0 disables.
	FailedAuthPerMinute int
	// Security is the SIP edge's ban list and counters; nil answers 503 on /admin/security.
	Security SecurityControl
}

// Server is a running admin API.
type Server struct {
	store    *persistence.Store
	live     LiveSwitch
	security SecurityControl
	log      zerolog.Logger
	opHash   []byte
	limiter  *failLimiter
	system   *actor.ActorSystem
	pid      *actor.PID
	mux      *http.ServeMux
	routes   []route
	handler  http.Handler
	httpSrv  *http.Server
	listener net.Listener
	served   chan struct{}
	now      func() time.Time // clock for binding expiry (tests override)
}

// writeTimeout bounds how long a handler waits for the AdminActor.
const writeTimeout = 10 * time.Second

// Start spawns the AdminActor on system, listens on opts.Addr and serves
// in the background until Stop.
func Start(system *actor.ActorSystem, opts Options) (*Server, error) {
	if system == nil {
		return nil, errors.New("start admin: nil actor system")
	}
	if opts.Store == nil {
		return nil, errors.New("start admin: nil store")
	}
	s := &Server{store: opts.Store, live: opts.Live, security: opts.Security, log: opts.Logger, system: system, served: make(chan struct{}), now: time.Now}
	if opts.OperatorTokenHash != "" {
		h, err := hex.DecodeString(strings.TrimSpace(opts.OperatorTokenHash))
		if err != nil || len(h) != sha256.Size {
			return nil, errors.New("start admin: operator token hash is not a hex SHA-256")
		}
		s.opHash = h
	}
	limit := opts.FailedAuthPerMinute
	if limit == 0 {
		limit = DefaultFailedAuthPerMinute
	}
	s.limiter = newFailLimiter(limit)
	s.buildRoutes()

	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start admin: listen %s: %w", addr, err)
	}
	s.listener = ln
	props := actor.PropsFromProducer(func() actor.Actor { return &adminActor{live: s.live, log: s.log} })
	pid, err := system.Root.SpawnNamed(props, "admin")
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("start admin: spawn admin actor: %w", err)
	}
	s.pid = pid
	s.httpSrv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(zerologWriter{s.log}, "", 0),
	}
	go func() {
		defer close(s.served)
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error().Err(err).Msg("admin HTTP server stopped")
		}
	}()
	s.log.Info().Str("addr", ln.Addr().String()).Msg("admin API listening")
	return s, nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Handler is the complete HTTP handler (for httptest servers).
func (s *Server) Handler() http.Handler { return s.handler }

// Stop shuts the HTTP server down gracefully, then poisons the AdminActor
// after it has finished queued writes.
func (s *Server) Stop(ctx context.Context) error {
	err := s.httpSrv.Shutdown(ctx)
	if err != nil {
		err = fmt.Errorf("stop admin HTTP: %w", err)
	}
	<-s.served
	if perr := s.system.Root.PoisonFuture(s.pid).Wait(); perr != nil && err == nil {
		err = fmt.Errorf("stop admin actor: %w", perr)
	}
	return err
}

// zerologWriter adapts net/http's error log to zerolog.
type zerologWriter struct{ log zerolog.Logger }

func (z zerologWriter) Write(p []byte) (int, error) {
	z.log.Warn().Str("component", "admin-http").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

// reqInfo carries what the access log needs from inner handlers.
type reqInfo struct {
	who    string
	status int
}

type ctxKey struct{}

func setPrincipal(r *http.Request, p principal) {
	if ri, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		ri.who = p.identity()
	}
}

type statusWriter struct {
	http.ResponseWriter
	info *reqInfo
}

func (w *statusWriter) WriteHeader(code int) {
	if w.info.status == 0 {
		w.info.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.info.status == 0 {
		w.info.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// serveHTTP is the outer handler: security headers, trailing-slash
// normalisation, access log, then the mux.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info := &reqInfo{}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, info))
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path = strings.TrimRight(p, "/")
		if u.Path == "" {
			u.Path = "/"
		}
		u.RawPath = ""
		r2.URL = &u
		r = r2
	}
	sw := &statusWriter{ResponseWriter: w, info: info}
	s.mux.ServeHTTP(sw, r)
	s.log.Info().Str("method", r.Method).Str("path", r.URL.Path).Int("status", info.status).
		Str("who", info.who).Str("remote", clientIP(r)).Dur("took", time.Since(start)).Msg("admin request")
}
