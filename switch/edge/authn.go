package edge

import (
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/switch/auth"
	"github.com/switchyard/switchyard/switch/resolve"
)

// requestDomain resolves which domain a request from an extension belongs to (seed 003's
// steps 1–4). ok=false means no domain matched: the caller answers 403 without a challenge
// (DECISIONS 7).
func (e *Edge) requestDomain(req *sip.Request) (*actors.DomainView, resolve.Match, bool) {
	snap := e.node.Snapshot()
	if snap == nil || req.From() == nil {
		return nil, resolve.Match{}, false
	}
	src := sourceIP(req)
	m, ok := snap.Resolver.Resolve(req.From().Address.Host, src)
	if !ok {
		return nil, m, false
	}
	d, ok := snap.Domain(m.DomainID)
	return d, m, ok
}

func sourceIP(req *sip.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// authenticate runs step 5 of the authorization order: digest credentials for the From user
// of the resolved domain. It answers the request itself when the result is not a verified
// account (challenge, stale re-challenge, 403) and returns ok=false then. Unknown users and
// wrong passwords get byte-identical treatment (RELIABILITY F4).
func (e *Edge) authenticate(req *sip.Request, tx sip.ServerTransaction, d *actors.DomainView) (*actors.AccountView, bool) {
	realm := d.Name()
	challenge := func(stale bool) { e.challenge(req, tx, realm, d.Config.DigestAlgorithms, stale) }
	cred, found := credentialsFor(req, realm)
	if !found {
		challenge(false)
		return nil, false
	}
	fromUser := req.From().Address.User
	snap := e.node.Snapshot()
	acct, known := snap.Account(d.ID(), cred.Username)
	res := e.verify.Verify(string(req.Method), cred, realm, func(alg string) (string, bool) {
		if !known {
			return "", false
		}
		h, ok := acct.HA1[alg]
		return h, ok && h != ""
	})
	switch res.Status {
	case auth.OK:
	case auth.Stale:
		challenge(true)
		return nil, false
	case auth.BadNonce, auth.Replay:
		challenge(false)
		return nil, false
	default:
		e.guard.failed(sourceIP(req), res.Reason)
		e.securityEvent(req, d, cred.Username, res.Reason)
		respond(tx, req, 403, "Forbidden")
		return nil, false
	}
	// DECISIONS 8: the digest username must be the From user (no acting for another account).
	if cred.Username != fromUser {
		e.securityEvent(req, d, cred.Username, "IdentityMismatch")
		respond(tx, req, 403, "Forbidden")
		return nil, false
	}
	return acct, true
}

// authHeaders names the headers of a digest round: REGISTER is challenged by a registrar (401,
// WWW-Authenticate), everything else by a proxy (407, Proxy-Authenticate).
func authHeaders(req *sip.Request) (credentials string, code int, reason, challenge string) {
	if req.Method == sip.REGISTER {
		return "Authorization", 401, "Unauthorized", "WWW-Authenticate"
	}
	return "Proxy-Authorization", 407, "Proxy Authentication Required", "Proxy-Authenticate"
}

// challenge answers req with one digest challenge per algorithm (DECISIONS 1: same nonce).
func (e *Edge) challenge(req *sip.Request, tx sip.ServerTransaction, realm string, algorithms []string, stale bool) {
	_, code, reason, name := authHeaders(req)
	vals, err := e.nonces.Challenge(auth.ChallengeParams{Realm: realm, Algorithms: algorithms, Stale: stale})
	if err != nil {
		e.log.Error().Err(err).Str("realm", realm).Msg("build digest challenge")
		respond(tx, req, 500, "Server Internal Error")
		return
	}
	hdrs := make([]sip.Header, 0, len(vals))
	for _, v := range vals {
		hdrs = append(hdrs, sip.NewHeader(name, v))
	}
	respond(tx, req, code, reason, hdrs...)
}

// credentialsFor returns the request's digest credentials for realm, if any parse.
func credentialsFor(req *sip.Request, realm string) (auth.Credentials, bool) {
	name, _, _, _ := authHeaders(req)
	for _, h := range req.GetHeaders(name) {
		if c, err := auth.ParseCredentials(h.Value()); err == nil && strings.EqualFold(c.Realm, realm) {
			return c, true
		}
	}
	return auth.Credentials{}, false
}
