package isolation

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// phone is a sipgo user agent on its own loopback address (127.0.0.3 and up): it registers,
// answers every INVITE (180, then 200 with SDP), places calls and sends hand-built requests.
type phone struct {
	t        *testing.T
	identity string // client_prefix*user
	domain   string
	password string
	ip       string
	port     int
	ua       *sipgo.UserAgent
	cli      *sipgo.Client
	dlgSrv   *sipgo.DialogServerCache
	dlgCli   *sipgo.DialogClientCache
	contact  sip.ContactHeader
	invites  chan *sip.Request
	byes     chan *sip.Request
}

const testSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

func newPhone(t *testing.T, ip, identity, domain, pw string) *phone {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(identity), sipgo.WithUserAgentHostname(domain))
	if err != nil {
		t.Fatalf("new UA: %v", err)
	}
	conn, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listen %s: %v", ip, err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(ip), sipgo.WithClientPort(port),
		sipgo.WithClientConnectionAddr(net.JoinHostPort(ip, strconv.Itoa(port))))
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	p := &phone{t: t, identity: identity, domain: domain, password: pw, ip: ip, port: port, ua: ua, cli: cli,
		invites: make(chan *sip.Request, 64), byes: make(chan *sip.Request, 64)}
	p.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: identity, Host: ip, Port: port}}
	p.dlgSrv = sipgo.NewDialogServerCache(cli, p.contact)
	p.dlgCli = sipgo.NewDialogClientCache(cli, p.contact)
	srv.OnInvite(p.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = p.dlgSrv.ReadAck(req, tx) })
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		p.byes <- req
		if err := p.dlgSrv.ReadBye(req, tx); err != nil {
			if err := p.dlgCli.ReadBye(req, tx); err != nil {
				_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No dialog", nil))
			}
		}
	})
	go func() { _ = srv.ServeUDP(conn) }()
	waitListening(ua.TransportLayer(), conn.LocalAddr().String())
	t.Cleanup(func() { _ = srv.Close(); _ = ua.Close() })
	return p
}

// waitListening returns once sipgo has registered the UDP listener, so requests leave from it.
func waitListening(tl *sip.TransportLayer, addr string) {
	for range 1000 {
		if c, err := tl.GetConnection("udp", addr); err == nil && c != nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (p *phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		res := sip.NewResponseFromRequest(req, 200, "OK", []byte(testSDP))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(&p.contact)
		_ = tx.Respond(res)
		return
	}
	p.invites <- req
	dlg, err := p.dlgSrv.ReadInvite(req, tx)
	if err != nil {
		return
	}
	_ = dlg.Respond(180, "Ringing", nil)
	_ = dlg.RespondSDP([]byte(testSDP))
}

func (p *phone) aor() sip.Uri { return sip.Uri{Scheme: "sip", User: p.identity, Host: p.domain} }

// register sends REGISTER (answering the 401 with the phone's own credentials) and returns the
// final response.
func (p *phone) register(switchAddr string, expires int) *sip.Response {
	p.t.Helper()
	host, port := splitHostPort(switchAddr)
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: host, Port: port})
	from := &sip.FromHeader{Address: p.aor()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: p.aor()})
	req.AppendHeader(&p.contact)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		p.t.Fatalf("register %s: %v", p.identity, err)
	}
	if res.StatusCode == 401 {
		res, err = p.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.identity, Password: p.password})
		if err != nil {
			p.t.Fatalf("register %s with auth: %v", p.identity, err)
		}
	}
	return res
}

// call is an outgoing call attempt.
type call struct {
	dlg   *sipgo.DialogClientSession
	err   error
	final *sip.Response
}

// dial sends INVITE for sip:<user>@<host> to the switch (whatever the host), answers the 407
// and waits for the final answer; a 2xx is ACKed.
func (p *phone) dial(ctx context.Context, switchAddr, user, host string) *call {
	h, port := splitHostPort(switchAddr)
	uri := sip.Uri{Scheme: "sip", User: user, Host: h, Port: port}
	if host != "" {
		uri = sip.Uri{Scheme: "sip", User: user, Host: host}
	}
	req := sip.NewRequest(sip.INVITE, uri)
	req.SetBody([]byte(testSDP))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetDestination(switchAddr)
	c := &call{}
	dlg, err := p.dlgCli.WriteInvite(ctx, req)
	if err != nil {
		c.err = err
		return c
	}
	c.dlg = dlg
	c.err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.identity, Password: p.password,
		OnResponse: func(res *sip.Response) error { c.final = res; return nil }})
	if c.err == nil {
		c.err = dlg.Ack(ctx)
	}
	return c
}

