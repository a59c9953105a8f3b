package edge

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// tortureDir is the repository copy of the RFC 4475 archive (DECISIONS 23).
const tortureDir = "../../testdata/rfc4475"

// outcome is what the switch must do with one torture message on one transport.
type outcome struct {
	code   int  // status code of the final answer(s); 0 means no answer at all
	finals int  // number of final answers when more than one (TCP dblreq)
	close  bool // TCP: the switch closes the connection (after the answer, if any)
	skip   bool // not sent on this transport (responses are UDP only)
}

var (
	dropped = outcome{}            // silently discarded: no answer
	closed  = outcome{close: true} // TCP: no answer, the connection is closed
	notSent = outcome{skip: true}  // responses: RFC 4475 assumes UDP
)

func answer(code int) outcome      { return outcome{code: code} }
func answerClose(code int) outcome { return outcome{code: code, close: true} }

// tortureCase is the expected handling of one file, from testdata/rfc4475/INDEX.md.
//
// None of the domains in the files (example.com, example.net, chair-dnrc.example.com, …) exists
// in the switch, so valid messages get what an unknown domain gets:
//   - INVITE and REGISTER: 403 without a challenge (DECISIONS 7: no domain matched);
//   - out-of-dialog OPTIONS: 200 (answered the same for everyone, keepalives and scanners);
//   - MESSAGE outside a dialog: 481 (the switch relays MESSAGE only inside calls);
//   - unknown or extension methods: 501 with Allow, the CSeq echoed byte for byte.
type tortureCase struct {
	file     string
	udp, tcp outcome
	why      string
}

