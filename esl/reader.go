package esl

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Limits bound what the reader accepts. Zero fields take the defaults.
type Limits struct {
	MaxLine        int // bytes per line, default 16 KiB
	MaxHeaders     int // lines per block, default 256
	MaxHeaderBytes int // bytes per header block, default 64 KiB
	MaxBody        int // body bytes, default 16 MiB (FreeSWITCH's limit)
}

// Default limits.
const (
	DefaultMaxLine        = 16 << 10
	DefaultMaxHeaders     = 256
	DefaultMaxHeaderBytes = 64 << 10
	DefaultMaxBody        = 16 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxLine <= 0 {
		l.MaxLine = DefaultMaxLine
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultMaxHeaders
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxBody <= 0 {
		l.MaxBody = DefaultMaxBody
	}
	return l
}

// Frame is one message: ordered headers and an optional body (Content-Length bytes).
type Frame struct {
	Headers []Header
	Body    []byte
}

// Get returns the first header whose name matches case-insensitively ("" if none).
func (f *Frame) Get(name string) string {
	for _, h := range f.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Has reports whether a header is present (case-insensitive name).
func (f *Frame) Has(name string) bool {
	for _, h := range f.Headers {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

// Command is one client command: the command line, its headers and body.
type Command struct {
	Line    string
	Headers []Header
	Body    []byte
}

// Get returns the first header whose name matches case-insensitively ("" if none).
func (c *Command) Get(name string) string {
	f := Frame{Headers: c.Headers}
	return f.Get(name)
}

// Reader reads frames and commands from a stream. It is not safe for concurrent use.
type Reader struct {
	br  *bufio.Reader
	lim Limits
}

// NewReader returns a reader with the given limits (zero fields = defaults).
func NewReader(r io.Reader, lim Limits) *Reader {
	lim = lim.withDefaults()
	return &Reader{br: bufio.NewReaderSize(r, 4096), lim: lim}
}

// readLine reads one line without its LF (and a trailing CR), enforcing MaxLine without
// buffering more than MaxLine bytes.
func (r *Reader) readLine() (string, error) {
	var buf []byte
	for {
		frag, err := r.br.ReadSlice('\n')
		if len(buf)+len(frag) > r.lim.MaxLine+2 { // +2 for CRLF
			return "", ErrLineTooLong
		}
		buf = append(buf, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		break
	}
	buf = bytes.TrimRight(buf, "\r\n")
	if len(buf) > r.lim.MaxLine {
		return "", ErrLineTooLong
	}
	return string(buf), nil
}

// readBlock skips leading blank lines (CR/LF only) and returns the lines up to the empty line
// that ends the block. CR is ignored when finding the end (PROTOCOL §1.3 rules 1, 2).
func (r *Reader) readBlock() ([]string, error) {
	var lines []string
	total := 0
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && len(lines) > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if line == "" || strings.Trim(line, "\r") == "" {
			if len(lines) == 0 {
				continue
			}
			return lines, nil
		}
		total += len(line) + 1
		if total > r.lim.MaxHeaderBytes {
			return nil, ErrHeaderTooLarge
		}
		if len(lines) >= r.lim.MaxHeaders {
			return nil, ErrTooManyHeaders
		}
		lines = append(lines, line)
	}
}

// parseHeader splits "Name: value": name before the first ':', value with leading spaces
// skipped. ok is false for lines without ':' (ignored, §1.3 rule 4).
func parseHeader(line string) (Header, bool) {
	i := strings.IndexByte(line, ':')
	if i <= 0 {
		return Header{}, false
	}
	return Header{Name: line[:i], Value: strings.TrimLeft(line[i+1:], " \t")}, true
}

// ParseContentLength parses a Content-Length value: 1 to 9 decimal digits, at most max. It
// never allocates a body for a bad value.
func ParseContentLength(v string, max int) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 9 {
		return 0, fmt.Errorf("%w: %q", ErrBadContentLength, truncate(v, 32))
	}
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %q", ErrBadContentLength, truncate(v, 32))
		}
		n = n*10 + int(c-'0')
	}
	if n > max {
		return 0, fmt.Errorf("%w: %d > %d", ErrBodyTooLarge, n, max)
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func (r *Reader) readBody(v string) ([]byte, error) {
	n, err := ParseContentLength(v, r.lim.MaxBody)
	if err != nil || n == 0 {
		return nil, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r.br, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read body of %d bytes: %w", n, err)
	}
	return body, nil
}

// ReadFrame reads one server→client message: every line of the block is a header, then a body
// if Content-Length is present. Empty header values are kept.
func (r *Reader) ReadFrame() (*Frame, error) {
	lines, err := r.readBlock()
	if err != nil {
		return nil, err
	}
	f := &Frame{Headers: make([]Header, 0, len(lines))}
	for _, l := range lines {
		if h, ok := parseHeader(l); ok {
			f.Headers = append(f.Headers, h)
		}
	}
	if f.Has("Content-Length") {
		if f.Body, err = r.readBody(f.Get("Content-Length")); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// ReadCommand reads one client→server command: the first line is the command, the others are
// headers (lines without ':' ignored, empty values dropped, names case-insensitive), then the
// body if Content-Length is present (PROTOCOL §1.3).
func (r *Reader) ReadCommand() (*Command, error) {
	lines, err := r.readBlock()
	if err != nil {
		return nil, err
	}
	c := &Command{Line: lines[0]}
	for _, l := range lines[1:] {
		if h, ok := parseHeader(l); ok && h.Value != "" {
			c.Headers = append(c.Headers, h)
		}
	}
	if v := c.Get("Content-Length"); v != "" {
		if c.Body, err = r.readBody(v); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Has reports whether a header is present (case-insensitive name).
func (c *Command) Has(name string) bool {
	f := Frame{Headers: c.Headers}
	return f.Has(name)
}
