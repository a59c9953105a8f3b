package persistence

import "net/netip"

// Transport values for trunks and gateways.
const (
	TransportUDP = "UDP"
	TransportTCP = "TCP"
	TransportTLS = "TLS"
)

// Destination field values for IncomingTrunk.DestinationField.
const (
	DestRURIUserpart = "RURI_USERPART"
	DestToUserpart   = "TO_USERPART"
)

// IncomingTrunk receives carrier traffic for a customer's DIDs (seed 001; DECISIONS 7). It is
// identified by source IP/CIDR first, then by credentials. AuthPassword is write-only and stored
// recoverably under secret/incoming_trunk/<id> (see Store.GetTrunkSecret).
type IncomingTrunk struct {
	ID               int64    `json:"id"`
	DomainID         int64    `json:"domain_id"`
	CustomerID       int64    `json:"customer_id"`
	Name             string   `json:"name"`
	Domain           string   `json:"domain"`
	Codecs           []string `json:"codecs"`
	Transport        string   `json:"transport"`
	DestinationField string   `json:"destination_field"`
	SourceIPs        []string `json:"source_ips"`
	AuthUsername     string   `json:"auth_username"`
	AuthPassword     string   `json:"auth_password,omitempty"`
	Comment          *string  `json:"comment"`
}

// Kind implements Record.
func (*IncomingTrunk) Kind() Kind { return KindIncomingTrunk }

// GetID implements Record.
func (t *IncomingTrunk) GetID() int64 { return t.ID }

// SetID implements Record.
func (t *IncomingTrunk) SetID(id int64) { t.ID = id }

// Scope implements Record.
func (t *IncomingTrunk) Scope() int64 { return t.DomainID }

// ApplyDefaults implements Record.
func (t *IncomingTrunk) ApplyDefaults() {
	if len(t.Codecs) == 0 {
		t.Codecs = []string{"PCMU", "PCMA"}
	}
	if t.Transport == "" {
		t.Transport = TransportUDP
	}
	if t.DestinationField == "" {
		t.DestinationField = DestRURIUserpart
	}
}

// Validate implements Record.
func (t *IncomingTrunk) Validate() error {
	if err := checkDomainID(t.DomainID); err != nil {
		return err
	}
	if t.CustomerID <= 0 {
		return fieldErr("customer_id", "required")
	}
	if err := checkRequiredName("name", t.Name); err != nil {
		return err
	}
	if err := checkHost("domain", t.Domain, false); err != nil {
		return err
	}
	if err := checkCodecs("codecs", t.Codecs); err != nil {
		return err
	}
	if err := checkEnum("transport", t.Transport, TransportUDP, TransportTCP, TransportTLS); err != nil {
		return err
	}
	if err := checkEnum("destination_field", t.DestinationField, DestRURIUserpart, DestToUserpart); err != nil {
		return err
	}
	for i, s := range t.SourceIPs {
		if _, err := netip.ParseAddr(s); err == nil {
			continue
		}
		if _, err := netip.ParsePrefix(s); err != nil {
			return fieldErr(indexed("source_ips", i), "must be an IP address or CIDR prefix")
		}
	}
	if t.AuthUsername != "" {
		if err := checkPattern("auth_username", t.AuthUsername, reAuthUser, "1-64 characters without spaces, ':', '@' or quotes"); err != nil {
			return err
		}
	}
	if t.AuthPassword != "" && t.AuthUsername == "" {
		return fieldErr("auth_username", "required when auth_password is set")
	}
	if err := checkPassword("auth_password", t.AuthPassword); err != nil {
		return err
	}
	return checkOptText("comment", t.Comment, maxText)
}

// Network protocol values for TerminationGateway.NetworkProtocol.
const (
	NetIPv4Only = "IPv4_only"
	NetIPv6Only = "IPv6_only"
	NetDual     = "dual"
)

// TerminationGateway sends calls to the PSTN (seed 001). AuthPassword is write-only and stored
// recoverably under secret/termination_gateway/<id> (DECISIONS 17; see Store.GetGatewaySecret).
type TerminationGateway struct {
	ID               int64    `json:"id"`
	DomainID         int64    `json:"domain_id"`
	CustomerID       int64    `json:"customer_id"`
	Name             string   `json:"name"`
	Host             string   `json:"host"`
	Port             int      `json:"port"`
	NetworkProtocol  string   `json:"network_protocol"`
	Transport        string   `json:"transport"`
	AuthName         string   `json:"auth_name"`
	AuthPassword     string   `json:"auth_password,omitempty"`
	Codecs           []string `json:"codecs"`
	SrcRewriteRule   string   `json:"src_rewrite_rule"`
	SrcRewriteResult string   `json:"src_rewrite_result"`
	DstRewriteRule   string   `json:"dst_rewrite_rule"`
	DstRewriteResult string   `json:"dst_rewrite_result"`
	Comment          *string  `json:"comment"`
}

