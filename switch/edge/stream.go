package edge

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// maxStreamMessage bounds one SIP message on a stream (sipgo's ParseMaxMessageLength).
const maxStreamMessage = 65535

// pendingTTL is how long the partial message of a silent connection is kept; sipgo closes
// such connections on its own read timeout, and this is only the memory bound.
const pendingTTL = 2 * time.Minute

// errStreamFraming makes sipgo close a TCP connection whose framing cannot be trusted.
var errStreamFraming = errors.New("sip stream framing error")

// streamFramer frames TCP byte streams into messages before sipgo sees them, so that each
// message can be screened like a datagram and answered (400, 416, 501, 505) instead of
// sipgo closing the connection on the first parse error. Framing errors (no, negative,
// conflicting or oversize Content-Length: RFC 4475 ncl, mcl01) get a 400 and then the
// connection is closed; an incomplete body (clerr) waits for more bytes.
type streamFramer struct {
	screen    func(msg []byte) (reply []byte, pass bool)
	mu        sync.Mutex
	pending   map[string]*pendingStream
	lastSweep time.Time
}

// pendingStream is the unfinished message of one connection. addr is the connection's
// RemoteAddr value: a new connection reusing the same address pair gets a new one.
type pendingStream struct {
	addr     net.Addr
	buf      []byte
	seen     time.Time
	poisoned bool // a framing error followed messages already handed to sipgo: close on the next read
}

func newStreamFramer(screen func([]byte) ([]byte, bool)) *streamFramer {
	return &streamFramer{screen: screen, pending: map[string]*pendingStream{}}
}

// filter takes one TCP read and returns the complete, accepted messages in it (nil while a
// message is incomplete). Replies go out through write. A non-nil error closes the connection.
func (f *streamFramer) filter(props sip.TransportReadProps, data []byte, now time.Time, write func(sip.TransportReadProps, []byte)) ([]byte, error) {
	key := addrString(props.LocalAddr) + "|" + addrString(props.RemoteAddr)
	f.mu.Lock()
	p := f.pending[key]
	if p != nil {
		delete(f.pending, key)
		if p.addr != props.RemoteAddr {
			p = nil // a new connection on a reused address pair
		}
	}
	f.mu.Unlock()
	if p != nil && p.poisoned {
		return nil, fmt.Errorf("%w: after an earlier framing error", errStreamFraming)
	}

	buf := data
	if p != nil {
		buf = append(p.buf, data...)
	}
	var out []byte
	whole := p == nil // every byte so far is passed unchanged: data can be returned as is
	rest := buf
	for len(rest) > 0 {
		skip := 0
		for skip+1 < len(rest) && rest[skip] == '\r' && rest[skip+1] == '\n' {
			skip += 2
		}
		if skip == len(rest) {
			break // CRLF keepalives: sipgo answers a double CRLF with a pong
		}
		hdrEnd := bytes.Index(rest[skip:], []byte("\r\n\r\n"))
		if hdrEnd < 0 {
			if len(rest) > maxStreamMessage {
				if reply := statelessReply(rest[skip:], 400, "Bad Request", `Warning: 399 switchyard "Message too large"`); reply != nil {
					write(props, reply)
				}
				return nil, fmt.Errorf("%w: header section over %d bytes", errStreamFraming, maxStreamMessage)
			}
			break
		}
		head := rest[skip : skip+hdrEnd+2]
		cl, err := streamContentLength(head)
		if err == nil && skip+hdrEnd+4+cl > maxStreamMessage {
			err = fmt.Errorf("message of %d bytes is over %d", skip+hdrEnd+4+cl, maxStreamMessage)
		}
		if err != nil {
			if reply := statelessReply(head, 400, "Bad Request", `Warning: 399 switchyard "`+err.Error()+`"`); reply != nil {
				write(props, reply)
			}
			if len(out) == 0 {
				return nil, fmt.Errorf("%w: %v", errStreamFraming, err)
			}
			// Hand over the messages before the error; the connection closes on its next read.
			f.mu.Lock()
			f.pending[key] = &pendingStream{addr: props.RemoteAddr, seen: now, poisoned: true}
			f.sweep(now)
			f.mu.Unlock()
			return out, nil
		}
		total := skip + hdrEnd + 4 + cl
		if len(rest) < total {
			break
		}
		msg := tidyParams(rest[skip:total])
		if len(msg) != total-skip {
			whole = false // the message was rewritten: return out, not data
		}
		reply, pass := f.screen(msg)
		if reply != nil {
			write(props, reply)
		}
		if pass {
			out = append(out, rest[:skip]...)
			out = append(out, msg...)
		} else {
			whole = false
		}
		rest = rest[total:]
	}
	if len(rest) > 0 && bytes.Count(rest, []byte("\r\n"))*2 != len(rest) {
		// Keep the unfinished message (a copy: sipgo reuses data's buffer).
		f.mu.Lock()
		f.pending[key] = &pendingStream{addr: props.RemoteAddr, buf: append([]byte(nil), rest...), seen: now}
		f.sweep(now)
		f.mu.Unlock()
		whole = false
	}
	if whole {
		return data, nil
	}
	return out, nil
}

// sweep forgets partial messages of connections silent for pendingTTL (closed mid-message).
// Called with f.mu held.
func (f *streamFramer) sweep(now time.Time) {
	if now.Sub(f.lastSweep) < pendingTTL/4 {
		return
	}
	f.lastSweep = now
	for k, p := range f.pending {
		if now.Sub(p.seen) > pendingTTL {
			delete(f.pending, k)
		}
	}
}

// streamContentLength reads the Content-Length ("l" compact) of a raw header section ending
// in CRLF. On a stream it is mandatory (RFC 3261 §18.3); negative, non-numeric or repeated
// with different values is a framing error (RFC 4475 ncl, mcl01).
func streamContentLength(head []byte) (int, error) {
	found := -1
	for len(head) > 0 {
		i := bytes.Index(head, []byte("\r\n"))
		if i < 0 {
			break
		}
		line := head[:i]
		head = head[i+2:]
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimRight(name, " \t")
		if !bytes.EqualFold(name, []byte("content-length")) && !bytes.EqualFold(name, []byte("l")) {
			continue
		}
		for len(head) > 0 && (head[0] == ' ' || head[0] == '\t') { // folded value
			j := bytes.Index(head, []byte("\r\n"))
			if j < 0 {
				j = len(head)
			}
			val = append(append([]byte(nil), val...), head[:j]...)
			head = head[min(j+2, len(head)):]
		}
		v := strings.TrimSpace(string(val))
		n, err := strconv.ParseUint(v, 10, 31)
		if err != nil || v == "" || v[0] == '+' {
			return 0, fmt.Errorf("bad Content-Length %s", truncate(v, 20))
		}
		if found >= 0 && int(n) != found {
			return 0, errors.New("conflicting Content-Length values")
		}
		found = int(n)
	}
	if found < 0 {
		return 0, errors.New("missing Content-Length")
	}
	return found, nil
}

// pendingStreams is the number of connections with a partial message (for tests and stats).
func (f *streamFramer) pendingStreams() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pending)
}
