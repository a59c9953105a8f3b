package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchyard/switchyard/persistence"
)

// InviteRequest is an authenticated initial INVITE handed from the edge to the caller's domain.
type InviteRequest struct {
	Leg      Leg
	DomainID int64
	Caller   *AccountView
	// Dialled is the Request-URI user part (e.g. "100", "001*100", "12345*001*100").
	Dialled  string
	SDP      []byte
	Received time.Time
}

// RegisterRequest is an authenticated REGISTER for one account.
type RegisterRequest struct {
	DomainID  int64
	AccountID int64
	// Contacts are the Contact values; empty with Wildcard false is a binding fetch.
	Contacts []ContactSpec
	// Wildcard is `Contact: *` (remove all; only valid with Expires: 0).
	Wildcard bool
	// Expires is the Expires header value, or -1 when absent.
	Expires   int
	Source    string // ip:port the REGISTER came from (received/rport)
	Transport string
	UserAgent string
	CallID    string
	CSeq      uint32
	// LocalAddrs are the switch's own SIP addresses, so a contact pointing back at us is refused.
	LocalAddrs []string
}

// ContactSpec is one Contact header value of a REGISTER.
type ContactSpec struct {
	URI     string // the contact URI, as received
	Host    string // its host part
	Port    int
	Expires int // the expires param, or -1 when absent
}

// RegisterResult is the registrar's answer.
type RegisterResult struct {
	Code       int // 200, 400, 403, 423
	Reason     string
	MinExpires int           // set with 423
	Bindings   []BindingView // current bindings, for the 200's Contact headers
}

// BindingView is one current binding with its remaining lifetime.
type BindingView struct {
	Contact   string
	Expires   int
	Source    string
	Transport string
	UserAgent string
	CallID    string
	ExpiresAt time.Time
}

// Internal actor messages.
type (
	inviteReceived struct{ req *InviteRequest }
	// domainConfigUpdated carries a fresh view after a config change.
	domainConfigUpdated struct {
		view *DomainView
		snap *Snapshot
	}
	configChanged struct{}
	// reloadDone answers a Reload once the new snapshot is installed.
	reloadDone struct{ err error }
	// callEnded: a call of this domain finished and wrote its CDR.
	callEnded struct{ uuid string }
	// admitCall asks another domain (or trunk) to admit a call that terminates there.
	admitCall struct {
		uuid         string
		clientPrefix string
		extension    string
		callerDomain string
	}
	callAdmitted struct {
		account *actor.PID
		callee  *AccountView
	}
	callRefused struct {
		code   int
		reason string
		cause  string
	}
	releaseCall    struct{ uuid string }
	lookupContacts struct{}
	contactsFound  struct{ bindings []persistence.Binding }
	accountUpdated struct{ view *AccountView }
	reapBindings   struct{}
	liveQuery      struct{}
	ringTimeout    struct{ gen int }
	cdrStored      struct{ err error }
	// writeCDR carries a call's records: the call record and, for calls through trunks, the
	// incoming-trunk and termination CDRs; all land in one transaction.
	writeCDR struct {
		cdr         *persistence.CDR
		incoming    []persistence.IncomingTrunkCDR
		termination []persistence.TerminationCDR
	}
	// inboundCall is a carrier call whose DID points at an extension of this domain.
	inboundCall struct {
		req    *TrunkInviteRequest
		number *persistence.Number
		callee *AccountView
		trunk  *actor.PID
	}
	flushCDRs     struct{}
	hangupCommand struct {
		cause string
	}
)
