// Package esl is the FreeSWITCH event socket wire codec: framing of commands and messages with
// ordered, case-preserving headers and explicit size limits, the serialisers for plain, json and
// xml events, the reply builders and the command-line parser. It is pure: no network, storage or
// actor imports (only the standard library and actors/events), and the caller owns the
// connection, like net/textproto.
package esl

import "github.com/switchyard/switchyard/actors/events"

// Header is an ordered, case-preserving header (an alias, so esl/client users need not import
// actors/events).
type Header = events.Header

// Event is a switch event (alias of events.Event).
type Event = events.Event
