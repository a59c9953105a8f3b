package actors

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/persistence"
)

// This file is the control facade the ESL server uses (esl/server.Switch).

// Status is the data behind `api status` and HEARTBEAT.
func (n *Node) Status() SwitchStatus {
	now := time.Now()
	return SwitchStatus{
		Started: n.started, SessionsTotal: n.sessionsTotal.Load(), SessionsActive: int(n.sessionsActive.Load()),
		SessionsPeak: int(n.sessionsPeak.Load()), SessionsPerSec: float64(n.rate.perSecond(now)),
		SessionsPeak5m: int(n.sessionsPeak.Load()), MaxSessions: 0, MaxSessionsPerS: 0,
	}
}

// Channels lists the legs the scope may see, oldest first.
func (n *Node) Channels(scope Scope) []ChannelInfo {
	var out []ChannelInfo
	n.channels.Range(func(_, v any) bool {
		ce := v.(*channelEntry)
		if scope.Allows(ce.info.Domain) {
			out = append(out, ce.info)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

// Calls pairs bridged legs into calls (A-leg plus its bridged B-leg).
func (n *Node) Calls(scope Scope) []CallInfo {
	chans := n.Channels(scope)
	byUUID := map[string]ChannelInfo{}
	for _, c := range chans {
		byUUID[c.UUID] = c
	}
	var out []CallInfo
	for _, c := range chans {
		if c.UUID != c.CallUUID {
			continue // the call's first leg carries the call uuid
		}
		ci := CallInfo{A: c}
		if b, ok := byUUID[c.OtherLeg]; ok && c.OtherLeg != "" {
			bb := b
			ci.B = &bb
		}
		out = append(out, ci)
	}
	return out
}

// Registrations lists the live bindings of the scope's domains.
func (n *Node) Registrations(scope Scope) []RegistrationInfo {
	snap := n.Snapshot()
	list, err := n.store.AllBindings()
	if err != nil || snap == nil {
		return nil
	}
	now := time.Now()
	var out []RegistrationInfo
	for _, b := range list {
		if !b.ExpiresAt.After(now) {
			continue
		}
		a, ok := snap.AccountByID(b.AccountID)
		if !ok || !scope.Allows(a.DomainName) {
			continue
		}
		out = append(out, RegistrationInfo{
			RegUser: a.Identity, Realm: a.DomainName, Token: b.CallID, URL: b.Contact, Expires: b.ExpiresAt,
			NetworkIP: hostOf(b.Source), NetworkPort: portOf(b.Source), NetworkProto: b.Transport,
			Hostname: n.opts.Hostname, UserAgent: b.UserAgent,
		})
	}
	return out
}

func portOf(hostport string) string {
	for i := len(hostport) - 1; i >= 0; i-- {
		if hostport[i] == ':' {
			return hostport[i+1:]
		}
	}
	return ""
}

// channel finds a leg the scope may see; foreign and unknown legs look the same (DECISIONS 4).
func (n *Node) channel(scope Scope, uuid string) (*channelEntry, bool) {
	v, ok := n.channels.Load(uuid)
	if !ok {
		return nil, false
	}
	ce := v.(*channelEntry)
	if !scope.Allows(ce.info.Domain) {
		return nil, false
	}
	return ce, true
}

// ChannelVars returns a leg's channel data as `uuid_dump` shows it: the Channel-*, Caller-*,
// Other-Leg-* headers and every variable_*, asked from the call that owns the leg.
func (n *Node) ChannelVars(ctx context.Context, scope Scope, uuid string) ([]events.Header, error) {
	ce, ok := n.channel(scope, uuid)
	if !ok {
		return nil, ErrNoSuchChannel
	}
	pid, ok := n.calls.Load(ce.callID)
	if !ok {
		return nil, ErrNoSuchChannel
	}
	res, err := n.system.Root.RequestFuture(pid.(*actor.PID), &channelQuery{leg: uuid}, timeoutOf(ctx, 5*time.Second)).Result()
	if err != nil {
		return nil, ErrNoSuchChannel
	}
	h, ok := res.([]events.Header)
	if !ok {
		return nil, ErrNoSuchChannel
	}
	return h, nil
}

// SetChannelVar sets a channel variable (uuid_setvar); it shows in later events.
func (n *Node) SetChannelVar(ctx context.Context, scope Scope, uuid, name, value string) error {
	return n.control(ctx, scope, &controlCommand{leg: uuid, op: "setvar", name: name, value: value})
}

// ErrNotSupported marks a control operation this release does not implement.
var ErrNotSupported = fmt.Errorf("not supported yet")

// Hangup ends the call a leg belongs to (uuid_kill).
func (n *Node) Hangup(_ context.Context, scope Scope, uuid, cause string) error {
	ce, ok := n.channel(scope, uuid)
	if !ok {
		return ErrNoSuchChannel
	}
	pid, ok := n.calls.Load(ce.callID)
	if !ok {
		return ErrNoSuchChannel
	}
	n.system.Root.Send(pid.(*actor.PID), &hangupCommand{cause: events.ParseCause(cause)})
	return nil
}

// HangupAll ends every call the scope may see (hupall); varName/varValue filtering matches
// on the domain_name variable only in this release.
func (n *Node) HangupAll(ctx context.Context, scope Scope, cause, varName, varValue string) int {
	count := 0
	seen := map[string]bool{}
	for _, c := range n.Channels(scope) {
		if seen[c.CallUUID] {
			continue
		}
		if varName != "" && !(varName == "domain_name" && varValue == c.Domain) {
			continue
		}
		seen[c.CallUUID] = true
		if n.Hangup(ctx, scope, c.UUID, cause) == nil {
			count++
		}
	}
	return count
}

// Bridge connects two legs of different calls (uuid_bridge): leg b leaves its call (whose other
// leg, if any, is hung up) and replaces leg a's partner; both get a re-INVITE with the other's
// media. Two parked originate legs are the usual case.
func (n *Node) Bridge(ctx context.Context, scope Scope, a, b string) error {
	ca, okA := n.channel(scope, a)
	cb, okB := n.channel(scope, b)
	if !okA || !okB {
		return ErrNoSuchChannel
	}
	pa, okA := n.calls.Load(ca.callID)
	pb, okB := n.calls.Load(cb.callID)
	if !okA || !okB {
		return ErrNoSuchChannel
	}
	res, err := n.system.Root.RequestFuture(pa.(*actor.PID), &bridgeRequest{cmd: bridgeCommand{a: a, b: b}, other: pb.(*actor.PID)}, timeoutOf(ctx, 10*time.Second)).Result()
	if err != nil {
		return fmt.Errorf("bridge %s %s: %w", a, b, err)
	}
	if e, ok := res.(error); ok && e != nil {
		return e
	}
	return nil
}

// Transfer connects a leg to another extension of its domain and hangs up its partner
// (uuid_transfer <uuid> <extension>). The call holds a second slot while the target rings.
func (n *Node) Transfer(ctx context.Context, scope Scope, uuid, dest string) error {
	ce, ok := n.channel(scope, uuid)
	if !ok {
		return ErrNoSuchChannel
	}
	pid, ok := n.calls.Load(ce.callID)
	if !ok {
		return ErrNoSuchChannel
	}
	res, err := n.system.Root.RequestFuture(pid.(*actor.PID), &transferCommand{leg: uuid, dest: dest}, timeoutOf(ctx, 5*time.Second)).Result()
	if err != nil {
		return fmt.Errorf("transfer %s: %w", uuid, err)
	}
	if e, ok := res.(error); ok && e != nil {
		return e
	}
	return nil
}

// Hold puts a leg on hold (or takes it off) with a re-INVITE (uuid_hold).
func (n *Node) Hold(ctx context.Context, scope Scope, uuid string, hold bool) error {
	op := "unhold"
	if hold {
		op = "hold"
	}
	return n.control(ctx, scope, &controlCommand{leg: uuid, op: op})
}

// SendInfo sends a SIP INFO on a leg (uuid_send_info).
func (n *Node) SendInfo(ctx context.Context, scope Scope, uuid, contentType, body string) error {
	return n.control(ctx, scope, &controlCommand{leg: uuid, op: "info", contentType: contentType, body: []byte(body)})
}

// control sends a controlCommand to the call that owns the leg and waits for its answer.
func (n *Node) control(ctx context.Context, scope Scope, cmd *controlCommand) error {
	ce, ok := n.channel(scope, cmd.leg)
	if !ok {
		return ErrNoSuchChannel
	}
	pid, ok := n.calls.Load(ce.callID)
	if !ok {
		return ErrNoSuchChannel
	}
	res, err := n.system.Root.RequestFuture(pid.(*actor.PID), cmd, timeoutOf(ctx, 5*time.Second)).Result()
	if err != nil {
		return fmt.Errorf("%s %s: %w", cmd.op, cmd.leg, err)
	}
	if e, ok := res.(error); ok && e != nil {
		return e
	}
	return nil
}

// Originate places a call to an account and parks it or bridges it to a second account
// (`originate user/<ext>@<domain> &park()|&bridge(user/<ext>@<domain>)|<extension>`). It
// returns once the first leg answers (its uuid) or fails (*CauseError), as FreeSWITCH does.
// `sofia/gateway/<gateway name>/<number>` calls a number through a termination gateway of the
// scope's domains (its customer's limits and the external call limit apply).
func (n *Node) Originate(ctx context.Context, scope Scope, req OriginateRequest) (string, error) {
	snap := n.Snapshot()
	var gw *GatewayView
	acct, dom, err := n.endpointAccount(snap, scope, req.Endpoint)
	if ce, ok := err.(*CauseError); ok && ce.Cause == "INVALID_GATEWAY" {
		acct, dom, gw, err = gatewayEndpoint(snap, scope, req.Endpoint)
	}
	if err != nil {
		return "", err
	}
	o := &originSpec{account: acct, gateway: gw, cidName: req.CallerIDName, cidNum: req.CallerIDNum, timeout: req.Timeout, vars: map[string]string{}}
	for _, v := range req.Vars {
		o.vars[v.Name] = v.Value
		switch v.Name {
		case "origination_caller_id_number":
			o.cidNum = v.Value
		case "origination_caller_id_name":
			o.cidName = v.Value
		case "originate_timeout":
			if secs, err := time.ParseDuration(v.Value + "s"); err == nil {
				o.timeout = secs
			}
		}
	}
	if o.cidNum == "" {
		o.cidNum = "0000000000"
	}
	if o.cidName == "" {
		o.cidName = "Switchyard"
	}
	if o.timeout <= 0 {
		o.timeout = n.opts.NoAnswerTimeout
	}
	dest := strings.TrimSpace(req.Destination)
	switch {
	case strings.HasPrefix(dest, "&park"):
	case strings.HasPrefix(dest, "&bridge(") && strings.HasSuffix(dest, ")"):
		t, _, err := n.endpointAccount(snap, scope, strings.TrimSuffix(strings.TrimPrefix(dest, "&bridge("), ")"))
		if err != nil {
			return "", err
		}
		if t.DomainID != acct.DomainID {
			return "", &CauseError{Cause: "INCOMPATIBLE_DESTINATION"}
		}
		o.target = t
	case strings.HasPrefix(dest, "&"):
		return "", &CauseError{Cause: "FACILITY_NOT_IMPLEMENTED"}
	default:
		t, ok := extensionIn(dom, acct, dest)
		if !ok {
			return "", &CauseError{Cause: "UNALLOCATED_NUMBER"}
		}
		o.target = t
	}
	uuid := req.UUID
	if uuid == "" {
		uuid = newUUID()
	} else if _, busy := n.channels.Load(uuid); busy {
		return "", &CauseError{Cause: "INVALID_CALL_REFERENCE"}
	}
	pid, ok := n.domains.Load(acct.DomainID)
	if !ok {
		return "", &CauseError{Cause: "USER_NOT_REGISTERED"}
	}
	fut := actor.NewFuture(n.system, o.timeout+30*time.Second)
	o.reply = fut.PID()
	n.system.Root.Send(pid.(*actor.PID), &originateRequest{uuid: uuid, origin: o})
	res, err := fut.Result()
	if err != nil {
		return "", fmt.Errorf("originate: %w", err)
	}
	r, ok := res.(*originateResult)
	if !ok {
		return "", fmt.Errorf("originate: unexpected reply %T", res)
	}
	if r.cause != "" {
		return "", &CauseError{Cause: r.cause}
	}
	return r.uuid, nil
}

// endpointAccount resolves "user/<ext>@<domain>" within the scope; an account outside the
// scope is reported exactly like an unknown one.
func (n *Node) endpointAccount(snap *Snapshot, scope Scope, endpoint string) (*AccountView, *DomainView, error) {
	endpoint = strings.TrimSpace(endpoint)
	if strings.HasPrefix(endpoint, "sofia/gateway/") {
		return nil, nil, &CauseError{Cause: "INVALID_GATEWAY"}
	}
	rest, ok := strings.CutPrefix(endpoint, "user/")
	if !ok {
		return nil, nil, &CauseError{Cause: "CHAN_NOT_IMPLEMENTED"}
	}
	user, domain, ok := strings.Cut(rest, "@")
	if !ok {
		return nil, nil, &CauseError{Cause: "INVALID_NUMBER_FORMAT"}
	}
	d, found := snap.DomainByName(domain)
	if !found || !scope.Allows(d.Name()) {
		return nil, nil, &CauseError{Cause: "USER_NOT_REGISTERED"}
	}
	if d.Locked() {
		return nil, nil, &CauseError{Cause: "CALL_REJECTED"}
	}
	if a, ok := snap.Account(d.ID(), user); ok {
		return a, d, nil
	}
	var match *AccountView
	for _, c := range d.Customers {
		if a, ok := c.Accounts[user]; ok {
			if match != nil {
				return nil, nil, &CauseError{Cause: "INVALID_NUMBER_FORMAT"} // ambiguous: use client_prefix*ext
			}
			match = a
		}
	}
	if match == nil {
		return nil, nil, &CauseError{Cause: "USER_NOT_REGISTERED"}
	}
	return match, d, nil
}

// gatewayEndpoint resolves "sofia/gateway/<name>/<number>" to a gateway of a domain the scope
// may use, and a stand-in account for the external number.
func gatewayEndpoint(snap *Snapshot, scope Scope, endpoint string) (*AccountView, *DomainView, *GatewayView, error) {
	rest := strings.TrimPrefix(strings.TrimSpace(endpoint), "sofia/gateway/")
	name, number, ok := strings.Cut(rest, "/")
	if !ok || name == "" || number == "" {
		return nil, nil, nil, &CauseError{Cause: "INVALID_GATEWAY"}
	}
	var found *GatewayView
	for _, g := range snap.Gateways() {
		d, ok := snap.Domain(g.Config.DomainID)
		if !ok || !scope.Allows(d.Name()) || (g.Config.Name != name && idString(g.Config.ID) != name) {
			continue
		}
		if found != nil {
			return nil, nil, nil, &CauseError{Cause: "INVALID_GATEWAY"} // ambiguous name: use the id
		}
		found = g
	}
	if found == nil {
		return nil, nil, nil, &CauseError{Cause: "INVALID_GATEWAY"}
	}
	d, _ := snap.Domain(found.Config.DomainID)
	if d.Locked() {
		return nil, nil, nil, &CauseError{Cause: "CALL_REJECTED"}
	}
	acct := &AccountView{
		Config:   persistence.SIPAccount{CustomerID: found.Config.CustomerID, Username: number, InternalCallerID: number},
		DomainID: d.ID(), DomainName: d.Name(), Identity: number,
	}
	return acct, d, found, nil
}

func idString(n int64) string { return strconv.FormatInt(n, 10) }

// extensionIn resolves an extension as the account would dial it: client_prefix*ext or a bare
// extension of its own customer.
func extensionIn(d *DomainView, from *AccountView, ext string) (*AccountView, bool) {
	if prefix, user, ok := strings.Cut(ext, "*"); ok {
		if c, ok := d.CustomerByPrefix(prefix); ok {
			a, ok := c.Accounts[user]
			return a, ok
		}
		return nil, false
	}
	c, ok := d.Customers[from.Config.CustomerID]
	if !ok {
		return nil, false
	}
	a, ok := c.Accounts[ext]
	return a, ok
}

// GlobalVar answers global_getvar for the few globals the switch has.
func (n *Node) GlobalVar(name string) (string, bool) {
	switch name {
	case "hostname", "switchname":
		return n.opts.Hostname, true
	case "switchyard_version":
		return n.opts.Version, true
	}
	return "", false
}

// DomainLimits is `api domain_limits <domain>`.
func (n *Node) DomainLimits(ctx context.Context, scope Scope, domain string) (DomainLimits, error) {
	if !scope.Allows(domain) {
		return DomainLimits{}, ErrPermission
	}
	snap := n.Snapshot()
	d, ok := snap.DomainByName(domain)
	if !ok {
		return DomainLimits{}, ErrUnknownDomain
	}
	return n.domainLimitsByID(ctx, d.ID())
}

// AuthenticateESLUser checks `userauth user@domain:password` against the domain's ESL users.
// A locked domain refuses tenant logins (DECISIONS 28).
func (n *Node) AuthenticateESLUser(user, domain, password string) (ESLGrant, error) {
	snap := n.Snapshot()
	d, ok := snap.DomainByName(domain)
	if !ok || d.Locked() {
		return ESLGrant{}, ErrAuthFailed
	}
	u, ok := n.store.VerifyESLUser(d.Name(), user, password)
	if !ok {
		return ESLGrant{}, ErrAuthFailed
	}
	return ESLGrant{Scope: Scope{Domain: d.Name()}, User: user, AllowedEvents: u.AllowedEvents, AllowedAPI: u.AllowedAPI}, nil
}
