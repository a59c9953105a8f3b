package baresiptest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// MaxFrame is the largest netstring payload ReadNetstring accepts by default; baresip's
// ctrl_tcp replies and events are a few hundred bytes.
const MaxFrame = 1 << 20

// ErrFrame reports a malformed netstring.
var ErrFrame = errors.New("malformed netstring")

// AppendNetstring appends payload framed as a netstring ("<len>:<payload>,") to dst.
func AppendNetstring(dst, payload []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(payload)), 10)
	dst = append(dst, ':')
	dst = append(dst, payload...)
	return append(dst, ',')
}

// ReadNetstring reads one netstring from r and returns its payload. max bounds the payload
// length (MaxFrame when max <= 0). A clean end of input before the first byte returns io.EOF;
// any other defect wraps ErrFrame (or io.ErrUnexpectedEOF when the input stops mid-frame).
func ReadNetstring(r *bufio.Reader, max int) ([]byte, error) {
	if max <= 0 {
		max = MaxFrame
	}
	n, digits := 0, 0
	for {
		c, err := r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if digits == 0 {
					return nil, io.EOF
				}
				return nil, fmt.Errorf("netstring length: %w", io.ErrUnexpectedEOF)
			}
			return nil, fmt.Errorf("netstring length: %w", err)
		}
		if c == ':' {
			break
		}
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("%w: byte %q in the length", ErrFrame, c)
		}
		if digits == 1 && n == 0 {
			return nil, fmt.Errorf("%w: length has a leading zero", ErrFrame)
		}
		n = n*10 + int(c-'0')
		digits++
		if n > max {
			return nil, fmt.Errorf("%w: length exceeds %d bytes", ErrFrame, max)
		}
	}
	if digits == 0 {
		return nil, fmt.Errorf("%w: empty length", ErrFrame)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("netstring payload of %d bytes: %w", n, err)
	}
	if buf[n] != ',' {
		return nil, fmt.Errorf("%w: payload of %d bytes not followed by ','", ErrFrame, n)
	}
	return buf[:n], nil
}
