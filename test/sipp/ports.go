package sipptest

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// FreePort returns a port that is free for both UDP and TCP on ip. Another
// process may still take it before SIPp binds it; Start reports that as a
// bind error.
func FreePort(ip string) (int, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp4", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, fmt.Errorf("find free port on %s: %w", ip, err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp4", net.JoinHostPort(ip, strconv.Itoa(port)))
		_ = pc.Close()
		if err != nil {
			lastErr = err
			continue
		}
		_ = ln.Close()
		return port, nil
	}
	return 0, fmt.Errorf("find free port on %s: %w", ip, lastErr)
}

// awaitBound waits until SIPp has bound its SIP socket, reading the kernel's
// socket tables so that the probe never competes with SIPp for the port.
func (p *Process) awaitBound(ctx context.Context) error {
	table, listenOnly := "/proc/net/udp", false
	if p.opts.Transport == TransportTCP || p.opts.Transport == "tn" {
		table, listenOnly = "/proc/net/tcp", true
	}
	want, err := procAddr(p.opts.LocalIP, p.opts.LocalPort)
	if err != nil {
		return err
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		bound, err := socketBound(table, want, listenOnly)
		if err != nil {
			return fmt.Errorf("wait for sipp on %s: %w", p.Addr(), err)
		}
		if bound {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("sipp exited (code %d) before binding %s: %s",
				p.cmd.ProcessState.ExitCode(), p.Addr(), tail(p.stderr.String()))
		case <-ctx.Done():
			return fmt.Errorf("wait for sipp on %s: %w", p.Addr(), ctx.Err())
		case <-tick.C:
		}
	}
}

// procAddr renders ip:port the way /proc/net/{udp,tcp} shows local addresses
// (little-endian hex IPv4, big-endian hex port), e.g. "0300007F:13C4".
func procAddr(ip string, port int) (string, error) {
	v4 := net.ParseIP(ip).To4()
	if v4 == nil {
		return "", fmt.Errorf("address %q is not IPv4", ip)
	}
	le := []byte{v4[3], v4[2], v4[1], v4[0]}
	return strings.ToUpper(hex.EncodeToString(le)) + fmt.Sprintf(":%04X", port), nil
}

// socketBound reports whether table lists a socket bound to addr (in LISTEN
// state when listenOnly).
func socketBound(table, addr string, listenOnly bool) (bool, error) {
	f, err := os.Open(table)
	if err != nil {
		return false, fmt.Errorf("read socket table: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[1] != addr {
			continue
		}
		if !listenOnly || fields[3] == "0A" {
			return true, nil
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("read socket table: %w", err)
	}
	return false, nil
}