// code is the final status of the call attempt (0: no final response).
func (c *call) code() int {
	var de *sipgo.ErrDialogResponse
	if errors.As(c.err, &de) {
		return de.Res.StatusCode
	}
	if c.err == nil && c.final != nil {
		return c.final.StatusCode
	}
	return 0
}

func (c *call) hangup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.dlg.Bye(ctx)
}

// do sends a hand-built request to the switch and returns the final response.
func (p *phone) do(switchAddr string, req *sip.Request) *sip.Response {
	p.t.Helper()
	req.SetDestination(switchAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		p.t.Fatalf("%s from %s: %v", req.Method, p.ip, err)
	}
	return res
}

// reqSpec describes a hand-built out-of-dialog request.
type reqSpec struct {
	method             sip.RequestMethod
	ruriUser, ruriHost string // empty host: the switch's address
	fromUser, fromHost string
	toUser, toHost     string
	expires            int // REGISTER only; <0 omits the header
}

// build makes a request from spec; Via, Max-Forwards and CSeq are added by sipgo.
func (p *phone) build(switchAddr string, sp reqSpec) *sip.Request {
	h, port := splitHostPort(switchAddr)
	ruri := sip.Uri{Scheme: "sip", User: sp.ruriUser, Host: h, Port: port}
	if sp.ruriHost != "" {
		ruri = sip.Uri{Scheme: "sip", User: sp.ruriUser, Host: sp.ruriHost}
	}
	req := sip.NewRequest(sp.method, ruri)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: sp.fromUser, Host: sp.fromHost}}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: sp.toUser, Host: sp.toHost}})
	callID := sip.CallIDHeader(sip.GenerateTagN(20))
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sp.method})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: sp.fromUser, Host: p.ip, Port: p.port}})
	if sp.method == sip.REGISTER && sp.expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(sp.expires)))
	}
	if sp.method == sip.INVITE {
		req.SetBody([]byte(testSDP))
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	return req
}

// authorize answers challenge res on req with user/password (computed with icholy/digest, an
// implementation independent of the switch's), bumps the CSeq and clears the Via so the next
// send is a new transaction. chIdx picks which challenge header to answer.
func authorize(t *testing.T, req *sip.Request, res *sip.Response, user, password string, chIdx int) *digest.Credentials {
	t.Helper()
	chName, authName := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		chName, authName = "Proxy-Authenticate", "Proxy-Authorization"
	}
	hs := res.GetHeaders(chName)
	if len(hs) <= chIdx {
		t.Fatalf("%d %s has %d %s headers, want more than %d", res.StatusCode, res.Reason, len(hs), chName, chIdx)
	}
	chal, err := digest.ParseChallenge(hs[chIdx].Value())
	if err != nil {
		t.Fatalf("parse challenge %q: %v", hs[chIdx].Value(), err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: string(req.Method), URI: req.Recipient.Addr(), Username: user, Password: password})
	if err != nil {
		t.Fatalf("digest: %v", err)
	}
	req.RemoveHeader(authName)
	req.AppendHeader(sip.NewHeader(authName, cred.String()))
	renew(req)
	return cred
}

// renew prepares req to be sent again as a new transaction (next CSeq, fresh Via branch).
func renew(req *sip.Request) {
	req.CSeq().SeqNo++
	req.RemoveHeader("Via")
}

func splitHostPort(a string) (string, int) {
	h, p, _ := net.SplitHostPort(a)
	n, _ := strconv.Atoi(p)
	return h, n
}

// recv waits (bounded) for one request on ch.
func recv(t *testing.T, ch <-chan *sip.Request, what string) *sip.Request {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	return nil
}

// drain empties ch and returns how many requests were in it.
func drain(ch <-chan *sip.Request) int {
	n := 0
	for {
		select {
		case <-ch:
			n++
		default:
			return n
		}
	}
}

// loopbackIP returns 127.0.0.<n>.
func loopbackIP(n int) string { return fmt.Sprintf("127.0.0.%d", n) }
