package persistence

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
)

// wctx carries one write transaction and the parent records loaded while checking references.
type wctx struct {
	txn      *badger.Txn
	create   bool
	domain   *Domain
	customer *Customer
}

type uniqueKey struct {
	ns, value, field, shown string
}

// uniquesOf lists the unique values a record claims. Domain names and alias names share the
// "host" namespace, so an alias can never equal a domain name (or another alias) in any domain.
func uniquesOf(r Record) []uniqueKey {
	switch v := r.(type) {
	case *Domain:
		return []uniqueKey{
			{"host", strings.ToLower(v.Name), "name", v.Name},
			{"domain_prefix", v.DomainPrefix, "domain_prefix", v.DomainPrefix},
		}
	case *DomainAlias:
		host := strings.ToLower(v.Name)
		if isIP(v.Name) {
			host = canonicalIP(v.Name)
		}
		return []uniqueKey{{"host", host, "name", v.Name}}
	case *ForceSource:
		return []uniqueKey{{"force_src", canonicalIP(v.IP), "ip", v.IP}}
	case *ForceDestination:
		return []uniqueKey{{"force_dst", canonicalIP(v.IP), "ip", v.IP}}
	case *Customer:
		return []uniqueKey{{"client_prefix", pad(v.DomainID) + "/" + v.ClientPrefix, "client_prefix", v.ClientPrefix}}
	case *SIPAccount:
		return []uniqueKey{{"sip_username", pad(v.CustomerID) + "/" + v.Username, "username", v.Username}}
	case *Number:
		return []uniqueKey{{"number", v.Number, "number", v.Number}}
	case *ESLUser:
		return []uniqueKey{{"esl_username", pad(v.DomainID) + "/" + v.Username, "username", v.Username}}
	}
	return nil
}

func (w *wctx) writeUniques(rec, old Record) error {
	mine := ref(rec.Kind(), rec.GetID())
	keep := map[string]bool{}
	for _, u := range uniquesOf(rec) {
		key := idxKey(u.ns, u.value)
		keep[string(key)] = true
		item, err := w.txn.Get(key)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
		case err != nil:
			return fmt.Errorf("read index %q: %w", key, err)
		default:
			v, err := item.ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("read index %q: %w", key, err)
			}
			if string(v) != string(mine) {
				reason := "already in use"
				if k, _, err := parseRef(v); err == nil && k != rec.Kind() {
					reason = "already in use by a " + strings.ReplaceAll(string(k), "_", " ")
				}
				return &ConflictError{Field: u.field, Value: u.shown, Reason: reason}
			}
		}
		if err := w.txn.Set(key, mine); err != nil {
			return fmt.Errorf("write index: %w", err)
		}
	}
	if old != nil {
		for _, u := range uniquesOf(old) {
			key := idxKey(u.ns, u.value)
			if !keep[string(key)] {
				if err := w.txn.Delete(key); err != nil {
					return fmt.Errorf("delete index: %w", err)
				}
			}
		}
	}
	return nil
}

