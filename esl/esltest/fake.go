// Package esltest provides test doubles for the event socket: an in-memory Switch that keeps
// channels and publishes their events through a real events.Bus, and a transcript-style
// send/expect client for wire tests.
package esltest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
)

// Switch is an in-memory implementation of server.Switch. Channels are added and removed by
// the test; every facade call is recorded in Calls.
type Switch struct {
	bus     *events.Bus
	started time.Time

	mu       sync.Mutex
	channels map[string]*events.Channel
	order    []string
	regs     []actors.RegistrationInfo
	globals  map[string]string
	users    map[string]userEntry // "user@domain"
	limits   map[string]actors.DomainLimits
	calls    []string
	// OriginateFunc, when set, answers Originate; default: a new parked channel in the scope's
	// domain (or the endpoint's domain for operators).
	OriginateFunc func(req actors.OriginateRequest) (string, error)
}

type userEntry struct {
	password string
	grant    actors.ESLGrant
}

// NewSwitch returns a fake switch with a fresh bus.
func NewSwitch() *Switch {
	return &Switch{
		bus: events.NewBus(events.BusConfig{Identity: events.Identity{Hostname: "esltest"}}), started: time.Now(),
		channels: map[string]*events.Channel{}, globals: map[string]string{"domain": "esltest.local"},
		users: map[string]userEntry{}, limits: map[string]actors.DomainLimits{},
	}
}

// Bus returns the fake's bus.
func (s *Switch) Bus() *events.Bus { return s.bus }

// AddUser registers an ESL user for userauth.
func (s *Switch) AddUser(user, domain, password string, grant actors.ESLGrant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	grant.Scope = actors.Scope{Domain: domain}
	grant.User = user
	s.users[user+"@"+domain] = userEntry{password, grant}
}

// SetLimits sets what DomainLimits returns for a domain.
func (s *Switch) SetLimits(l actors.DomainLimits) {
	s.mu.Lock()
	s.limits[l.Domain] = l
	s.mu.Unlock()
}

// SetGlobal sets a global variable.
func (s *Switch) SetGlobal(name, value string) {
	s.mu.Lock()
	s.globals[name] = value
	s.mu.Unlock()
}

// AddRegistration adds a registration row.
func (s *Switch) AddRegistration(r actors.RegistrationInfo) {
	s.mu.Lock()
	s.regs = append(s.regs, r)
	s.mu.Unlock()
}

// Recorded returns the recorded facade calls ("Hangup <uuid> <cause>", …).
func (s *Switch) Recorded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

func (s *Switch) record(format string, a ...any) {
	s.calls = append(s.calls, fmt.Sprintf(format, a...))
}

// AddChannel adds a live channel and publishes CHANNEL_CREATE for it.
func (s *Switch) AddChannel(ch events.Channel) *events.Channel {
	c := ch
	if c.UUID == "" {
		c.UUID = events.NewUUID()
	}
	if c.Direction == "" {
		c.Direction = "inbound"
	}
	if c.State == "" {
		c.State = "CS_INIT"
	}
	if c.CallState == "" {
		c.CallState = "DOWN"
	}
	if c.Created.IsZero() {
		c.Created = time.Now()
	}
	c.Variables = slices.Clone(c.Variables)
	s.mu.Lock()
	s.channels[c.UUID] = &c
	s.order = append(s.order, c.UUID)
	e := events.ChannelEvent("CHANNEL_CREATE", &c, nil)
	s.mu.Unlock()
	s.bus.Publish(e)
	return &c
}

// Fire publishes a channel event for a live channel.
func (s *Switch) Fire(name, uuid string) {
	s.mu.Lock()
	c, ok := s.channels[uuid]
	if !ok {
		s.mu.Unlock()
		return
	}
	e := events.ChannelEvent(name, c, s.otherLocked(c))
	s.mu.Unlock()
	s.bus.Publish(e)
}

func (s *Switch) otherLocked(c *events.Channel) *events.Channel {
	if c.OtherLeg == "" {
		return nil
	}
	return s.channels[c.OtherLeg]
}

// Channel returns a copy of a live channel.
func (s *Switch) Channel(uuid string) (events.Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[uuid]
	if !ok {
		return events.Channel{}, false
	}
	cp := *c
	cp.Variables = slices.Clone(c.Variables)
	return cp, true
}