var tortureCases = []tortureCase{
	// §3.1.1 valid messages: parsed and processed.
	{"wsinv.dat", answer(481), answer(481), "valid INVITE, processed normally once the edge unfolds lines and removes the LWS " +
		"around ';' '=' '/' that sipgo would keep inside params: its To carries a tag, so it is a re-INVITE of an unknown " +
		"dialog → 481"},
	{"intmeth.dat", answer(501), answer(501), "unknown (lower-case) extension method"},
	{"esc01.dat", answer(403), answer(403), "valid INVITE, unknown domain"},
	{"escnull.dat", answer(403), answer(403), "valid REGISTER, unknown domain"},
	{"esc02.dat", answer(501), answer(501), "RE%47IST%45R is not REGISTER"},
	{"lwsdisp.dat", answer(200), answer(200), "valid out-of-dialog OPTIONS"},
	{"longreq.dat", answer(403), answer(403), "valid; very long headers: processed normally (unknown domain → 403); the 403 echoes 34 Vias, over 1,300 bytes: the edge lifts sipgo's UDP size cap so it is still sent"},
	{"dblreq.dat", answer(403), outcome{code: 403, finals: 2, close: true}, "UDP: one REGISTER (unknown domain), the " +
		"trailing INVITE is noise. TCP: a stream, so the INVITE is the next message (403 too) and the bytes after its " +
		"Content-Length are a header section without Content-Length: framing error, close"},
	{"semiuri.dat", answer(200), answer(200), "valid out-of-dialog OPTIONS"},
	{"transports.dat", answer(200), answer(200), "valid out-of-dialog OPTIONS"},
	{"mpart01.dat", answer(481), answer(481), "MESSAGE outside any dialog"},
	{"unreason.dat", dropped, notSent, "response matching no transaction"},
	{"noreason.dat", dropped, notSent, "response matching no transaction"},
	// §3.1.2 invalid messages.
	{"badinv01.dat", answer(400), answer(400), "empty Via/Contact elements"},
	{"clerr.dat", answer(400), closed, "Content-Length beyond the datagram; TCP waits for the body"},
	{"ncl.dat", answer(400), answerClose(400), "negative Content-Length: framing error"},
	{"scalar02.dat", answer(400), answer(400), "CSeq above 2^32-1"},
	{"scalarlg.dat", dropped, notSent, "invalid response"},
	{"quotbal.dat", answer(400), answer(400), "unterminated quoted string"},
	{"ltgtruri.dat", answer(400), answer(400), "Request-URI in <>"},
	{"lwsruri.dat", answer(400), answer(400), "LWS inside the Request-URI"},
	{"lwsstart.dat", answer(400), answer(400), "several SP in the request line"},
	{"trws.dat", answer(400), answer(400), "SP after the SIP-Version"},
	{"escruri.dat", answer(400), answer(400), "headers escaped into the Request-URI"},
	{"baddate.dat", answer(403), answer(403), "Date is ignored; valid INVITE, unknown domain"},
	{"regbadct.dat", answer(403), answer(403), "Contact parsed; REGISTER for an unknown domain"},
	{"badaspec.dat", answer(400), answer(400), "spaces in the To addr-spec"},
	{"baddn.dat", answer(400), closed, "no empty line after the headers: 400 on UDP; on TCP the header section " +
		"never ends, so the switch waits and closes"},
	{"badvers.dat", answer(505), answer(505), "SIP/7.0"},
	{"mismatch01.dat", answer(400), answer(400), "CSeq method differs from the request method"},
	{"mismatch02.dat", answer(501), answer(501), "unknown method NEWMETHOD"},
	{"bigcode.dat", dropped, notSent, "status code above 699"},
	// §3.2/§3.3 semantic.
	{"badbranch.dat", answer(200), answer(200), "bare magic cookie tolerated; OPTIONS answered"},
	{"insuf.dat", answer(400), answer(400), "no Call-ID, From or To"},
	{"unkscm.dat", answer(416), answer(416), "Request-URI scheme nobodyKnowsThisScheme"},
	{"novelsc.dat", answer(416), answer(416), "Request-URI scheme soap.beep (refused by sipgo's parser)"},
	{"unksm2.dat", answer(400), answer(400), "registrar: To/From AOR is not sip/sips"},
	{"bext01.dat", answer(420), answer(420), "unknown Require option tags"},
	{"invut.dat", answer(415), answer(415), "INVITE body application/unknownformat"},
	{"regaut01.dat", answer(403), answer(403), "REGISTER for an unknown domain: 403 before any challenge"},
	{"multi01.dat", answer(400), answer(400), "several Call-ID/To/From/CSeq values"},
	{"mcl01.dat", answer(400), answerClose(400), "two conflicting Content-Length values: framing error"},
	{"bcast.dat", dropped, notSent, "response matching no transaction"},
	{"zeromf.dat", answer(200), answer(200), "Max-Forwards 0 on OPTIONS is answered normally (DECISIONS 16)"},
	{"cparam01.dat", answer(403), answer(403), "valid REGISTER, unknown domain"},
	{"cparam02.dat", answer(403), answer(403), "valid REGISTER, unknown domain"},
	{"regescrt.dat", answer(403), answer(403), "valid REGISTER, unknown domain"},
	{"sdp01.dat", answer(406), answer(406), "Accept without application/sdp"},
	// §3.4 compatibility.
	{"inv2543.dat", answer(400), answerClose(400), "RFC 2543 INVITE: no From tag and no RFC 3261 branch, so sipgo cannot match a transaction and answers 400 (a clean reject); on TCP no Content-Length: framing error"},
	// Not described by the RFC.
	{"test.dat", dropped, dropped, "no SIP-Version and no Via/CSeq: unanswerable, dropped (INDEX: drop or 400)"},
}

// tortureFile returns a file of the torture archive.
func tortureFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tortureDir, name))
	if err != nil {
		t.Fatalf("read torture file: %v", err)
	}
	return b
}

