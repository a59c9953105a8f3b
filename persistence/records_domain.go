package persistence

import (
	"time"
	_ "time/tzdata" // IANA zones for defaults.timezone even without a system zoneinfo
)

// Domain status values.
const (
	StatusActive = "active"
	StatusLocked = "locked"
)

// Dial permission values for DomainDefaults.DialPermission.
const (
	DialInternalOnly  = "internal_only"
	DialNational      = "national"
	DialUKOnly        = "uk_only"
	DialInternational = "international"
)

// MaxNoAnswerTimeout is the largest allowed Domain.NoAnswerTimeout in seconds;
// DefaultNoAnswerTimeout applies when the field is 0.
const (
	MaxNoAnswerTimeout     = 600
	DefaultNoAnswerTimeout = 60
)

// Domain is a tenant (seeds 000 and 003). Name and DomainSuffix are immutable after creation.
type Domain struct {
	ID                       int64          `json:"id"`
	Name                     string         `json:"name"`
	Description              string         `json:"description"`
	Comment                  *string        `json:"comment"`
	EmailSender              string         `json:"email_sender"`
	Record                   bool           `json:"record"`
	Residential              bool           `json:"residential"`
	Status                   string         `json:"status"`
	SSO                      bool           `json:"sso"`
	DomainSuffix             string         `json:"domain_suffix"`
	DomainPrefix             string         `json:"domain_prefix"`
	AllowCrossDomainDialling bool           `json:"allow_cross_domain_dialling"`
	DigestAlgorithms         []string       `json:"digest_algorithms"`
	NoAnswerTimeout          int            `json:"no_answer_timeout"`
	Defaults                 DomainDefaults `json:"defaults"`
	Limitations              Limitations    `json:"limitations"`
	RecordingQuota           RecordingQuota `json:"recording_quota"`
	// Management is read-only: true only for the reserved management domain made by Bootstrap.
	Management bool `json:"management"`
}

// DomainDefaults are copied into new users of the domain (seed 000 "Defaults" tab).
type DomainDefaults struct {
	DialPermission   string `json:"dial_permission"`
	Language         string `json:"language"`
	Timezone         string `json:"timezone"`
	AreaCode         string `json:"area_code"`
	CallerName       string `json:"caller_name"`
	CallerID         string `json:"caller_id"`
	RandomizeMOH     bool   `json:"randomize_moh"`
	VoicemailEnabled bool   `json:"voicemail_enabled"`
	VoicemailMessage string `json:"voicemail_message"`
	TTSLanguage      string `json:"tts_language"`
	TTSVoice         string `json:"tts_voice"`
}

// Limitations are the domain's call limits (0 = unlimited) and max-feature caps.
type Limitations struct {
	ActiveCallLimit        int        `json:"active_call_limit"`
	ExternalCallLimit      int        `json:"external_call_limit"`
	MaxUsers               FeatureCap `json:"max_users"`
	MaxNumbers             FeatureCap `json:"max_numbers"`
	MaxIncomingTrunks      FeatureCap `json:"max_incoming_trunks"`
	MaxTerminationGateways FeatureCap `json:"max_termination_gateways"`
	MaxTerminationRoutes   FeatureCap `json:"max_termination_routes"`
	MaxRingGroups          FeatureCap `json:"max_ring_groups"`
	MaxQueues              FeatureCap `json:"max_queues"`
	MaxIVRMenus            FeatureCap `json:"max_ivr_menus"`
	MaxConferences         FeatureCap `json:"max_conferences"`
	MaxVoicemailBoxes      FeatureCap `json:"max_voicemail_boxes"`
	MaxTeams               FeatureCap `json:"max_teams"`
	MaxParkingLots         FeatureCap `json:"max_parking_lots"`
	MaxSchedules           FeatureCap `json:"max_schedules"`
}

// RecordingQuota limits stored call recordings (0 = unlimited / keep forever).
type RecordingQuota struct {
	MaxMinutes    int `json:"max_minutes"`
	RetentionDays int `json:"retention_days"`
}

// Kind implements Record.
func (*Domain) Kind() Kind { return KindDomain }

// GetID implements Record.
func (d *Domain) GetID() int64 { return d.ID }

// SetID implements Record.
func (d *Domain) SetID(id int64) { d.ID = id }

// Scope implements Record: a domain is its own scope.
func (d *Domain) Scope() int64 { return d.ID }

