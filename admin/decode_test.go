package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchyard/switchyard/persistence"
)

func TestCheckJSON(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		field  string
		reason string // "" = accepted
	}{
		{"object", `{"a":1,"b":{"c":[1,2,{"d":null}]}}`, "", ""},
		{"empty object", `{}`, "", ""},
		{"same key in sibling objects", `{"a":{"x":1},"b":{"x":2}}`, "", ""},
		{"same key in array elements", `{"a":[{"x":1},{"x":2}]}`, "", ""},
		{"empty body", ``, "", "empty"},
		{"whitespace", "  \n", "", "empty"},
		{"array", `[1]`, "", "not_object"},
		{"string", `"x"`, "", "not_object"},
		{"truncated", `{"a":`, "", "syntax"},
		{"unclosed", `{"a":1`, "", "syntax"},
		{"bad token", `{"a":tru}`, "", "syntax"},
		{"trailing object", `{} {}`, "", "trailing_data"},
		{"trailing garbage", `{}x`, "", "syntax"},
		{"duplicate", `{"a":1,"a":2}`, "a", "duplicate_key"},
		{"nested duplicate", `{"a":{"b":1,"b":2}}`, "a.b", "duplicate_key"},
		{"duplicate in array object", `{"l":[{"k":1,"k":1}]}`, "l.k", "duplicate_key"},
		{"too deep", `{"a":` + strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth) + `}`, "", "too_deep"},
		{"invalid utf8", "{\"a\":\"\xc3\x28\"}", "", "invalid_utf8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkJSON([]byte(tc.body))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			var api *apiError
			if !errors.As(err, &api) {
				t.Fatalf("err = %v, want apiError", err)
			}
			if api.status != http.StatusBadRequest || api.reason != tc.reason || api.field != tc.field {
				t.Fatalf("got status %d reason %q field %q, want 400 %q %q", api.status, api.reason, api.field, tc.reason, tc.field)
			}
		})
	}
}

func TestDecodeInto(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		field  string
	}{
		{"ok", `{"name":"a","domain_prefix":"12345"}`, 0, ""},
		{"unknown", `{"nam":"a"}`, 422, "nam"},
		{"unknown nested", `{"defaults":{"colour":"x"}}`, 422, "colour"},
		{"wrong type", `{"record":"yes"}`, 400, "record"},
		{"wrong nested type", `{"limitations":{"active_call_limit":"many"}}`, 400, "limitations.active_call_limit"},
		{"bad cap", `{"limitations":{"max_users":"lots"}}`, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeInto([]byte(tc.body), new(persistence.Domain))
			if tc.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			p := problemFor(err)
			if p.Status != tc.status || p.Field != tc.field {
				t.Fatalf("problem %+v, want %d field %q", p, tc.status, tc.field)
			}
		})
	}
}

func TestProblemFor(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		field  string
		reason string
	}{
		{"field", fmt.Errorf("create: %w", &persistence.FieldError{Field: "name", Reason: "required"}), 422, codeInvalid, "name", "required"},
		{"immutable", &persistence.FieldError{Field: "name", Reason: persistence.ReasonImmutable}, 422, codeImmutable, "name", "immutable"},
		{"conflict", fmt.Errorf("x: %w", &persistence.ConflictError{Field: "name", Value: "a"}), 409, codeConflict, "name", "duplicate"},
		{"conflict reason", &persistence.ConflictError{Field: "sip_account", Value: "3", Reason: "customer has accounts"}, 409, codeConflict, "sip_account", "customer has accounts"},
		{"limit", &persistence.LimitError{Limit: "limitations.max_users", Reason: "reached"}, 422, codeLimit, "limitations.max_users", "reached"},
		{"not found", fmt.Errorf("get: %w", persistence.ErrNotFound), 404, codeNotFound, "", ""},
		{"too large", &http.MaxBytesError{Limit: 10}, 413, codeTooLarge, "", "too_large"},
		{"timeout", fmt.Errorf("write: %w", actor.ErrTimeout), 503, codeUnavailable, "", "timeout"},
		{"api", errForbidden("status", "no"), 403, codeForbidden, "status", "forbidden"},
		{"other", errors.New("disk on fire"), 500, codeInternalError, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := problemFor(tc.err)
			if p.Status != tc.status || p.Error != tc.code || p.Field != tc.field || p.Reason != tc.reason {
				t.Fatalf("got %+v", p)
			}
			if p.Type == "" || p.Title == "" || p.Detail == "" {
				t.Fatalf("incomplete %+v", p)
			}
			if tc.status == 500 && strings.Contains(p.Detail, "disk on fire") {
				t.Fatal("internal error text leaked to the client")
			}
		})
	}
}
