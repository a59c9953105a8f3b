package persistence

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// CDR directions.
const (
	DirectionInternal    = "internal"
	DirectionCrossDomain = "cross_domain"
	DirectionInbound     = "inbound"
	DirectionOutbound    = "outbound"
)

// Who ended a call (CDR.DisconnectedBy).
const (
	DisconnectCaller = "caller"
	DisconnectCallee = "callee"
	DisconnectSystem = "system"
)

// CDR is one call record. Duration is start→end and Billsec answer→end, in whole seconds
// (FreeSWITCH semantics, DECISIONS 14); Answer is nil for unanswered calls. Times are UTC.
type CDR struct {
	UUID           string     `json:"uuid"`
	DomainID       int64      `json:"domain_id"`
	Domain         string     `json:"domain"`
	CustomerID     int64      `json:"customer_id"`
	Caller         string     `json:"caller"`
	Callee         string     `json:"callee"`
	CallerIDName   string     `json:"caller_id_name"`
	Direction      string     `json:"direction"`
	Start          time.Time  `json:"start"`
	Answer         *time.Time `json:"answer"`
	End            time.Time  `json:"end"`
	Duration       int64      `json:"duration"`
	Billsec        int64      `json:"billsec"`
	HangupCause    string     `json:"hangup_cause"`
	SIPCode        int        `json:"sip_code"`
	DisconnectedBy string     `json:"disconnected_by"`
	ACallID        string     `json:"a_call_id"`
	BCallID        string     `json:"b_call_id"`
	Reason         string     `json:"reason"`
}

var reUUID = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// Validate checks a CDR before it is stored.
func (c *CDR) Validate() error {
	if !reUUID.MatchString(c.UUID) {
		return fieldErr("uuid", "must be 1-64 characters of A-Z a-z 0-9 -")
	}
	if c.DomainID < 0 {
		return fieldErr("domain_id", "must be >= 0")
	}
	if err := checkEnum("direction", c.Direction, DirectionInternal, DirectionCrossDomain, DirectionInbound, DirectionOutbound); err != nil {
		return err
	}
	if c.Start.IsZero() {
		return fieldErr("start", "required")
	}
	if c.Start.Before(minKeyTime) || c.End.After(maxKeyTime) {
		return fieldErr("start", "must be between 1970 and 2262")
	}
	if c.End.Before(c.Start) {
		return fieldErr("end", "must not be before start")
	}
	if c.Answer != nil && (c.Answer.Before(c.Start) || c.Answer.After(c.End)) {
		return fieldErr("answer", "must be between start and end")
	}
	if c.Duration < 0 || c.Billsec < 0 || c.Billsec > c.Duration {
		return fieldErr("billsec", "must be between 0 and duration")
	}
	if c.SIPCode != 0 && (c.SIPCode < 100 || c.SIPCode > 699) {
		return fieldErr("sip_code", "must be 100-699 or 0")
	}
	if c.DisconnectedBy != "" {
		return checkEnum("disconnected_by", c.DisconnectedBy, DisconnectCaller, DisconnectCallee, DisconnectSystem)
	}
	return nil
}

// FillDurations sets Duration and Billsec from the timestamps (whole seconds, truncated).
func (c *CDR) FillDurations() {
	c.Duration = int64(c.End.Sub(c.Start) / time.Second)
	c.Billsec = 0
	if c.Answer != nil {
		c.Billsec = int64(c.End.Sub(*c.Answer) / time.Second)
	}
}

func cdrKey(c *CDR) []byte {
	return []byte(prefixCDR + pad(c.DomainID) + "/" + pad(nanos(c.Start)) + "/" + c.UUID)
}

// AppendCDRs writes the batch in one transaction and returns once it is durable (SyncWrites).
// An invalid CDR rejects the whole batch (a *FieldError naming its index) and nothing is written.
func (s *Store) AppendCDRs(batch []CDR) error {
	if len(batch) == 0 {
		return nil
	}
	keys := make([][]byte, len(batch))
	vals := make([][]byte, len(batch))
	for i := range batch {
		c := batch[i]
		if err := c.Validate(); err != nil {
			fe := err.(*FieldError)
			return &FieldError{Field: fmt.Sprintf("[%d].%s", i, fe.Field), Reason: fe.Reason}
		}
		c.Start, c.End = c.Start.UTC(), c.End.UTC()
		if c.Answer != nil {
			a := c.Answer.UTC()
			c.Answer = &a
		}
		b, err := json.Marshal(&c)
		if err != nil {
			return fmt.Errorf("encode cdr %s: %w", c.UUID, err)
		}
		keys[i], vals[i] = cdrKey(&c), b
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		for i := range keys {
			if err := txn.Set(keys[i], vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append %d cdrs: %w", len(batch), err)
	}
	return nil
}

// ListCDRs returns CDRs of the domain whose start is in [from, to) (zero to = no upper bound),
// ordered by start time (domainID 0 = every domain, ordered by domain then start). cursor is ""
// for the first page or the next value of the previous page; next is "" after the last page.
// limit defaults to 100 and is capped at 1000.
func (s *Store) ListCDRs(domainID int64, from, to time.Time, cursor string, limit int) ([]CDR, string, error) {
	page, next, err := listTimed[CDR](s, prefixCDR, domainID, from, to, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list cdrs of domain %d: %w", domainID, err)
	}
	return page, next, nil
}
