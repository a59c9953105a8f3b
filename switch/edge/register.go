package edge

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchyard/switchyard/actors"
)

// onRegister is the registrar: resolve the domain, authenticate, hand the bindings to the
// account's actor and answer with the current bindings (RFC 3261 §10.3).
func (e *Edge) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	d, _, ok := e.requestDomain(req)
	if !ok {
		respond(tx, req, 403, "Forbidden")
		return
	}
	if d.Locked() {
		respond(tx, req, 403, "Forbidden", reasonHeader(403, "domain locked"))
		return
	}
	acct, ok := e.authenticate(req, tx, d)
	if !ok {
		return
	}
	// The AOR must be the authenticated account of the authenticated domain (RELIABILITY T2):
	// the To user is the account, the To host resolves to the same domain, and a Request-URI
	// naming a domain names this one (a Request-URI with the switch's own address names none).
	if req.To().Address.User != acct.Identity || !e.sameDomain(req.To().Address.Host, sourceIP(req), d.ID(), false) ||
		!e.sameDomain(req.Recipient.Host, netip.Addr{}, d.ID(), true) {
		e.securityEvent(req, d, acct.Identity, "IdentityMismatch")
		respond(tx, req, 403, "Forbidden")
		return
	}
	r := &actors.RegisterRequest{
		DomainID: d.ID(), AccountID: acct.ID(), Expires: -1, Source: req.Source(),
		Transport: strings.ToLower(req.Transport()), CallID: req.CallID().Value(), CSeq: req.CSeq().SeqNo,
		LocalAddrs: e.localAddrs(),
	}
	if h := req.GetHeader("User-Agent"); h != nil {
		r.UserAgent = h.Value()
	}
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
		if err != nil {
			n = 3600 // RFC 4475 scalar02: an overflowing Expires may be taken as the default
		}
		r.Expires = int(n)
	}
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			respond(tx, req, 400, "Bad Contact")
			return
		}
		if c.Address.Wildcard {
			r.Wildcard = true
			continue
		}
		spec := actors.ContactSpec{URI: c.Address.String(), Host: c.Address.Host, Port: c.Address.Port, Expires: -1}
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			if err != nil {
				n = 3600
			}
			spec.Expires = int(n)
		}
		r.Contacts = append(r.Contacts, spec)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := e.node.Register(ctx, r)
	if err != nil {
		e.log.Error().Err(err).Str("aor", acct.Identity).Msg("register")
		respond(tx, req, 500, "Server Internal Error")
		return
	}
	switch res.Code {
	case 200:
	case 423:
		respond(tx, req, 423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(res.MinExpires)))
		return
	default:
		respond(tx, req, res.Code, res.Reason)
		return
	}
	resp := sip.NewResponseFromRequest(req, 200, "OK", nil)
	for _, b := range res.Bindings {
		resp.AppendHeader(sip.NewHeader("Contact", "<"+b.Contact+">;expires="+strconv.Itoa(max(b.Expires, 0))))
	}
	resp.AppendHeader(sip.NewHeader("Date", time.Now().UTC().Format(time.RFC1123)))
	_ = tx.Respond(resp)
}

// sameDomain reports whether host (with the packet's source for Force Source) resolves to the
// domain; with unresolvedOK a host that names no domain at all (an IP of the switch) passes.
func (e *Edge) sameDomain(host string, src netip.Addr, domainID int64, unresolvedOK bool) bool {
	m, ok := e.node.Snapshot().Resolver.Resolve(host, src)
	if !ok {
		return unresolvedOK
	}
	return m.DomainID == domainID
}
