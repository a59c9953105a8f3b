// Package persistence is Switchyard's Badger-backed store: typed tenant configuration records
// with validation, unique indexes, per-kind id sequences, an audit log, CDRs, registrar bindings
// and backup/restore. It imports only the standard library, Badger, zerolog and switch/auth.
package persistence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Kind names a record type; it is part of every config key (cfg/<kind>/<id>).
type Kind string

// Record kinds.
const (
	KindDomain             Kind = "domain"
	KindDomainAlias        Kind = "domain_alias"
	KindForceSource        Kind = "force_src"
	KindForceDestination   Kind = "force_dst"
	KindCustomer           Kind = "customer"
	KindSIPAccount         Kind = "sip_account"
	KindNumber             Kind = "number"
	KindIncomingTrunk      Kind = "incoming_trunk"
	KindTerminationGateway Kind = "termination_gateway"
	KindTerminationRoute   Kind = "termination_route"
	KindESLUser            Kind = "esl_user"
	KindAPIToken           Kind = "api_token"
)

// Record is implemented by every configuration record (always by a pointer type, e.g. *Domain).
// Kind must not dereference its receiver: the generic helpers call it on a nil pointer.
type Record interface {
	// Kind is the record's kind.
	Kind() Kind
	// GetID returns the store-assigned id (0 before creation).
	GetID() int64
	// SetID sets the id; only the store calls it.
	SetID(int64)
	// Scope is the owning domain id (a Domain returns its own id; an operator token 0).
	Scope() int64
	// ApplyDefaults fills seed defaults into zero-valued fields.
	ApplyDefaults()
	// Validate checks every field and returns a *FieldError for the first bad one.
	Validate() error
}

// kinds lists every kind with its zero-value constructor, in dependency order (parents first).
var kinds = []struct {
	kind Kind
	new  func() Record
}{
	{KindDomain, func() Record { return new(Domain) }},
	{KindDomainAlias, func() Record { return new(DomainAlias) }},
	{KindForceSource, func() Record { return new(ForceSource) }},
	{KindForceDestination, func() Record { return new(ForceDestination) }},
	{KindCustomer, func() Record { return new(Customer) }},
	{KindSIPAccount, func() Record { return new(SIPAccount) }},
	{KindNumber, func() Record { return new(Number) }},
	{KindIncomingTrunk, func() Record { return new(IncomingTrunk) }},
	{KindTerminationGateway, func() Record { return new(TerminationGateway) }},
	{KindTerminationRoute, func() Record { return new(TerminationRoute) }},
	{KindESLUser, func() Record { return new(ESLUser) }},
	{KindAPIToken, func() Record { return new(APIToken) }},
}

// Kinds returns every record kind, parents before children.
func Kinds() []Kind {
	out := make([]Kind, len(kinds))
	for i, k := range kinds {
		out[i] = k.kind
	}
	return out
}

// NewRecord returns a zero record of the given kind, or an error for an unknown kind.
func NewRecord(k Kind) (Record, error) {
	for _, e := range kinds {
		if e.kind == k {
			return e.new(), nil
		}
	}
	return nil, fmt.Errorf("unknown record kind %q", k)
}

// FeatureCap is a max-feature limit: Limit 0 means unlimited, Disabled switches the feature off.
// It marshals as a JSON number or the string "disabled" (the string "unlimited" is accepted as 0).
type FeatureCap struct {
	Limit    int
	Disabled bool
}

// Disabled is the FeatureCap that switches a feature off.
var Disabled = FeatureCap{Disabled: true}

// MarshalJSON implements json.Marshaler.
func (c FeatureCap) MarshalJSON() ([]byte, error) {
	if c.Disabled {
		return []byte(`"disabled"`), nil
	}
	return []byte(strconv.Itoa(c.Limit)), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *FeatureCap) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("feature cap: %w", err)
		}
		switch s {
		case "disabled":
			*c = FeatureCap{Disabled: true}
		case "unlimited", "":
			*c = FeatureCap{}
		default:
			return fmt.Errorf("feature cap: want a number or \"disabled\", got %q", s)
		}
		return nil
	}
	if string(b) == "null" {
		*c = FeatureCap{}
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("feature cap: want a number or \"disabled\": %w", err)
	}
	*c = FeatureCap{Limit: n}
	return nil
}

// Allows reports whether one more object may be created when count already exist.
func (c FeatureCap) Allows(count int) bool {
	if c.Disabled {
		return false
	}
	return c.Limit == 0 || count < c.Limit
}

func (c FeatureCap) validate(field string) error {
	if !c.Disabled && c.Limit < 0 {
		return fieldErr(field, "must be >= 0 (0 = unlimited) or \"disabled\"")
	}
	return nil
}

// strPtr returns a pointer to s (handy for optional comment fields).
func strPtr(s string) *string { return &s }