func (s *Switch) visible(scope actors.Scope, uuid string) (*events.Channel, error) {
	c, ok := s.channels[uuid]
	if !ok || !scope.Allows(c.Domain) {
		return nil, actors.ErrNoSuchChannel
	}
	return c, nil
}

func info(c *events.Channel) actors.ChannelInfo {
	return actors.ChannelInfo{
		UUID: c.UUID, Direction: c.Direction, Created: c.Created, Name: c.Name, State: c.State,
		CallState: c.CallState, CIDName: c.CallerIDName, CIDNum: c.CallerIDNumber,
		IPAddr: c.NetworkAddr, Dest: c.Destination, Domain: c.Domain, CallUUID: c.CallUUID,
		OtherLeg: c.OtherLeg, Hostname: "esltest",
	}
}

// Status reports the live channel count.
func (s *Switch) Status() actors.SwitchStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return actors.SwitchStatus{Started: s.started, SessionsTotal: uint64(len(s.order)), SessionsActive: len(s.channels),
		SessionsPeak: len(s.channels), MaxSessions: 1000, MaxSessionsPerS: 30}
}

// Channels lists the live channels visible to scope, in creation order.
func (s *Switch) Channels(scope actors.Scope) []actors.ChannelInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []actors.ChannelInfo
	for _, id := range s.order {
		if c, ok := s.channels[id]; ok && scope.Allows(c.Domain) {
			out = append(out, info(c))
		}
	}
	return out
}

// Calls pairs inbound channels with their other leg.
func (s *Switch) Calls(scope actors.Scope) []actors.CallInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []actors.CallInfo
	for _, id := range s.order {
		c, ok := s.channels[id]
		if !ok || c.Direction != "inbound" || !scope.Allows(c.Domain) {
			continue
		}
		ci := actors.CallInfo{A: info(c)}
		if o := s.otherLocked(c); o != nil {
			b := info(o)
			ci.B = &b
		}
		out = append(out, ci)
	}
	return out
}

// Registrations lists registrations visible to scope.
func (s *Switch) Registrations(scope actors.Scope) []actors.RegistrationInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []actors.RegistrationInfo
	for _, r := range s.regs {
		if scope.Allows(r.Realm) {
			out = append(out, r)
		}
	}
	return out
}

// ChannelVars returns a channel's variables.
func (s *Switch) ChannelVars(_ context.Context, scope actors.Scope, uuid string) ([]events.Header, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.visible(scope, uuid)
	if err != nil {
		return nil, err
	}
	return slices.Clone(c.Variables), nil
}

// SetChannelVar sets (or, with an empty value, unsets) a variable.
func (s *Switch) SetChannelVar(_ context.Context, scope actors.Scope, uuid, name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.visible(scope, uuid)
	if err != nil {
		return err
	}
	s.record("SetVar %s %s=%s", uuid, name, value)
	if value == "" {
		c.UnsetVar(name)
	} else {
		c.SetVar(name, value)
	}
	return nil
}

// Hangup ends a channel: CHANNEL_HANGUP, CHANNEL_HANGUP_COMPLETE, CHANNEL_DESTROY.
func (s *Switch) Hangup(_ context.Context, scope actors.Scope, uuid, cause string) error {
	s.mu.Lock()
	c, err := s.visible(scope, uuid)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.record("Hangup %s %s", uuid, cause)
	s.mu.Unlock()
	s.hangup(c, cause)
	return nil
}

func (s *Switch) hangup(c *events.Channel, cause string) {
	s.mu.Lock()
	c.SetHangup(cause, 0, time.Now())
	c.CallState = "HANGUP"
	c.State = "CS_HANGUP"
	other := s.otherLocked(c)
	h := events.ChannelEvent("CHANNEL_HANGUP", c, other)
	c.State = "CS_REPORTING"
	hc := events.ChannelEvent("CHANNEL_HANGUP_COMPLETE", c, other)
	d := events.ChannelEvent("CHANNEL_DESTROY", c, other)
	delete(s.channels, c.UUID)
	s.mu.Unlock()
	s.bus.Publish(h)
	s.bus.Publish(hc)
	s.bus.Publish(d)
}

