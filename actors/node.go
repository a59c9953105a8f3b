// Package actors is the runtime that owns all live state of the switch: one DomainActor per
// tenant, an AccountActor per SIP account (its registrations), a CallActor per call, and the
// CDRWriter. It drives SIP legs through the Leg/Dialer interfaces that switch/edge implements
// and never imports sipgo. Node is the facade that the edge, the ESL server and the admin API call.
package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/persistence"
)

// Options configure a Node.
type Options struct {
	Store  *persistence.Store
	Bus    *events.Bus
	Logger zerolog.Logger
	// NoAnswerTimeout is how long a call may ring before the caller gets 480 (default 60 s);
	// a domain's no_answer_timeout overrides it.
	NoAnswerTimeout time.Duration
	Registrar       RegistrarOptions
	// Hostname appears in events and `show` output (default: os.Hostname).
	Hostname string
	// Version is the switch version reported by `api version` and CDR tooling.
	Version string
	// GatewayProbeInterval is how often gateways get an OPTIONS health check (default 30 s;
	// negative disables); GatewayDownAfter consecutive failures mark one down (default 3).
	GatewayProbeInterval time.Duration
	GatewayDownAfter     int
	// GatewayProbeTimeout bounds one OPTIONS probe (default 5 s).
	GatewayProbeTimeout time.Duration
}

// RegistrarOptions bound registration lifetimes and counts (DECISIONS 29).
type RegistrarOptions struct {
	MinExpires     int // below it: 423 Interval Too Brief (default 60)
	DefaultExpires int // when the REGISTER names none (default 3600)
	MaxExpires     int // larger values are clamped (default 7200)
	MaxBindings    int // per AOR (default 10)
}

func (o *Options) applyDefaults() {
	if o.NoAnswerTimeout <= 0 {
		o.NoAnswerTimeout = 60 * time.Second
	}
	r := &o.Registrar
	if r.MinExpires <= 0 {
		r.MinExpires = 60
	}
	if r.DefaultExpires <= 0 {
		r.DefaultExpires = 3600
	}
	if r.MaxExpires <= 0 {
		r.MaxExpires = 7200
	}
	if r.MaxBindings <= 0 {
		r.MaxBindings = 10
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.GatewayProbeInterval == 0 {
		o.GatewayProbeInterval = 30 * time.Second
	}
	if o.GatewayDownAfter <= 0 {
		o.GatewayDownAfter = 3
	}
	if o.GatewayProbeTimeout <= 0 {
		o.GatewayProbeTimeout = 5 * time.Second
	}
}

// Node owns the actor system and is the facade for the edge, ESL and admin.
type Node struct {
	opts   Options
	log    zerolog.Logger
	system *actor.ActorSystem
	store  *persistence.Store
	bus    *events.Bus

	snapshot  atomic.Pointer[Snapshot]
	directory *actor.PID
	cdrWriter *actor.PID
	trunks    *actor.PID
	dialer    atomic.Pointer[dialerBox]

	domains   sync.Map // domain id → *actor.PID
	accounts  sync.Map // account id → *actor.PID
	channels  sync.Map // leg uuid → *channelEntry
	sipCalls  sync.Map // SIP Call-ID of a leg → leg uuid (REFER Replaces)
	trunkPIDs sync.Map // incoming trunk id → *actor.PID
	gatewayUp sync.Map // gateway id → bool (health from OPTIONS probes)
	calls     sync.Map // call uuid (A-leg uuid) → *actor.PID

	started        time.Time
	sessionsTotal  atomic.Uint64
	sessionsActive atomic.Int64
	sessionsPeak   atomic.Int64
	rate           rateCounter

	stopOnce sync.Once
}

type dialerBox struct{ d Dialer }

// New builds a Node; Start boots the actor tree.
func New(opts Options) (*Node, error) {
	if opts.Store == nil {
		return nil, errors.New("actors: Options.Store is required")
	}
	if opts.Bus == nil {
		return nil, errors.New("actors: Options.Bus is required")
	}
	opts.applyDefaults()
	log := opts.Logger.With().Str("component", "actors").Logger()
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(zerolog.NewSlogHandler(opts.Logger.Level(zerolog.WarnLevel).With().Str("component", "protoactor").Logger()))
	}))
	n := &Node{opts: opts, log: log, system: system, store: opts.Store, bus: opts.Bus, started: time.Now()}
	return n, nil
}

// System returns the actor system (the admin actor lives in it too).
func (n *Node) System() *actor.ActorSystem { return n.system }

// Bus returns the event bus.
func (n *Node) Bus() *events.Bus { return n.bus }

// SetDialer installs the edge's Dialer; calls fail with 480 until one is set.
func (n *Node) SetDialer(d Dialer) { n.dialer.Store(&dialerBox{d}) }

func (n *Node) getDialer() Dialer {
	if b := n.dialer.Load(); b != nil {
		return b.d
	}
	return nil
}

