package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchyard/switchyard/admin"
)

// tokenFile holds the SHA-256 hash of the operator token (never the token; DECISIONS 18).
const tokenFile = "admin.token"

// operatorTokenHash returns the stored hash, creating a token on first start (printed once)
// or replacing it when explicit is set.
func operatorTokenHash(dataDir, explicit string, announce func(token, path string)) (string, error) {
	path := filepath.Join(dataDir, tokenFile)
	if explicit != "" {
		h := admin.HashToken(explicit)
		return h, writeTokenHash(path, h)
	}
	b, err := os.ReadFile(path)
	if err == nil {
		h := strings.TrimSpace(string(b))
		if h == "" {
			return "", fmt.Errorf("%s is empty: run `switchyard token` to set a new operator token", path)
		}
		return h, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	tok, err := admin.GenerateToken()
	if err != nil {
		return "", fmt.Errorf("generate operator token: %w", err)
	}
	h := admin.HashToken(tok)
	if err := writeTokenHash(path, h); err != nil {
		return "", err
	}
	announce(tok, path)
	return h, nil
}

func writeTokenHash(path, hash string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, []byte(hash+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}

// newToken is `switchyard token`: a fresh operator token, printed once, its hash stored.
func newToken(args []string) error {
	cfg := Default()
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data", envString("data", cfg.DataDir), "data directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tok, err := admin.GenerateToken()
	if err != nil {
		return err
	}
	if err := writeTokenHash(filepath.Join(cfg.DataDir, tokenFile), admin.HashToken(tok)); err != nil {
		return err
	}
	fmt.Println(tok)
	fmt.Fprintln(os.Stderr, "new operator token stored (hash only) in", filepath.Join(cfg.DataDir, tokenFile), "- restart a running switch to use it")
	return nil
}
