package esl

import "strconv"

// Fixed server messages (PROTOCOL §1.2, §2).
const (
	// AuthRequest is the first message on an inbound connection.
	AuthRequest = "Content-Type: auth/request\n\n"
	// RudeRejection answers a peer refused by the ACL.
	RudeRejection = "Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n"
	// DisconnectGoodbye is the usual disconnect-notice body (67 bytes).
	DisconnectGoodbye = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
	// DisconnectShutdown is the notice body on server shutdown.
	DisconnectShutdown = "The system is being shut down.\n"
	// DisconnectLostEvents is the notice body for a slow consumer that lost too many events.
	DisconnectLostEvents = "killed listener because of lost events\n"
)

// AppendReply appends a command/reply: `Content-Type: command/reply`, `Reply-Text: <text>`,
// then the extra headers. The caller escapes client-supplied text with EscapeText.
func AppendReply(dst []byte, text string, extra ...Header) []byte {
	dst = append(dst, "Content-Type: command/reply\nReply-Text: "...)
	dst = append(dst, text...)
	dst = append(dst, '\n')
	for _, h := range extra {
		dst = append(dst, h.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, h.Value...)
		dst = append(dst, '\n')
	}
	return append(dst, '\n')
}

// AppendAPIResponse appends an api/response with body. An empty body becomes "-ERR no reply\n"
// (an api/response body is never empty, §3.3).
func AppendAPIResponse(dst []byte, body string) []byte {
	if body == "" {
		body = "-ERR no reply\n"
	}
	dst = append(dst, "Content-Type: api/response\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\n\n"...)
	return append(dst, body...)
}

// AppendEvent appends an event envelope (Content-Length first, §6.1) with the payload of e in
// format f.
func AppendEvent(dst []byte, f Format, e *Event) []byte {
	payload := Marshal(f, e)
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(payload)), 10)
	dst = append(dst, "\nContent-Type: text/event-"...)
	dst = append(dst, f...)
	dst = append(dst, "\n\n"...)
	return append(dst, payload...)
}

// AppendDisconnect appends a text/disconnect-notice. extra headers (Controlled-Session-UUID,
// Content-Disposition) follow Content-Type; an empty body gives Content-Length: 0.
func AppendDisconnect(dst []byte, body string, extra ...Header) []byte {
	dst = append(dst, "Content-Type: text/disconnect-notice\n"...)
	for _, h := range extra {
		dst = append(dst, h.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, EscapeText(h.Value)...)
		dst = append(dst, '\n')
	}
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\n\n"...)
	return append(dst, body...)
}

// LogLine is one log/data message (§1.2).
type LogLine struct {
	Level    int // 0–7
	Channel  int // Text-Channel: 0 log, 1 clean, 3 session
	File     string
	Func     string
	Line     int
	UserData string // channel uuid, or empty
	Text     string
}

// AppendLogData appends a log/data message; File, Func and UserData are escaped (§1.2).
func AppendLogData(dst []byte, l LogLine) []byte {
	dst = append(dst, "Content-Type: log/data\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(l.Text)), 10)
	dst = append(dst, "\nLog-Level: "...)
	dst = strconv.AppendInt(dst, int64(l.Level), 10)
	dst = append(dst, "\nText-Channel: "...)
	dst = strconv.AppendInt(dst, int64(l.Channel), 10)
	dst = append(dst, "\nLog-File: "...)
	dst = append(dst, EscapeText(l.File)...)
	dst = append(dst, "\nLog-Func: "...)
	dst = append(dst, EscapeText(l.Func)...)
	dst = append(dst, "\nLog-Line: "...)
	dst = strconv.AppendInt(dst, int64(l.Line), 10)
	dst = append(dst, "\nUser-Data: "...)
	dst = append(dst, EscapeText(l.UserData)...)
	dst = append(dst, "\n\n"...)
	return append(dst, l.Text...)
}

// AppendCommand appends a client command: the line, headers, an optional body with its
// Content-Length, LF line ends (what modesl and libesl send).
func AppendCommand(dst []byte, line string, headers []Header, body []byte) []byte {
	dst = append(dst, line...)
	dst = append(dst, '\n')
	for _, h := range headers {
		dst = append(dst, h.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, h.Value...)
		dst = append(dst, '\n')
	}
	if len(body) > 0 {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\n\n"...)
		return append(dst, body...)
	}
	return append(dst, '\n')
}