// Kind implements Record.
func (*TerminationGateway) Kind() Kind { return KindTerminationGateway }

// GetID implements Record.
func (g *TerminationGateway) GetID() int64 { return g.ID }

// SetID implements Record.
func (g *TerminationGateway) SetID(id int64) { g.ID = id }

// Scope implements Record.
func (g *TerminationGateway) Scope() int64 { return g.DomainID }

// ApplyDefaults implements Record.
func (g *TerminationGateway) ApplyDefaults() {
	if g.Port == 0 {
		g.Port = 5060
	}
	if g.NetworkProtocol == "" {
		g.NetworkProtocol = NetIPv4Only
	}
	if g.Transport == "" {
		g.Transport = TransportUDP
	}
	if len(g.Codecs) == 0 {
		g.Codecs = []string{"PCMU", "PCMA"}
	}
}

// Validate implements Record.
func (g *TerminationGateway) Validate() error {
	if err := checkDomainID(g.DomainID); err != nil {
		return err
	}
	if g.CustomerID <= 0 {
		return fieldErr("customer_id", "required")
	}
	if err := checkRequiredName("name", g.Name); err != nil {
		return err
	}
	if err := checkHost("host", g.Host, true); err != nil {
		return err
	}
	if g.Port < 1 || g.Port > 65535 {
		return fieldErr("port", "must be 1-65535")
	}
	if err := checkEnum("network_protocol", g.NetworkProtocol, NetIPv4Only, NetIPv6Only, NetDual); err != nil {
		return err
	}
	if err := checkEnum("transport", g.Transport, TransportUDP, TransportTCP, TransportTLS); err != nil {
		return err
	}
	if g.AuthName != "" {
		if err := checkPattern("auth_name", g.AuthName, reAuthUser, "1-64 characters without spaces, ':', '@' or quotes"); err != nil {
			return err
		}
	}
	if err := checkPassword("auth_password", g.AuthPassword); err != nil {
		return err
	}
	if err := checkCodecs("codecs", g.Codecs); err != nil {
		return err
	}
	if err := checkRewrite("src", g.SrcRewriteRule, g.SrcRewriteResult); err != nil {
		return err
	}
	if err := checkRewrite("dst", g.DstRewriteRule, g.DstRewriteResult); err != nil {
		return err
	}
	return checkOptText("comment", g.Comment, maxText)
}

// TerminationRoute selects a gateway by caller/called prefix (seed 001; DECISIONS 21: longest
// dst_prefix, then longest src_prefix, then priority). An empty prefix matches anything; an empty
// name defaults to the gateway's name at creation.
type TerminationRoute struct {
	ID               int64  `json:"id"`
	DomainID         int64  `json:"domain_id"`
	CustomerID       int64  `json:"customer_id"`
	Name             string `json:"name"`
	GatewayID        int64  `json:"gateway_id"`
	SrcPrefix        string `json:"src_prefix"`
	DstPrefix        string `json:"dst_prefix"`
	SrcRewriteRule   string `json:"src_rewrite_rule"`
	SrcRewriteResult string `json:"src_rewrite_result"`
	DstRewriteRule   string `json:"dst_rewrite_rule"`
	DstRewriteResult string `json:"dst_rewrite_result"`
	Priority         int    `json:"priority"`
}

// Kind implements Record.
func (*TerminationRoute) Kind() Kind { return KindTerminationRoute }

// GetID implements Record.
func (r *TerminationRoute) GetID() int64 { return r.ID }

// SetID implements Record.
func (r *TerminationRoute) SetID(id int64) { r.ID = id }

// Scope implements Record.
func (r *TerminationRoute) Scope() int64 { return r.DomainID }

// ApplyDefaults implements Record (priority defaults to 0; the name to the gateway's, in the store).
func (r *TerminationRoute) ApplyDefaults() {}

// Validate implements Record.
func (r *TerminationRoute) Validate() error {
	if err := checkDomainID(r.DomainID); err != nil {
		return err
	}
	if r.CustomerID <= 0 {
		return fieldErr("customer_id", "required")
	}
	if err := checkText("name", r.Name, maxName); err != nil {
		return err
	}
	if r.GatewayID <= 0 {
		return fieldErr("gateway_id", "required")
	}
	if err := checkPattern("src_prefix", r.SrcPrefix, rePrefix, "digits with an optional leading +, or empty"); err != nil {
		return err
	}
	if err := checkPattern("dst_prefix", r.DstPrefix, rePrefix, "digits with an optional leading +, or empty"); err != nil {
		return err
	}
	if err := checkRewrite("src", r.SrcRewriteRule, r.SrcRewriteResult); err != nil {
		return err
	}
	if err := checkRewrite("dst", r.DstRewriteRule, r.DstRewriteResult); err != nil {
		return err
	}
	if r.Priority < 0 {
		return fieldErr("priority", "must be >= 0")
	}
	return nil
}
