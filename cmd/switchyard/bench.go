package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchyard/switchyard/bench"
)

// runBench runs `switchyard bench <scenario> [flags]`: the load harness (package bench).
// SIGINT/SIGTERM end the run early; teardown (domains, child switch) still happens.
func runBench(args []string) error {
	// sipgo logs through slog's default logger; keep the harness output to its own lines.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return bench.Main(ctx, args, bench.Options{Version: version, Progress: os.Stderr, Terminal: bench.IsTerminal(os.Stderr)}, os.Stdout)
}
