package persistence

// Customer is a sub-customer of a domain, identified in SIP by its client_prefix (seeds 001, 003, 004).
// ClientPrefix is immutable after creation because SIP identities are derived from it.
type Customer struct {
	ID                   int64         `json:"id"`
	DomainID             int64         `json:"domain_id"`
	Name                 string        `json:"name"`
	ClientPrefix         string        `json:"client_prefix"`
	UILanguage           string        `json:"ui_language"`
	CapacityLimit        int           `json:"capacity_limit"`
	SIPAccountLimit      int           `json:"sip_account_limit"`
	Status               string        `json:"status"`
	Contacts             []Contact     `json:"contacts"`
	InternalNumberBlocks []NumberBlock `json:"internal_number_blocks"`
}

// Contact is a person attached to a customer (seed 004).
type Contact struct {
	Name         string `json:"name"`
	LoginEmail   string `json:"login_email"`
	PublicNotes  string `json:"public_notes"`
	PrivateNotes string `json:"private_notes"`
}

// NumberBlock is an inclusive internal number range; From and To are digit strings of equal length.
type NumberBlock struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Kind implements Record.
func (*Customer) Kind() Kind { return KindCustomer }

// GetID implements Record.
func (c *Customer) GetID() int64 { return c.ID }

// SetID implements Record.
func (c *Customer) SetID(id int64) { c.ID = id }

// Scope implements Record.
func (c *Customer) Scope() int64 { return c.DomainID }

// ApplyDefaults implements Record.
func (c *Customer) ApplyDefaults() {
	if c.UILanguage == "" {
		c.UILanguage = "en"
	}
	if c.Status == "" {
		c.Status = StatusActive
	}
}

// Validate implements Record.
func (c *Customer) Validate() error {
	if err := checkDomainID(c.DomainID); err != nil {
		return err
	}
	if err := checkRequiredName("name", c.Name); err != nil {
		return err
	}
	if c.ClientPrefix == "" {
		return fieldErr("client_prefix", "required")
	}
	if len(c.ClientPrefix) > 10 || !reDigits.MatchString(c.ClientPrefix) {
		return fieldErr("client_prefix", "must be 1-10 digits")
	}
	if err := checkLanguage("ui_language", c.UILanguage); err != nil {
		return err
	}
	if err := checkNonNegative("capacity_limit", c.CapacityLimit); err != nil {
		return err
	}
	if err := checkNonNegative("sip_account_limit", c.SIPAccountLimit); err != nil {
		return err
	}
	if err := checkEnum("status", c.Status, StatusActive, StatusLocked); err != nil {
		return err
	}
	for i, ct := range c.Contacts {
		p := indexed("contacts", i)
		if err := checkRequiredName(p+".name", ct.Name); err != nil {
			return err
		}
		if err := checkEmail(p+".login_email", ct.LoginEmail, true); err != nil {
			return err
		}
		if err := checkText(p+".public_notes", ct.PublicNotes, maxText); err != nil {
			return err
		}
		if err := checkText(p+".private_notes", ct.PrivateNotes, maxText); err != nil {
			return err
		}
	}
	for i, b := range c.InternalNumberBlocks {
		p := indexed("internal_number_blocks", i)
		if len(b.From) > 15 || !reDigits.MatchString(b.From) {
			return fieldErr(p+".from", "must be 1-15 digits")
		}
		if len(b.To) > 15 || !reDigits.MatchString(b.To) {
			return fieldErr(p+".to", "must be 1-15 digits")
		}
		if len(b.From) != len(b.To) {
			return fieldErr(p+".to", "must have the same number of digits as from")
		}
		if b.From > b.To {
			return fieldErr(p+".to", "must not be below from")
		}
		for j := 0; j < i; j++ {
			o := c.InternalNumberBlocks[j]
			if len(o.From) == len(b.From) && b.From <= o.To && o.From <= b.To {
				return fieldErr(p, "overlaps internal_number_blocks[%d]", j)
			}
		}
	}
	return nil
}

