package edge

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/switch/auth"
)

// onTrunkInvite handles a carrier's INVITE: credentials when the trunk has them and the
// source is not listed, the codec list, the DID from the destination field, then the trunk actor.
func (e *Edge) onTrunkInvite(req *sip.Request, tx sip.ServerTransaction, t *actors.TrunkView) {
	if len(t.Config.SourceIPs) == 0 || !e.sourceListed(req, t) {
		if !e.authenticateTrunk(req, tx, t) {
			return
		}
	}
	if mf := req.MaxForwards(); mf != nil && *mf == 0 {
		respond(tx, req, 483, "Too Many Hops")
		return
	}
	if req.Contact() == nil {
		respond(tx, req, 400, "Missing Contact")
		return
	}
	if len(req.Body()) > 0 && !offersAllowedCodec(req.Body(), t) {
		respond(tx, req, 488, "Not Acceptable Here", sip.NewHeader("Warning", `304 switchyard "no codec allowed on this trunk"`))
		return
	}
	dialled := req.Recipient.User
	if strings.EqualFold(t.Config.DestinationField, "TO_USERPART") {
		dialled = req.To().Address.User
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 100, "Trying", nil))
	leg := e.newInLeg(req, tx)
	e.node.TrunkInvite(&actors.TrunkInviteRequest{
		Leg: leg, Trunk: t, Dialled: dialled, CallerNumber: req.From().Address.User, CallerName: req.From().DisplayName,
		SDP: append([]byte(nil), req.Body()...), Received: leg.info.Created,
	})
	leg.serve()
}

func (e *Edge) sourceListed(req *sip.Request, t *actors.TrunkView) bool {
	snap := e.node.Snapshot()
	got, ok := snap.TrunkBySource(sourceIP(req))
	return ok && got.Config.ID == t.Config.ID
}

// authenticateTrunk verifies a carrier's digest credentials against the trunk's
// auth_username/auth_password, realm = the host the trunk is addressed to.
func (e *Edge) authenticateTrunk(req *sip.Request, tx sip.ServerTransaction, t *actors.TrunkView) bool {
	realm := t.Config.Domain
	if realm == "" || t.Config.AuthUsername == "" {
		respond(tx, req, 403, "Forbidden")
		return false
	}
	challenge := func(stale bool) { e.challenge(req, tx, realm, nil, stale) }
	cred, found := credentialsFor(req, realm)
	if !found {
		challenge(false)
		return false
	}
	res := e.verify.Verify(string(req.Method), cred, realm, func(alg string) (string, bool) {
		if cred.Username != t.Config.AuthUsername {
			return "", false
		}
		return auth.HA1(alg, cred.Username, realm, t.Password), true
	})
	switch res.Status {
	case auth.OK:
		return true
	case auth.Stale:
		challenge(true)
	case auth.BadNonce, auth.Replay:
		challenge(false)
	default:
		e.guard.failed(sourceIP(req), res.Reason)
		respond(tx, req, 403, "Forbidden")
	}
	return false
}

// rtpNames maps static RTP payload types to encoding names (RFC 3551).
var rtpNames = map[string]string{"0": "pcmu", "8": "pcma", "9": "g722", "18": "g729"}

// offersAllowedCodec reports whether the SDP offers at least one audio codec in the trunk's list.
func offersAllowedCodec(sdp []byte, t *actors.TrunkView) bool {
	names := map[string]string{}
	var payloads []string
	for _, line := range strings.Split(string(sdp), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "m=audio "):
			f := strings.Fields(line)
			if len(f) > 3 {
				payloads = append(payloads, f[3:]...)
			}
		case strings.HasPrefix(line, "a=rtpmap:"):
			pt, rest, ok := strings.Cut(strings.TrimPrefix(line, "a=rtpmap:"), " ")
			if ok {
				name, _, _ := strings.Cut(rest, "/")
				names[pt] = strings.ToLower(name)
			}
		}
	}
	for _, pt := range payloads {
		name := names[pt]
		if name == "" {
			name = rtpNames[pt]
		}
		if name != "" && name != "telephone-event" && t.AllowsCodec(name) {
			return true
		}
	}
	return false
}

// Probe sends an out-of-dialog OPTIONS to a gateway (actors.Prober) and returns the final
// status code, 408 when nothing answered.
func (e *Edge) Probe(ctx context.Context, addr, transport string) int {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 408
	}
	p, _ := strconv.Atoi(port)
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: host, Port: p})
	tr := strings.ToUpper(transport)
	if tr == "" {
		tr = "UDP"
	}
	req.SetTransport(tr)
	req.SetDestination(addr)
	e.bindLocal(req)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := e.client.Do(ctx, req)
	if err != nil || res == nil {
		return 408
	}
	return res.StatusCode
}
