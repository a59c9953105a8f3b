package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/actors/events"
)

// Scope says which tenant a control session (ESL, admin) may see and drive.
// The zero Scope (Domain "") is the operator: every domain.
type Scope struct {
	Domain string
}

// Allows reports whether the scope may see or control something in domain.
func (s Scope) Allows(domain string) bool { return s.Domain == "" || s.Domain == domain }

// Operator reports whether the scope is switch-wide.
func (s Scope) Operator() bool { return s.Domain == "" }

// ESLGrant is what a successful `userauth user@domain:password` yields: the tenant scope and
// the FreeSWITCH-style allow-lists (empty list = the defaults for a tenant session).
type ESLGrant struct {
	Scope         Scope
	User          string
	AllowedEvents []string
	AllowedAPI    []string
}

// Errors returned by the control facade. ESL maps ErrNoSuchChannel to FreeSWITCH's
// "-ERR No such channel!" (the same answer for unknown and foreign uuids; DECISIONS 4).
var (
	ErrNoSuchChannel  = errors.New("no such channel")
	ErrPermission     = errors.New("permission denied")
	ErrUnknownDomain  = errors.New("unknown domain")
	ErrInvalidRequest = errors.New("invalid request")
	ErrAuthFailed     = errors.New("authentication failed")
)

// CauseError is a call that ended (or never started) with a Q.850 hangup cause, e.g.
// originate failing with USER_NOT_REGISTERED. Its Error() is the cause name.
type CauseError struct {
	Cause string
}

func (e *CauseError) Error() string { return e.Cause }

// SwitchStatus is the data behind `api status` and HEARTBEAT events.
type SwitchStatus struct {
	Started         time.Time
	SessionsTotal   uint64  // sessions (call legs) since start
	SessionsActive  int     // legs up now
	SessionsPeak    int     // highest concurrent legs since start
	SessionsPerSec  float64 // legs created in the last second
	SessionsPeak5m  int
	MaxSessions     int
	MaxSessionsPerS int
}

// ChannelInfo is one call leg (a FreeSWITCH channel) as `show channels` lists it.
type ChannelInfo struct {
	UUID            string
	Direction       string // "inbound" (A-leg, toward the caller) or "outbound" (B-leg)
	Created         time.Time
	Name            string // e.g. "sofia/internal/001*100@acme.example"
	State           string // CS_INIT, CS_ROUTING, CS_EXECUTE, CS_EXCHANGE_MEDIA, CS_HANGUP…
	CallState       string // DOWN, RINGING, EARLY, ACTIVE, HELD, HANGUP
	CIDName         string
	CIDNum          string
	IPAddr          string
	Dest            string
	Application     string
	ApplicationData string
	ReadCodec       string
	WriteCodec      string
	Domain          string
	CallUUID        string // the A-leg uuid of the call this leg belongs to
	OtherLeg        string // uuid of the bridged leg, if any
	Hostname        string
}

// CallInfo is one call (A-leg plus optional bridged B-leg) as `show calls` lists it.
type CallInfo struct {
	A ChannelInfo
	B *ChannelInfo
}

// RegistrationInfo is one registered contact as `show registrations` lists it.
type RegistrationInfo struct {
	RegUser      string // e.g. "001*100"
	Realm        string // domain name
	Token        string // Call-ID of the REGISTER
	URL          string // contact URI
	Expires      time.Time
	NetworkIP    string
	NetworkPort  string
	NetworkProto string // udp, tcp
	Hostname     string
	UserAgent    string
}

// OriginateRequest is a parsed `originate` command.
type OriginateRequest struct {
	// Endpoint is "user/<ext>@<domain>" or "sofia/gateway/<gw>/<number>".
	Endpoint string
	// Vars are the {var=value,...} channel variables, in order.
	Vars []events.Header
	// Destination is an extension to route the answered leg to, or an inline application:
	// "&bridge(<endpoint>)" or "&park()".
	Destination  string
	Dialplan     string
	Context      string
	CallerIDName string
	CallerIDNum  string
	// UUID is origination_uuid when given.
	UUID    string
	Timeout time.Duration
}

// DomainLimits is the live view of one domain's limits and counters (`api domain_limits`).
type DomainLimits struct {
	Domain            string
	Status            string
	ActiveCallLimit   int
	ExternalCallLimit int
	ActiveCalls       int
	ExternalCalls     int
	Customers         []CustomerCounters
}

// CustomerCounters is one customer's capacity and usage.
type CustomerCounters struct {
	CustomerID    int64
	Name          string
	ClientPrefix  string
	CapacityLimit int
	ActiveCalls   int
}

func (d DomainLimits) String() string {
	return fmt.Sprintf("%s active=%d/%d external=%d/%d", d.Domain, d.ActiveCalls, d.ActiveCallLimit, d.ExternalCalls, d.ExternalCallLimit)
}