// Bridge links two channels and publishes CHANNEL_BRIDGE on a.
func (s *Switch) Bridge(_ context.Context, scope actors.Scope, a, b string) error {
	s.mu.Lock()
	ca, err := s.visible(scope, a)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	cb, err := s.visible(scope, b)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.record("Bridge %s %s", a, b)
	ca.OtherLeg, cb.OtherLeg = b, a
	e := events.BridgeEvent("CHANNEL_BRIDGE", ca, cb)
	s.mu.Unlock()
	s.bus.Publish(e)
	return nil
}

// Transfer records the transfer.
func (s *Switch) Transfer(_ context.Context, scope actors.Scope, uuid, dest string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.visible(scope, uuid)
	if err != nil {
		return err
	}
	s.record("Transfer %s %s", uuid, dest)
	c.Destination = dest
	return nil
}

// Hold sets the call state HELD or ACTIVE.
func (s *Switch) Hold(_ context.Context, scope actors.Scope, uuid string, hold bool) error {
	s.mu.Lock()
	c, err := s.visible(scope, uuid)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.record("Hold %s %v", uuid, hold)
	name := "CHANNEL_UNHOLD"
	c.CallState = "ACTIVE"
	if hold {
		name, c.CallState = "CHANNEL_HOLD", "HELD"
	}
	e := events.ChannelEvent(name, c, s.otherLocked(c))
	s.mu.Unlock()
	s.bus.Publish(e)
	return nil
}

// SendInfo records the INFO.
func (s *Switch) SendInfo(_ context.Context, scope actors.Scope, uuid, contentType, body string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.visible(scope, uuid); err != nil {
		return err
	}
	s.record("SendInfo %s %s %s", uuid, contentType, body)
	return nil
}

// Originate creates an answered outbound channel (or calls OriginateFunc).
func (s *Switch) Originate(_ context.Context, scope actors.Scope, req actors.OriginateRequest) (string, error) {
	if s.OriginateFunc != nil {
		return s.OriginateFunc(req)
	}
	if req.Endpoint == "user/9999" || req.Endpoint == "error/USER_NOT_REGISTERED" {
		return "", &actors.CauseError{Cause: "USER_NOT_REGISTERED"}
	}
	id := req.UUID
	if id == "" {
		id = events.NewUUID()
	}
	s.mu.Lock()
	s.record("Originate %s %s", req.Endpoint, req.Destination)
	s.mu.Unlock()
	s.AddChannel(events.Channel{UUID: id, Direction: "outbound", State: "CS_EXECUTE", CallState: "ACTIVE",
		Name: "sofia/internal/" + req.Endpoint, Domain: scope.Domain, Variables: req.Vars})
	return id, nil
}

// HangupAll hangs up every visible channel (optionally only those with varName=varValue).
func (s *Switch) HangupAll(_ context.Context, scope actors.Scope, cause, varName, varValue string) int {
	s.mu.Lock()
	var hit []*events.Channel
	for _, id := range s.order {
		c, ok := s.channels[id]
		if !ok || !scope.Allows(c.Domain) || (varName != "" && c.Var(varName) != varValue) {
			continue
		}
		hit = append(hit, c)
	}
	s.record("HangupAll %s %s=%s", cause, varName, varValue)
	s.mu.Unlock()
	for _, c := range hit {
		s.hangup(c, cause)
	}
	return len(hit)
}

// GlobalVar returns a global variable.
func (s *Switch) GlobalVar(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.globals[name]
	return v, ok
}

// Reload records the reload.
func (s *Switch) Reload(context.Context) error {
	s.mu.Lock()
	s.record("Reload")
	s.mu.Unlock()
	return nil
}

// DomainLimits returns what SetLimits stored, scoped like the real facade.
func (s *Switch) DomainLimits(_ context.Context, scope actors.Scope, domain string) (actors.DomainLimits, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limits[domain]
	if !ok || !scope.Allows(domain) {
		return actors.DomainLimits{}, actors.ErrUnknownDomain
	}
	return l, nil
}

// AuthenticateESLUser checks a user added with AddUser.
func (s *Switch) AuthenticateESLUser(user, domain, password string) (actors.ESLGrant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[user+"@"+domain]
	if !ok || u.password != password {
		return actors.ESLGrant{}, actors.ErrAuthFailed
	}
	return u.grant, nil
}
