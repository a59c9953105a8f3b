package persistence

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Key prefixes of the carrier-side CDR views (seed 001): time-ordered per domain, like cdr/.
const (
	prefixIncomingCDR    = "cdr_in/"
	prefixTerminationCDR = "cdr_term/"
)

// IncomingTrunkCDR is one call that arrived through an incoming trunk, reaching a destination
// or not (seed 001 "Incoming Trunk CDRs"). Duration is connect→end in seconds (0 unanswered).
type IncomingTrunkCDR struct {
	ID                   string     `json:"id"` // the call uuid
	DomainID             int64      `json:"domain_id"`
	CustomerID           int64      `json:"customer_id"`
	Customer             string     `json:"customer"`
	IncomingTrunkID      int64      `json:"incoming_trunk_id"`
	Duration             int64      `json:"duration"`
	SrcName              string     `json:"src_name"`
	SrcNumber            string     `json:"src_number"`
	DstNumber            string     `json:"dst_number"` // the number as received (R-URI or To user part)
	DIDNumber            string     `json:"did_number"` // the DID matched
	LegADisconnectCode   int        `json:"lega_disconnect_code"`
	LegADisconnectReason string     `json:"lega_disconnect_reason"`
	TimeStart            time.Time  `json:"time_start"`
	TimeConnect          *time.Time `json:"time_connect"`
	TimeEnd              time.Time  `json:"time_end"`
	GlobalTag            string     `json:"global_tag"`
	OrigCallID           string     `json:"orig_call_id"`
}

// TerminationCDR is one external outbound attempt (seed 001 "Termination CDRs"): one record
// per call, naming the route and gateway that carried it (or the last one tried).
type TerminationCDR struct {
	ID                   string     `json:"id"` // the call uuid
	DomainID             int64      `json:"domain_id"`
	CustomerID           int64      `json:"customer_id"`
	Customer             string     `json:"customer"`
	TimeStart            time.Time  `json:"time_start"`
	TimeConnect          *time.Time `json:"time_connect"`
	TimeEnd              time.Time  `json:"time_end"`
	LocalTag             string     `json:"local_tag"`  // the B-leg Call-ID toward the gateway
	GlobalTag            string     `json:"global_tag"` // X-Switchyard-Call, the same on every leg
	Duration             int64      `json:"duration"`
	LegADisconnectCode   int        `json:"lega_disconnect_code"`
	LegADisconnectReason string     `json:"lega_disconnect_reason"`
	SrcNameIn            string     `json:"src_name_in"`
	SrcNumberIn          string     `json:"src_number_in"`
	DstNumberIn          string     `json:"dst_number_in"`
	SrcNumberOut         string     `json:"src_number_out"` // after rewrite rules
	DstNumberOut         string     `json:"dst_number_out"`
	OrigCallID           string     `json:"orig_call_id"` // the A-leg Call-ID
	GatewayID            int64      `json:"gateway_id"`
	RouteID              int64      `json:"route_id"`
}

// CDRBatch is what the CDR writer commits in one transaction.
type CDRBatch struct {
	Calls       []CDR
	Incoming    []IncomingTrunkCDR
	Termination []TerminationCDR
}

// Len is the number of records in the batch.
func (b *CDRBatch) Len() int { return len(b.Calls) + len(b.Incoming) + len(b.Termination) }

func timedKey(prefix string, domain int64, t time.Time, id string) []byte {
	return []byte(prefix + pad(domain) + "/" + pad(nanos(t)) + "/" + id)
}

// batchFieldErr prefixes the field of a record's validation error with its place in the batch.
func batchFieldErr(list string, i int, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: fmt.Sprintf("%s[%d].%s", list, i, fe.Field), Reason: fe.Reason}
	}
	return fmt.Errorf("%s[%d]: %w", list, i, err)
}

