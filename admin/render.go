package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/persistence"
)

// secretKeys are JSON members that never leave the server, whatever a
// record's marshalling does.
var secretKeys = []string{"password", "auth_password", "hash", "token_hash", "secret", "ha1_md5", "ha1_sha256", "password_hash", "salt", "token"}

// view is a record's JSON object form, keyed by member name.
type view map[string]json.RawMessage

// toView marshals rec to its JSON members and strips secrets.
func toView(rec any) (view, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", rec, err)
	}
	v := view{}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("encode %T: %w", rec, err)
	}
	for _, k := range secretKeys {
		delete(v, k)
	}
	return v, nil
}

// contactView is one live registration of a SIP account.
type contactView struct {
	Contact   string    `json:"contact"`
	Source    string    `json:"source"`
	Transport string    `json:"transport"`
	ExpiresAt time.Time `json:"expires_at"`
	UserAgent string    `json:"user_agent"`
}

// render returns the response form of rec; SIP accounts get is_online,
// user_agent and contacts from their unexpired bindings.
func (s *Server) render(rec persistence.Record) (view, error) {
	v, err := toView(rec)
	if err != nil {
		return nil, err
	}
	acc, ok := rec.(*persistence.SIPAccount)
	if !ok {
		return v, nil
	}
	bindings, err := s.store.ListBindings(acc.DomainID, acc.ID)
	if err != nil {
		return nil, fmt.Errorf("list bindings of sip account %d: %w", acc.ID, err)
	}
	now := s.now()
	contacts := make([]contactView, 0, len(bindings))
	var latestUA string
	var latest time.Time
	for _, b := range bindings {
		if !b.ExpiresAt.After(now) {
			continue
		}
		contacts = append(contacts, contactView{Contact: b.Contact, Source: b.Source, Transport: b.Transport,
			ExpiresAt: b.ExpiresAt.UTC(), UserAgent: b.UserAgent})
		if latestUA == "" || b.ReceivedAt.After(latest) {
			latestUA, latest = b.UserAgent, b.ReceivedAt
		}
	}
	sort.Slice(contacts, func(i, j int) bool { return contacts[i].Contact < contacts[j].Contact })
	set := func(k string, val any) error {
		b, err := json.Marshal(val)
		if err != nil {
			return fmt.Errorf("encode %s: %w", k, err)
		}
		v[k] = b
		return nil
	}
	if err := set("contacts", contacts); err != nil {
		return nil, err
	}
	if err := set("is_online", len(contacts) > 0); err != nil {
		return nil, err
	}
	if err := set("user_agent", latestUA); err != nil {
		return nil, err
	}
	return v, nil
}

// writeRecord renders rec and sends it with status.
func (s *Server) writeRecord(w http.ResponseWriter, status int, rec persistence.Record) {
	v, err := s.render(rec)
	if err != nil {
		s.log.Error().Err(err).Msg("render admin response")
		s.fail(w, err)
		return
	}
	writeJSON(w, status, v)
}

// writeJSON sends v as application/json.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, problemFor(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// filterSet is a parsed list filter: OR within a field, AND across fields.
type filterSet map[string][]string

// parseFilters reads repeated query parameters naming top-level scalar
// fields of typ; an unknown name or a non-integer value for an integer
// field is a 400.
func parseFilters(r *http.Request, typ reflect.Type) (filterSet, error) {
	return parseFilterValues(r.URL.Query(), typ)
}

func parseFilterValues(q url.Values, typ reflect.Type) (filterSet, error) {
	fields := jsonFields(typ)
	fs := filterSet{}
	for name, vals := range q {
		ft, ok := fields[name]
		if !ok || !isScalar(ft) || isSecretKey(name) {
			return nil, errParam(name, fmt.Sprintf("cannot filter on %q", name))
		}
		for _, v := range vals {
			switch derefType(ft).Kind() {
			case reflect.Int, reflect.Int32, reflect.Int64:
				if _, err := strconv.ParseInt(v, 10, 64); err != nil {
					return nil, errParam(name, fmt.Sprintf("filter %s=%q is not an integer", name, v))
				}
			case reflect.Bool:
				if _, err := strconv.ParseBool(v); err != nil {
					return nil, errParam(name, fmt.Sprintf("filter %s=%q is not a boolean", name, v))
				}
			}
		}
		fs[name] = vals
	}
	return fs, nil
}

// match reports whether a rendered record passes every field's filter.
func (fs filterSet) match(v view) bool {
	for name, want := range fs {
		got, ok := scalarText(v[name])
		if !ok {
			return false
		}
		hit := false
		for _, w := range want {
			if w == got || (got == "true" || got == "false") && parseBoolText(w) == got {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

func parseBoolText(s string) string {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return ""
	}
	return strconv.FormatBool(b)
}

// scalarText is the text a filter compares with: a string's value, a
// number's or boolean's literal; null and missing never match.
func scalarText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	}
	return string(raw), true
}

// jsonFields maps a struct type's top-level JSON member names to their
// field types (embedded structs flattened, "-" skipped).
func jsonFields(typ reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	typ = derefType(typ)
	if typ.Kind() != reflect.Struct {
		return out
	}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			for k, t := range jsonFields(f.Type) {
				out[k] = t
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	timeType          = reflect.TypeFor[time.Time]()
)

// isScalar reports whether values of t render as a JSON string, number or
// boolean (the kinds a filter can compare).
func isScalar(t reflect.Type) bool {
	t = derefType(t)
	if t == timeType || t.Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(jsonMarshalerType) {
		return false
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// filterNames lists the filterable query parameters of typ, sorted, minus
// secrets.
func filterNames(typ reflect.Type) []string {
	var out []string
	for name, t := range jsonFields(typ) {
		if isScalar(t) && !isSecretKey(name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func isSecretKey(name string) bool {
	for _, k := range secretKeys {
		if k == name {
			return true
		}
	}
	return false
}