// carryImmutables copies immutable fields the update left empty from old into rec, and rejects
// changed ones. Read-only fields (Management) always come from old.
func carryImmutables(old, rec Record) error {
	if rec.Scope() != old.Scope() {
		if rec.Scope() != 0 {
			if _, isDomain := rec.(*Domain); !isDomain {
				return fieldErr("domain_id", ReasonImmutable)
			}
		}
	}
	switch n := rec.(type) {
	case *Domain:
		o := old.(*Domain)
		n.Management = o.Management
		if err := carryString(&n.Name, o.Name, "name"); err != nil {
			return err
		}
		return carryString(&n.DomainSuffix, o.DomainSuffix, "domain_suffix")
	case *DomainAlias:
		n.DomainID = old.(*DomainAlias).DomainID
	case *ForceSource:
		n.DomainID = old.(*ForceSource).DomainID
	case *ForceDestination:
		n.DomainID = old.(*ForceDestination).DomainID
	case *Customer:
		n.DomainID = old.(*Customer).DomainID
		return carryString(&n.ClientPrefix, old.(*Customer).ClientPrefix, "client_prefix")
	case *SIPAccount:
		o := old.(*SIPAccount)
		n.DomainID = o.DomainID
		if err := carryInt(&n.CustomerID, o.CustomerID, "customer_id"); err != nil {
			return err
		}
		return carryString(&n.Username, o.Username, "username")
	case *Number:
		n.DomainID = old.(*Number).DomainID
	case *IncomingTrunk:
		n.DomainID = old.(*IncomingTrunk).DomainID
	case *TerminationGateway:
		n.DomainID = old.(*TerminationGateway).DomainID
	case *TerminationRoute:
		n.DomainID = old.(*TerminationRoute).DomainID
	case *ESLUser:
		o := old.(*ESLUser)
		n.DomainID = o.DomainID
		return carryString(&n.Username, o.Username, "username")
	case *APIToken:
		o := old.(*APIToken)
		if n.DomainID != o.DomainID {
			return fieldErr("domain_id", ReasonImmutable)
		}
		return carryString(&n.Role, o.Role, "role")
	}
	return nil
}

func carryString(v *string, old, field string) error {
	if *v == "" {
		*v = old
		return nil
	}
	if *v != old {
		return fieldErr(field, ReasonImmutable)
	}
	return nil
}

func carryInt(v *int64, old int64, field string) error {
	if *v == 0 {
		*v = old
		return nil
	}
	if *v != old {
		return fieldErr(field, ReasonImmutable)
	}
	return nil
}

// prepare checks references (and, on create, limits and domain-derived defaults).
func (w *wctx) prepare(rec, old Record) error {
	if _, isDomain := rec.(*Domain); isDomain {
		return nil
	}
	if t, ok := rec.(*APIToken); ok && t.DomainID == 0 {
		return nil
	}
	if err := w.loadDomain(rec.Scope()); err != nil {
		return err
	}
	switch v := rec.(type) {
	case *Customer:
		return w.notManagement()
	case *SIPAccount:
		if err := w.notManagement(); err != nil {
			return err
		}
		if err := w.loadCustomer(v.CustomerID); err != nil {
			return err
		}
		if !w.create {
			return nil
		}
		def := w.domain.Defaults
		if v.ExternalCallerID == "" {
			v.ExternalCallerID = def.CallerID
		}
		if v.EmergencyCallerID == "" {
			v.EmergencyCallerID = def.CallerID
		}
		if v.EmergencyCallerName == "" {
			v.EmergencyCallerName = def.CallerName
		}
		if lim := w.customer.SIPAccountLimit; lim > 0 {
			n := countPrefix(w.txn, idxKey("sip_username", pad(v.CustomerID)+"/"))
			if n >= lim {
				return &LimitError{Limit: "sip_account_limit", Reason: fmt.Sprintf("customer %d already has %d of %d SIP accounts", v.CustomerID, n, lim)}
			}
		}
		return w.checkCap("max_users", w.domain.Limitations.MaxUsers, KindSIPAccount)
	case *Number:
		if err := w.loadCustomer(v.CustomerID); err != nil {
			return err
		}
		if v.Destination != "" {
			if _, err := w.txn.Get(idxKey("sip_username", pad(v.CustomerID)+"/"+v.Destination)); err != nil {
				if errors.Is(err, badger.ErrKeyNotFound) {
					return fieldErr("destination", "no SIP account %q for customer %d", v.Destination, v.CustomerID)
				}
				return fmt.Errorf("read account index: %w", err)
			}
		}
		return w.checkCap("max_numbers", w.domain.Limitations.MaxNumbers, KindNumber)
	case *IncomingTrunk:
		if err := w.loadCustomer(v.CustomerID); err != nil {
			return err
		}
		return w.checkCap("max_incoming_trunks", w.domain.Limitations.MaxIncomingTrunks, KindIncomingTrunk)
	case *TerminationGateway:
		if err := w.loadCustomer(v.CustomerID); err != nil {
			return err
		}
		return w.checkCap("max_termination_gateways", w.domain.Limitations.MaxTerminationGateways, KindTerminationGateway)
	case *TerminationRoute:
		if err := w.loadCustomer(v.CustomerID); err != nil {
			return err
		}
		g, err := getTx(w.txn, KindTerminationGateway, v.GatewayID)
		if errors.Is(err, ErrNotFound) || (err == nil && g.Scope() != v.DomainID) {
			return fieldErr("gateway_id", "no termination gateway %d in this domain", v.GatewayID)
		}
		if err != nil {
			return err
		}
		if v.Name == "" {
			v.Name = g.(*TerminationGateway).Name
		}
		return w.checkCap("max_termination_routes", w.domain.Limitations.MaxTerminationRoutes, KindTerminationRoute)
	case *APIToken:
		if v.Role == RoleCustomer {
			return w.loadCustomer(v.CustomerID)
		}
	}
	return nil
}

