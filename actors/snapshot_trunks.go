package actors

import (
	"net/netip"
	"strings"

	"github.com/switchyard/switchyard/persistence"
	"github.com/switchyard/switchyard/switch/dialplan"
)

// TrunkView is an incoming trunk as the edge identifies it (DECISIONS 7: by source address
// first, then by credentials for the host it is addressed to).
type TrunkView struct {
	Config   persistence.IncomingTrunk
	Password string // recoverable auth_password (the documented exception, DECISIONS 17)
	Domain   string // the owning domain's name
	nets     []netip.Prefix
	codecs   map[string]bool
}

// AllowsCodec reports whether an SDP encoding name (PCMU, PCMA, G722, G729, opus,
// telephone-event; case-insensitive) is in the trunk's codec list.
func (t *TrunkView) AllowsCodec(name string) bool { return t.codecs[strings.ToLower(name)] }

// GatewayView is a termination gateway with its compiled rewrite rules.
type GatewayView struct {
	Config   persistence.TerminationGateway
	Password string
	Addr     string // ip:port ("" when the host is not an IP literal: the switch does no DNS)
	src, dst *dialplan.Rewriter
}

// routeView is a termination route with its compiled rewrite rules.
type routeView struct {
	config   persistence.TerminationRoute
	src, dst *dialplan.Rewriter
}

type trunkIndex struct {
	trunks   []*TrunkView
	byHost   map[string]*TrunkView
	numbers  map[string]*persistence.Number
	gateways map[int64]*GatewayView
	routes   map[int64][]dialplan.Route // by customer id
	routeBy  map[int64]*routeView
}

func buildTrunkIndex(all *persistence.Snapshot, domainName func(int64) string) trunkIndex {
	x := trunkIndex{byHost: map[string]*TrunkView{}, numbers: map[string]*persistence.Number{},
		gateways: map[int64]*GatewayView{}, routes: map[int64][]dialplan.Route{}, routeBy: map[int64]*routeView{}}
	for _, t := range all.IncomingTrunks {
		tv := &TrunkView{Config: *t, Password: all.TrunkSecrets[t.ID], Domain: domainName(t.DomainID), codecs: map[string]bool{}}
		for _, s := range t.SourceIPs {
			if p, err := netip.ParsePrefix(s); err == nil {
				tv.nets = append(tv.nets, p.Masked())
			} else if a, err := netip.ParseAddr(s); err == nil {
				tv.nets = append(tv.nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			}
		}
		for _, c := range t.Codecs {
			tv.codecs[strings.ToLower(c)] = true
		}
		x.trunks = append(x.trunks, tv)
		if t.Domain != "" && t.AuthUsername != "" {
			x.byHost[strings.ToLower(t.Domain)] = tv
		}
	}
	for _, n := range all.Numbers {
		x.numbers[normalizeNumber(n.Number)] = n
	}
	for _, g := range all.Gateways {
		gv := &GatewayView{Config: *g, Password: all.GatewaySecrets[g.ID]}
		if ip, err := netip.ParseAddr(g.Host); err == nil {
			gv.Addr = netip.AddrPortFrom(ip, uint16(g.Port)).String()
		}
		gv.src, _ = dialplan.Compile(g.SrcRewriteRule, g.SrcRewriteResult)
		gv.dst, _ = dialplan.Compile(g.DstRewriteRule, g.DstRewriteResult)
		x.gateways[g.ID] = gv
	}
	for _, r := range all.Routes {
		rv := &routeView{config: *r}
		rv.src, _ = dialplan.Compile(r.SrcRewriteRule, r.SrcRewriteResult)
		rv.dst, _ = dialplan.Compile(r.DstRewriteRule, r.DstRewriteResult)
		x.routeBy[r.ID] = rv
		x.routes[r.CustomerID] = append(x.routes[r.CustomerID], dialplan.Route{
			ID: r.ID, GatewayID: r.GatewayID, SrcPrefix: r.SrcPrefix, DstPrefix: r.DstPrefix, Priority: r.Priority,
		})
	}
	return x
}

// normalizeNumber drops a leading + so "+4420…" and "4420…" find the same DID.
func normalizeNumber(n string) string { return strings.TrimPrefix(strings.TrimSpace(n), "+") }

// TrunkBySource returns the incoming trunk whose source_ips contain ip.
func (s *Snapshot) TrunkBySource(ip netip.Addr) (*TrunkView, bool) {
	ip = ip.Unmap()
	for _, t := range s.trunk.trunks {
		for _, p := range t.nets {
			if p.Contains(ip) {
				return t, true
			}
		}
	}
	return nil, false
}

// TrunkByHost returns the credential-authenticated incoming trunk addressed by host.
func (s *Snapshot) TrunkByHost(host string) (*TrunkView, bool) {
	t, ok := s.trunk.byHost[strings.ToLower(host)]
	return t, ok
}

// Number returns the DID record of a number.
func (s *Snapshot) Number(n string) (*persistence.Number, bool) {
	v, ok := s.trunk.numbers[normalizeNumber(n)]
	return v, ok
}

// candidate is one route/gateway pair an outbound call may try, with the numbers rewritten.
type candidate struct {
	route   *routeView
	gateway *GatewayView
	src     string
	dst     string
}

// candidates lists, in failover order, the routes of a customer matching src/dst (DECISIONS
// 21), skipping gateways that are down or unreachable, with route then gateway rewrites applied.
func (s *Snapshot) candidates(customerID int64, src, dst string, up func(int64) bool) []candidate {
	var out []candidate
	for _, r := range dialplan.SelectRoutes(s.trunk.routes[customerID], src, dst) {
		rv, gw := s.trunk.routeBy[r.ID], s.trunk.gateways[r.GatewayID]
		if rv == nil || gw == nil || gw.Addr == "" || (up != nil && !up(gw.Config.ID)) {
			continue
		}
		srcOut, _ := dialplan.RewriteChain(src, rv.src, gw.src)
		dstOut, _ := dialplan.RewriteChain(dst, rv.dst, gw.dst)
		out = append(out, candidate{route: rv, gateway: gw, src: srcOut, dst: dstOut})
	}
	return out
}

// Gateways returns every gateway (for the health-checking trunk actors).
func (s *Snapshot) Gateways() []*GatewayView {
	out := make([]*GatewayView, 0, len(s.trunk.gateways))
	for _, g := range s.trunk.gateways {
		out = append(out, g)
	}
	return out
}

// IncomingTrunks returns every incoming trunk.
func (s *Snapshot) IncomingTrunks() []*TrunkView { return s.trunk.trunks }
