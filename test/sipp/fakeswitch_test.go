package sipptest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeSwitch imitates the Switchyard contract that the scenarios are written
// against: unknown From host -> 403 without challenge; REGISTER -> 401 (MD5
// challenge first, SHA-256 second) -> 200 with the Contact's expires; INVITE ->
// 407 -> authenticated INVITE -> behaviour chosen by the dialled user.
type fakeSwitch struct {
	t     testing.TB
	udp   net.PacketConn
	tcp   net.Listener
	users map[string]map[string]string // domain -> account -> password
	plan  map[string]string            // dialled user -> "answer", "ring" or a final code ("404", "503", ...)
	done  chan struct{}                // closed at test end

	mu         sync.Mutex
	nonces     map[string]bool
	invites    map[string]*sipMsg // Call-ID -> authenticated INVITE waiting for CANCEL
	bindings   map[string]string  // account@domain -> Contact
	challenges int
	authOK     int
	authFailed []string
	byes       int
}

func newFakeSwitch(t testing.TB, users map[string]map[string]string, plan map[string]string) *fakeSwitch {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen tcp: %v", err)
	}
	s := &fakeSwitch{t: t, udp: pc, tcp: ln, users: users, plan: plan, done: make(chan struct{}),
		nonces: map[string]bool{}, invites: map[string]*sipMsg{}, bindings: map[string]string{}}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.serveUDP() }()
	go func() { defer wg.Done(); s.serveTCP(&wg) }()
	t.Cleanup(func() {
		close(s.done)
		_ = pc.Close()
		_ = ln.Close()
		wg.Wait()
	})
	return s
}

func (s *fakeSwitch) udpAddr() string { return s.udp.LocalAddr().String() }
func (s *fakeSwitch) tcpAddr() string { return s.tcp.Addr().String() }

func (s *fakeSwitch) serveUDP() {
	buf := make([]byte, 65535)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		msg, err := parseSIP(append([]byte(nil), buf[:n]...))
		if err != nil {
			s.t.Logf("fake switch: drop bad datagram: %v", err)
			continue
		}
		s.handle(msg, func(r *sipMsg) { _, _ = s.udp.WriteTo(r.bytes(), from) })
	}
}

func (s *fakeSwitch) serveTCP(wg *sync.WaitGroup) {
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(c)
		}()
	}
}

// serveConn reads Content-Length framed messages from one TCP connection.
func (s *fakeSwitch) serveConn(c net.Conn) {
	defer c.Close()
	go func() { // close the connection when the server shuts down
		<-s.done
		_ = c.Close()
	}()
	var wmu sync.Mutex
	send := func(r *sipMsg) {
		wmu.Lock()
		defer wmu.Unlock()
		_, _ = c.Write(r.bytes())
	}
	br := bufio.NewReader(c)
	for {
		raw, err := readFramed(br)
		if err != nil {
			return
		}
		msg, err := parseSIP(raw)
		if err != nil {
			s.t.Logf("fake switch: bad TCP message: %v", err)
			return
		}
		s.handle(msg, send)
	}
}

func readFramed(br *bufio.Reader) ([]byte, error) {
	tp := textproto.NewReader(br)
	var head []string
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return nil, err
		}
		if line == "" {
			if len(head) == 0 {
				continue // keep-alive CRLF
			}
			break
		}
		head = append(head, line)
	}
	n := 0
	for _, l := range head[1:] {
		name, v, _ := strings.Cut(l, ":")
		if c := canonical(name); c == "content-length" {
			var err error
			if n, err = strconv.Atoi(strings.TrimSpace(v)); err != nil || n < 0 {
				return nil, fmt.Errorf("bad Content-Length %q", v)
			}
		}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, err
	}
	return append([]byte(strings.Join(head, "\r\n")+"\r\n\r\n"), body...), nil
}

func newToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *fakeSwitch) handle(m *sipMsg, send func(*sipMsg)) {
	if !m.isRequest() {
		return
	}
	domain := uriHost(m.get("from"))
	switch m.method() {
	case "ACK":
		return
	case "BYE":
		s.mu.Lock()
		s.byes++
		s.mu.Unlock()
		send(newResponse(m, 200, "OK", ""))
		return
	case "CANCEL":
		s.mu.Lock()
		inv := s.invites[m.get("call-id")]
		delete(s.invites, m.get("call-id"))
		s.mu.Unlock()
		send(newResponse(m, 200, "OK", "fs"))
		if inv != nil {
			send(newResponse(inv, 487, "Request Terminated", "fs"))
		}
		return
	}
	if _, ok := s.users[domain]; !ok {
		send(newResponse(m, 403, "Forbidden", "fs"))
		return
	}
	authHdr, challengeHdr, code, reason := "authorization", "WWW-Authenticate", 401, "Unauthorized"
	if m.method() != "REGISTER" {
		authHdr, challengeHdr, code, reason = "proxy-authorization", "Proxy-Authenticate", 407, "Proxy Authentication Required"
	}
	cred := m.get(authHdr)
	if cred == "" {
		nonce := newToken()
		s.mu.Lock()
		s.nonces[nonce] = true
		s.challenges++
		s.mu.Unlock()
		r := newResponse(m, code, reason, "fs")
		r.add(challengeHdr, fmt.Sprintf(`Digest realm="%s", nonce="%s", qop="auth", algorithm=MD5`, domain, nonce))
		r.add(challengeHdr, fmt.Sprintf(`Digest realm="%s", nonce="%s", qop="auth", algorithm=SHA-256`, domain, nonce))
		send(r)
		return
	}
	if err := s.verify(m, cred, domain); err != nil {
		s.mu.Lock()
		s.authFailed = append(s.authFailed, err.Error())
		s.mu.Unlock()
		send(newResponse(m, 403, "Forbidden", "fs"))
		return
	}
	s.mu.Lock()
	s.authOK++
	s.mu.Unlock()
	if m.method() == "REGISTER" {
		s.register(m, domain, send)
		return
	}
	s.invite(m, send)
}

