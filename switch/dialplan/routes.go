package dialplan

import (
	"cmp"
	"slices"
	"strings"
)

// Route is a termination route as route selection sees it (FEATURES RT-01..RT-03).
type Route struct {
	ID        int64
	GatewayID int64
	SrcPrefix string // caller number prefix; empty matches any
	DstPrefix string // dialled number prefix; empty matches any
	Priority  int    // lower number is tried first among equally specific routes
	SrcRule   Rule   // source-number rewrite applied when the route is used
	DstRule   Rule   // destination-number rewrite applied when the route is used
}

// SelectRoutes returns the routes whose DstPrefix is a prefix of dst and whose
// SrcPrefix is a prefix of src (empty = any), ordered for failover by: longer
// DstPrefix first, then longer SrcPrefix, then lower Priority, then lower ID
// (DECISIONS 21). The input slice is not modified; no candidates gives nil (the caller
// answers 404 and writes a termination CDR).
func SelectRoutes(routes []Route, src, dst string) []Route {
	var out []Route
	for _, r := range routes {
		if strings.HasPrefix(dst, r.DstPrefix) && strings.HasPrefix(src, r.SrcPrefix) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b Route) int {
		if c := cmp.Compare(len(b.DstPrefix), len(a.DstPrefix)); c != 0 {
			return c
		}
		if c := cmp.Compare(len(b.SrcPrefix), len(a.SrcPrefix)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Priority, b.Priority); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}
