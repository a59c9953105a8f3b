package crash

// A reader for SIPp's -trace_msg log: which calls got their INVITE and their BYE
// answered with 200, as seen by the SIPp caller.

import (
	"fmt"
	"strings"
)

// traceSeparator starts every message block of a SIPp -trace_msg log (a timestamp follows).
const traceSeparator = "-----------------------------------------------"

// traceSummary is what a caller's message log says about its calls, keyed by Call-ID.
type traceSummary struct {
	// InviteAnswered holds the calls that received a 200 to an INVITE.
	InviteAnswered map[string]bool
	// ByeAnswered holds the calls that received a 200 to a BYE: the switch acknowledged
	// the hangup, so their CDRs are durable (DECISIONS 13).
	ByeAnswered map[string]bool
	// Messages counts the message blocks read (sent and received).
	Messages int
}

// parseTrace reads a SIPp -trace_msg log. Received 200 responses are classified by the
// method in their CSeq; every other message is only counted. A log that does not look
// like a SIPp trace, a block without a direction line, and a received 200 that lacks a
// Call-ID or a CSeq are errors naming the line.
func parseTrace(log string) (traceSummary, error) {
	sum := traceSummary{InviteAnswered: map[string]bool{}, ByeAnswered: map[string]bool{}}
	lines := strings.Split(strings.ReplaceAll(log, "\r\n", "\n"), "\n")
	start := -1 // line index of the current block's separator
	flush := func(end int) error {
		if start < 0 {
			return nil
		}
		sum.Messages++
		return classify(&sum, lines[start:end], start+1)
	}
	for i, line := range lines {
		if strings.HasPrefix(line, traceSeparator) {
			if err := flush(i); err != nil {
				return traceSummary{}, err
			}
			start = i
			continue
		}
		if start < 0 && strings.TrimSpace(line) != "" {
			return traceSummary{}, fmt.Errorf("trace line %d: %q before the first message separator: not a SIPp -trace_msg log", i+1, clip(line))
		}
	}
	if err := flush(len(lines)); err != nil {
		return traceSummary{}, err
	}
	return sum, nil
}

// classify records one message block; block[0] is the separator at line number lineNo.
func classify(sum *traceSummary, block []string, lineNo int) error {
	if len(block) < 2 || !strings.Contains(block[1], " message ") {
		return fmt.Errorf("trace line %d: message block without a \"... message sent/received\" line", lineNo)
	}
	if !strings.Contains(block[1], "message received") {
		return nil
	}
	// The SIP message starts after the blank line that follows the direction line.
	body := block[2:]
	for len(body) > 0 && strings.TrimSpace(body[0]) == "" {
		body = body[1:]
	}
	if len(body) == 0 || !strings.HasPrefix(body[0], "SIP/2.0 200 ") {
		return nil
	}
	var callID, method string
	for _, h := range body[1:] {
		if strings.TrimSpace(h) == "" {
			break // end of the headers
		}
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "call-id", "i":
			callID = value
		case "cseq":
			if f := strings.Fields(value); len(f) == 2 {
				method = f[1]
			}
		}
	}
	switch {
	case callID == "":
		return fmt.Errorf("trace line %d: received 200 without a Call-ID", lineNo)
	case method == "":
		return fmt.Errorf("trace line %d: received 200 for call %q without a valid CSeq", lineNo, callID)
	case method == "INVITE":
		sum.InviteAnswered[callID] = true
	case method == "BYE":
		sum.ByeAnswered[callID] = true
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 60
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