func (s *fakeSwitch) verify(m *sipMsg, cred, domain string) error {
	p, err := digestParams(cred)
	if err != nil {
		return err
	}
	if alg := p["algorithm"]; alg != "" && !strings.EqualFold(alg, "MD5") {
		return fmt.Errorf("algorithm %q, want MD5", alg)
	}
	if p["realm"] != domain {
		return fmt.Errorf("realm %q, want %q", p["realm"], domain)
	}
	s.mu.Lock()
	known := s.nonces[p["nonce"]]
	s.mu.Unlock()
	if !known {
		return fmt.Errorf("unknown nonce %q", p["nonce"])
	}
	user := p["username"]
	if user != uriUser(m.get("from")) {
		return fmt.Errorf("username %q is not the From user", user)
	}
	pw, ok := s.users[domain][user]
	if !ok {
		return fmt.Errorf("unknown account %q@%s", user, domain)
	}
	if want := digestMD5(user, domain, pw, m.method(), p); p["response"] != want {
		return fmt.Errorf("bad digest response for %q (uri %q)", user, p["uri"])
	}
	return nil
}

func (s *fakeSwitch) register(m *sipMsg, domain string, send func(*sipMsg)) {
	contact := m.get("contact")
	expires := m.get("expires")
	if expires == "" {
		expires = "3600"
	}
	s.mu.Lock()
	key := uriUser(m.get("from")) + "@" + domain
	if expires == "0" {
		delete(s.bindings, key)
	} else {
		s.bindings[key] = contact
	}
	s.mu.Unlock()
	r := newResponse(m, 200, "OK", "fs")
	if expires != "0" {
		r.add("Contact", contact+";expires="+expires)
	}
	send(r)
}

func (s *fakeSwitch) invite(m *sipMsg, send func(*sipMsg)) {
	send(newResponse(m, 100, "Trying", ""))
	action := s.plan[uriUser(m.requestURI())]
	switch action {
	case "answer":
		send(newResponse(m, 180, "Ringing", "fs"))
		ok := newResponse(m, 200, "OK", "fs")
		ok.add("Contact", "<sip:b2bua@"+s.udpAddr()+">")
		ok.add("Content-Type", "application/sdp")
		ok.body = []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n")
		send(ok)
	case "ring":
		s.mu.Lock()
		s.invites[m.get("call-id")] = m
		s.mu.Unlock()
		send(newResponse(m, 180, "Ringing", "fs"))
	case "503-bare": // a limit rejection without the Reason header
		send(newResponse(m, 503, "Service Unavailable", "fs"))
	default:
		code, err := strconv.Atoi(action)
		if err != nil {
			code = 404
		}
		r := newResponse(m, code, reasonPhrase(code), "fs")
		if code == 503 {
			r.add("Reason", `SIP;cause=503;text="active call limit"`)
		}
		send(r)
	}
}

func reasonPhrase(code int) string {
	switch code {
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 503:
		return "Service Unavailable"
	}
	return "Failed"
}

// snapshot returns counters for assertions.
func (s *fakeSwitch) snapshot() (challenges, authOK, byes int, failed []string, bindings map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := make(map[string]string, len(s.bindings))
	for k, v := range s.bindings {
		b[k] = v
	}
	return s.challenges, s.authOK, s.byes, append([]string(nil), s.authFailed...), b
}

var errNoBinding = errors.New("no binding")

// contactAddr returns host:port of the registered Contact of account@domain.
func (s *fakeSwitch) contactAddr(account, domain string) (string, error) {
	s.mu.Lock()
	c, ok := s.bindings[account+"@"+domain]
	s.mu.Unlock()
	if !ok {
		return "", errNoBinding
	}
	v := strings.TrimPrefix(strings.Trim(c, "<>"), "sip:")
	v = strings.TrimPrefix(v, "<sip:")
	if i := strings.Index(v, "@"); i >= 0 {
		v = v[i+1:]
	}
	v, _, _ = strings.Cut(v, ";")
	v, _, _ = strings.Cut(v, ">")
	return v, nil
}
