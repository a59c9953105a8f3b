package client_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/switchyard/switchyard/esl/client"
)

// TestCloseEndsEvents: ranging over Events() ends when the client is closed.
func TestCloseEndsEvents(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, ln)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{Addr: ln.Addr().String(), Password: "ClueCon", Events: []string{"ALL"}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		for range c.Events() {
		}
		close(done)
	}()
	_ = c.Close()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("Events() was not closed by Close")
	}
}
