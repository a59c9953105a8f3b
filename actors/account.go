package actors

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"sort"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/persistence"
)

// accountActor owns one SIP account's registrations: its bindings (contacts with expiry),
// their persistence, expiry reaping and the sofia::register/unregister/expire events.
// On restart it reloads its bindings from the store.
type accountActor struct {
	node     *Node
	domainID int64
	id       int64
	log      zerolog.Logger
	view     *AccountView
	bindings map[string]*persistence.Binding // by contact hash
	timer    *time.Timer
}

func newAccount(n *Node, domainID, id int64) actor.Actor {
	return &accountActor{node: n, domainID: domainID, id: id, bindings: map[string]*persistence.Binding{},
		log: n.log.With().Str("actor", "account").Int64("account_id", id).Logger()}
}

// Receive handles registrations, contact lookups and expiry.
func (a *accountActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if v, ok := a.node.Snapshot().AccountByID(a.id); ok {
			a.view = v
		}
		list, err := a.node.store.ListBindings(a.domainID, a.id)
		if err != nil {
			a.log.Error().Err(err).Msg("load bindings")
		}
		for i := range list {
			b := list[i]
			a.bindings[b.ContactHash] = &b
		}
		a.reap(ctx)
	case *actor.Stopping:
		if a.timer != nil {
			a.timer.Stop()
		}
	case *accountUpdated:
		a.view = m.view
	case *RegisterRequest:
		ctx.Respond(a.register(ctx, m))
	case *lookupContacts:
		a.reap(ctx)
		ctx.Respond(&contactsFound{bindings: a.current()})
	case *reapBindings:
		a.reap(ctx)
	}
}

// current returns the live bindings, newest first.
func (a *accountActor) current() []persistence.Binding {
	out := make([]persistence.Binding, 0, len(a.bindings))
	for _, b := range a.bindings {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ReceivedAt.After(out[j].ReceivedAt) })
	return out
}

// register applies a REGISTER (RFC 3261 §10.3 steps 6–8) and answers with the bindings.
func (a *accountActor) register(ctx actor.Context, r *RegisterRequest) *RegisterResult {
	now := time.Now()
	opts := a.node.opts.Registrar
	if r.Wildcard {
		if r.Expires != 0 || len(r.Contacts) > 0 {
			return &RegisterResult{Code: 400, Reason: "Invalid wildcard"}
		}
		for h, b := range a.bindings {
			a.remove(h, b, "unregister")
		}
		return &RegisterResult{Code: 200}
	}
	// Validate everything before changing anything.
	type change struct {
		spec    ContactSpec
		hash    string
		expires int
	}
	changes := make([]change, 0, len(r.Contacts))
	for _, c := range r.Contacts {
		exp := c.Expires
		if exp < 0 {
			exp = r.Expires
		}
		if exp < 0 {
			exp = opts.DefaultExpires
		}
		if exp > 0 && exp < opts.MinExpires {
			return &RegisterResult{Code: 423, Reason: "Interval Too Brief", MinExpires: opts.MinExpires}
		}
		if exp > opts.MaxExpires {
			exp = opts.MaxExpires
		}
		if reason := badContact(c, r); reason != "" {
			return &RegisterResult{Code: 403, Reason: reason}
		}
		changes = append(changes, change{spec: c, hash: contactHash(c.URI), expires: exp})
	}
	added := 0
	for _, ch := range changes {
		if _, ok := a.bindings[ch.hash]; !ok && ch.expires > 0 {
			added++
		}
	}
	if len(a.bindings)+added > opts.MaxBindings {
		return &RegisterResult{Code: 403, Reason: "Too many registrations"}
	}
	for _, ch := range changes {
		old, exists := a.bindings[ch.hash]
		if exists && old.CallID == r.CallID && r.CSeq <= old.CSeq {
			continue // an out-of-order retransmission must not resurrect an old state
		}
		if ch.expires == 0 {
			if exists {
				a.remove(ch.hash, old, "unregister")
			}
			continue
		}
		b := &persistence.Binding{
			DomainID: a.domainID, AccountID: a.id, AOR: a.aor(), Contact: ch.spec.URI, ContactHash: ch.hash,
			ExpiresAt: now.Add(time.Duration(ch.expires) * time.Second), Source: r.Source, Transport: r.Transport,
			UserAgent: r.UserAgent, CallID: r.CallID, CSeq: r.CSeq, ReceivedAt: now,
		}
		a.bindings[ch.hash] = b
		if err := a.node.store.PutBinding(*b); err != nil {
			a.log.Error().Err(err).Msg("persist binding")
		}
		a.publish("sofia::register", b, ch.expires)
	}
	a.reap(ctx)
	return &RegisterResult{Code: 200, Bindings: a.views(now)}
}

