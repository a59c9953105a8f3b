package edge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// phone is a sipgo user agent on its own loopback address that registers, places calls and
// answers them according to its mode: a real SIP peer for the switch's tests.
type phone struct {
	t        *testing.T
	identity string // client_prefix*user
	domain   string
	password string
	ip       string
	port     int
	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	cli      *sipgo.Client
	dlgSrv   *sipgo.DialogServerCache
	dlgCli   *sipgo.DialogClientCache
	contact  sip.ContactHeader

	mu       sync.Mutex
	mode     string // "answer" (180 then 200), "busy" (486), "ring" (180 only)
	invites  chan *sip.Request
	byes     chan *sip.Request
	cancels  chan struct{}
	reinvite chan *sip.Request
	infos    chan *sip.Request
	answered chan *sipgo.DialogServerSession
	notifies chan *sip.Request
}

const testSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

func newPhone(t *testing.T, ip, identity, domain, pw string) *phone {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(identity), sipgo.WithUserAgentHostname(domain))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listen %s: %v", ip, err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(ip), sipgo.WithClientPort(port), sipgo.WithClientConnectionAddr(net.JoinHostPort(ip, strconv.Itoa(port))))
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{t: t, identity: identity, domain: domain, password: pw, ip: ip, port: port, ua: ua, srv: srv, cli: cli,
		mode: "answer", invites: make(chan *sip.Request, 16), byes: make(chan *sip.Request, 16), cancels: make(chan struct{}, 16),
		reinvite: make(chan *sip.Request, 16), infos: make(chan *sip.Request, 16), answered: make(chan *sipgo.DialogServerSession, 16), notifies: make(chan *sip.Request, 16)}
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
	srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) {
		p.infos <- req
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		p.notifies <- req
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go func() { _ = srv.ServeUDP(conn) }()
	waitListening(ua.TransportLayer(), "udp", conn.LocalAddr().String())
	t.Cleanup(func() { _ = srv.Close(); _ = ua.Close() })
	return p
}

func (p *phone) setMode(m string) {
	p.mu.Lock()
	p.mode = m
	p.mu.Unlock()
}

func (p *phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		// re-INVITE: answer with our SDP.
		p.reinvite <- req
		res := sip.NewResponseFromRequest(req, 200, "OK", []byte(testSDP))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(&p.contact)
		_ = tx.Respond(res)
		return
	}
	p.invites <- req
	p.mu.Lock()
	mode := p.mode
	p.mu.Unlock()
	dlg, err := p.dlgSrv.ReadInvite(req, tx)
	if err != nil {
		return
	}
	switch mode {
	case "busy":
		_ = dlg.Respond(486, "Busy Here", nil)
		return
	case "ring":
		_ = dlg.Respond(180, "Ringing", nil)
		select {
		case <-dlg.Context().Done():
			p.cancels <- struct{}{}
		case <-time.After(30 * time.Second):
		}
		return
	}
	_ = dlg.Respond(180, "Ringing", nil)
	if err := dlg.RespondSDP([]byte(testSDP)); err == nil {
		p.answered <- dlg
	}
}

func (p *phone) aor() sip.Uri { return sip.Uri{Scheme: "sip", User: p.identity, Host: p.domain} }

// register sends REGISTER (answering the 401) to the switch and returns the final response.
func (p *phone) register(switchAddr string, expires int, contact *sip.ContactHeader) *sip.Response {
	p.t.Helper()
	res, err := p.tryRegister(switchAddr, expires, contact, 5*time.Second)
	if err != nil {
		p.t.Fatalf("register %s: %v", p.identity, err)
	}
	return res
}

// tryRegister is register that returns the error (e.g. no answer from a switch that banned us).
func (p *phone) tryRegister(switchAddr string, expires int, contact *sip.ContactHeader, timeout time.Duration) (*sip.Response, error) {
	host, port := splitHostPort(switchAddr)
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: host, Port: port})
	from := &sip.FromHeader{Address: p.aor()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: p.aor()})
	if contact == nil {
		contact = &p.contact
	}
	req.AppendHeader(contact)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	req.AppendHeader(sip.NewHeader("User-Agent", "switchyard-test-phone"))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode == 401 {
		return p.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.identity, Password: p.password})
	}
	return res, nil
}

// call is an outgoing call from the phone.
type call struct {
	p   *phone
	dlg *sipgo.DialogClientSession
	err error
	// responses seen (provisional and final codes)
	codes []int
	final *sip.Response
}

// dial sends INVITE to dialled@switch, answers the 407 and waits for the final answer.
func (p *phone) dial(ctx context.Context, switchAddr, dialled string) *call {
	host, port := splitHostPort(switchAddr)
	c := &call{p: p}
	hdr := sip.ContentTypeHeader("application/sdp")
	dlg, err := p.dlgCli.Invite(ctx, sip.Uri{Scheme: "sip", User: dialled, Host: host, Port: port}, []byte(testSDP), &hdr)
	if err != nil {
		c.err = err
		return c
	}
	c.dlg = dlg
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.identity, Password: p.password, OnResponse: func(res *sip.Response) error {
		c.codes = append(c.codes, res.StatusCode)
		c.final = res
		return nil
	}})
	if err == nil {
		c.err = dlg.Ack(ctx)
		return c
	}
	c.err = err
	return c
}

// code is the final status of the call attempt.
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

func splitHostPort(a string) (string, int) {
	h, p, _ := net.SplitHostPort(a)
	n, _ := strconv.Atoi(p)
	return h, n
}

func recvOr(t *testing.T, ch <-chan *sip.Request, what string) *sip.Request {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	return nil
}

func identity(prefix, user string) string { return fmt.Sprintf("%s*%s", prefix, user) }