func (w *wctx) loadDomain(id int64) error {
	r, err := getTx(w.txn, KindDomain, id)
	if errors.Is(err, ErrNotFound) {
		return fieldErr("domain_id", "no domain %d", id)
	}
	if err != nil {
		return err
	}
	w.domain = r.(*Domain)
	return nil
}

func (w *wctx) loadCustomer(id int64) error {
	r, err := getTx(w.txn, KindCustomer, id)
	if errors.Is(err, ErrNotFound) || (err == nil && r.Scope() != w.domain.ID) {
		return fieldErr("customer_id", "no customer %d in this domain", id)
	}
	if err != nil {
		return err
	}
	w.customer = r.(*Customer)
	return nil
}

func (w *wctx) notManagement() error {
	if w.domain.Management {
		return fieldErr("domain_id", "the management domain is reserved and cannot hold customers or accounts")
	}
	return nil
}

// checkCap enforces a max-feature cap on create.
func (w *wctx) checkCap(name string, c FeatureCap, k Kind) error {
	if !w.create {
		return nil
	}
	limit := "limitations." + name
	if c.Disabled {
		return &LimitError{Limit: limit, Reason: "feature disabled for this domain"}
	}
	n := countPrefix(w.txn, scopeKindPrefix(w.domain.ID, k))
	if !c.Allows(n) {
		return &LimitError{Limit: limit, Reason: fmt.Sprintf("domain already has %d of %d", n, c.Limit)}
	}
	return nil
}

// checkDelete refuses deletes that would orphan records or remove the management domain.
func (w *wctx) checkDelete(old Record) error {
	switch v := old.(type) {
	case *Domain:
		if v.Management {
			return fieldErr("management", "the management domain cannot be deleted")
		}
	case *Customer:
		for _, k := range []Kind{KindSIPAccount, KindNumber, KindIncomingTrunk, KindTerminationGateway, KindTerminationRoute, KindAPIToken} {
			n := 0
			err := eachOfKind(w.txn, k, v.DomainID, func(r Record) error {
				if customerOf(r) == v.ID {
					n++
				}
				return nil
			})
			if err != nil {
				return err
			}
			if n > 0 {
				return &ConflictError{Field: string(k), Value: strconv.Itoa(n),
					Reason: fmt.Sprintf("customer %d still has %d %s record(s)", v.ID, n, k)}
			}
		}
	case *TerminationGateway:
		n := 0
		err := eachOfKind(w.txn, KindTerminationRoute, v.DomainID, func(r Record) error {
			if r.(*TerminationRoute).GatewayID == v.ID {
				n++
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n > 0 {
			return &ConflictError{Field: string(KindTerminationRoute), Value: strconv.Itoa(n),
				Reason: fmt.Sprintf("gateway %d is used by %d route(s)", v.ID, n)}
		}
	}
	return nil
}

func customerOf(r Record) int64 {
	switch v := r.(type) {
	case *SIPAccount:
		return v.CustomerID
	case *Number:
		return v.CustomerID
	case *IncomingTrunk:
		return v.CustomerID
	case *TerminationGateway:
		return v.CustomerID
	case *TerminationRoute:
		return v.CustomerID
	case *APIToken:
		return v.CustomerID
	}
	return 0
}