func (a *accountActor) views(now time.Time) []BindingView {
	list := a.current()
	out := make([]BindingView, 0, len(list))
	for _, b := range list {
		out = append(out, BindingView{
			Contact: b.Contact, Expires: int(b.ExpiresAt.Sub(now).Round(time.Second) / time.Second), Source: b.Source,
			Transport: b.Transport, UserAgent: b.UserAgent, CallID: b.CallID, ExpiresAt: b.ExpiresAt,
		})
	}
	return out
}

func (a *accountActor) remove(hash string, b *persistence.Binding, subclass string) {
	delete(a.bindings, hash)
	if err := a.node.store.DeleteBinding(a.domainID, a.id, hash); err != nil {
		a.log.Error().Err(err).Msg("delete binding")
	}
	a.publish("sofia::"+subclass, b, 0)
}

// reap drops expired bindings and arms a timer for the next expiry.
func (a *accountActor) reap(ctx actor.Context) {
	now := time.Now()
	var next time.Time
	for h, b := range a.bindings {
		if !b.ExpiresAt.After(now) {
			a.remove(h, b, "expire")
			continue
		}
		if next.IsZero() || b.ExpiresAt.Before(next) {
			next = b.ExpiresAt
		}
	}
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	if !next.IsZero() {
		root, self := ctx.ActorSystem().Root, ctx.Self()
		a.timer = time.AfterFunc(time.Until(next)+10*time.Millisecond, func() { root.Send(self, &reapBindings{}) })
	}
}

func (a *accountActor) aor() string {
	if a.view == nil {
		return ""
	}
	return a.view.Identity + "@" + a.view.DomainName
}

// publish fires CUSTOM sofia::register / sofia::unregister / sofia::expire with the headers
// integrators read for agent presence.
func (a *accountActor) publish(subclass string, b *persistence.Binding, expires int) {
	if a.view == nil {
		return
	}
	e := events.NewCustom(subclass)
	e.Domain = a.view.DomainName
	host, port, _ := net.SplitHostPort(b.Source)
	e.Add("profile-name", "internal")
	e.Add("from-user", a.view.Identity)
	e.Add("from-host", a.view.DomainName)
	e.Add("presence-hosts", a.view.DomainName)
	e.Add("contact", b.Contact)
	e.Add("call-id", b.CallID)
	e.Add("rpid", "unknown")
	e.Add("status", "Registered(UDP)")
	e.Add("expires", strconv.Itoa(expires))
	e.Add("to-user", a.view.Identity)
	e.Add("to-host", a.view.DomainName)
	e.Add("network-ip", host)
	e.Add("network-port", port)
	e.Add("username", a.view.Identity)
	e.Add("realm", a.view.DomainName)
	e.Add("user-agent", b.UserAgent)
	a.node.bus.Publish(e)
}

// badContact refuses loop and broadcast contacts (DECISIONS 29): the switch's own address,
// broadcast/unspecified/multicast addresses, and loopback contacts from a non-loopback source.
func badContact(c ContactSpec, r *RegisterRequest) string {
	ip := net.ParseIP(c.Host)
	if ip != nil {
		if ip.IsUnspecified() || ip.IsMulticast() || ip.Equal(net.IPv4bcast) {
			return "Contact address not allowed"
		}
		src := net.ParseIP(hostOf(r.Source))
		if ip.IsLoopback() && (src == nil || !src.IsLoopback()) {
			return "Contact address not allowed"
		}
	}
	port := c.Port
	if port == 0 {
		port = 5060
	}
	hp := net.JoinHostPort(c.Host, strconv.Itoa(port))
	for _, l := range r.LocalAddrs {
		if l == hp {
			return "Contact points at the switch"
		}
	}
	return ""
}

func contactHash(uri string) string {
	h := sha256.Sum256([]byte(uri))
	return hex.EncodeToString(h[:8])
}
