package persistence

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	badger "github.com/dgraph-io/badger/v4"
)

// Create stores a new record: defaults → validation → references, limits and unique values →
// record, indexes, secrets and an audit entry, all in one synced transaction. The returned copy
// carries the assigned id and never any write-only field. The caller's value is not modified.
func Create[T Record](s *Store, rec T, who Actor) (T, error) {
	var zero T
	out, err := s.create(rec, who)
	if err != nil {
		return zero, err
	}
	return out.(T), nil
}

// Update replaces the mutable fields of the record with rec.GetID(). Immutable fields left at
// their zero value keep the stored value; a different value gives *FieldError{Reason: "immutable"}.
// Write-only fields (passwords, tokens) are changed only when non-empty. Seed defaults are applied
// to empty fields, as on create.
func Update[T Record](s *Store, rec T, who Actor) (T, error) {
	var zero T
	out, err := s.update(rec, who)
	if err != nil {
		return zero, err
	}
	return out.(T), nil
}

// Delete removes the record and returns its last stored state. Deleting a domain cascades to
// everything scoped to it (records, secrets, bindings; never CDRs or audit). Deleting a customer
// or gateway that others still reference gives *ConflictError; the management domain cannot be
// deleted (*FieldError).
func Delete[T Record](s *Store, id int64, who Actor) (T, error) {
	var zero T
	k, err := kindOf[T]()
	if err != nil {
		return zero, err
	}
	out, err := s.delete(k, id, who)
	if err != nil {
		return zero, err
	}
	return out.(T), nil
}

// Get returns the record with the id, or an error wrapping ErrNotFound.
func Get[T Record](s *Store, id int64) (T, error) {
	var zero T
	k, err := kindOf[T]()
	if err != nil {
		return zero, err
	}
	var out Record
	err = s.db.View(func(txn *badger.Txn) error {
		out, err = getTx(txn, k, id)
		return err
	})
	if err != nil {
		return zero, err
	}
	return out.(T), nil
}

// List returns the records of T's kind in the domain (0 = all domains), ordered by id.
func List[T Record](s *Store, domainID int64) ([]T, error) {
	k, err := kindOf[T]()
	if err != nil {
		return nil, err
	}
	out := []T{}
	err = s.db.View(func(txn *badger.Txn) error {
		return eachOfKind(txn, k, domainID, func(r Record) error {
			out = append(out, r.(T))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list %s in domain %d: %w", k, domainID, err)
	}
	return out, nil
}

func kindOf[T Record]() (Kind, error) {
	var zero T
	if any(zero) == nil {
		return "", errors.New("persistence: the type parameter must be a record pointer type such as *Domain")
	}
	return zero.Kind(), nil
}

// clone deep-copies a record through its JSON form (write-only fields included).
func clone(in Record) (Record, error) {
	if in == nil {
		return nil, errors.New("nil record")
	}
	if v := reflect.ValueOf(in); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, fmt.Errorf("nil %s record", in.Kind())
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", in.Kind(), err)
	}
	out, err := NewRecord(in.Kind())
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("decode %s: %w", in.Kind(), err)
	}
	return out, nil
}

func getTx(txn *badger.Txn, k Kind, id int64) (Record, error) {
	item, err := txn.Get(cfgKey(k, id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%s %d: %w", k, id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s %d: %w", k, id, err)
	}
	return decodeItem(item, k)
}

func decodeItem(item *badger.Item, k Kind) (Record, error) {
	r, err := NewRecord(k)
	if err != nil {
		return nil, err
	}
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, r) })
	if err != nil {
		return nil, fmt.Errorf("decode %s at %q: %w", k, item.Key(), err)
	}
	return r, nil
}

