package actors

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchyard/switchyard/actors/events"
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
		if c.Direction != "inbound" {
			continue
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

// ChannelVars returns a leg's variables as `uuid_dump` shows them.
func (n *Node) ChannelVars(_ context.Context, scope Scope, uuid string) ([]events.Header, error) {
	ce, ok := n.channel(scope, uuid)
	if !ok {
		return nil, ErrNoSuchChannel
	}
	i := ce.info
	return []events.Header{
		{Name: "Unique-ID", Value: i.UUID}, {Name: "Call-Direction", Value: i.Direction},
		{Name: "Channel-Name", Value: i.Name}, {Name: "Channel-State", Value: i.State},
		{Name: "Channel-Call-State", Value: i.CallState}, {Name: "Caller-Caller-ID-Name", Value: i.CIDName},
		{Name: "Caller-Caller-ID-Number", Value: i.CIDNum}, {Name: "Caller-Network-Addr", Value: i.IPAddr},
		{Name: "Caller-Destination-Number", Value: i.Dest}, {Name: "Channel-Call-UUID", Value: i.CallUUID},
		{Name: "Other-Leg-Unique-ID", Value: i.OtherLeg},
		{Name: "variable_uuid", Value: i.UUID}, {Name: "variable_domain_name", Value: i.Domain},
	}, nil
}

// SetChannelVar is not supported yet: channel variables are owned by the CallActor and are
// not writable from ESL in this release.
func (n *Node) SetChannelVar(_ context.Context, scope Scope, uuid, _, _ string) error {
	if _, ok := n.channel(scope, uuid); !ok {
		return ErrNoSuchChannel
	}
	return fmt.Errorf("uuid_setvar: %w", ErrNotSupported)
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

// Bridge is not supported yet (needs media anchoring or re-INVITE juggling).
func (n *Node) Bridge(_ context.Context, scope Scope, a, _ string) error {
	if _, ok := n.channel(scope, a); !ok {
		return ErrNoSuchChannel
	}
	return fmt.Errorf("uuid_bridge: %w", ErrNotSupported)
}

// Transfer is not supported yet.
func (n *Node) Transfer(_ context.Context, scope Scope, uuid, _ string) error {
	if _, ok := n.channel(scope, uuid); !ok {
		return ErrNoSuchChannel
	}
	return fmt.Errorf("uuid_transfer: %w", ErrNotSupported)
}

// Hold is not supported yet.
func (n *Node) Hold(_ context.Context, scope Scope, uuid string, _ bool) error {
	if _, ok := n.channel(scope, uuid); !ok {
		return ErrNoSuchChannel
	}
	return fmt.Errorf("uuid_hold: %w", ErrNotSupported)
}

// SendInfo is not supported yet.
func (n *Node) SendInfo(_ context.Context, scope Scope, uuid, _, _ string) error {
	if _, ok := n.channel(scope, uuid); !ok {
		return ErrNoSuchChannel
	}
	return fmt.Errorf("uuid_send_info: %w", ErrNotSupported)
}

// Originate is not supported yet: it answers with the FreeSWITCH cause a client can handle.
func (n *Node) Originate(_ context.Context, _ Scope, _ OriginateRequest) (string, error) {
	return "", &CauseError{Cause: "FACILITY_NOT_IMPLEMENTED"}
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
