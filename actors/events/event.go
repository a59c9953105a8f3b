// Package events defines the switch's event model: FreeSWITCH-style events with ordered,
// case-preserving headers and an optional body, and the Bus that fans them out to subscribers
// (ESL sessions). It is a leaf package: standard library only.
package events

// Header is one event header. Names keep their exact case (FreeSWITCH clients match exact names).
type Header struct {
	Name  string
	Value string
}

// Event is one switch event. Headers keep insertion order. Domain is the tenant the event
// belongs to ("" for switch-wide events such as HEARTBEAT); it is used for tenant scoping and
// is never serialised.
type Event struct {
	Headers []Header
	Body    string
	Domain  string
	// HasBody marks a body that is present even when empty: a BACKGROUND_JOB of an api with no
	// output still serialises to JSON as "Content-Length":"0","_body":"" (PROTOCOL §6.5).
	HasBody bool

	// appendName, when set, makes Bus.Publish append "Event-Name: <appendName>" and the standard
	// block after the existing headers instead of inserting the block after a leading Event-Name
	// (events built from a client packet: sendevent, PRIVATE_COMMAND; PROTOCOL §3.10).
	appendName string
	// origin fills Event-Calling-File/-Function/-Line-Number when stamped (SetOrigin).
	originFile, originFunc string
	originLine             int
	// stamped is set once the bus added the standard headers; Publish never stamps twice.
	stamped bool
}

// New returns an event with its Event-Name header set.
func New(name string) *Event {
	return &Event{Headers: []Header{{Name: "Event-Name", Value: name}}}
}

// NewCustom returns a CUSTOM event with the given Event-Subclass (e.g. "sofia::register").
func NewCustom(subclass string) *Event {
	e := New("CUSTOM")
	e.Add("Event-Subclass", subclass)
	return e
}

// Name returns the Event-Name header.
func (e *Event) Name() string { return e.Get("Event-Name") }

// Subclass returns the Event-Subclass header (CUSTOM events).
func (e *Event) Subclass() string { return e.Get("Event-Subclass") }

// Add appends a header, keeping any existing one of the same name.
func (e *Event) Add(name, value string) { e.Headers = append(e.Headers, Header{name, value}) }

// Set replaces the first header with this exact name, or appends it.
func (e *Event) Set(name, value string) {
	for i := range e.Headers {
		if e.Headers[i].Name == name {
			e.Headers[i].Value = value
			return
		}
	}
	e.Add(name, value)
}

// Get returns the value of the first header with this exact name, or "".
func (e *Event) Get(name string) string {
	for _, h := range e.Headers {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

// Clone returns a deep copy, so a publisher can keep mutating its own event.
func (e *Event) Clone() *Event {
	c := &Event{Body: e.Body, Domain: e.Domain, HasBody: e.HasBody, appendName: e.appendName,
		stamped: e.stamped, originFile: e.originFile, originFunc: e.originFunc, originLine: e.originLine,
		Headers: make([]Header, len(e.Headers))}
	copy(c.Headers, e.Headers)
	return c
}

// NewFromPacket returns an event built from a client packet (sendevent): headers keep the given
// order and Bus.Publish appends "Event-Name: <name>" and the standard block after them
// (PROTOCOL §3.10, §6.2). The headers slice is copied.
func NewFromPacket(name string, headers []Header) *Event {
	e := &Event{appendName: name, Headers: make([]Header, len(headers))}
	copy(e.Headers, headers)
	return e
}

// Del removes every header with this exact name.
func (e *Event) Del(name string) {
	out := e.Headers[:0]
	for _, h := range e.Headers {
		if h.Name != name {
			out = append(out, h)
		}
	}
	e.Headers = out
}

// EventName returns the name the event is published under: the Event-Name header, or for a
// packet-built event not yet stamped, the name given to NewFromPacket.
func (e *Event) EventName() string {
	if e.appendName != "" {
		return e.appendName
	}
	return e.Name()
}

// Stamped reports whether a Bus already added the standard headers.
func (e *Event) Stamped() bool { return e.stamped }
