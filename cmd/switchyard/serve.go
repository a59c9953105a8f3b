package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/admin"
	eslserver "github.com/switchyard/switchyard/esl/server"
	"github.com/switchyard/switchyard/persistence"
	"github.com/switchyard/switchyard/switch/edge"
)

// swapWriter lets the ESL log sink join zerolog's outputs once the ESL server exists.
type swapWriter struct{ w atomic.Pointer[io.Writer] }

func (s *swapWriter) Write(p []byte) (int, error) {
	if w := s.w.Load(); w != nil {
		_, _ = (*w).Write(p)
	}
	return len(p), nil
}

func newLogger(cfg Config, extra io.Writer) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.LogLevel)
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			format = "console"
		}
	}
	var out io.Writer = os.Stderr
	if format == "console" {
		out = zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.RFC3339}
	}
	return zerolog.New(zerolog.MultiLevelWriter(out, extra)).Level(level).With().Timestamp().Logger()
}

// securityAdapter gives the admin API the SIP edge's bans and counters.
type securityAdapter struct{ sip *edge.Edge }

func (s securityAdapter) Bans() []admin.Ban {
	var out []admin.Ban
	for _, b := range s.sip.Bans() {
		out = append(out, admin.Ban{IP: b.IP, Until: b.Until, Reason: b.Reason})
	}
	return out
}
func (s securityAdapter) LiftBan(ip string) bool { return s.sip.LiftBan(ip) }
func (s securityAdapter) Stats() any             { return s.sip.SecurityStats() }

// liveAdapter connects the admin API to the running node.
type liveAdapter struct{ node *actors.Node }

func (l liveAdapter) ConfigChanged(admin.ConfigChange) { l.node.ConfigChanged() }
func (l liveAdapter) DomainLive(ctx context.Context, id int64) (any, error) {
	return l.node.DomainLive(ctx, id)
}

// serve runs the switch until SIGINT/SIGTERM.
func serve(args []string) error {
	cfg := Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	if err := cfg.bindFlags(fs); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app, err := start(cfg, nil)
	if err != nil {
		return err
	}
	<-ctx.Done()
	app.log.Info().Msg("stopping")
	return app.shutdown()
}

// app is a running switch: every component, for an ordered shutdown.
type app struct {
	log   zerolog.Logger
	store *persistence.Store
	node  *actors.Node
	sip   *edge.Edge
	esl   *eslserver.Server
	admin *admin.Server
}

// start opens the store and starts every component. ready, when not nil, receives the bound
// addresses (tests use ports 0).
func start(cfg Config, ready func(a *app)) (*app, error) {
	sink := &swapWriter{}
	log := newLogger(cfg, sink)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %q: %w", cfg.DataDir, err)
	}
	store, err := persistence.Open(persistence.Options{Dir: cfg.DataDir, Logger: log})
	if err != nil {
		if errors.Is(err, persistence.ErrLocked) {
			return nil, fmt.Errorf("%w (is another switchyard running on this data dir?)", err)
		}
		return nil, err
	}
	a := &app{log: log, store: store}
	fail := func(err error) (*app, error) {
		_ = a.shutdown()
		return nil, err
	}
	if created, err := store.Bootstrap(); err != nil {
		return fail(err)
	} else if created {
		log.Info().Msg("created the management domain (seed 002: the first tenant is reserved for management)")
	}
	hash, err := operatorTokenHash(cfg.DataDir, cfg.AdminToken, func(tok, path string) {
		fmt.Fprintf(os.Stderr, "\n  Operator API token (shown once; its hash is in %s):\n\n    %s\n\n", path, tok)
	})
	if err != nil {
		return fail(err)
	}
	host, _ := os.Hostname()
	bus := events.NewBus(events.BusConfig{Identity: events.Identity{Hostname: host, Switchname: host}})
	node, err := actors.New(actors.Options{Store: store, Bus: bus, Logger: log, NoAnswerTimeout: cfg.NoAnswerTimeout, Version: version})
	if err != nil {
		return fail(err)
	}
	a.node = node
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := node.Start(sctx); err != nil {
		return fail(err)
	}
	a.sip, err = edge.New(edge.Options{
		Node: node, Logger: log, UDP: cfg.SIPAddr, TCP: cfg.SIPAddr, Host: cfg.SIPHost, UserAgent: "Switchyard/" + version,
		Security: edge.SecurityOptions{
			FloodRequests: cfg.FloodRequests, FloodWindow: cfg.FloodWindow, Allowlist: cfg.allowlist(),
			BanFailures: cfg.BanFailures, BanWindow: cfg.BanWindow, BanTime: cfg.BanTime,
		},
	})
	if err != nil {
		return fail(err)
	}
	if err := a.sip.Start(); err != nil {
		a.sip = nil
		return fail(err)
	}
	a.esl, err = eslserver.New(eslserver.Options{
		Addr: cfg.ESLAddr, Password: cfg.ESLPassword, AllowInsecurePassword: cfg.ESLInsecure,
		Version: version, Logger: log, Switch: node,
	})
	if err != nil {
		return fail(err)
	}
	if err := a.esl.Start(); err != nil {
		a.esl = nil
		return fail(err)
	}
	w := io.Writer(a.esl.LogSink())
	sink.w.Store(&w)
	a.admin, err = admin.Start(node.System(), admin.Options{
		Addr: cfg.HTTPAddr, Store: store, Live: liveAdapter{node}, OperatorTokenHash: hash, Logger: log,
		Security: securityAdapter{a.sip},
	})
	if err != nil {
		return fail(err)
	}
	log.Info().Str("data", cfg.DataDir).Str("http", a.admin.Addr()).Str("sip_udp", a.sip.UDPAddr()).
		Str("sip_tcp", a.sip.TCPAddr()).Str("esl", eslAddr(a.esl)).Str("version", version).Msg("switchyard started")
	if ready != nil {
		ready(a)
	}
	return a, nil
}

func eslAddr(s *eslserver.Server) string {
	if s == nil || s.Addr() == nil {
		return ""
	}
	return s.Addr().String()
}

// shutdown stops in dependency order (DECISIONS 22): SIP listeners → ESL → admin → domains
// and calls → CDR writer (flush) → Badger.
func (a *app) shutdown() error {
	var errs []error
	if a.sip != nil {
		errs = append(errs, a.sip.Stop())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if a.esl != nil {
		errs = append(errs, a.esl.Shutdown(ctx))
	}
	if a.admin != nil {
		errs = append(errs, a.admin.Stop(ctx))
	}
	if a.node != nil {
		errs = append(errs, a.node.Stop(ctx))
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
	}
	err := errors.Join(errs...)
	if err != nil {
		a.log.Error().Err(err).Msg("shutdown")
	} else {
		a.log.Info().Msg("stopped cleanly")
	}
	return err
}
