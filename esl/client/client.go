// Package client is a Go event socket (ESL) client: Dial, auth or userauth, API, BgAPI with
// Job-UUID matching, an event channel, SendMsg, and reconnection with back-off that
// re-subscribes. It imports only the esl codec and the standard library.
package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/esl"
)

// Errors.
var (
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("esl client: closed")
	// ErrDisconnected: the connection dropped while a command was pending.
	ErrDisconnected = errors.New("esl client: disconnected")
	// ErrAuth: the server refused the credentials.
	ErrAuth = errors.New("esl client: authentication refused")
)

// Options configure a client.
type Options struct {
	Addr     string // host:port
	Password string // for `auth`
	// User, when set, authenticates with `userauth <User>:<Password>` (User = user@domain).
	User string
	// Events are subscribed (plain) after every (re)connect; BACKGROUND_JOB is always added.
	Events []string
	// Filters are re-applied after every (re)connect: pairs of header and value.
	Filters [][2]string
	// Reconnect enables redialling with exponential back-off (MinBackoff…MaxBackoff).
	Reconnect              bool
	MinBackoff, MaxBackoff time.Duration
	// EventBuffer is the capacity of Events(); when full, events are dropped and counted.
	EventBuffer int
	DialTimeout time.Duration
}

type pending struct {
	api bool
	ch  chan *esl.Frame
}

// Client is a connected ESL client. Methods are safe for concurrent use.
type Client struct {
	opts   Options
	events chan *esl.Event

	mu      sync.Mutex
	conn    net.Conn
	queue   []pending // replies in command order
	jobs    map[string]chan *esl.Event
	closed  bool
	dropped uint64
	done    chan struct{}
	wmu     sync.Mutex // serialises command writes with queue order
}

