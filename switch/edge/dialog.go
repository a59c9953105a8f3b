package edge

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// dialog is the RFC 3261 §12 state one leg keeps to send in-dialog requests: who we are (local
// URI and tag), who they are (remote URI and tag), where requests go (remote target, route set,
// the network destination used for NAT traversal) and our CSeq.
type dialog struct {
	callID       string
	localURI     sip.Uri
	localName    string
	localTag     string
	remoteURI    sip.Uri
	remoteName   string
	remoteTag    string
	remoteTarget sip.Uri
	routeSet     []sip.Uri
	destination  string // host:port requests are sent to (the peer's source address)
	transport    string // UDP or TCP
	localSeq     atomic.Uint32
}

// newRequest builds an in-dialog request (RFC 3261 §12.2.1.1).
func (e *Edge) newRequest(d *dialog, method sip.RequestMethod, body []byte, contentType string) *sip.Request {
	req := sip.NewRequest(method, *d.remoteTarget.Clone())
	from := &sip.FromHeader{DisplayName: d.localName, Address: *d.localURI.Clone()}
	from.Params.Add("tag", d.localTag)
	to := &sip.ToHeader{DisplayName: d.remoteName, Address: *d.remoteURI.Clone()}
	if d.remoteTag != "" {
		to.Params.Add("tag", d.remoteTag)
	}
	callID := sip.CallIDHeader(d.callID)
	seq := d.localSeq.Add(1)
	if method == sip.ACK {
		seq = d.localSeq.Load()
	}
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	for _, r := range d.routeSet {
		req.AppendHeader(&sip.RouteHeader{Address: r})
	}
	if method == sip.INVITE || method == sip.UPDATE {
		req.AppendHeader(e.contact(d.transport))
	}
	if len(body) > 0 {
		if contentType == "" {
			contentType = "application/sdp"
		}
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	}
	req.SetBody(body)
	req.SetTransport(d.transport)
	e.bindLocal(req)
	if d.destination != "" {
		req.SetDestination(d.destination)
	}
	return req
}

// bindLocal makes a UDP request leave from our listening socket, so that replies and NATs see
// the address phones registered with (TCP requests reuse the peer's connection instead).
func (e *Edge) bindLocal(req *sip.Request) {
	if e.udpConn == nil || !strings.EqualFold(req.Transport(), "UDP") {
		return
	}
	a := e.udpConn.LocalAddr().(*net.UDPAddr)
	req.Laddr = sip.Addr{IP: a.IP, Port: a.Port}
}

// do sends a non-INVITE in-dialog request and returns the final status code (408 on timeout).
func (e *Edge) do(ctx context.Context, req *sip.Request) int {
	ctx, cancel := context.WithTimeout(ctx, 32*time.Second)
	defer cancel()
	res, err := e.client.Do(ctx, req)
	if err != nil || res == nil {
		return 408
	}
	return res.StatusCode
}

// dialogIndex maps Call-ID to the legs the switch runs under that Call-ID, so that ACK, BYE
// and other in-dialog requests reach their leg (sipgo's own dialog caches are not meant for
// a B2BUA's load: ENGINEERING-NOTES §3).
type dialogIndex struct {
	mu   sync.RWMutex
	legs map[string]dialogLeg
}

// dialogLeg is a leg that can take in-dialog requests.
type dialogLeg interface {
	dlg() *dialog
	onRequest(req *sip.Request, tx sip.ServerTransaction)
	onAck(req *sip.Request)
	// onRetransmitted2xx handles a 200 that arrives after the INVITE transaction ended.
	onRetransmitted2xx(res *sip.Response)
}

func newDialogIndex() *dialogIndex { return &dialogIndex{legs: map[string]dialogLeg{}} }

func (x *dialogIndex) add(callID string, l dialogLeg) {
	x.mu.Lock()
	x.legs[callID] = l
	x.mu.Unlock()
}

func (x *dialogIndex) remove(callID string, l dialogLeg) {
	x.mu.Lock()
	if cur, ok := x.legs[callID]; ok && cur == l {
		delete(x.legs, callID)
	}
	x.mu.Unlock()
}

func (x *dialogIndex) get(callID string) (dialogLeg, bool) {
	x.mu.RLock()
	l, ok := x.legs[callID]
	x.mu.RUnlock()
	return l, ok
}

func (x *dialogIndex) len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.legs)
}

// respond answers a request through its transaction.
func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, phrase(code, reason), nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

// reasonHeader builds `Reason: SIP;cause=<code>;text="<text>"`.
func reasonHeader(code int, text string) sip.Header {
	return sip.NewHeader("Reason", "SIP;cause="+strconv.Itoa(code)+";text=\""+text+"\"")
}

// tagOf returns a header's tag parameter.
func tagOf(p sip.HeaderParams) string {
	t, _ := p.Get("tag")
	return t
}

// reasonPhrases are RFC 3261 §21's reason phrases for the codes the switch sends.
var reasonPhrases = map[int]string{
	100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued", 183: "Session Progress",
	200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
	405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
	410: "Gone", 415: "Unsupported Media Type", 416: "Unsupported URI Scheme", 420: "Bad Extension",
	423: "Interval Too Brief", 480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
	483: "Too Many Hops", 484: "Address Incomplete", 486: "Busy Here", 487: "Request Terminated",
	488: "Not Acceptable Here", 489: "Bad Event", 491: "Request Pending", 500: "Server Internal Error",
	501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Server Time-out",
	505: "Version Not Supported", 600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere",
	606: "Not Acceptable",
}

// phrase returns reason, or the RFC phrase for code when reason is empty.
func phrase(code int, reason string) string {
	if reason != "" {
		return reason
	}
	return reasonPhrases[code]
}