// checkTortureSums verifies SHA256SUMS and returns the names it lists.
func checkTortureSums(t testing.TB) []string {
	t.Helper()
	sums := tortureFile(t, "SHA256SUMS")
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		want, name, ok := strings.Cut(strings.TrimSpace(sc.Text()), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS: bad line %q", sc.Text())
		}
		got := sha256.Sum256(tortureFile(t, name))
		if hex.EncodeToString(got[:]) != want {
			t.Fatalf("%s: sha256 %x, SHA256SUMS says %s (line endings converted?)", name, got, want)
		}
		names = append(names, name)
	}
	return names
}

func TestRFC4475Torture(t *testing.T) {
	names := checkTortureSums(t)
	if len(names) != 50 || len(tortureCases) != 50 {
		t.Fatalf("SHA256SUMS lists %d files and the table %d; want 50 each", len(names), len(tortureCases))
	}
	inTable := map[string]bool{}
	for _, c := range tortureCases {
		inTable[c.file] = true
	}
	for _, n := range names {
		if !inTable[n] {
			t.Fatalf("%s has no expectation in tortureCases", n)
		}
	}

	// Every file gets a fresh switch per transport: the files reuse Via branches (22 of them
	// carry branch=z9hG4bKkdjuw), so on one switch a later file would match an earlier file's
	// server transaction and get that transaction's answer. Startup costs ~20 ms.
	for i, c := range tortureCases {
		data := tortureFile(t, c.file)
		src := "127.0.0." + strconv.Itoa(10+i%200)
		t.Run("udp/"+c.file, func(t *testing.T) {
			s := startSwitch(t, switchOpts{})
			replies := udpTorture(t, src, s.addr(), data, c.udp)
			checkOutcome(t, c, c.udp, replies, false, data)
		})
		if c.tcp.skip {
			continue
		}
		t.Run("tcp/"+c.file, func(t *testing.T) {
			s := startSwitch(t, switchOpts{})
			replies, eof := tcpTorture(t, src, s.edge.TCPAddr(), data, c.tcp)
			checkOutcome(t, c, c.tcp, replies, eof, data)
		})
	}

	// Then all 50 files back to back at one switch, over UDP and TCP: it must survive and
	// still serve a REGISTER.
	t.Run("back to back", func(t *testing.T) {
		s := startSwitch(t, switchOpts{})
		s.tenant("torture.example", "10077", "077", "100")
		for i, c := range tortureCases {
			data := tortureFile(t, c.file)
			src := "127.0.0." + strconv.Itoa(10+i%200)
			_ = udpTorture(t, src, s.addr(), data, dropped)
			if !c.tcp.skip {
				_, _ = tcpTorture(t, src, s.edge.TCPAddr(), data, outcome{close: true})
			}
		}
		msg := "REGISTER sip:torture.example SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP LOCAL;branch=z9hG4bK-torture-after;rport\r\n" +
			"Max-Forwards: 70\r\n" +
			"From: <sip:077*100@torture.example>;tag=after\r\n" +
			"To: <sip:077*100@torture.example>\r\n" +
			"Call-ID: torture-after\r\n" +
			"CSeq: 1 REGISTER\r\n" +
			"Contact: <sip:077*100@LOCAL>\r\n" +
			"Content-Length: 0\r\n\r\n"
		if res := rawExchange(t, "127.0.0.3", s.addr(), msg); !strings.HasPrefix(res, "SIP/2.0 401 ") {
			t.Fatalf("REGISTER after the torture run: want 401 challenge, got %q", res)
		}
	})
}

