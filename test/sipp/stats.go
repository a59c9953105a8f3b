package sipptest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Stats is the last row of SIPp's -trace_stat file: column name -> value,
// e.g. "SuccessfulCall(C)" -> "3". Cumulative counters end in "(C)".
type Stats map[string]string

// Int returns the named column as an integer, or 0 when it is absent or not a number.
func (s Stats) Int(name string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s[name]))
	if err != nil {
		return 0
	}
	return n
}

// parseStats reads a SIPp statistics CSV (';'-separated, header line first)
// and returns its last data row.
func parseStats(data []byte) (Stats, error) {
	lines := strings.Split(strings.TrimRight(string(data), "\r\n"), "\n")
	if len(lines) < 2 || strings.TrimSpace(lines[0]) == "" {
		return nil, fmt.Errorf("statistics file has %d lines, want a header and a data row", len(lines))
	}
	head := splitRow(lines[0])
	last := splitRow(lines[len(lines)-1])
	if len(last) != len(head) {
		return nil, fmt.Errorf("statistics row has %d columns, header has %d", len(last), len(head))
	}
	for _, need := range []string{"SuccessfulCall(C)", "FailedCall(C)", "TotalCallCreated"} {
		if !slices.Contains(head, need) {
			return nil, fmt.Errorf("statistics header lacks column %q", need)
		}
	}
	st := make(Stats, len(head))
	for i, h := range head {
		st[h] = last[i]
	}
	return st, nil
}

// splitRow splits one CSV line; SIPp ends every line with the delimiter.
func splitRow(line string) []string {
	return strings.Split(strings.TrimSuffix(strings.TrimRight(line, "\r"), ";"), ";")
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
