package admin

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/persistence"
)

// sipAccountResponse documents what SIP account responses carry on top of
// the record: the live registrations.
type sipAccountResponse struct {
	persistence.SIPAccount
	Contacts []contactView `json:"contacts"`
}

// tokenResponse documents the answer to POST /admin/token/.
type tokenResponse struct {
	persistence.APIToken
	Token string `json:"token"`
}

// readOnlyKeys are response-only members (documented as readOnly).
var readOnlyKeys = map[string]bool{"id": true, "is_online": true, "user_agent": true, "management": true, "contacts": true}

// writeOnlyKeys are request-only members (documented as writeOnly).
var writeOnlyKeys = map[string]bool{"password": true, "auth_password": true}

var (
	featureCapType = reflect.TypeFor[persistence.FeatureCap]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	pathParamRe    = regexp.MustCompile(`\{([a-z_]+)\}`)
)

// schemaBuilder turns Go types into OpenAPI 3.0 schemas, collecting named
// structs as components.
type schemaBuilder struct {
	components map[string]any
}

func componentName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[sipAccountResponse]():
		return "SIPAccountResponse"
	case reflect.TypeFor[tokenResponse]():
		return "APITokenCreated"
	case reflect.TypeFor[tokenRequest]():
		return "APITokenRequest"
	case reflect.TypeFor[cdrPage]():
		return "CDRPage"
	case reflect.TypeFor[contactView]():
		return "Contact"
	case reflect.TypeFor[persistence.Contact]():
		return "CustomerContact"
	case reflect.TypeFor[Problem]():
		return "Problem"
	}
	if name, ok := reportComponentName(t); ok {
		return name
	}
	return t.Name()
}

// ref returns a $ref to the component for a struct type, building it once.
func (b *schemaBuilder) ref(t reflect.Type) map[string]any {
	name := componentName(t)
	if _, ok := b.components[name]; !ok {
		b.components[name] = map[string]any{} // placeholder against recursion
		b.components[name] = b.object(t)
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

func (b *schemaBuilder) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	b.addFields(t, props)
	return map[string]any{"type": "object", "properties": props}
}

func (b *schemaBuilder) addFields(t reflect.Type, props map[string]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			b.addFields(derefType(f.Type), props)
			continue
		}
		if name == "" {
			name = f.Name
		}
		if isSecretKey(name) && !writeOnlyKeys[name] && t != reflect.TypeFor[tokenResponse]() {
			continue
		}
		s := b.schema(f.Type)
		switch {
		case writeOnlyKeys[name]:
			s = withKey(s, "writeOnly", true)
		case readOnlyKeys[name]:
			s = withKey(s, "readOnly", true)
		}
		props[name] = s
	}
}

func withKey(s map[string]any, k string, v any) map[string]any {
	if _, isRef := s["$ref"]; isRef {
		return map[string]any{"allOf": []any{s}, k: v}
	}
	out := map[string]any{k: v}
	for key, val := range s {
		out[key] = val
	}
	return out
}

// schema returns the schema of one Go type.
func (b *schemaBuilder) schema(t reflect.Type) map[string]any {
	switch t {
	case featureCapType:
		return map[string]any{"oneOf": []any{
			map[string]any{"type": "integer", "minimum": 0, "description": "0 = unlimited"},
			map[string]any{"type": "string", "enum": []string{"disabled"}},
		}}
	case rawMessageType:
		return map[string]any{"description": "any JSON value"}
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return withKey(b.schema(t.Elem()), "nullable", true)
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Int32, reflect.Uint32, reflect.Uint16, reflect.Int16, reflect.Uint8, reflect.Int8:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": b.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": b.schema(t.Elem())}
	case reflect.Struct:
		return b.ref(t)
	}
	return map[string]any{}
}

// buildOpenAPI describes every registered route.
func (s *Server) buildOpenAPI() map[string]any {
	b := &schemaBuilder{components: map[string]any{}}
	problemRef := b.ref(reflect.TypeFor[Problem]())
	paths := map[string]any{}
	for _, rt := range s.routes {
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": operationID(rt),
		}
		var params []any
		for _, m := range pathParamRe.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true,
				"schema": map[string]any{"type": "integer", "format": "int64"}})
		}
		for _, q := range rt.query {
			qs := map[string]any{"type": "string"}
			if rt.list && rt.schema != nil && rt.path != "/admin/audit" {
				qs = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
			}
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": qs,
				"explode": true, "style": "form"})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.public {
			op["security"] = []any{}
		}
		if rt.reqBody && rt.schema != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": b.schema(rt.schema)}}}
		}
		resp := map[string]any{"description": http.StatusText(rt.status)}
		if rs := respSchema(b, rt); rs != nil {
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": rs}}
		}
		addCSVContent(rt, resp)
		op["responses"] = map[string]any{
			strconv.Itoa(rt.status): resp,
			"default": map[string]any{"description": "problem details (RFC 9457)",
				"content": map[string]any{"application/problem+json": map[string]any{"schema": problemRef}}},
		}
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Switchyard admin API", "version": "1",
			"description": "Paths are accepted with and without a trailing slash. PUT merges the body over the current record: omitted fields keep their values."},
		"security": []any{map[string]any{"bearer": []any{}}},
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas":         b.components,
		},
	}
}

// respSchema is the success body schema of rt, or nil for none.
func respSchema(b *schemaBuilder, rt route) map[string]any {
	if rt.status == http.StatusNoContent {
		return nil
	}
	if rs := reportRespSchema(b, rt); rs != nil {
		return rs
	}
	switch rt.respDoc {
	case "page":
		return b.schema(reflect.TypeFor[cdrPage]())
	case "token":
		return b.schema(reflect.TypeFor[tokenResponse]())
	}
	if rt.schema == nil {
		return map[string]any{"type": "object", "description": rt.respDoc}
	}
	t := rt.schema
	if t == reflect.TypeFor[persistence.SIPAccount]() {
		t = reflect.TypeFor[sipAccountResponse]()
	}
	if rt.list {
		return map[string]any{"type": "array", "items": b.schema(t)}
	}
	return b.schema(t)
}

func operationID(rt route) string {
	p := pathParamRe.ReplaceAllString(rt.path, "by_$1")
	p = strings.Trim(strings.NewReplacer("/", "_", ".", "_").Replace(p), "_")
	return strings.ToLower(rt.method) + "_" + p
}

func (s *Server) openapi(w http.ResponseWriter, _ *http.Request, _ principal) {
	writeJSON(w, http.StatusOK, s.buildOpenAPI())
}

// routeKeys lists "METHOD path" of every registered route, sorted (tests
// compare it with the document).
func (s *Server) routeKeys() []string {
	out := make([]string, 0, len(s.routes))
	for _, rt := range s.routes {
		out = append(out, rt.method+" "+rt.path)
	}
	sort.Strings(out)
	return out
}
