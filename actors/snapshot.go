package actors

import (
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/persistence"
	"github.com/switchyard/switchyard/switch/resolve"
)

// Snapshot is an immutable view of the tenant configuration that the SIP edge reads on its hot
// path (domain resolution, digest HA1 lookup) without asking an actor. The directory builds a
// new one on every config change and the Node swaps it atomically.
type Snapshot struct {
	Resolver *resolve.Snapshot

	domains  map[int64]*DomainView
	byName   map[string]*DomainView
	byPrefix map[string]*DomainView
	accounts map[accountKey]*AccountView
	byID     map[int64]*AccountView
	trunk    trunkIndex
}

type accountKey struct {
	domainID int64
	identity string
}

// DomainView is one domain as the edge and the actors see it.
type DomainView struct {
	Config    persistence.Domain
	Customers map[int64]*CustomerView
	// byPrefix maps client_prefix → customer.
	byPrefix map[string]*CustomerView
}

// ID is the domain id.
func (d *DomainView) ID() int64 { return d.Config.ID }

// Name is the domain name (also the digest realm).
func (d *DomainView) Name() string { return d.Config.Name }

// Locked reports whether the domain is barred (seed 000: cannot make or receive calls).
func (d *DomainView) Locked() bool { return d.Config.Status == "locked" }

// CustomerByPrefix returns the customer with this client_prefix.
func (d *DomainView) CustomerByPrefix(prefix string) (*CustomerView, bool) {
	c, ok := d.byPrefix[prefix]
	return c, ok
}

// CustomerView is one customer with its accounts.
type CustomerView struct {
	Config   persistence.Customer
	Accounts map[string]*AccountView // by username (extension)
}

// AccountView is one SIP account with what authentication and routing need.
type AccountView struct {
	Config       persistence.SIPAccount
	DomainID     int64
	DomainName   string
	ClientPrefix string
	// Identity is the digest username and From user: client_prefix*username.
	Identity string
	// HA1 maps algorithm ("MD5", "SHA-256") to the stored hash.
	HA1 map[string]string
}

// ID is the account id.
func (a *AccountView) ID() int64 { return a.Config.ID }

// Identity builds an account's SIP identity from its customer's client prefix and username.
func Identity(clientPrefix, username string) string { return clientPrefix + "*" + username }

// BuildSnapshot turns loaded configuration into a lookup snapshot.
func BuildSnapshot(all *persistence.Snapshot) (*Snapshot, error) {
	s := &Snapshot{
		domains:  map[int64]*DomainView{},
		byName:   map[string]*DomainView{},
		byPrefix: map[string]*DomainView{},
		accounts: map[accountKey]*AccountView{},
		byID:     map[int64]*AccountView{},
	}
	rdomains := map[int64]*resolve.Domain{}
	for _, d := range all.Domains {
		dv := &DomainView{Config: *d, Customers: map[int64]*CustomerView{}, byPrefix: map[string]*CustomerView{}}
		s.domains[d.ID] = dv
		s.byName[strings.ToLower(d.Name)] = dv
		s.byPrefix[d.DomainPrefix] = dv
		rdomains[d.ID] = &resolve.Domain{ID: d.ID, Name: d.Name}
	}
	for _, a := range all.Aliases {
		if rd := rdomains[a.DomainID]; rd != nil {
			rd.Aliases = append(rd.Aliases, a.Name)
		}
	}
	for _, f := range all.ForceSources {
		if rd := rdomains[f.DomainID]; rd != nil {
			rd.ForceSources = append(rd.ForceSources, f.IP)
		}
	}
	for _, f := range all.ForceDestinations {
		if rd := rdomains[f.DomainID]; rd != nil {
			rd.ForceDestinations = append(rd.ForceDestinations, f.IP)
		}
	}
	list := make([]resolve.Domain, 0, len(rdomains))
	for _, d := range all.Domains {
		list = append(list, *rdomains[d.ID])
	}
	r, err := resolve.NewSnapshot(list)
	if err != nil {
		return nil, fmt.Errorf("build resolver: %w", err)
	}
	s.Resolver = r

	for _, c := range all.Customers {
		dv := s.domains[c.DomainID]
		if dv == nil {
			continue
		}
		cv := &CustomerView{Config: *c, Accounts: map[string]*AccountView{}}
		dv.Customers[c.ID] = cv
		dv.byPrefix[c.ClientPrefix] = cv
	}
	for _, a := range all.SIPAccounts {
		dv := s.domains[a.DomainID]
		if dv == nil {
			continue
		}
		cv := dv.Customers[a.CustomerID]
		if cv == nil {
			continue
		}
		sec := all.SIPSecrets[a.ID]
		av := &AccountView{
			Config:       *a,
			DomainID:     a.DomainID,
			DomainName:   dv.Name(),
			ClientPrefix: cv.Config.ClientPrefix,
			Identity:     Identity(cv.Config.ClientPrefix, a.Username),
			HA1:          map[string]string{"MD5": sec.HA1MD5, "SHA-256": sec.HA1SHA256},
		}
		cv.Accounts[a.Username] = av
		s.accounts[accountKey{a.DomainID, av.Identity}] = av
		s.byID[a.ID] = av
	}
	s.trunk = buildTrunkIndex(all, func(id int64) string {
		if d, ok := s.domains[id]; ok {
			return d.Name()
		}
		return ""
	})
	return s, nil
}

// Domain returns the domain with this id.
func (s *Snapshot) Domain(id int64) (*DomainView, bool) {
	d, ok := s.domains[id]
	return d, ok
}

// DomainByName returns the domain with this name (case-insensitive).
func (s *Snapshot) DomainByName(name string) (*DomainView, bool) {
	d, ok := s.byName[strings.ToLower(name)]
	return d, ok
}

// DomainByPrefix returns the domain with this 5-digit domain_prefix.
func (s *Snapshot) DomainByPrefix(prefix string) (*DomainView, bool) {
	d, ok := s.byPrefix[prefix]
	return d, ok
}

// Account returns the account of a domain by its SIP identity (client_prefix*username).
func (s *Snapshot) Account(domainID int64, identity string) (*AccountView, bool) {
	a, ok := s.accounts[accountKey{domainID, identity}]
	return a, ok
}

// AccountByID returns an account by id.
func (s *Snapshot) AccountByID(id int64) (*AccountView, bool) {
	a, ok := s.byID[id]
	return a, ok
}

// Domains returns every domain view (no particular order).
func (s *Snapshot) Domains() []*DomainView {
	out := make([]*DomainView, 0, len(s.domains))
	for _, d := range s.domains {
		out = append(out, d)
	}
	return out
}
