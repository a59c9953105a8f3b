// Package resolve decides which tenant domain a SIP request from an extension belongs
// to, following seed 003's authorization order (FEATURES B-13): domain name, alias,
// Force Source, Force Destination. It is pure: no network, storage or actor imports.
package resolve

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Domain is the resolver's view of one tenant domain.
type Domain struct {
	ID                int64
	Name              string
	Aliases           []string // names or IP literals that may appear as the From host
	ForceSources      []string // packet source IPs that belong to this domain
	ForceDestinations []string // IPs in the From host that map to this domain
}

// Step says which rule matched.
type Step int

// Resolution steps, in the order they are tried (seed 003).
const (
	StepNone             Step = iota // no match: answer 403 without a challenge (DECISIONS 7)
	StepDomainName                   // 1: From host equals a domain name
	StepAlias                        // 2: From host equals an alias
	StepForceSource                  // 3: packet source IP is in a Force Source list
	StepForceDestination             // 4: From host (an IP) is in a Force Destination list
)

// String names the step (used by the admin resolve endpoint).
func (s Step) String() string {
	switch s {
	case StepDomainName:
		return "domain"
	case StepAlias:
		return "alias"
	case StepForceSource:
		return "force_src"
	case StepForceDestination:
		return "force_dst"
	}
	return "none"
}

// Match is a resolved domain.
type Match struct {
	DomainID int64
	Domain   string // the domain's canonical name: the digest realm (DECISIONS 8)
	Step     Step
}

// Snapshot is an immutable resolution table. Build a new one on every config change
// and swap it atomically; concurrent Resolve calls need no locking.
type Snapshot struct {
	names  map[string]Match     // lower-case name → match
	alias  map[string]Match     // lower-case name or canonical IP → match
	forceS map[netip.Addr]Match // source IP → match
	forceD map[netip.Addr]Match // From-host IP → match
	count  int
}

// ErrInvalidConfig wraps every NewSnapshot validation failure.
var ErrInvalidConfig = errors.New("invalid domain resolution config")

// NewSnapshot builds a snapshot. It rejects an empty or duplicate (case-insensitive)
// name, an empty alias, a Force Source/Destination that is not an IP address, and any
// value claimed twice within one kind (alias, force source, force destination), since
// resolution would be ambiguous (DECISIONS 33). A value may appear in different kinds
// (an alias equal to another domain's name); the earlier step then wins. All problems
// are reported together.
func NewSnapshot(domains []Domain) (*Snapshot, error) {
	s := &Snapshot{
		names:  make(map[string]Match, len(domains)),
		alias:  make(map[string]Match),
		forceS: make(map[netip.Addr]Match),
		forceD: make(map[netip.Addr]Match),
		count:  len(domains),
	}
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf(format+": %w", append(a, ErrInvalidConfig)...))
	}
	for _, d := range domains {
		name := strings.TrimSpace(d.Name)
		if name == "" {
			bad("domain id %d: empty name", d.ID)
			continue
		}
		key := hostKey(name)
		if prev, ok := s.names[key]; ok {
			bad("domain %q: name already used by domain id %d", name, prev.DomainID)
			continue
		}
		m := Match{DomainID: d.ID, Domain: name}
		s.names[key] = withStep(m, StepDomainName)
		for _, a := range d.Aliases {
			k := hostKey(a)
			if k == "" {
				bad("domain %q: empty alias", name)
				continue
			}
			if prev, ok := s.alias[k]; ok {
				bad("domain %q: alias %q already used by domain %q", name, a, prev.Domain)
				continue
			}
			s.alias[k] = withStep(m, StepAlias)
		}
		for _, ip := range d.ForceSources {
			addr, err := parseIP(ip)
			if err != nil {
				bad("domain %q: force source %q: %v", name, ip, err)
				continue
			}
			if prev, ok := s.forceS[addr]; ok {
				bad("domain %q: force source %s already used by domain %q", name, addr, prev.Domain)
				continue
			}
			s.forceS[addr] = withStep(m, StepForceSource)
		}
		for _, ip := range d.ForceDestinations {
			addr, err := parseIP(ip)
			if err != nil {
				bad("domain %q: force destination %q: %v", name, ip, err)
				continue
			}
			if prev, ok := s.forceD[addr]; ok {
				bad("domain %q: force destination %s already used by domain %q", name, addr, prev.Domain)
				continue
			}
			s.forceD[addr] = withStep(m, StepForceDestination)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("build resolution snapshot: %w", errors.Join(errs...))
	}
	return s, nil
}

func withStep(m Match, s Step) Match { m.Step = s; return m }

// Len returns the number of domains in the snapshot.
func (s *Snapshot) Len() int {
	if s == nil {
		return 0
	}
	return s.count
}

// Resolve runs steps 1–4 for a request whose From URI host is fromHost and whose
// packet came from src. The host is compared case-insensitively; brackets around an
// IPv6 literal and a trailing dot are ignored, and IP literals are compared by value.
// ok=false means no domain matched: answer 403 with no challenge. A nil snapshot
// matches nothing.
func (s *Snapshot) Resolve(fromHost string, src netip.Addr) (Match, bool) {
	if s == nil {
		return Match{}, false
	}
	key := hostKey(fromHost)
	if key != "" {
		if m, ok := s.names[key]; ok {
			return m, true
		}
		if m, ok := s.alias[key]; ok {
			return m, true
		}
	}
	if src.IsValid() {
		if m, ok := s.forceS[src.Unmap()]; ok {
			return m, true
		}
	}
	if key != "" {
		if addr, err := netip.ParseAddr(key); err == nil {
			if m, ok := s.forceD[addr.Unmap()]; ok {
				return m, true
			}
		}
	}
	return Match{}, false
}

// hostKey normalises a host for lookup: trimmed, lower-case, without IPv6 brackets
// or a trailing dot; an IP literal becomes its canonical text (IPv4-mapped unmapped).
func hostKey(h string) string {
	h = strings.TrimSpace(h)
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	h = strings.TrimSuffix(h, ".")
	if addr, err := netip.ParseAddr(h); err == nil && addr.Zone() == "" {
		return addr.Unmap().String()
	}
	return strings.ToLower(h)
}

func parseIP(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("not an IP address")
	}
	if addr.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("zoned address not allowed")
	}
	return addr.Unmap(), nil
}

// Identity errors returned by CheckIdentity (answer 403; RELIABILITY T2).
var (
	ErrNoDomain         = errors.New("request matched no domain")
	ErrRealmMismatch    = errors.New("digest realm is not the resolved domain")
	ErrUsernameMismatch = errors.New("digest username is not the From user")
)

// CheckIdentity applies DECISIONS 8 after a successful digest check: the digest realm
// must equal the RESOLVED domain name (not the literal From host; compared
// case-insensitively, as domain names are) and the digest username must equal the
// From user exactly (SIP user parts are case-sensitive).
func CheckIdentity(match Match, credUsername, credRealm, fromUser string) error {
	if match.Step == StepNone || match.Domain == "" {
		return fmt.Errorf("check identity of %q: %w", credUsername, ErrNoDomain)
	}
	if !strings.EqualFold(credRealm, match.Domain) {
		return fmt.Errorf("check identity of %q: realm %q, domain %q: %w", credUsername, credRealm, match.Domain, ErrRealmMismatch)
	}
	if credUsername == "" || credUsername != fromUser {
		return fmt.Errorf("check identity of %q: From user %q: %w", credUsername, fromUser, ErrUsernameMismatch)
	}
	return nil
}
