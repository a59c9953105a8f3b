package persistence

import (
	"encoding/json"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// KindSecurity marks audit entries written for security decisions (bans and their lifting)
// rather than configuration changes.
const KindSecurity Kind = "security"

// AppendAuditEvent records a non-configuration event in the audit log (domain 0 for
// switch-wide events such as a ban): who did it, the action, and its details as the diff's
// "new" values. It is synchronous like every audit write.
func (s *Store) AppendAuditEvent(domainID int64, who, action string, detail map[string]string) error {
	diff := map[string]change{}
	for k, v := range detail {
		diff[k] = change{Old: nil, New: v}
	}
	raw, err := json.Marshal(diff)
	if err != nil {
		return fmt.Errorf("encode audit detail: %w", err)
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		seq, err := nextSeq(txn, "audit")
		if err != nil {
			return err
		}
		e := AuditEntry{ID: seq, Time: s.now().UTC(), Who: who, DomainID: domainID, Kind: KindSecurity, Action: action, Diff: raw}
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return txn.Set(auditKey(domainID, e.Time, seq), b)
	})
	if err != nil {
		return fmt.Errorf("append audit event %s: %w", action, err)
	}
	return nil
}