// Dial connects and authenticates; ctx bounds the first connection only.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.EventBuffer <= 0 {
		opts.EventBuffer = 1024
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	c := &Client{opts: opts, events: make(chan *esl.Event, opts.EventBuffer), jobs: map[string]chan *esl.Event{}, done: make(chan struct{})}
	if err := c.connect(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Events delivers subscribed events (BACKGROUND_JOBs of BgAPI calls are consumed there). It is
// closed by Close, so `for e := range c.Events()` ends with the client.
func (c *Client) Events() <-chan *esl.Event { return c.events }

// Dropped is the number of events lost because Events() was full.
func (c *Client) Dropped() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

func (c *Client) connect(ctx context.Context) error {
	d := net.Dialer{Timeout: c.opts.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", c.opts.Addr)
	if err != nil {
		return fmt.Errorf("esl client: dial %s: %w", c.opts.Addr, err)
	}
	r := esl.NewReader(conn, esl.Limits{MaxBody: 64 << 20})
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	f, err := r.ReadFrame()
	if err != nil || f.Get("Content-Type") != "auth/request" {
		_ = conn.Close()
		return fmt.Errorf("esl client: expected auth/request: %v", err)
	}
	line := "auth " + c.opts.Password
	if c.opts.User != "" {
		line = "userauth " + c.opts.User + ":" + c.opts.Password
	}
	if _, err := conn.Write(esl.AppendCommand(nil, line, nil, nil)); err != nil {
		_ = conn.Close()
		return fmt.Errorf("esl client: send auth: %w", err)
	}
	f, err = r.ReadFrame()
	if err != nil || !strings.HasPrefix(f.Get("Reply-Text"), "+OK") {
		_ = conn.Close()
		return ErrAuth
	}
	_ = conn.SetDeadline(time.Time{})
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = conn.Close()
		return ErrClosed
	}
	c.conn = conn
	c.mu.Unlock()
	go c.readLoop(conn, r)
	names := append([]string{"BACKGROUND_JOB"}, c.opts.Events...)
	if _, err := c.Command(ctx, "event plain "+strings.Join(names, " "), nil, nil); err != nil {
		return err
	}
	for _, f := range c.opts.Filters {
		if _, err := c.Command(ctx, "filter "+f[0]+" "+f[1], nil, nil); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) readLoop(conn net.Conn, r *esl.Reader) {
	for {
		f, err := r.ReadFrame()
		if err != nil {
			c.lost(conn)
			return
		}
		switch ct := f.Get("Content-Type"); {
		case ct == "command/reply" || ct == "api/response":
			c.mu.Lock()
			if len(c.queue) > 0 {
				p := c.queue[0]
				c.queue = c.queue[1:]
				p.ch <- f
			}
			c.mu.Unlock()
		case ct == "text/event-plain":
			e, err := esl.ParsePlain(f.Body)
			if err != nil {
				continue
			}
			c.deliver(e)
		case ct == "text/disconnect-notice":
			if f.Get("Content-Disposition") == "linger" {
				continue
			}
		}
	}
}

func (c *Client) deliver(e *esl.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if e.Name() == "BACKGROUND_JOB" {
		if ch, ok := c.jobs[e.Get("Job-UUID")]; ok {
			delete(c.jobs, e.Get("Job-UUID"))
			ch <- e
			return
		}
	}
	select {
	case c.events <- e:
	default:
		c.dropped++
	}
}

// lost fails pending commands and, with Reconnect, redials in the background.
func (c *Client) lost(conn net.Conn) {
	_ = conn.Close()
	c.mu.Lock()
	if c.conn == conn {
		c.conn = nil
	}
	for _, p := range c.queue {
		close(p.ch)
	}
	c.queue = nil
	closed := c.closed
	c.mu.Unlock()
	if closed || !c.opts.Reconnect {
		return
	}
	go func() {
		backoff := c.opts.MinBackoff
		for {
			select {
			case <-c.done:
				return
			case <-time.After(backoff):
			}
			ctx, cancel := context.WithTimeout(context.Background(), c.opts.DialTimeout)
			err := c.connect(ctx)
			cancel()
			if err == nil || errors.Is(err, ErrClosed) {
				return
			}
			backoff = min(backoff*2, c.opts.MaxBackoff)
		}
	}()
}

// Connected reports whether a connection is up.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn != nil
}

// Command sends a raw command and returns its reply frame (command/reply or api/response).
func (c *Client) Command(ctx context.Context, line string, headers []esl.Header, body []byte) (*esl.Frame, error) {
	ch := make(chan *esl.Frame, 1)
	c.wmu.Lock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.wmu.Unlock()
		return nil, ErrClosed
	}
	conn := c.conn
	if conn == nil {
		c.mu.Unlock()
		c.wmu.Unlock()
		return nil, ErrDisconnected
	}
	c.queue = append(c.queue, pending{api: strings.HasPrefix(line, "api "), ch: ch})
	c.mu.Unlock()
	_, err := conn.Write(esl.AppendCommand(nil, line, headers, body))
	c.wmu.Unlock()
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("esl client: send %q: %w", line, err)
	}
	select {
	case f, ok := <-ch:
		if !ok {
			return nil, ErrDisconnected
		}
		return f, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// API runs `api <cmd>` and returns the body.
func (c *Client) API(ctx context.Context, cmd string) (string, error) {
	f, err := c.Command(ctx, "api "+cmd, nil, nil)
	if err != nil {
		return "", err
	}
	return string(f.Body), nil
}

func newJobUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// BgAPI runs `bgapi <cmd>` with a fresh Job-UUID and waits for its BACKGROUND_JOB; it returns
// the job id and the job's output (the event body).
func (c *Client) BgAPI(ctx context.Context, cmd string) (job, body string, err error) {
	job = newJobUUID()
	ch := make(chan *esl.Event, 1)
	c.mu.Lock()
	c.jobs[job] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.jobs, job)
		c.mu.Unlock()
	}()
	f, err := c.Command(ctx, "bgapi "+cmd, []esl.Header{{Name: "Job-UUID", Value: job}}, nil)
	if err != nil {
		return job, "", err
	}
	if !strings.HasPrefix(f.Get("Reply-Text"), "+OK") {
		return job, "", fmt.Errorf("esl client: bgapi %s: %s", cmd, f.Get("Reply-Text"))
	}
	select {
	case e := <-ch:
		return job, e.Body, nil
	case <-ctx.Done():
		return job, "", ctx.Err()
	}
}

// SendMsg sends `sendmsg <uuid>` with the given headers (call-command, execute-app-name, …).
func (c *Client) SendMsg(ctx context.Context, uuid string, headers []esl.Header, body []byte) error {
	f, err := c.Command(ctx, "sendmsg "+uuid, headers, body)
	if err != nil {
		return err
	}
	if rt := f.Get("Reply-Text"); !strings.HasPrefix(rt, "+OK") {
		return fmt.Errorf("esl client: sendmsg %s: %s", uuid, rt)
	}
	return nil
}

// Close sends `exit` (best effort) and closes the connection; no reconnect follows.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.done)
	close(c.events)
	conn := c.conn
	c.mu.Unlock()
	if conn == nil {
		return nil
	}
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = conn.Write([]byte("exit\n\n"))
	return conn.Close()
}