// eachOfKind calls fn for every record of kind k in the domain (0 = all), in id order.
func eachOfKind(txn *badger.Txn, k Kind, domainID int64, fn func(Record) error) error {
	if domainID == 0 {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: cfgPrefix(k), PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			r, err := decodeItem(it.Item(), k)
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
	ids, err := scopeIDs(txn, domainID, k)
	if err != nil {
		return err
	}
	for _, id := range ids {
		r, err := getTx(txn, k, id)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// scopeIDs lists the ids of kind k in the domain from the scope index (keys only).
func scopeIDs(txn *badger.Txn, domainID int64, k Kind) ([]int64, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: scopeKindPrefix(domainID, k)})
	defer it.Close()
	var ids []int64
	for it.Rewind(); it.Valid(); it.Next() {
		id, err := idFromKeyTail(it.Item().Key())
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func countPrefix(txn *badger.Txn, prefix []byte) int {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	n := 0
	for it.Rewind(); it.Valid(); it.Next() {
		n++
	}
	return n
}

func nextSeq(txn *badger.Txn, name string) (int64, error) {
	var n uint64
	item, err := txn.Get(seqKey(name))
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
	case err != nil:
		return 0, fmt.Errorf("read sequence %s: %w", name, err)
	default:
		v, err := item.ValueCopy(nil)
		if err != nil || len(v) != 8 {
			return 0, fmt.Errorf("read sequence %s: corrupt value", name)
		}
		n = uint64(v[0])<<56 | uint64(v[1])<<48 | uint64(v[2])<<40 | uint64(v[3])<<32 |
			uint64(v[4])<<24 | uint64(v[5])<<16 | uint64(v[6])<<8 | uint64(v[7])
	}
	n++
	if err := txn.Set(seqKey(name), u64(n)); err != nil {
		return 0, fmt.Errorf("write sequence %s: %w", name, err)
	}
	return int64(n), nil
}

func (s *Store) create(in Record, who Actor) (Record, error) {
	rec, err := clone(in)
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	rec.SetID(0)
	if d, ok := rec.(*Domain); ok {
		d.Management = false
	}
	return s.createPrepared(rec, who)
}

// createPrepared runs the create pipeline on a private copy (Bootstrap uses it directly).
func (s *Store) createPrepared(rec Record, who Actor) (Record, error) {
	rec.ApplyDefaults()
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	if err := requireSecretOnCreate(rec); err != nil {
		return nil, err
	}
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	err := s.db.Update(func(txn *badger.Txn) error {
		w := &wctx{txn: txn, create: true}
		if err := w.prepare(rec, nil); err != nil {
			return err
		}
		id, err := nextSeq(txn, string(rec.Kind()))
		if err != nil {
			return err
		}
		rec.SetID(id)
		return s.put(w, rec, nil, ActionCreate, who)
	})
	if err != nil {
		return nil, wrapWrite("create", rec, err)
	}
	return rec, nil
}

func (s *Store) update(in Record, who Actor) (Record, error) {
	rec, err := clone(in)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	if rec.GetID() <= 0 {
		return nil, fieldErr("id", "required")
	}
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	err = s.db.Update(func(txn *badger.Txn) error {
		old, err := getTx(txn, rec.Kind(), rec.GetID())
		if err != nil {
			return err
		}
		if err := carryImmutables(old, rec); err != nil {
			return err
		}
		rec.ApplyDefaults()
		if err := rec.Validate(); err != nil {
			return err
		}
		w := &wctx{txn: txn}
		if err := w.prepare(rec, old); err != nil {
			return err
		}
		return s.put(w, rec, old, ActionUpdate, who)
	})
	if err != nil {
		return nil, wrapWrite("update", rec, err)
	}
	return rec, nil
}

func (s *Store) delete(k Kind, id int64, who Actor) (Record, error) {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	var old Record
	err := s.db.Update(func(txn *badger.Txn) error {
		var err error
		old, err = getTx(txn, k, id)
		if err != nil {
			return err
		}
		w := &wctx{txn: txn}
		if err := w.checkDelete(old); err != nil {
			return err
		}
		if d, ok := old.(*Domain); ok {
			return s.cascadeDomain(w, d, who)
		}
		return s.remove(w, old, who)
	})
	if err != nil {
		var fe *FieldError
		var ce *ConflictError
		if errors.As(err, &fe) || errors.As(err, &ce) || errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("delete %s %d: %w", k, id, err)
	}
	return old, nil
}

// wrapWrite adds context to storage failures but passes typed validation errors through untouched.
func wrapWrite(op string, rec Record, err error) error {
	var fe *FieldError
	var ce *ConflictError
	var le *LimitError
	if errors.As(err, &fe) || errors.As(err, &ce) || errors.As(err, &le) || errors.Is(err, ErrNotFound) {
		return err
	}
	return fmt.Errorf("%s %s %d: %w", op, rec.Kind(), rec.GetID(), err)
}

// put writes rec (replacing old when non-nil): secrets, unique indexes, scope index, record and audit.
func (s *Store) put(w *wctx, rec, old Record, action string, who Actor) error {
	changedSecrets, err := w.writeSecrets(rec, old)
	if err != nil {
		return err
	}
	clearWriteOnly(rec)
	if err := w.writeUniques(rec, old); err != nil {
		return err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode %s: %w", rec.Kind(), err)
	}
	if err := w.txn.Set(cfgKey(rec.Kind(), rec.GetID()), b); err != nil {
		return fmt.Errorf("write %s: %w", rec.Kind(), err)
	}
	if old == nil {
		if err := w.txn.Set(scopeKey(rec.Scope(), rec.Kind(), rec.GetID()), nil); err != nil {
			return fmt.Errorf("write scope index: %w", err)
		}
	}
	return s.audit(w.txn, rec.Scope(), rec.Kind(), rec.GetID(), action, who, old, rec, changedSecrets)
}

// remove deletes one record with its indexes, secrets and (for accounts) bindings, plus an audit entry.
func (s *Store) remove(w *wctx, old Record, who Actor) error {
	k, id := old.Kind(), old.GetID()
	for _, u := range uniquesOf(old) {
		if err := w.txn.Delete(idxKey(u.ns, u.value)); err != nil {
			return fmt.Errorf("delete index: %w", err)
		}
	}
	if err := w.deleteSecrets(old); err != nil {
		return err
	}
	if a, ok := old.(*SIPAccount); ok {
		if err := deletePrefix(w.txn, bindingAccountPrefix(a.DomainID, a.ID)); err != nil {
			return err
		}
	}
	if err := w.txn.Delete(scopeKey(old.Scope(), k, id)); err != nil {
		return fmt.Errorf("delete scope index: %w", err)
	}
	if err := w.txn.Delete(cfgKey(k, id)); err != nil {
		return fmt.Errorf("delete %s %d: %w", k, id, err)
	}
	return s.audit(w.txn, old.Scope(), k, id, ActionDelete, who, old, nil, nil)
}

// cascadeDomain deletes every record scoped to the domain (children first), its bindings and itself.
func (s *Store) cascadeDomain(w *wctx, d *Domain, who Actor) error {
	for i := len(kinds) - 1; i >= 1; i-- {
		k := kinds[i].kind
		ids, err := scopeIDs(w.txn, d.ID, k)
		if err != nil {
			return err
		}
		for _, id := range ids {
			r, err := getTx(w.txn, k, id)
			if err != nil {
				return err
			}
			if err := s.remove(w, r, who); err != nil {
				return err
			}
		}
	}
	if err := deletePrefix(w.txn, bindingDomainPrefix(d.ID)); err != nil {
		return err
	}
	return s.remove(w, d, who)
}

func deletePrefix(txn *badger.Txn, prefix []byte) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	var keys [][]byte
	for it.Rewind(); it.Valid(); it.Next() {
		keys = append(keys, it.Item().KeyCopy(nil))
	}
	it.Close()
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return fmt.Errorf("delete %q: %w", k, err)
		}
	}
	return nil
}
