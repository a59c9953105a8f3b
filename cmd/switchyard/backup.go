package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/persistence"
)

func dataFlags(name string, args []string) (string, []string, error) {
	cfg := Default()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data", envString("data", cfg.DataDir), "data directory")
	if err := fs.Parse(args); err != nil {
		return "", nil, err
	}
	if fs.NArg() != 1 {
		return "", nil, fmt.Errorf("%s needs exactly one FILE argument", name)
	}
	return cfg.DataDir, fs.Args(), nil
}

// backup is `switchyard backup FILE`: a Badger backup stream of the whole store. It opens the
// store itself, so it runs while the switch is stopped (the data dir lock says so otherwise).
func backup(args []string) error {
	dir, rest, err := dataFlags("backup", args)
	if err != nil {
		return err
	}
	store, err := persistence.Open(persistence.Options{Dir: dir, Logger: zerolog.Nop()})
	if err != nil {
		return err
	}
	defer store.Close()
	f, err := os.OpenFile(rest[0], os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create backup file: %w", err)
	}
	w := bufio.NewWriter(f)
	v, err := store.Backup(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup to %s: %w", rest[0], err)
	}
	fmt.Fprintf(os.Stderr, "backup of %s written to %s (version %d)\n", dir, rest[0], v)
	return nil
}

// restore is `switchyard restore FILE` into an empty data directory.
func restore(args []string) error {
	dir, rest, err := dataFlags("restore", args)
	if err != nil {
		return err
	}
	f, err := os.Open(rest[0])
	if err != nil {
		return fmt.Errorf("open backup file: %w", err)
	}
	defer f.Close()
	if err := persistence.Restore(dir, bufio.NewReader(f)); err != nil {
		if errors.Is(err, persistence.ErrLocked) {
			return fmt.Errorf("stop the running switch first: %w", err)
		}
		return err
	}
	fmt.Fprintf(os.Stderr, "restored %s into %s\n", rest[0], dir)
	return nil
}