// ApplyDefaults implements Record.
func (d *Domain) ApplyDefaults() {
	if d.Status == "" {
		d.Status = StatusActive
	}
	if len(d.DigestAlgorithms) == 0 {
		d.DigestAlgorithms = []string{"MD5", "SHA-256"}
	}
	def := &d.Defaults
	if def.DialPermission == "" {
		def.DialPermission = DialInternational
	}
	if def.Language == "" {
		def.Language = "en"
	}
	if def.Timezone == "" {
		def.Timezone = "UTC"
	}
	if def.AreaCode == "" {
		def.AreaCode = "000"
	}
	if def.TTSLanguage == "" {
		def.TTSLanguage = "en"
	}
}

// EffectiveNoAnswerTimeout returns the ring timeout, substituting the switch default for 0.
func (d *Domain) EffectiveNoAnswerTimeout() time.Duration {
	if d.NoAnswerTimeout == 0 {
		return DefaultNoAnswerTimeout * time.Second
	}
	return time.Duration(d.NoAnswerTimeout) * time.Second
}

// Validate implements Record.
func (d *Domain) Validate() error {
	if d.Name == "" {
		return fieldErr("name", "required")
	}
	if len(d.Name) > 253 || !reDomainName.MatchString(d.Name) {
		return fieldErr("name", "must be 1-253 characters of A-Z a-z 0-9 . - _")
	}
	if err := checkText("description", d.Description, maxText); err != nil {
		return err
	}
	if err := checkOptText("comment", d.Comment, maxText); err != nil {
		return err
	}
	if err := checkEmail("email_sender", d.EmailSender, false); err != nil {
		return err
	}
	if err := checkEnum("status", d.Status, StatusActive, StatusLocked); err != nil {
		return err
	}
	if d.DomainSuffix != "" && (len(d.DomainSuffix) > 253 || !reDomainName.MatchString(d.DomainSuffix)) {
		return fieldErr("domain_suffix", "must be up to 253 characters of A-Z a-z 0-9 . - _")
	}
	if d.DomainPrefix == "" {
		return fieldErr("domain_prefix", "required")
	}
	if len(d.DomainPrefix) != 5 || !reDigits.MatchString(d.DomainPrefix) {
		return fieldErr("domain_prefix", "must be exactly 5 digits")
	}
	if len(d.DigestAlgorithms) == 0 {
		return fieldErr("digest_algorithms", "at least one algorithm is required")
	}
	seen := map[string]bool{}
	for i, a := range d.DigestAlgorithms {
		f := indexed("digest_algorithms", i)
		if err := checkEnum(f, a, "MD5", "SHA-256"); err != nil {
			return err
		}
		if seen[a] {
			return fieldErr(f, "duplicate algorithm %q", a)
		}
		seen[a] = true
	}
	if d.NoAnswerTimeout < 0 || d.NoAnswerTimeout > MaxNoAnswerTimeout {
		return fieldErr("no_answer_timeout", "must be 0 (switch default) to %d seconds", MaxNoAnswerTimeout)
	}
	if err := d.Defaults.validate(); err != nil {
		return err
	}
	if err := d.Limitations.validate(); err != nil {
		return err
	}
	if err := checkNonNegative("recording_quota.max_minutes", d.RecordingQuota.MaxMinutes); err != nil {
		return err
	}
	return checkNonNegative("recording_quota.retention_days", d.RecordingQuota.RetentionDays)
}

func (def *DomainDefaults) validate() error {
	if err := checkEnum("defaults.dial_permission", def.DialPermission,
		DialInternalOnly, DialNational, DialUKOnly, DialInternational); err != nil {
		return err
	}
	if err := checkLanguage("defaults.language", def.Language); err != nil {
		return err
	}
	if def.Timezone == "Local" {
		return fieldErr("defaults.timezone", "must be an IANA zone such as Europe/London")
	}
	if _, err := time.LoadLocation(def.Timezone); err != nil {
		return fieldErr("defaults.timezone", "unknown IANA zone %q", def.Timezone)
	}
	if len(def.AreaCode) > 10 || !reDigits.MatchString(def.AreaCode) {
		return fieldErr("defaults.area_code", "must be 1-10 digits")
	}
	if err := checkText("defaults.caller_name", def.CallerName, maxName); err != nil {
		return err
	}
	if err := checkCallerID("defaults.caller_id", def.CallerID); err != nil {
		return err
	}
	if err := checkText("defaults.voicemail_message", def.VoicemailMessage, maxText); err != nil {
		return err
	}
	if err := checkLanguage("defaults.tts_language", def.TTSLanguage); err != nil {
		return err
	}
	return checkText("defaults.tts_voice", def.TTSVoice, maxName)
}