// SIPAccount is an extension (seed 001). The digest username is "<client_prefix>*<username>" and the
// realm is the domain name. Password is write-only: it is turned into HA1 hashes (see SIPSecret) and
// is cleared in every record the store returns. IsOnline and UserAgent are filled by the API from
// bindings and never persisted. Username and CustomerID are immutable.
type SIPAccount struct {
	ID                  int64  `json:"id"`
	DomainID            int64  `json:"domain_id"`
	CustomerID          int64  `json:"customer_id"`
	Username            string `json:"username"`
	Password            string `json:"password,omitempty"`
	CallerIDName        string `json:"caller_id_name"`
	AllowOutbound       bool   `json:"allow_outbound"`
	InternalCallerID    string `json:"internal_caller_id"`
	ExternalCallerID    string `json:"external_caller_id"`
	EmergencyCallerID   string `json:"emergency_caller_id"`
	EmergencyCallerName string `json:"emergency_caller_name"`
	IsOnline            bool   `json:"is_online"`
	UserAgent           string `json:"user_agent"`
}

// Kind implements Record.
func (*SIPAccount) Kind() Kind { return KindSIPAccount }

// GetID implements Record.
func (a *SIPAccount) GetID() int64 { return a.ID }

// SetID implements Record.
func (a *SIPAccount) SetID(id int64) { a.ID = id }

// Scope implements Record.
func (a *SIPAccount) Scope() int64 { return a.DomainID }

// ApplyDefaults implements Record: internal_caller_id defaults to the username. The domain-derived
// defaults (external and emergency caller ID) are filled by the store at creation.
func (a *SIPAccount) ApplyDefaults() {
	if a.InternalCallerID == "" {
		a.InternalCallerID = a.Username
	}
}

// Validate implements Record. An empty password passes here; the store requires one on create.
func (a *SIPAccount) Validate() error {
	if err := checkDomainID(a.DomainID); err != nil {
		return err
	}
	if a.CustomerID <= 0 {
		return fieldErr("customer_id", "required")
	}
	if a.Username == "" {
		return fieldErr("username", "required")
	}
	if err := checkPattern("username", a.Username, reExtension, "1-32 characters of A-Z a-z 0-9 _ . -"); err != nil {
		return err
	}
	if err := checkPassword("password", a.Password); err != nil {
		return err
	}
	if err := checkText("caller_id_name", a.CallerIDName, maxName); err != nil {
		return err
	}
	if a.InternalCallerID != "" {
		if err := checkPattern("internal_caller_id", a.InternalCallerID, reExtension, "1-32 characters of A-Z a-z 0-9 _ . -"); err != nil {
			return err
		}
	}
	if err := checkCallerID("external_caller_id", a.ExternalCallerID); err != nil {
		return err
	}
	if err := checkCallerID("emergency_caller_id", a.EmergencyCallerID); err != nil {
		return err
	}
	return checkText("emergency_caller_name", a.EmergencyCallerName, maxName)
}

// DigestUsername returns the SIP digest username "<clientPrefix>*<username>".
func DigestUsername(clientPrefix, username string) string {
	return clientPrefix + "*" + username
}

// Number is a DID (seed 001): unique platform-wide, owned by a customer; a disabled number
// rejects incoming calls. Destination is the extension (username) of that customer it rings.
type Number struct {
	ID          int64   `json:"id"`
	DomainID    int64   `json:"domain_id"`
	Number      string  `json:"number"`
	CustomerID  int64   `json:"customer_id"`
	Enable      *bool   `json:"enable"`
	Destination string  `json:"destination"`
	Comment     *string `json:"comment"`
}

// Kind implements Record.
func (*Number) Kind() Kind { return KindNumber }

// GetID implements Record.
func (n *Number) GetID() int64 { return n.ID }

// SetID implements Record.
func (n *Number) SetID(id int64) { n.ID = id }

// Scope implements Record.
func (n *Number) Scope() int64 { return n.DomainID }

// ApplyDefaults implements Record: enable defaults to true.
func (n *Number) ApplyDefaults() {
	if n.Enable == nil {
		t := true
		n.Enable = &t
	}
}

// Enabled reports whether the number accepts calls (nil means the default, enabled).
func (n *Number) Enabled() bool { return n.Enable == nil || *n.Enable }

// Validate implements Record.
func (n *Number) Validate() error {
	if err := checkDomainID(n.DomainID); err != nil {
		return err
	}
	if n.Number == "" {
		return fieldErr("number", "required")
	}
	if err := checkPattern("number", n.Number, reNumber, "2-20 digits with an optional leading +"); err != nil {
		return err
	}
	if n.CustomerID <= 0 {
		return fieldErr("customer_id", "required")
	}
	if n.Destination != "" {
		if err := checkPattern("destination", n.Destination, reExtension, "an extension username"); err != nil {
			return err
		}
	}
	return checkOptText("comment", n.Comment, maxText)
}
