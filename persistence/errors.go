package persistence

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned (possibly wrapped) when a record, binding or secret does not exist.
// The admin API maps it to 404.
var ErrNotFound = errors.New("not found")

// ErrLocked is wrapped by Open when another process holds the data directory's Badger lock.
var ErrLocked = errors.New("data dir locked")

// FieldError reports the first invalid field of a record (HTTP 422). Field uses the JSON name,
// with dotted paths and indexes for nested values ("defaults.timezone", "contacts[1].login_email").
// Reason "immutable" means an update tried to change a field fixed at creation.
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("invalid field %q: %s", e.Field, e.Reason)
}

// ReasonImmutable is the FieldError.Reason used when an update changes an immutable field.
const ReasonImmutable = "immutable"

// ConflictError reports a uniqueness violation or a delete blocked by dependent records (HTTP 409).
// Field is the JSON field (or dependent kind), Value the clashing value, Reason a short explanation.
type ConflictError struct {
	Field  string
	Value  string
	Reason string
}

// Error implements error.
func (e *ConflictError) Error() string {
	r := e.Reason
	if r == "" {
		r = "already in use"
	}
	return fmt.Sprintf("conflict on %q (%s): %s", e.Field, e.Value, r)
}

// LimitError reports that a create would exceed a configured cap (HTTP 422). Limit names the
// field that imposes it ("sip_account_limit", "limitations.max_users", ...).
type LimitError struct {
	Limit  string
	Reason string
}

// Error implements error.
func (e *LimitError) Error() string {
	return fmt.Sprintf("limit %q: %s", e.Limit, e.Reason)
}

func fieldErr(field, reason string, args ...any) *FieldError {
	if len(args) > 0 {
		reason = fmt.Sprintf(reason, args...)
	}
	return &FieldError{Field: field, Reason: reason}
}