// checkOutcome compares the answers to one torture message with its expectation.
func checkOutcome(t *testing.T, c tortureCase, want outcome, replies []string, eof bool, req []byte) {
	t.Helper()
	finals := finalReplies(replies)
	if want.code == 0 {
		if len(finals) != 0 {
			t.Fatalf("%s (%s): want no answer, got %q", c.file, c.why, finals[0])
		}
	} else {
		if len(finals) != max(want.finals, 1) {
			t.Fatalf("%s (%s): want %d final answer(s) %d, got %d: %q", c.file, c.why, max(want.finals, 1), want.code, len(finals), finals)
		}
		for _, f := range finals {
			if got := statusOf(f); got != want.code {
				t.Fatalf("%s (%s): want %d, got %q", c.file, c.why, want.code, firstLine(f))
			}
		}
		checkAnswerHeaders(t, c.file, finals[0], req)
	}
	if want.close && !eof {
		t.Fatalf("%s (%s): want the connection closed", c.file, c.why)
	}
}

// checkAnswerHeaders applies the per-file header checks of RELIABILITY P1/P2.
func checkAnswerHeaders(t *testing.T, file, res string, req []byte) {
	t.Helper()
	switch file {
	case "intmeth.dat", "mismatch02.dat", "esc02.dat":
		if got, want := headerLine(res, "CSeq"), headerLine(string(req), "CSeq"); got != want {
			t.Fatalf("%s: answer CSeq %q is not the request's %q", file, got, want)
		}
		if headerLine(res, "Allow") == "" {
			t.Fatalf("%s: 501 without Allow: %q", file, res)
		}
	case "bext01.dat":
		u := strings.ToLower(headerLine(res, "Unsupported"))
		if !strings.Contains(u, "nothingsupportsthis") || !strings.Contains(u, "nothingsupportsthiseither") {
			t.Fatalf("bext01: Unsupported must list the Require tags, got %q", u)
		}
	case "invut.dat":
		if !strings.Contains(headerLine(res, "Accept"), "application/sdp") {
			t.Fatalf("invut: 415 without Accept: application/sdp: %q", res)
		}
	case "sdp01.dat":
		if !strings.Contains(headerLine(res, "Warning"), "399") {
			t.Fatalf("sdp01: 406 without Warning 399: %q", res)
		}
	case "escruri.dat":
		if headerLine(res, "Route") != "" {
			t.Fatalf("escruri: a Route header appeared in the answer: %q", res)
		}
	case "wsinv.dat":
		if v := headerLine(res, "From"); strings.Contains(v, "tag= ") || strings.Contains(v, "tag=\" ") {
			t.Fatalf("wsinv: echoed From tag keeps LWS: %q", v)
		}
	}
}