// utcPtr returns a copy of *t in UTC, or nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// AppendCDRBatch writes call records and trunk CDRs in one durable transaction (SyncWrites);
// an invalid record rejects the whole batch (a *FieldError such as "termination[2].time_end")
// and nothing is written. Times are stored in UTC.
func (s *Store) AppendCDRBatch(b CDRBatch) error {
	if b.Len() == 0 {
		return nil
	}
	type kv struct{ k, v []byte }
	var out []kv
	for i := range b.Calls {
		c := b.Calls[i]
		if err := c.Validate(); err != nil {
			return batchFieldErr("calls", i, err)
		}
		c.Start, c.End, c.Answer = c.Start.UTC(), c.End.UTC(), utcPtr(c.Answer)
		v, err := json.Marshal(&c)
		if err != nil {
			return fmt.Errorf("encode cdr %s: %w", c.UUID, err)
		}
		out = append(out, kv{cdrKey(&c), v})
	}
	for i := range b.Incoming {
		c := b.Incoming[i]
		if err := c.Validate(); err != nil {
			return batchFieldErr("incoming", i, err)
		}
		c.TimeStart, c.TimeEnd, c.TimeConnect = c.TimeStart.UTC(), c.TimeEnd.UTC(), utcPtr(c.TimeConnect)
		v, err := json.Marshal(&c)
		if err != nil {
			return fmt.Errorf("encode incoming cdr %s: %w", c.ID, err)
		}
		out = append(out, kv{timedKey(prefixIncomingCDR, c.DomainID, c.TimeStart, c.ID), v})
	}
	for i := range b.Termination {
		c := b.Termination[i]
		if err := c.Validate(); err != nil {
			return batchFieldErr("termination", i, err)
		}
		c.TimeStart, c.TimeEnd, c.TimeConnect = c.TimeStart.UTC(), c.TimeEnd.UTC(), utcPtr(c.TimeConnect)
		v, err := json.Marshal(&c)
		if err != nil {
			return fmt.Errorf("encode termination cdr %s: %w", c.ID, err)
		}
		out = append(out, kv{timedKey(prefixTerminationCDR, c.DomainID, c.TimeStart, c.ID), v})
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, e := range out {
			if err := txn.Set(e.k, e.v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append cdr batch of %d: %w", len(out), err)
	}
	return nil
}

// ListIncomingCDRs pages through the incoming trunk CDRs of a domain with the contract of
// ListCDRs: time_start in [from, to) (zero to = no upper bound), ordered by time_start
// (domainID 0 = every domain, by domain then time), opaque cursor ("" first page, next ""
// after the last), limit defaulting to 100 and capped at 1000. A cursor that does not belong
// to this listing (another view or domain, or garbage) is a *FieldError on "cursor".
func (s *Store) ListIncomingCDRs(domainID int64, from, to time.Time, cursor string, limit int) ([]IncomingTrunkCDR, string, error) {
	page, next, err := listTimed[IncomingTrunkCDR](s, prefixIncomingCDR, domainID, from, to, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list incoming trunk cdrs of domain %d: %w", domainID, err)
	}
	return page, next, nil
}

// ListTerminationCDRs pages through the termination CDRs of a domain; the contract is that
// of ListIncomingCDRs.
func (s *Store) ListTerminationCDRs(domainID int64, from, to time.Time, cursor string, limit int) ([]TerminationCDR, string, error) {
	page, next, err := listTimed[TerminationCDR](s, prefixTerminationCDR, domainID, from, to, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list termination cdrs of domain %d: %w", domainID, err)
	}
	return page, next, nil
}

// CountIncomingCDRs counts the incoming trunk CDRs of a domain (0 = every domain) with
// time_start in [from, to), only those of customerID when it is non-zero, and stops at max+1
// so that a caller can tell "more than max" cheaply. max <= 0 means no bound.
func (s *Store) CountIncomingCDRs(domainID int64, from, to time.Time, customerID int64, max int) (int, error) {
	n, err := countTimed(s, prefixIncomingCDR, domainID, from, to, customerID, max)
	if err != nil {
		return 0, fmt.Errorf("count incoming trunk cdrs of domain %d: %w", domainID, err)
	}
	return n, nil
}

// CountTerminationCDRs is CountIncomingCDRs for termination CDRs.
func (s *Store) CountTerminationCDRs(domainID int64, from, to time.Time, customerID int64, max int) (int, error) {
	n, err := countTimed(s, prefixTerminationCDR, domainID, from, to, customerID, max)
	if err != nil {
		return 0, fmt.Errorf("count termination cdrs of domain %d: %w", domainID, err)
	}
	return n, nil
}

// timedPrefixes is the per-domain key prefixes a listing walks, in key order.
func timedPrefixes(txn *badger.Txn, prefix string, domainID int64) ([]string, error) {
	if domainID != 0 {
		return []string{prefix + pad(domainID) + "/"}, nil
	}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
	defer it.Close()
	var out []string
	for it.Rewind(); it.Valid(); {
		k := string(it.Item().Key())
		rest := strings.TrimPrefix(k, prefix)
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return nil, fmt.Errorf("bad key %q", k)
		}
		p := prefix + rest[:i] + "/"
		out = append(out, p)
		it.Seek([]byte(p + "\xff"))
	}
	return out, nil
}

// listTimed is the paging shared by the trunk CDR views (keys from timedKey).
func listTimed[T any](s *Store, prefix string, domainID int64, from, to time.Time, cursor string, limit int) ([]T, string, error) {
	if domainID < 0 {
		return nil, "", fieldErr("domain_id", "must be >= 0")
	}
	limit = clampLimit(limit, 100, 1000)
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		scope := prefix
		if domainID != 0 {
			scope = prefix + pad(domainID) + "/"
		}
		if err != nil || !strings.HasPrefix(string(b), scope) {
			return nil, "", fieldErr("cursor", "invalid cursor")
		}
		after = string(b)
	}
	page := []T{}
	var last []byte
	more := false
	err := s.db.View(func(txn *badger.Txn) error {
		prefixes, err := timedPrefixes(txn, prefix, domainID)
		if err != nil {
			return err
		}
		for _, p := range prefixes {
			if after != "" && after >= p+"\xff" {
				continue
			}
			err := scanTimeRange(txn, p, from, to, after, limit+1-len(page), func(k, v []byte) error {
				if len(page) == limit {
					more = true
					return nil
				}
				var c T
				if err := json.Unmarshal(v, &c); err != nil {
					return fmt.Errorf("decode %q: %w", k, err)
				}
				page = append(page, c)
				last = k
				return nil
			})
			if err != nil || more {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		next = base64.RawURLEncoding.EncodeToString(last)
	}
	return page, next, nil
}

// errStopScan ends a scan early without failing it.
var errStopScan = errors.New("stop scan")

// countTimed counts records under prefix in [from, to), optionally of one customer, up to max+1.
func countTimed(s *Store, prefix string, domainID int64, from, to time.Time, customerID int64, max int) (int, error) {
	if domainID < 0 {
		return 0, fieldErr("domain_id", "must be >= 0")
	}
	stop := int(^uint(0) >> 1)
	if max > 0 {
		stop = max + 1
	}
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		prefixes, err := timedPrefixes(txn, prefix, domainID)
		if err != nil {
			return err
		}
		for _, p := range prefixes {
			err := scanTimeRange(txn, p, from, to, "", int(^uint(0)>>1), func(k, v []byte) error {
				if customerID != 0 {
					var c struct {
						CustomerID int64 `json:"customer_id"`
					}
					if err := json.Unmarshal(v, &c); err != nil {
						return fmt.Errorf("decode %q: %w", k, err)
					}
					if c.CustomerID != customerID {
						return nil
					}
				}
				n++
				if n >= stop {
					return errStopScan
				}
				return nil
			})
			if errors.Is(err, errStopScan) {
				return nil
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// Validate checks an incoming trunk CDR.
func (c *IncomingTrunkCDR) Validate() error {
	return validateTrunkCDR(c.ID, c.DomainID, c.TimeStart, c.TimeConnect, c.TimeEnd, c.Duration, c.LegADisconnectCode)
}

// Validate checks a termination CDR.
func (c *TerminationCDR) Validate() error {
	return validateTrunkCDR(c.ID, c.DomainID, c.TimeStart, c.TimeConnect, c.TimeEnd, c.Duration, c.LegADisconnectCode)
}

// validateTrunkCDR holds the rules both trunk CDR views share.
func validateTrunkCDR(id string, domainID int64, start time.Time, connect *time.Time, end time.Time, duration int64, code int) error {
	if !reUUID.MatchString(id) {
		return fieldErr("id", "must be 1-64 characters of A-Z a-z 0-9 -")
	}
	if domainID < 0 {
		return fieldErr("domain_id", "must be >= 0")
	}
	if start.IsZero() || start.Before(minKeyTime) || start.After(maxKeyTime) {
		return fieldErr("time_start", "required, between 1970 and 2262")
	}
	if end.Before(start) || end.After(maxKeyTime) {
		return fieldErr("time_end", "must not be before time_start (nor after 2262)")
	}
	if connect != nil && (connect.Before(start) || connect.After(end)) {
		return fieldErr("time_connect", "must be between time_start and time_end")
	}
	if duration < 0 {
		return fieldErr("duration", "must be >= 0")
	}
	if code != 0 && (code < 100 || code > 699) {
		return fieldErr("lega_disconnect_code", "must be 100-699 or 0")
	}
	return nil
}
