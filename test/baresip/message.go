package baresiptest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Message is one JSON object that baresip's ctrl_tcp module sends: either the response to a
// command (Response set, matched by Token) or an event (Event set, e.g. Type "REGISTER_OK",
// "CALL_INCOMING", "CALL_ESTABLISHED", "CALL_CLOSED").
type Message struct {
	Response bool   `json:"response"`
	OK       bool   `json:"ok"`
	Data     string `json:"data"`
	Token    string `json:"token"`

	Event      bool   `json:"event"`
	Type       string `json:"type"`
	Class      string `json:"class"`
	AccountAOR string `json:"accountaor"`
	Direction  string `json:"direction"`
	PeerURI    string `json:"peeruri"`
	ID         string `json:"id"`
	Param      string `json:"param"`
}

type command struct {
	Command string `json:"command"`
	Params  string `json:"params,omitempty"`
	Token   string `json:"token"`
}

// EncodeCommand returns the JSON of a ctrl_tcp command (without netstring framing). cmd is a
// baresip command name without the leading '/' ("dial", "hangup", "quit").
func EncodeCommand(cmd, params, token string) ([]byte, error) {
	if cmd == "" || strings.ContainsAny(cmd, " \t\r\n/") {
		return nil, fmt.Errorf("command %q: want a bare command name", cmd)
	}
	if strings.ContainsAny(params, "\r\n") {
		return nil, fmt.Errorf("command %s: params must be one line", cmd)
	}
	if token == "" {
		return nil, fmt.Errorf("command %s: token required", cmd)
	}
	return json.Marshal(command{Command: cmd, Params: params, Token: token})
}

// DecodeMessage parses one ctrl_tcp payload. It refuses anything that is not a JSON object
// marked as a response or an event.
func DecodeMessage(b []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return Message{}, fmt.Errorf("decode ctrl_tcp message %.80q: %w", b, err)
	}
	switch {
	case m.Response && m.Event:
		return Message{}, fmt.Errorf("decode ctrl_tcp message %.80q: both response and event", b)
	case m.Event && m.Type == "":
		return Message{}, fmt.Errorf("decode ctrl_tcp message %.80q: event without type", b)
	case !m.Response && !m.Event:
		return Message{}, fmt.Errorf("decode ctrl_tcp message %.80q: neither response nor event", b)
	}
	return m, nil
}
