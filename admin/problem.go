package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/switchyard/switchyard/persistence"
)

// Problem is the RFC 9457 problem-details body every failed request gets
// (DECISIONS 19): the standard members plus the extension members error,
// field and reason.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Error  string `json:"error"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Error codes carried in Problem.Error.
const (
	codeMalformed     = "malformed_json"
	codeUnauthorized  = "unauthorized"
	codeForbidden     = "forbidden"
	codeNotFound      = "not_found"
	codeMethod        = "method_not_allowed"
	codeConflict      = "conflict"
	codeTooLarge      = "payload_too_large"
	codeMediaType     = "unsupported_media_type"
	codeInvalid       = "validation_failed"
	codeUnknownField  = "unknown_field"
	codeImmutable     = "immutable"
	codeLimit         = "limit_exceeded"
	codeTooMany       = "too_many_requests"
	codeBadParam      = "bad_parameter"
	codeUnavailable   = "unavailable"
	codeInternalError = "internal_error"
)

// apiError is an error raised by this package that already knows its HTTP
// status; persistence errors are translated by problemFor.
type apiError struct {
	status int
	code   string
	field  string
	reason string
	detail string
}

func (e *apiError) Error() string {
	if e.field != "" {
		return fmt.Sprintf("%s: %s: %s", e.code, e.field, e.detail)
	}
	return e.code + ": " + e.detail
}

func errBadRequest(field, reason, detail string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeMalformed, field: field, reason: reason, detail: detail}
}

func errParam(field, detail string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeBadParam, field: field, reason: "invalid", detail: detail}
}

func errForbidden(field, detail string) *apiError {
	return &apiError{status: http.StatusForbidden, code: codeForbidden, field: field, reason: "forbidden", detail: detail}
}

func errNotFound(detail string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeNotFound, detail: detail}
}

func errInvalid(field, reason, detail string) *apiError {
	code := codeInvalid
	if reason == "immutable" {
		code = codeImmutable
	}
	return &apiError{status: http.StatusUnprocessableEntity, code: code, field: field, reason: reason, detail: detail}
}

// problemFor maps any error to its problem document. It is the one place
// where error types become HTTP statuses.
func problemFor(err error) Problem {
	var (
		api      *apiError
		fieldErr *persistence.FieldError
		conflict *persistence.ConflictError
		limit    *persistence.LimitError
		maxBytes *http.MaxBytesError
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &api):
		return newProblem(api.status, api.code, api.field, api.reason, api.detail)
	case errors.As(err, &fieldErr):
		code := codeInvalid
		if fieldErr.Reason == "immutable" {
			code = codeImmutable
		}
		return newProblem(http.StatusUnprocessableEntity, code, fieldErr.Field, fieldErr.Reason,
			fmt.Sprintf("field %q: %s", fieldErr.Field, fieldErr.Reason))
	case errors.As(err, &conflict):
		reason, detail := "duplicate", fmt.Sprintf("%s %q is already in use", conflict.Field, conflict.Value)
		if conflict.Reason != "" {
			reason, detail = conflict.Reason, fmt.Sprintf("%s %q: %s", conflict.Field, conflict.Value, conflict.Reason)
		}
		return newProblem(http.StatusConflict, codeConflict, conflict.Field, reason, detail)
	case errors.As(err, &limit):
		return newProblem(http.StatusUnprocessableEntity, codeLimit, limit.Limit, limit.Reason,
			fmt.Sprintf("limit %s: %s", limit.Limit, limit.Reason))
	case errors.Is(err, persistence.ErrNotFound):
		return newProblem(http.StatusNotFound, codeNotFound, "", "", "no such resource")
	case errors.As(err, &maxBytes):
		return newProblem(http.StatusRequestEntityTooLarge, codeTooLarge, "", "too_large",
			"request body exceeds "+strconv.FormatInt(maxBytes.Limit, 10)+" bytes")
	case errors.As(err, &syntax):
		return newProblem(http.StatusBadRequest, codeMalformed, "", "syntax",
			fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, syntax))
	case errors.As(err, &typeErr):
		return newProblem(http.StatusBadRequest, codeMalformed, typeErr.Field, "wrong_type",
			fmt.Sprintf("field %q must be %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value))
	case errors.Is(err, actor.ErrTimeout):
		return newProblem(http.StatusServiceUnavailable, codeUnavailable, "", "timeout",
			"the config writer did not answer in time; the change may still be applied")
	default:
		return newProblem(http.StatusInternalServerError, codeInternalError, "", "", "internal error")
	}
}

func newProblem(status int, code, field, reason, detail string) Problem {
	return Problem{
		Type:   "urn:switchyard:problem:" + code,
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Error:  code,
		Field:  field,
		Reason: reason,
	}
}

// writeProblem sends p as application/problem+json.
func writeProblem(w http.ResponseWriter, p Problem) {
	body, err := json.Marshal(p)
	if err != nil {
		body = []byte(`{"type":"urn:switchyard:problem:internal_error","status":500,"error":"internal_error"}`)
		p.Status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(body, '\n'))
}

// fail answers err as a problem; server-side failures (5xx) are logged
// with the underlying error, which the client never sees.
func (s *Server) fail(w http.ResponseWriter, err error) {
	p := problemFor(err)
	if p.Status >= http.StatusInternalServerError {
		s.log.Error().Err(err).Int("status", p.Status).Msg("admin request failed")
	}
	writeProblem(w, p)
}
