package persistence

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"
)

var op = Actor{Identity: "test-operator"}

func openTest(t *testing.T, dir string) *Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := Open(Options{Dir: dir, Small: true, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustCreate[T Record](t *testing.T, s *Store, rec T) T {
	t.Helper()
	out, err := Create(s, rec, op)
	if err != nil {
		t.Fatalf("Create %s: %v", rec.Kind(), err)
	}
	return out
}

func newDomain(name, prefix string) *Domain {
	return &Domain{Name: name, DomainPrefix: prefix}
}

// fixture creates a domain with one customer and returns both.
func fixture(t *testing.T, s *Store, name, prefix string) (*Domain, *Customer) {
	t.Helper()
	d := newDomain(name, prefix)
	d.Defaults.CallerID = "+441234567890"
	d.Defaults.CallerName = "Reception"
	d = mustCreate(t, s, d)
	c := mustCreate(t, s, &Customer{DomainID: d.ID, Name: "Acme", ClientPrefix: "001"})
	return d, c
}

func account(d *Domain, c *Customer, user string) *SIPAccount {
	return &SIPAccount{DomainID: d.ID, CustomerID: c.ID, Username: user, Password: "secret-pass-1"}
}

// checksum hashes every key, value and expiry in the store.
func checksum(t *testing.T, s *Store) string {
	t.Helper()
	h := sha256.New()
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			h.Write(it.Item().Key())
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			h.Write([]byte{0})
			h.Write(v)
			h.Write([]byte{0})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("checksum: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func wantField(t *testing.T, err error, field, reason string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("want *FieldError on %q, got %v", field, err)
	}
	if fe.Field != field {
		t.Fatalf("want field %q, got %q (%s)", field, fe.Field, fe.Reason)
	}
	if reason != "" && fe.Reason != reason {
		t.Fatalf("want reason %q, got %q", reason, fe.Reason)
	}
}

func wantConflict(t *testing.T, err error, field string) {
	t.Helper()
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want *ConflictError on %q, got %v", field, err)
	}
	if ce.Field != field {
		t.Fatalf("want conflict field %q, got %q", field, ce.Field)
	}
}

func wantLimit(t *testing.T, err error, limit string) {
	t.Helper()
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("want *LimitError %q, got %v", limit, err)
	}
	if le.Limit != limit {
		t.Fatalf("want limit %q, got %q", limit, le.Limit)
	}
}
