// Package dialplan does number analysis for Switchyard: what a dialled string means
// inside a tenant (seed 003 addressing: ext, client_prefix*ext,
// domain_prefix*client_prefix*ext, external), termination route selection, rewrite
// rules and dial-permission classes. It is pure: no network, storage or actor imports.
package dialplan

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultMaxExtensionLen is the longest bare digit string treated as an extension.
const DefaultMaxExtensionLen = 6

// DomainPrefixLen is the exact length of a domain_prefix (seed 003).
const DomainPrefixLen = 5

// maxDialledLen caps the input; longer strings are invalid.
const maxDialledLen = 64

// maxExternalDigits caps an external number (E.164 allows 15; leave room for
// national trunk and international access prefixes).
const maxExternalDigits = 20

// DefaultEmergencyNumbers are always external (never an extension), whatever their
// length: the UK's 999 and the pan-European 112.
var DefaultEmergencyNumbers = []string{"999", "112"}

// Errors returned by Analyze, wrapped with the dialled string. StatusCode maps them.
var (
	ErrInvalidNumber     = errors.New("invalid number")           // 484 Address Incomplete
	ErrUnknownCustomer   = errors.New("unknown customer prefix")  // 404 Not Found
	ErrUnknownDomain     = errors.New("unknown domain prefix")    // 404 Not Found
	ErrCrossDomainDenied = errors.New("cross-domain call denied") // 403 Forbidden
)

// StatusCode returns the SIP status for an Analyze error: 484 for ErrInvalidNumber
// (the dial string is malformed, so the phone may prompt for more or other digits),
// 404 for an unknown customer or domain prefix, 403 for a denied cross-domain call,
// 500 for anything else, and 0 for nil.
func StatusCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrInvalidNumber):
		return 484
	case errors.Is(err, ErrUnknownCustomer), errors.Is(err, ErrUnknownDomain):
		return 404
	case errors.Is(err, ErrCrossDomainDenied):
		return 403
	}
	return 500
}

// Domain is a tenant as number analysis sees it.
type Domain struct {
	Name             string
	Prefix           string // exactly 5 digits
	AllowCrossDomain bool   // allow_cross_domain_dialling (DECISIONS 9; default off)
}

// Customer is a customer of the caller's domain.
type Customer struct {
	ID           int64
	ClientPrefix string
}

// Caller identifies who dials.
type Caller struct {
	CustomerPrefix string // the client_prefix of the caller's own customer
}

// Plan is the caller's domain and what it can reach.
type Plan struct {
	Domain           Domain
	Customers        []Customer // customers of Domain
	OtherDomains     []Domain   // every other domain on the platform
	MaxExtensionLen  int        // 0 means DefaultMaxExtensionLen
	EmergencyNumbers []string   // nil means DefaultEmergencyNumbers
}

// Destination is the result of Analyze: Local, CrossDomain or External.
type Destination interface {
	isDestination()
	// String renders the destination for logs and CDRs.
	String() string
}

// Local is an extension of a customer in the caller's own domain.
type Local struct {
	CustomerID     int64
	CustomerPrefix string
	Extension      string
}

// CrossDomain is an extension in another domain; that domain checks the customer.
type CrossDomain struct {
	DomainName     string
	CustomerPrefix string
	Extension      string
}

// External is a number outside the platform's extensions (termination routes decide).
type External struct {
	Number string // digits, with a leading + if dialled
}

func (Local) isDestination()       {}
func (CrossDomain) isDestination() {}
func (External) isDestination()    {}

// String renders client_prefix*extension.
func (d Local) String() string { return "local:" + d.CustomerPrefix + "*" + d.Extension }

// String renders client_prefix*extension@domain.
func (d CrossDomain) String() string {
	return "cross:" + d.CustomerPrefix + "*" + d.Extension + "@" + d.DomainName
}

// String renders the number.
func (d External) String() string { return "external:" + d.Number }