// Start spawns the CDR writer and the directory, which loads every domain from the store.
// It returns once the first configuration snapshot is in place.
func (n *Node) Start(ctx context.Context) error {
	root := n.system.Root
	pid, err := root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newCDRWriter(n) }), "cdr-writer")
	if err != nil {
		return fmt.Errorf("spawn cdr writer: %w", err)
	}
	n.cdrWriter = pid
	if n.trunks, err = root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newTrunks(n) }), "trunks"); err != nil {
		return fmt.Errorf("spawn trunks: %w", err)
	}
	ready := make(chan error, 1)
	dir, err := root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newDirectory(n, ready) }), "directory")
	if err != nil {
		return fmt.Errorf("spawn directory: %w", err)
	}
	n.directory = dir
	select {
	case err := <-ready:
		if err != nil {
			return fmt.Errorf("load configuration: %w", err)
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// Stop stops the actor tree in dependency order (DECISIONS 22): domains and their calls, then
// the CDR writer, which flushes every pending CDR before it stops. The caller stops the SIP
// listeners and ESL before, and closes the store after.
func (n *Node) Stop(ctx context.Context) error {
	var err error
	n.stopOnce.Do(func() {
		if n.directory != nil {
			if e := waitFuture(ctx, n.system.Root.PoisonFuture(n.directory)); e != nil {
				err = fmt.Errorf("stop directory: %w", e)
			}
		}
		if n.trunks != nil {
			_ = waitFuture(ctx, n.system.Root.PoisonFuture(n.trunks))
		}
		if n.cdrWriter != nil {
			if e := waitFuture(ctx, n.system.Root.PoisonFuture(n.cdrWriter)); e != nil && err == nil {
				err = fmt.Errorf("stop cdr writer: %w", e)
			}
		}
		n.system.Shutdown()
	})
	return err
}

// Snapshot returns the current immutable configuration view.
func (n *Node) Snapshot() *Snapshot { return n.snapshot.Load() }

// ConfigChanged tells the live actors that the stored configuration changed. It returns at
// once; the new snapshot is in place shortly after (Reload waits for it).
func (n *Node) ConfigChanged() { n.system.Root.Send(n.directory, &configChanged{}) }

// Reload re-reads the configuration from the store, pushes it to the live actors and waits
// until the new snapshot is installed (also `api reloadxml`).
func (n *Node) Reload(ctx context.Context) error {
	res, err := n.system.Root.RequestFuture(n.directory, &configChanged{}, timeoutOf(ctx, 5*time.Second)).Result()
	if err != nil {
		return fmt.Errorf("reload configuration: %w", err)
	}
	if d, ok := res.(*reloadDone); ok && d.err != nil {
		return d.err
	}
	return nil
}

// Invite hands an authenticated INVITE to the caller's domain. It never blocks; the domain
// answers through the leg (Reject, or a CallActor drives it).
func (n *Node) Invite(req *InviteRequest) {
	pid, ok := n.domains.Load(req.DomainID)
	if !ok {
		req.Leg.Reject(403, "unknown domain")
		return
	}
	n.system.Root.Send(pid.(*actor.PID), &inviteReceived{req: req})
}

// Register hands an authenticated REGISTER to the account's actor and waits for its answer.
// It is called from the edge's request goroutine, never from an actor.
func (n *Node) Register(ctx context.Context, req *RegisterRequest) (*RegisterResult, error) {
	// Through the domain: right after a config change the account actor may not exist yet, and
	// the domain's mailbox orders this request after the change that creates it.
	pid, ok := n.domains.Load(req.DomainID)
	if !ok {
		return nil, fmt.Errorf("register account %d: %w", req.AccountID, ErrUnknownDomain)
	}
	res, err := n.system.Root.RequestFuture(pid.(*actor.PID), req, timeoutOf(ctx, 5*time.Second)).Result()
	if err != nil {
		return nil, fmt.Errorf("register account %d: %w", req.AccountID, err)
	}
	if e, ok := res.(error); ok {
		return nil, fmt.Errorf("register account %d: %w", req.AccountID, e)
	}
	r, ok := res.(*RegisterResult)
	if !ok {
		return nil, fmt.Errorf("register account %d: unexpected reply %T", req.AccountID, res)
	}
	return r, nil
}

// ErrNoSuchAccount is returned when an account has no live actor (deleted meanwhile).
var ErrNoSuchAccount = errors.New("no such account")

// DomainLive returns the live view of one domain: status, limits and counters.
func (n *Node) DomainLive(ctx context.Context, domainID int64) (any, error) {
	return n.domainLimitsByID(ctx, domainID)
}

func (n *Node) domainLimitsByID(ctx context.Context, domainID int64) (DomainLimits, error) {
	pid, ok := n.domains.Load(domainID)
	if !ok {
		return DomainLimits{}, ErrUnknownDomain
	}
	res, err := n.system.Root.RequestFuture(pid.(*actor.PID), &liveQuery{}, timeoutOf(ctx, 2*time.Second)).Result()
	if err != nil {
		return DomainLimits{}, fmt.Errorf("query domain %d: %w", domainID, err)
	}
	dl, ok := res.(DomainLimits)
	if !ok {
		return DomainLimits{}, fmt.Errorf("query domain %d: unexpected reply %T", domainID, res)
	}
	return dl, nil
}

// waitFuture waits for a stop future or the context, whichever ends first.
func waitFuture(ctx context.Context, f *actor.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func timeoutOf(ctx context.Context, def time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 {
			return d
		}
		return time.Millisecond
	}
	return def
}

// rateCounter counts events in the current and previous second (Session-Per-Sec).
type rateCounter struct {
	mu   sync.Mutex
	sec  int64
	cur  int
	prev int
}

func (r *rateCounter) add(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := now.Unix()
	if s != r.sec {
		if s == r.sec+1 {
			r.prev = r.cur
		} else {
			r.prev = 0
		}
		r.sec, r.cur = s, 0
	}
	r.cur++
}

func (r *rateCounter) perSecond(now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := now.Unix()
	switch {
	case s == r.sec:
		return r.prev
	case s == r.sec+1:
		return r.cur
	default:
		return 0
	}
}

// AuditSecurity records a security decision (a ban, a lifted ban) in the audit log. It writes
// synchronously: call it from a request goroutine, never from an actor.
func (n *Node) AuditSecurity(who, action string, detail map[string]string) error {
	return n.store.AppendAuditEvent(0, who, action, detail)
}
