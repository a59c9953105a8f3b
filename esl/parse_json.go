package esl

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ParseJSON parses a JSON event payload keeping key order (the inverse of MarshalJSON):
// "_body" becomes the body and the body's "Content-Length" key is dropped.
func ParseJSON(payload []byte) (*Event, error) {
	d := json.NewDecoder(bytes.NewReader(payload))
	tok, err := d.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("parse json event: want an object: %v", err)
	}
	e := &Event{}
	for d.More() {
		kt, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("parse json event key: %w", err)
		}
		k, _ := kt.(string)
		var v string
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("parse json event value of %q: %w", k, err)
		}
		if k == "_body" {
			e.Body, e.HasBody = v, true
			if n := len(e.Headers); n > 0 && e.Headers[n-1].Name == "Content-Length" {
				e.Headers = e.Headers[:n-1]
			}
			continue
		}
		e.Headers = append(e.Headers, Header{Name: k, Value: v})
	}
	if _, err := d.Token(); err != nil {
		return nil, fmt.Errorf("parse json event end: %w", err)
	}
	return e, nil
}
