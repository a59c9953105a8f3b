package persistence

// ESLUser is a tenant-scoped Event Socket `userauth` credential. Password is write-only: the store
// keeps only a salted PBKDF2-SHA256 hash (see Store.VerifyESLUser). Empty AllowedEvents/AllowedAPI
// mean the ESL server's defaults.
type ESLUser struct {
	ID            int64    `json:"id"`
	DomainID      int64    `json:"domain_id"`
	Username      string   `json:"username"`
	Password      string   `json:"password,omitempty"`
	AllowedEvents []string `json:"allowed_events"`
	AllowedAPI    []string `json:"allowed_api"`
	Comment       *string  `json:"comment"`
}

// Kind implements Record.
func (*ESLUser) Kind() Kind { return KindESLUser }

// GetID implements Record.
func (u *ESLUser) GetID() int64 { return u.ID }

// SetID implements Record.
func (u *ESLUser) SetID(id int64) { u.ID = id }

// Scope implements Record.
func (u *ESLUser) Scope() int64 { return u.DomainID }

// ApplyDefaults implements Record (no defaults).
func (u *ESLUser) ApplyDefaults() {}

// Validate implements Record. An empty password passes here; the store requires one on create.
func (u *ESLUser) Validate() error {
	if err := checkDomainID(u.DomainID); err != nil {
		return err
	}
	if u.Username == "" {
		return fieldErr("username", "required")
	}
	if err := checkPattern("username", u.Username, reESLUsername, "1-64 characters of A-Z a-z 0-9 _ . @ -"); err != nil {
		return err
	}
	if err := checkPassword("password", u.Password); err != nil {
		return err
	}
	if err := checkTokenList("allowed_events", u.AllowedEvents); err != nil {
		return err
	}
	if err := checkTokenList("allowed_api", u.AllowedAPI); err != nil {
		return err
	}
	return checkOptText("comment", u.Comment, maxText)
}

// API token roles.
const (
	RoleOperator    = "operator"
	RoleDomainAdmin = "domain_admin"
	RoleCustomer    = "customer"
)

// MinTokenLength is the shortest plaintext accepted in APIToken.Token.
const MinTokenLength = 16

// APIToken is an admin API credential. Only a SHA-256 hash of the secret is stored (under
// secret/api_token/<id>) and never returned. Token is write-only: set it on Create/Update to choose
// the secret (e.g. from --admin-token), or use Store.CreateToken to have one generated.
// An operator token has DomainID 0; domain_admin needs DomainID; customer needs both ids.
type APIToken struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	DomainID   int64  `json:"domain_id"`
	Role       string `json:"role"`
	CustomerID int64  `json:"customer_id"`
	Token      string `json:"token,omitempty"`
}

// Kind implements Record.
func (*APIToken) Kind() Kind { return KindAPIToken }

// GetID implements Record.
func (t *APIToken) GetID() int64 { return t.ID }

// SetID implements Record.
func (t *APIToken) SetID(id int64) { t.ID = id }

// Scope implements Record (0 for operator tokens).
func (t *APIToken) Scope() int64 { return t.DomainID }

// ApplyDefaults implements Record (no defaults).
func (t *APIToken) ApplyDefaults() {}

// Validate implements Record. An empty Token passes here; the store requires one on create.
func (t *APIToken) Validate() error {
	if err := checkRequiredName("name", t.Name); err != nil {
		return err
	}
	if err := checkEnum("role", t.Role, RoleOperator, RoleDomainAdmin, RoleCustomer); err != nil {
		return err
	}
	switch t.Role {
	case RoleOperator:
		if t.DomainID != 0 {
			return fieldErr("domain_id", "must be 0 for an operator token")
		}
		if t.CustomerID != 0 {
			return fieldErr("customer_id", "must be 0 for an operator token")
		}
	case RoleDomainAdmin:
		if t.DomainID <= 0 {
			return fieldErr("domain_id", "required for a domain_admin token")
		}
		if t.CustomerID != 0 {
			return fieldErr("customer_id", "must be 0 for a domain_admin token")
		}
	case RoleCustomer:
		if t.DomainID <= 0 {
			return fieldErr("domain_id", "required for a customer token")
		}
		if t.CustomerID <= 0 {
			return fieldErr("customer_id", "required for a customer token")
		}
	}
	if t.Token != "" {
		if len(t.Token) < MinTokenLength || len(t.Token) > 256 {
			return fieldErr("token", "must be %d to 256 characters", MinTokenLength)
		}
		for i := 0; i < len(t.Token); i++ {
			if c := t.Token[i]; c < 0x21 || c > 0x7e {
				return fieldErr("token", "must be printable ASCII without spaces")
			}
		}
	}
	return nil
}