// udpTorture sends data from a fresh socket on src, then a probe OPTIONS from the same socket.
// The switch's single UDP reader handles the probe after the torture datagram, so once the
// probe is answered every drop decision on the torture datagram has been made. Handlers run
// concurrently, so when an answer is expected it is awaited as well. It returns the answers
// to the torture message.
func udpTorture(t *testing.T, src, dst string, data []byte, want outcome) []string {
	t.Helper()
	conn, err := net.ListenPacket("udp", net.JoinHostPort(src, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	raddr, err := net.ResolveUDPAddr("udp", dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.WriteTo(data, raddr); err != nil {
		t.Fatal(err)
	}
	probe := probeOptions(conn.LocalAddr().String(), "udp")
	if _, err := conn.WriteTo([]byte(probe), raddr); err != nil {
		t.Fatal(err)
	}
	var replies []string
	probed := false
	buf := make([]byte, 65535)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for !probed || (want.code != 0 && len(finalReplies(replies)) == 0) {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("answers incomplete (probe answered: %v): %v; so far %q", probed, err, replies)
		}
		msg := string(buf[:n])
		if strings.Contains(msg, probeCallID) {
			probed = probed || statusOf(msg) >= 200
			continue
		}
		replies = append(replies, msg)
	}
	return replies
}

const probeCallID = "torture-probe-call-id"

var probeSeq atomic.Int64

// probeOptions is a valid OPTIONS with a fresh branch (the switch answers it 200).
func probeOptions(local, transport string) string {
	branch := "z9hG4bK-torture-probe-" + strconv.FormatInt(probeSeq.Add(1), 10)
	return "OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/" + strings.ToUpper(transport) + " " + local + ";branch=" + branch + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:probe@127.0.0.1>;tag=probe\r\n" +
		"To: <sip:probe@127.0.0.1>\r\n" +
		"Call-ID: " + probeCallID + "\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n"
}

// tcpTorture sends data on a fresh connection from src. When the switch must keep the
// connection open (want.close false) a probe OPTIONS follows on the same connection and
// the answers before its own are returned. Otherwise the client half-closes and reads
// until the switch closes (eof true) or 5 s pass.
func tcpTorture(t *testing.T, src, dst string, data []byte, want outcome) ([]string, bool) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 3 * time.Second}
	conn, err := d.Dial("tcp", dst)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(data); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	var replies []string
	if !want.close {
		if _, err := conn.Write([]byte(probeOptions(conn.LocalAddr().String(), "tcp"))); err != nil {
			t.Fatal(err)
		}
		probed := false
		for !probed || (want.code != 0 && len(finalReplies(replies)) == 0) {
			msg, err := readTCPMessage(r)
			if err != nil {
				t.Fatalf("answers incomplete (probe answered: %v): %v; so far %q", probed, err, replies)
			}
			if strings.Contains(msg, probeCallID) {
				probed = probed || statusOf(msg) >= 200
				continue
			}
			replies = append(replies, msg)
		}
		return replies, false
	}
	if want.code == 0 {
		// clerr/baddn: the switch waits for bytes that never come; end our side so it sees
		// EOF instead of waiting for its read timeout.
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}
	probed := want.code == 0
	for {
		msg, err := readTCPMessage(r)
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
			return replies, true
		}
		if err != nil {
			t.Fatalf("connection neither closed nor answered: %v; so far %q", err, replies)
		}
		if strings.Contains(msg, probeCallID) {
			t.Fatalf("probe answered on a connection that must close: %q", msg)
		}
		replies = append(replies, msg)
		if !probed && len(finalReplies(replies)) >= max(want.finals, 1) {
			// The answers are in; whatever comes next must be refused by closing.
			probed = true
			_, _ = conn.Write([]byte(probeOptions(conn.LocalAddr().String(), "tcp")))
		}
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// readTCPMessage reads one SIP message framed by Content-Length.
func readTCPMessage(r *bufio.Reader) (string, error) {
	var b strings.Builder
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if b.Len() == 0 && line == "" {
				return "", err
			}
			return b.String() + line, err
		}
		if b.Len() == 0 && line == "\r\n" {
			continue
		}
		b.WriteString(line)
		if line == "\r\n" {
			break
		}
		name, val, ok := strings.Cut(line, ":")
		if ok && (strings.EqualFold(strings.TrimSpace(name), "Content-Length") || strings.EqualFold(strings.TrimSpace(name), "l")) {
			length, _ = strconv.Atoi(strings.TrimSpace(val))
		}
	}
	if length > 0 {
		body := make([]byte, length)
		if _, err := io.ReadFull(r, body); err != nil {
			return b.String(), err
		}
		b.Write(body)
	}
	return b.String(), nil
}

func finalReplies(replies []string) []string {
	var out []string
	for _, r := range replies {
		if statusOf(r) >= 200 {
			out = append(out, r)
		}
	}
	return out
}

// statusOf is the status code of a response (0 when it is not one).
func statusOf(msg string) int {
	if !strings.HasPrefix(msg, "SIP/2.0 ") || len(msg) < 11 {
		return 0
	}
	n, err := strconv.Atoi(msg[8:11])
	if err != nil {
		return 0
	}
	return n
}

func firstLine(msg string) string {
	line, _, _ := strings.Cut(msg, "\r\n")
	return line
}

// headerLine returns the value of the first header called name (long form) in a raw message.
func headerLine(msg, name string) string {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	for _, l := range strings.Split(head, "\r\n")[1:] {
		n, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(n), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
