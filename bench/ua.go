package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

const benchSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=switchyard-bench\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

// uaNode is one sipgo user agent on its own UDP socket (127.0.0.x:random). It serves any number
// of accounts (the Contact user names the account) and answers every INVITE it receives.
type uaNode struct {
	ip      string
	port    int
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	dlgSrv  *sipgo.DialogServerCache
	dlgCli  *sipgo.DialogClientCache
	contact sip.ContactHeader

	answered atomic.Int64 // INVITEs answered 200 (as the UAS)
	byesIn   atomic.Int64 // BYEs received
}

// newNode listens on ip:0 and starts serving.
func newNode(ip string) (*uaNode, error) {
	conn, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return nil, fmt.Errorf("listen on %s (loopback aliases 127.0.0.x must be usable): %w", ip, err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("switchyard-bench"))
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("sip user agent on %s: %w", ip, err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		_ = ua.Close()
		_ = conn.Close()
		return nil, fmt.Errorf("sip server on %s: %w", ip, err)
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(ip), sipgo.WithClientPort(port), sipgo.WithClientConnectionAddr(addr))
	if err != nil {
		_ = ua.Close()
		_ = conn.Close()
		return nil, fmt.Errorf("sip client on %s: %w", addr, err)
	}
	n := &uaNode{ip: ip, port: port, ua: ua, srv: srv, cli: cli}
	n.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "bench", Host: ip, Port: port}}
	n.dlgSrv = sipgo.NewDialogServerCache(cli, n.contact)
	n.dlgCli = sipgo.NewDialogClientCache(cli, n.contact)
	srv.OnInvite(n.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = n.dlgSrv.ReadAck(req, tx) })
	srv.OnBye(n.onBye)
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go func() { _ = srv.ServeUDP(conn) }()
	if err := waitListening(ua.TransportLayer(), conn.LocalAddr().String()); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

// waitListening returns once sipgo has put the UDP socket in its connection pool, so requests
// leave from it. sipgo signals nothing for this, so it polls (at most one second).
func waitListening(tl *sip.TransportLayer, addr string) error {
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if c, err := tl.GetConnection("udp", addr); err == nil && c != nil {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("sip socket %s never became ready", addr)
}

func (n *uaNode) close() {
	_ = n.srv.Close()
	_ = n.ua.Close()
}

// onInvite auto-answers: 180 then 200 with SDP. A re-INVITE is answered 200 in its dialog.
func (n *uaNode) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		res := sip.NewResponseFromRequest(req, 200, "OK", []byte(benchSDP))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(&n.contact)
		_ = tx.Respond(res)
		return
	}
	dlg, err := n.dlgSrv.ReadInvite(req, tx)
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	if err := dlg.Respond(180, "Ringing", nil); err != nil {
		return
	}
	if err := dlg.RespondSDP([]byte(benchSDP)); err == nil {
		n.answered.Add(1)
	}
}

func (n *uaNode) onBye(req *sip.Request, tx sip.ServerTransaction) {
	n.byesIn.Add(1)
	if err := n.dlgSrv.ReadBye(req, tx); err != nil {
		if err := n.dlgCli.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	}
}

// register sends REGISTER for acct to the switch, answers the 401 and returns the final status
// code and the latency from the first REGISTER to the final answer.
func (n *uaNode) register(ctx context.Context, acct benchAccount, switchHost string, switchPort int) (int, time.Duration, error) {
	aor := sip.Uri{Scheme: "sip", User: acct.Identity, Host: acct.Domain}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: switchHost, Port: switchPort})
	from := &sip.FromHeader{Address: aor}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: acct.Identity, Host: n.ip, Port: n.port}})
	req.AppendHeader(sip.NewHeader("Expires", "3600"))
	start := time.Now()
	res, err := n.cli.Do(ctx, req)
	if err != nil {
		return 0, time.Since(start), fmt.Errorf("register %s@%s: %w", acct.Identity, acct.Domain, err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		res, err = n.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: acct.Identity, Password: acct.Password})
		if err != nil {
			return 0, time.Since(start), fmt.Errorf("register %s@%s with digest: %w", acct.Identity, acct.Domain, err)
		}
	}
	return res.StatusCode, time.Since(start), nil
}

// callSpec is one call to place.
type callSpec struct {
	from     benchAccount              // caller; Password empty = no authentication (ceiling)
	fromHost string                    // From host (the caller's domain)
	ruri     sip.Uri                   // request URI (dialled extension at the switch, or the UAS directly)
	hold     func(ctx context.Context) // blocks while the call is held
	timeout  time.Duration             // setup timeout
}

// callResult is what happened to one call.
type callResult struct {
	answered  bool
	completed bool          // answered, held and hung up with 200 to the BYE
	failure   string        // failure key: SIP code, "timeout", "transport", "bye-<code>"…
	ringing   time.Duration // first INVITE → first 180/183 (0 when none)
	setup     time.Duration // first INVITE → 200
	startedAt time.Time     // first INVITE sent
}

// call places one call: INVITE (answering a 407 with digest), ACK, hold, BYE. onAnswer and
// onEnd (when not nil) run when the call is up and when it is torn down.
func (n *uaNode) call(ctx context.Context, spec callSpec, onAnswer, onEnd func()) callResult {
	var r callResult
	req := sip.NewRequest(sip.INVITE, spec.ruri)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: spec.from.Identity, Host: spec.fromHost}}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: spec.ruri.User, Host: spec.ruri.Host}})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: spec.from.Identity, Host: n.ip, Port: n.port}})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody([]byte(benchSDP))

	sctx, cancel := context.WithTimeout(ctx, spec.timeout)
	defer cancel()
	start := time.Now()
	r.startedAt = start
	dlg, err := n.dlgCli.WriteInvite(sctx, req)
	if err != nil {
		r.failure = "transport"
		return r
	}
	err = dlg.WaitAnswer(sctx, sipgo.AnswerOptions{
		Username: spec.from.Identity, Password: spec.from.Password,
		OnResponse: func(res *sip.Response) error {
			if (res.StatusCode == 180 || res.StatusCode == 183) && r.ringing == 0 {
				r.ringing = time.Since(start)
			}
			return nil
		},
	})
	if err != nil {
		var de *sipgo.ErrDialogResponse
		switch {
		case errors.As(err, &de):
			r.failure = strconv.Itoa(de.Res.StatusCode)
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || sctx.Err() != nil:
			r.failure = "timeout"
		default:
			r.failure = "transaction"
		}
		_ = dlg.Close()
		return r
	}
	r.setup = time.Since(start)
	r.answered = true
	if err := dlg.Ack(sctx); err != nil {
		r.failure = "ack"
		_ = dlg.Close()
		return r
	}
	if onAnswer != nil {
		onAnswer()
	}
	if onEnd != nil {
		defer onEnd()
	}
	if spec.hold != nil {
		spec.hold(ctx)
	}
	bctx, bcancel := context.WithTimeout(context.Background(), spec.timeout)
	defer bcancel()
	if err := dlg.Bye(bctx); err != nil {
		var de sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			r.failure = "bye-" + strconv.Itoa(de.Res.StatusCode)
		} else {
			r.failure = "bye-timeout"
		}
		return r
	}
	r.completed = true
	return r
}
