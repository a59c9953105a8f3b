package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Switch is the switch under test: addresses and, when spawned, the child process.
type Switch struct {
	SIP     string // UDP host:port
	Admin   string // base URL
	Token   string
	ESL     string
	Version string
	PID     int // 0 when not spawned

	cmd     *exec.Cmd
	dataDir string
	done    chan struct{}
	waitErr error
	tailMu  sync.Mutex
	tail    []string // last stderr lines, for error messages
}

// startedLine is the fields of the switch's "switchyard started" log line.
type startedLine struct {
	Message string `json:"message"`
	HTTP    string `json:"http"`
	SIPUDP  string `json:"sip_udp"`
	ESL     string `json:"esl"`
	Version string `json:"version"`
}

// spawnSwitch starts binary as `serve` on 127.0.0.1 random ports with a temp data dir, a fresh
// operator token and allow as the flood/ban allowlist, and waits for its started line.
func spawnSwitch(ctx context.Context, binary string, allow []string) (*Switch, error) {
	if binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("spawn: find this executable: %w", err)
		}
		binary = exe
	}
	dir, err := os.MkdirTemp("", "switchyard-bench-")
	if err != nil {
		return nil, fmt.Errorf("spawn: temp data dir: %w", err)
	}
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	s := &Switch{Token: "bench-" + hex.EncodeToString(tok), dataDir: dir, done: make(chan struct{})}
	s.cmd = exec.Command(binary, "serve", "--data", dir, "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0",
		"--esl", "127.0.0.1:0", "--admin-token", s.Token, "--allow", strings.Join(allow, ","),
		"--log-format", "json", "--log-level", "info")
	s.cmd.Env = cleanEnv(os.Environ())
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("spawn: stderr pipe: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("spawn %s: %w", binary, err)
	}
	s.PID = s.cmd.Process.Pid
	started := make(chan startedLine, 1)
	go s.readLog(stderr, started)
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case st := <-started:
		s.SIP, s.Admin, s.ESL, s.Version = st.SIPUDP, "http://"+st.HTTP, st.ESL, st.Version
		return s, nil
	case <-s.done:
		err = fmt.Errorf("spawn: switch exited before starting (%v): %s", s.waitErr, s.lastLines())
	case <-timer.C:
		err = fmt.Errorf("spawn: switch did not start within 30s: %s", s.lastLines())
	case <-ctx.Done():
		err = fmt.Errorf("spawn: %w", ctx.Err())
	}
	_ = s.Stop()
	return nil, err
}

// cleanEnv drops SWITCHYARD_* settings so the child runs on its command line only.
func cleanEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "SWITCHYARD_") {
			out = append(out, kv)
		}
	}
	return out
}

// readLog drains the child's stderr (it must never block on a full pipe), reports the started
// line once and keeps the last lines for diagnostics.
func (s *Switch) readLog(r io.Reader, started chan<- startedLine) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		if !sent && strings.Contains(line, "switchyard started") {
			var st startedLine
			if json.Unmarshal([]byte(line), &st) == nil && st.Message == "switchyard started" && st.SIPUDP != "" {
				started <- st
				sent = true
				continue
			}
		}
		if strings.Contains(line, `"level":"error"`) || strings.Contains(line, `"level":"fatal"`) || !sent {
			s.tailMu.Lock()
			s.tail = append(s.tail, line)
			if len(s.tail) > 20 {
				s.tail = s.tail[len(s.tail)-20:]
			}
			s.tailMu.Unlock()
		}
	}
}

func (s *Switch) lastLines() string {
	s.tailMu.Lock()
	defer s.tailMu.Unlock()
	if len(s.tail) == 0 {
		return "(no output)"
	}
	return strings.Join(s.tail, "\n")
}

// Errors returns the error-level log lines the spawned switch wrote (the last 20).
func (s *Switch) Errors() []string {
	s.tailMu.Lock()
	defer s.tailMu.Unlock()
	var out []string
	for _, l := range s.tail {
		if strings.Contains(l, `"level":"error"`) || strings.Contains(l, `"level":"fatal"`) {
			out = append(out, l)
		}
	}
	return out
}

// Stop ends a spawned switch (SIGTERM, then SIGKILL after 15 s) and removes its data dir. It
// does nothing for a --target switch.
func (s *Switch) Stop() error {
	if s == nil || s.cmd == nil {
		return nil
	}
	defer os.RemoveAll(s.dataDir)
	select {
	case <-s.done:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop switch pid %d: %w", s.PID, err)
	}
	timer := time.NewTimer(15 * time.Second)
	defer timer.Stop()
	select {
	case <-s.done:
		return nil
	case <-timer.C:
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("stop switch pid %d: killed after 15s without exiting", s.PID)
	}
}

// Exited reports whether a spawned switch has exited.
func (s *Switch) Exited() bool {
	if s == nil || s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}
