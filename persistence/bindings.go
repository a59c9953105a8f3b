package persistence

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Binding is one registered contact of a SIP account (registrar state). It is stored under
// reg/<domain>/<account>/<contact_hash> with a Badger TTL at ExpiresAt, so expired bindings vanish
// by themselves and registrations survive a restart.
type Binding struct {
	DomainID    int64     `json:"domain_id"`
	AccountID   int64     `json:"account_id"`
	AOR         string    `json:"aor"`
	Contact     string    `json:"contact"`
	ContactHash string    `json:"contact_hash"`
	ExpiresAt   time.Time `json:"expires_at"`
	Source      string    `json:"source"`
	Transport   string    `json:"transport"`
	UserAgent   string    `json:"user_agent"`
	CallID      string    `json:"call_id"`
	CSeq        uint32    `json:"cseq"`
	ReceivedAt  time.Time `json:"received_at"`
}

var reHash = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ContactHash returns the default binding key for a contact URI (hex SHA-256 prefix).
func ContactHash(contact string) string {
	sum := sha256.Sum256([]byte(contact))
	return hex.EncodeToString(sum[:12])
}

func bindingDomainPrefix(domain int64) []byte { return []byte(prefixReg + pad(domain) + "/") }

func bindingAccountPrefix(domain, account int64) []byte {
	return []byte(prefixReg + pad(domain) + "/" + pad(account) + "/")
}

func bindingKey(domain, account int64, hash string) []byte {
	return []byte(prefixReg + pad(domain) + "/" + pad(account) + "/" + hash)
}

func (b *Binding) validate() error {
	if b.DomainID <= 0 {
		return fieldErr("domain_id", "required")
	}
	if b.AccountID <= 0 {
		return fieldErr("account_id", "required")
	}
	if b.Contact == "" {
		return fieldErr("contact", "required")
	}
	if err := checkText("contact", b.Contact, 2048); err != nil {
		return err
	}
	if !reHash.MatchString(b.ContactHash) {
		return fieldErr("contact_hash", "must be 1-64 characters of A-Z a-z 0-9 _ -")
	}
	if b.ExpiresAt.IsZero() {
		return fieldErr("expires_at", "required")
	}
	return nil
}

// PutBinding stores (or replaces) a binding; an empty ContactHash is computed from Contact. The
// commit is asynchronous (not yet fsynced when PutBinding returns) but visible to every later read.
// A binding whose ExpiresAt is already past is rejected.
func (s *Store) PutBinding(b Binding) error {
	if b.ContactHash == "" {
		b.ContactHash = ContactHash(b.Contact)
	}
	if err := b.validate(); err != nil {
		return err
	}
	ttl := time.Until(b.ExpiresAt)
	if ttl <= 0 {
		return fieldErr("expires_at", "already expired")
	}
	b.ExpiresAt, b.ReceivedAt = b.ExpiresAt.UTC(), b.ReceivedAt.UTC()
	v, err := json.Marshal(&b)
	if err != nil {
		return fmt.Errorf("encode binding: %w", err)
	}
	txn := s.db.NewTransaction(true)
	// Badger TTLs have one-second resolution; round up so a binding never vanishes early.
	e := badger.NewEntry(bindingKey(b.DomainID, b.AccountID, b.ContactHash), v).
		WithTTL(ttl.Truncate(time.Second) + time.Second)
	if err := txn.SetEntry(e); err != nil {
		txn.Discard()
		return fmt.Errorf("put binding %s: %w", b.ContactHash, err)
	}
	log := s.log
	txn.CommitWith(func(err error) {
		if err != nil {
			log.Error().Err(err).Int64("account_id", b.AccountID).Msg("binding commit failed")
		}
	})
	return nil
}

// DeleteBinding removes one binding (no error if it does not exist). Like PutBinding it commits
// asynchronously (the registrar's actor must not wait for a sync) and is visible to later reads.
func (s *Store) DeleteBinding(domainID, accountID int64, hash string) error {
	if !reHash.MatchString(hash) {
		return fieldErr("contact_hash", "must be 1-64 characters of A-Z a-z 0-9 _ -")
	}
	txn := s.db.NewTransaction(true)
	if err := txn.Delete(bindingKey(domainID, accountID, hash)); err != nil {
		txn.Discard()
		return fmt.Errorf("delete binding %s of account %d: %w", hash, accountID, err)
	}
	log := s.log
	txn.CommitWith(func(err error) {
		if err != nil {
			log.Error().Err(err).Int64("account_id", accountID).Msg("binding delete failed")
		}
	})
	return nil
}

// DeleteBindings removes every binding of the account.
func (s *Store) DeleteBindings(domainID, accountID int64) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		return deletePrefix(txn, bindingAccountPrefix(domainID, accountID))
	})
	if err != nil {
		return fmt.Errorf("delete bindings of account %d: %w", accountID, err)
	}
	return nil
}

// ListBindings returns the account's unexpired bindings ordered by contact hash.
func (s *Store) ListBindings(domainID, accountID int64) ([]Binding, error) {
	return s.scanBindings(bindingAccountPrefix(domainID, accountID))
}

// AllBindings returns every unexpired binding of every domain.
func (s *Store) AllBindings() ([]Binding, error) {
	return s.scanBindings([]byte(prefixReg))
}

func (s *Store) scanBindings(prefix []byte) ([]Binding, error) {
	out := []Binding{}
	now := time.Now()
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var b Binding
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &b) }); err != nil {
				return fmt.Errorf("decode binding %q: %w", it.Item().Key(), err)
			}
			if b.ExpiresAt.After(now) {
				out = append(out, b)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list bindings %q: %w", strings.TrimSuffix(string(prefix), "/"), err)
	}
	return out, nil
}