// Analyze decides what dialled (the R-URI user part only: a host naming another
// domain never crosses tenants, RELIABILITY T1) means for caller under plan:
//
//   - an emergency number (plan.EmergencyNumbers) → External;
//   - "+digits" → External;
//   - digits no longer than MaxExtensionLen → Local in the caller's own customer;
//   - longer digits → External;
//   - "cp*ext" → Local in the customer with client_prefix cp (ErrUnknownCustomer if none);
//   - "dp*cp*ext" with a 5-digit dp: the caller's own prefix resolves locally; another
//     domain's → CrossDomain when BOTH domains allow cross-domain dialling, else
//     ErrCrossDomainDenied; a caller whose domain does not allow it gets
//     ErrCrossDomainDenied whether or not dp exists; otherwise an unknown dp is
//     ErrUnknownDomain;
//   - anything else (empty parts, other characters, too long) → ErrInvalidNumber.
func Analyze(dialled string, caller Caller, plan Plan) (Destination, error) {
	wrap := func(err error) error { return fmt.Errorf("analyze %q: %w", clip(dialled), err) }
	if dialled == "" || len(dialled) > maxDialledLen {
		return nil, wrap(ErrInvalidNumber)
	}
	maxExt := plan.MaxExtensionLen
	if maxExt <= 0 {
		maxExt = DefaultMaxExtensionLen
	}
	if strings.HasPrefix(dialled, "+") {
		num := dialled[1:]
		if !allDigits(num) || len(num) > maxExternalDigits {
			return nil, wrap(ErrInvalidNumber)
		}
		return External{Number: dialled}, nil
	}
	parts := strings.Split(dialled, "*")
	for _, p := range parts {
		if !allDigits(p) {
			return nil, wrap(ErrInvalidNumber)
		}
	}
	switch len(parts) {
	case 1:
		emergency := plan.EmergencyNumbers
		if emergency == nil {
			emergency = DefaultEmergencyNumbers
		}
		for _, e := range emergency {
			if dialled == e {
				return External{Number: dialled}, nil
			}
		}
		if len(dialled) > maxExt {
			if len(dialled) > maxExternalDigits {
				return nil, wrap(ErrInvalidNumber)
			}
			return External{Number: dialled}, nil
		}
		return local(plan, caller.CustomerPrefix, dialled, wrap)
	case 2:
		if len(parts[1]) > maxExt {
			return nil, wrap(ErrInvalidNumber)
		}
		return local(plan, parts[0], parts[1], wrap)
	case 3:
		dp, cp, ext := parts[0], parts[1], parts[2]
		if len(dp) != DomainPrefixLen || len(ext) > maxExt || len(cp) > maxDialledLen {
			return nil, wrap(ErrInvalidNumber)
		}
		if dp == plan.Domain.Prefix {
			return local(plan, cp, ext, wrap)
		}
		if !plan.Domain.AllowCrossDomain {
			return nil, wrap(ErrCrossDomainDenied)
		}
		for _, d := range plan.OtherDomains {
			if d.Prefix != dp {
				continue
			}
			if !d.AllowCrossDomain {
				return nil, wrap(ErrCrossDomainDenied)
			}
			return CrossDomain{DomainName: d.Name, CustomerPrefix: cp, Extension: ext}, nil
		}
		return nil, wrap(ErrUnknownDomain)
	}
	return nil, wrap(ErrInvalidNumber)
}

func local(plan Plan, cp, ext string, wrap func(error) error) (Destination, error) {
	if cp == "" {
		return nil, wrap(ErrUnknownCustomer)
	}
	for _, c := range plan.Customers {
		if c.ClientPrefix == cp {
			return Local{CustomerID: c.ID, CustomerPrefix: cp, Extension: ext}, nil
		}
	}
	return nil, wrap(ErrUnknownCustomer)
}

// allDigits reports a non-empty string of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > maxDialledLen {
		return s[:maxDialledLen] + "…"
	}
	return s
}
