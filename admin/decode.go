package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"
)

// maxBodyBytes caps every request body (413 above it).
const maxBodyBytes = 1 << 20

// maxJSONDepth caps object/array nesting in a request body.
const maxJSONDepth = 32

// readJSONBody enforces the Content-Type and size limits and checks that the
// body is one well-formed JSON object: valid UTF-8, no duplicate keys, no
// nesting deeper than maxJSONDepth and no trailing data. It returns the raw
// bytes for decodeInto.
func readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != "application/json" {
		return nil, &apiError{status: http.StatusUnsupportedMediaType, code: codeMediaType, field: "Content-Type",
			reason: "unsupported", detail: fmt.Sprintf("Content-Type %q is not application/json", ct)}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, err
		}
		return nil, errBadRequest("", "read", fmt.Sprintf("read request body: %v", err))
	}
	if err := checkJSON(body); err != nil {
		return nil, err
	}
	return body, nil
}

// checkJSON walks the token stream of body once and rejects anything that
// encoding/json would silently accept or that is not an object.
func checkJSON(body []byte) error {
	if !utf8.Valid(body) {
		return errBadRequest("", "invalid_utf8", "request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []*frame
	first := true
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if first {
				return errBadRequest("", "empty", "request body is empty")
			}
			if len(stack) != 0 {
				return errBadRequest("", "syntax", "unexpected end of JSON input")
			}
			return nil
		}
		if err != nil {
			var syn *json.SyntaxError
			if errors.As(err, &syn) {
				return errBadRequest("", "syntax", fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn))
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return errBadRequest("", "syntax", "unexpected end of JSON input")
			}
			return errBadRequest("", "syntax", fmt.Sprintf("malformed JSON: %v", err))
		}
		if first {
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return errBadRequest("", "not_object", "request body must be a JSON object")
			}
		} else if len(stack) == 0 {
			return errBadRequest("", "trailing_data", "unexpected data after the JSON object")
		}
		first = false
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				markValueDone(stack)
				continue
			}
			key, _ := tok.(string)
			full := joinPath(top.path, key)
			if top.keys[key] {
				return errBadRequest(full, "duplicate_key", fmt.Sprintf("duplicate key %q", full))
			}
			top.keys[key] = true
			top.lastName = key
			top.wantKey = false
			continue
		}
		switch d := tok.(type) {
		case json.Delim:
			switch d {
			case '{', '[':
				if len(stack) >= maxJSONDepth {
					return errBadRequest("", "too_deep", fmt.Sprintf("JSON nesting deeper than %d levels", maxJSONDepth))
				}
				path := ""
				if top != nil {
					path = top.path
					if top.object {
						path = joinPath(top.path, top.lastName)
					}
				}
				stack = append(stack, &frame{object: d == '{', keys: map[string]bool{}, wantKey: d == '{', path: path})
			case ']':
				stack = stack[:len(stack)-1]
				markValueDone(stack)
			}
		default:
			markValueDone(stack)
		}
	}
}

// frame is one open object or array while checkJSON walks a body.
type frame struct {
	object   bool
	keys     map[string]bool
	wantKey  bool
	path     string
	lastName string
}

// markValueDone records that a value ended; inside an object the next
// token is a key again.
func markValueDone(stack []*frame) {
	if len(stack) > 0 && stack[len(stack)-1].object {
		stack[len(stack)-1].wantKey = true
	}
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// decodeInto decodes a body already checked by readJSONBody into dst,
// refusing unknown fields (422) and wrong types (400).
func decodeInto(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			return &apiError{status: http.StatusUnprocessableEntity, code: codeUnknownField, field: name,
				reason: "unknown_field", detail: fmt.Sprintf("unknown field %q", name)}
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return err
		}
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return err
		}
		// Custom UnmarshalJSON methods (e.g. feature caps) report their own
		// errors; they are input errors, not server faults.
		return errBadRequest("", "invalid_value", fmt.Sprintf("decode body: %v", err))
	}
	return nil
}