func (l *Limitations) validate() error {
	if err := checkNonNegative("limitations.active_call_limit", l.ActiveCallLimit); err != nil {
		return err
	}
	if err := checkNonNegative("limitations.external_call_limit", l.ExternalCallLimit); err != nil {
		return err
	}
	for _, c := range l.caps() {
		if err := c.cap.validate("limitations." + c.name); err != nil {
			return err
		}
	}
	return nil
}

type namedCap struct {
	name string
	cap  FeatureCap
}

func (l *Limitations) caps() []namedCap {
	return []namedCap{
		{"max_users", l.MaxUsers}, {"max_numbers", l.MaxNumbers},
		{"max_incoming_trunks", l.MaxIncomingTrunks}, {"max_termination_gateways", l.MaxTerminationGateways},
		{"max_termination_routes", l.MaxTerminationRoutes}, {"max_ring_groups", l.MaxRingGroups},
		{"max_queues", l.MaxQueues}, {"max_ivr_menus", l.MaxIVRMenus}, {"max_conferences", l.MaxConferences},
		{"max_voicemail_boxes", l.MaxVoicemailBoxes}, {"max_teams", l.MaxTeams},
		{"max_parking_lots", l.MaxParkingLots}, {"max_schedules", l.MaxSchedules},
	}
}

// DomainAlias is another name (hostname or IP) under which a domain appears in From (seed 003).
// Alias names are unique across all domains and may not equal a domain name.
type DomainAlias struct {
	ID       int64   `json:"id"`
	DomainID int64   `json:"domain_id"`
	Name     string  `json:"name"`
	Comment  *string `json:"comment"`
}

// Kind implements Record.
func (*DomainAlias) Kind() Kind { return KindDomainAlias }

// GetID implements Record.
func (a *DomainAlias) GetID() int64 { return a.ID }

// SetID implements Record.
func (a *DomainAlias) SetID(id int64) { a.ID = id }

// Scope implements Record.
func (a *DomainAlias) Scope() int64 { return a.DomainID }

// ApplyDefaults implements Record (no defaults).
func (a *DomainAlias) ApplyDefaults() {}

// Validate implements Record.
func (a *DomainAlias) Validate() error {
	if err := checkDomainID(a.DomainID); err != nil {
		return err
	}
	if a.Name == "" {
		return fieldErr("name", "required")
	}
	if !isIP(a.Name) && !isHostname(a.Name) {
		return fieldErr("name", "must be a hostname or an IP address")
	}
	return checkOptText("comment", a.Comment, maxText)
}

// ForceSource maps requests whose packet source IP matches to the domain (seed 003).
type ForceSource struct {
	ID       int64   `json:"id"`
	DomainID int64   `json:"domain_id"`
	IP       string  `json:"ip"`
	Comment  *string `json:"comment"`
}

// Kind implements Record.
func (*ForceSource) Kind() Kind { return KindForceSource }

// GetID implements Record.
func (f *ForceSource) GetID() int64 { return f.ID }

// SetID implements Record.
func (f *ForceSource) SetID(id int64) { f.ID = id }

// Scope implements Record.
func (f *ForceSource) Scope() int64 { return f.DomainID }

// ApplyDefaults implements Record (no defaults).
func (f *ForceSource) ApplyDefaults() {}

// Validate implements Record.
func (f *ForceSource) Validate() error {
	if err := checkDomainID(f.DomainID); err != nil {
		return err
	}
	if err := checkIP("ip", f.IP); err != nil {
		return err
	}
	return checkOptText("comment", f.Comment, maxText)
}

// ForceDestination maps requests whose From host is this IP to the domain (seed 003).
type ForceDestination struct {
	ID       int64   `json:"id"`
	DomainID int64   `json:"domain_id"`
	IP       string  `json:"ip"`
	Comment  *string `json:"comment"`
}

// Kind implements Record.
func (*ForceDestination) Kind() Kind { return KindForceDestination }

// GetID implements Record.
func (f *ForceDestination) GetID() int64 { return f.ID }

// SetID implements Record.
func (f *ForceDestination) SetID(id int64) { f.ID = id }

// Scope implements Record.
func (f *ForceDestination) Scope() int64 { return f.DomainID }

// ApplyDefaults implements Record (no defaults).
func (f *ForceDestination) ApplyDefaults() {}

// Validate implements Record.
func (f *ForceDestination) Validate() error {
	if err := checkDomainID(f.DomainID); err != nil {
		return err
	}
	if err := checkIP("ip", f.IP); err != nil {
		return err
	}
	return checkOptText("comment", f.Comment, maxText)
}

func checkDomainID(id int64) error {
	if id <= 0 {
		return fieldErr("domain_id", "required")
	}
	return nil
}
