package persistence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Audit actions.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// redacted replaces secret values in audit diffs.
const redacted = "***"

// AuditEntry records one config change (seed 004 "View Difference"). Diff maps a JSON field path
// (nested objects joined with ".") to {"old": x, "new": y}; write-only fields show "***".
type AuditEntry struct {
	ID       int64           `json:"id"`
	Time     time.Time       `json:"time"`
	Who      string          `json:"who"`
	DomainID int64           `json:"domain_id"`
	Kind     Kind            `json:"kind"`
	RecordID int64           `json:"record_id"`
	Action   string          `json:"action"`
	Diff     json.RawMessage `json:"diff"`
}

type change struct {
	Old any `json:"old"`
	New any `json:"new"`
}

func auditKey(domain int64, t time.Time, seq int64) []byte {
	return []byte(prefixAudit + pad(domain) + "/" + pad(t.UnixNano()) + "/" + pad(seq))
}

// audit appends an entry in the caller's transaction.
func (s *Store) audit(txn *badger.Txn, domain int64, k Kind, id int64, action string, who Actor,
	old, rec Record, secrets []string) error {
	diff, err := diffRecords(old, rec, secrets, action)
	if err != nil {
		return err
	}
	seq, err := nextSeq(txn, "audit")
	if err != nil {
		return err
	}
	e := AuditEntry{ID: seq, Time: s.now().UTC(), Who: who.Identity, DomainID: domain, Kind: k,
		RecordID: id, Action: action, Diff: diff}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode audit entry: %w", err)
	}
	if err := txn.Set(auditKey(domain, e.Time, seq), b); err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	return nil
}

// diffRecords compares the JSON forms of old and rec (either may be nil).
func diffRecords(old, rec Record, secrets []string, action string) (json.RawMessage, error) {
	om, err := flatJSON(old)
	if err != nil {
		return nil, err
	}
	nm, err := flatJSON(rec)
	if err != nil {
		return nil, err
	}
	out := map[string]change{}
	for k, nv := range nm {
		ov, ok := om[k]
		if !ok || !reflect.DeepEqual(ov, nv) {
			out[k] = change{Old: ov, New: nv}
		}
	}
	for k, ov := range om {
		if _, ok := nm[k]; !ok {
			out[k] = change{Old: ov, New: nil}
		}
	}
	for _, f := range secrets {
		c := change{Old: redacted, New: redacted}
		if action == ActionCreate {
			c.Old = nil
		}
		out[f] = c
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode audit diff: %w", err)
	}
	return b, nil
}

// flatJSON flattens a record's JSON object: nested objects become "parent.child" keys; arrays and
// scalars stay whole. Write-only and API-computed fields are dropped.
func flatJSON(r Record) (map[string]any, error) {
	out := map[string]any{}
	if r == nil {
		return out, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode %s for audit: %w", r.Kind(), err)
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode %s for audit: %w", r.Kind(), err)
	}
	for _, k := range []string{"password", "auth_password", "token", "is_online", "user_agent"} {
		delete(m, k)
	}
	flatten("", m, out)
	return out, nil
}

func flatten(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			flatten(prefix+k+".", sub, out)
			continue
		}
		out[prefix+k] = v
	}
}

// ListAudit returns audit entries of the domain (0 = all domains, including operator-level ones)
// with from <= time < to (a zero to means no upper bound), oldest first, at most limit (default
// 100, max 10000).
func (s *Store) ListAudit(domainID int64, from, to time.Time, limit int) ([]AuditEntry, error) {
	limit = clampLimit(limit, 100, 10000)
	var out []AuditEntry
	err := s.db.View(func(txn *badger.Txn) error {
		if domainID != 0 {
			return scanTimeRange(txn, prefixAudit+pad(domainID)+"/", from, to, "", limit, func(_ []byte, v []byte) error {
				var e AuditEntry
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("decode audit entry: %w", err)
				}
				out = append(out, e)
				return nil
			})
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixAudit), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var e AuditEntry
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &e) }); err != nil {
				return fmt.Errorf("decode audit entry: %w", err)
			}
			if e.Time.Before(from) || (!to.IsZero() && !e.Time.Before(to)) {
				continue
			}
			out = append(out, e)
		}
		sort.SliceStable(out, func(i, j int) bool {
			if !out[i].Time.Equal(out[j].Time) {
				return out[i].Time.Before(out[j].Time)
			}
			return out[i].ID < out[j].ID
		})
		if len(out) > limit {
			out = out[:limit]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list audit of domain %d: %w", domainID, err)
	}
	if out == nil {
		out = []AuditEntry{}
	}
	return out, nil
}

func clampLimit(n, def, max int) int {
	if n <= 0 {
		return def
	}
	if n > max {
		return max
	}
	return n
}

// scanTimeRange walks keys "<prefix><unix-nanos 20>/..." with from <= t < to in key order, starting
// after the key afterKey when non-empty, calling fn for at most limit entries.
func scanTimeRange(txn *badger.Txn, prefix string, from, to time.Time, afterKey string, limit int,
	fn func(key, val []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix), PrefetchValues: true})
	defer it.Close()
	start := []byte(prefix + pad(nanos(from)))
	if afterKey != "" && afterKey > string(start) {
		start = append([]byte(afterKey), 0)
	}
	var end []byte
	if !to.IsZero() {
		end = []byte(prefix + pad(nanos(to)))
	}
	n := 0
	for it.Seek(start); it.Valid() && n < limit; it.Next() {
		item := it.Item()
		if end != nil && bytes.Compare(item.Key(), end) >= 0 {
			break
		}
		err := item.Value(func(v []byte) error { return fn(item.KeyCopy(nil), v) })
		if err != nil {
			return err
		}
		n++
	}
	return nil
}

var (
	minKeyTime = time.Unix(0, 0)
	maxKeyTime = time.Unix(0, 1<<63-1)
)

// nanos converts t to Unix nanoseconds clamped to the range keys can hold.
func nanos(t time.Time) int64 {
	if t.Before(minKeyTime) {
		return 0
	}
	if t.After(maxKeyTime) {
		return 1<<63 - 1
	}
	return t.UnixNano()
}
