package edge

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/rs/zerolog"
)

// FuzzEdgeRequest drives the raw inbound path the way the transports do: the UDP read filter
// (guard screen, stateless replies, forced rport) then sipgo's parse and validate() on what
// passes; and the TCP framer on the same bytes cut into two segments. Seeds: the 50 RFC 4475
// files. Failure = panic, a reply that sipgo cannot parse, or a passed message that no longer
// parses. Plain `go test` runs the seeds only.
func FuzzEdgeRequest(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(tortureDir, "*.dat"))
	if err != nil || len(files) != 50 {
		f.Fatalf("want the 50 RFC 4475 files in %s, got %d (%v)", tortureDir, len(files), err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint16(len(data)/2))
	}
	parser := sip.NewParser()
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		g, err := newGuard(SecurityOptions{}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		e := &Edge{log: zerolog.Nop(), guard: g}
		udp := sip.TransportReadProps{Transport: "UDP", RemoteAddr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 5060}}
		in := append([]byte(nil), data...)
		out, ferr := e.readFilter(udp, in)
		if ferr != nil {
			t.Fatalf("UDP filter returned an error (sipgo would stop reading): %v", ferr)
		}
		if !bytes.Equal(in, data) {
			t.Fatal("the filter modified its input in place")
		}
		reply, _ := g.screen(data)
		if reply != nil {
			if _, err := parser.ParseSIP(reply); err != nil && !strings.Contains(err.Error(), "uri") {
				// Headers are echoed verbatim, so a reply inherits their syntax; only the
				// framing (status line, CRLFs, Content-Length) is ours and must be sound.
				if !bytes.HasPrefix(reply, []byte("SIP/2.0 ")) || !bytes.HasSuffix(reply, []byte("Content-Length: 0\r\n\r\n")) {
					t.Fatalf("malformed reply framing: %q", reply)
				}
			}
		}
		if len(out) > 0 && len(bytes.Trim(out, "\r\n\x00 ")) > 0 {
			msg, err := parser.ParseSIP(out)
			if err != nil {
				t.Fatalf("filter passed a message sipgo cannot parse: %v", err)
			}
			if req, ok := msg.(*sip.Request); ok {
				_ = validate(req)
			}
		}

		// TCP: the same bytes as a stream in two segments.
		tcp := sip.TransportReadProps{Transport: "TCP", LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060},
			RemoteAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 40000}}
		c := int(cut) % (len(data) + 1)
		write := func(sip.TransportReadProps, []byte) {}
		now := time.Now()
		for _, seg := range [][]byte{data[:c], data[c:]} {
			if len(seg) == 0 {
				continue
			}
			passed, err := g.streams.filter(tcp, append([]byte(nil), seg...), now, write)
			if err != nil {
				break
			}
			if len(passed) > 0 {
				stream := parser.NewSIPStream()
				if err := stream.ParseSIPStream(passed, func(sip.Message) {}); err != nil && err != sip.ErrParseSipPartial {
					t.Fatalf("framer passed bytes sipgo's stream parser rejects: %v: %q", err, passed)
				}
			}
		}
	})
}
