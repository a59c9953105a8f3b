package persistence

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/switchyard/switchyard/switch/auth"
)

// SIPSecret holds an account's digest credentials: HA1 = H(username:realm:password) for MD5 and
// SHA-256, with Username "<client_prefix>*<extension>" and Realm = the domain name.
type SIPSecret struct {
	Username  string `json:"username"`
	Realm     string `json:"realm"`
	HA1MD5    string `json:"ha1_md5"`
	HA1SHA256 string `json:"ha1_sha256"`
}

// eslHash is the stored form of an ESL user's password.
type eslHash struct {
	Salt []byte `json:"salt"`
	Hash []byte `json:"hash"`
	Iter int    `json:"iter"`
}

const (
	eslIterations = 100_000
	eslKeyLen     = 32
)

// requireSecretOnCreate enforces write-only fields that are mandatory on create.
func requireSecretOnCreate(r Record) error {
	switch v := r.(type) {
	case *SIPAccount:
		if v.Password == "" {
			return fieldErr("password", "required")
		}
	case *ESLUser:
		if v.Password == "" {
			return fieldErr("password", "required")
		}
	case *APIToken:
		if v.Token == "" {
			return fieldErr("token", "required (or use CreateToken)")
		}
	case *IncomingTrunk:
		if v.AuthUsername != "" && v.AuthPassword == "" {
			return fieldErr("auth_password", "required when auth_username is set")
		}
	case *TerminationGateway:
		if v.AuthName != "" && v.AuthPassword == "" {
			return fieldErr("auth_password", "required when auth_name is set")
		}
	}
	return nil
}

// clearWriteOnly removes write-only and API-computed fields before a record is stored or returned.
func clearWriteOnly(r Record) {
	switch v := r.(type) {
	case *SIPAccount:
		v.Password, v.IsOnline, v.UserAgent = "", false, ""
	case *IncomingTrunk:
		v.AuthPassword = ""
	case *TerminationGateway:
		v.AuthPassword = ""
	case *ESLUser:
		v.Password = ""
	case *APIToken:
		v.Token = ""
	}
}

// writeSecrets stores the secret derived from rec's write-only field (if given) and returns the
// JSON names of the write-only fields that changed, for the audit diff.
func (w *wctx) writeSecrets(rec, old Record) ([]string, error) {
	k, id := rec.Kind(), rec.GetID()
	switch v := rec.(type) {
	case *SIPAccount:
		if v.Password == "" {
			return nil, nil
		}
		if w.customer == nil || w.domain == nil {
			return nil, errors.New("internal: account parents not loaded")
		}
		user := DigestUsername(w.customer.ClientPrefix, v.Username)
		sec := SIPSecret{Username: user, Realm: w.domain.Name,
			HA1MD5:    auth.HA1(auth.MD5, user, w.domain.Name, v.Password),
			HA1SHA256: auth.HA1(auth.SHA256, user, w.domain.Name, v.Password)}
		return []string{"password"}, w.setJSON(secretKey(k, id), sec)
	case *IncomingTrunk:
		return w.plainSecret(k, id, v.AuthUsername, v.AuthPassword, old != nil, "auth_password", "auth_username")
	case *TerminationGateway:
		return w.plainSecret(k, id, v.AuthName, v.AuthPassword, old != nil, "auth_password", "auth_name")
	case *ESLUser:
		if v.Password == "" {
			return nil, nil
		}
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return nil, fmt.Errorf("generate salt: %w", err)
		}
		h, err := pbkdf2.Key(sha256.New, v.Password, salt, eslIterations, eslKeyLen)
		if err != nil {
			return nil, fmt.Errorf("hash esl password: %w", err)
		}
		return []string{"password"}, w.setJSON(secretKey(k, id), eslHash{Salt: salt, Hash: h, Iter: eslIterations})
	case *APIToken:
		if v.Token == "" {
			return nil, nil
		}
		sum := sha256.Sum256([]byte(v.Token))
		hexSum := hex.EncodeToString(sum[:])
		key := idxKey("api_token_hash", hexSum)
		if _, err := w.txn.Get(key); err == nil {
			return nil, &ConflictError{Field: "token", Value: "***", Reason: "choose a different token"}
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return nil, fmt.Errorf("read token index: %w", err)
		}
		if old != nil {
			if err := w.deleteTokenIndex(id); err != nil {
				return nil, err
			}
		}
		if err := w.txn.Set(key, ref(k, id)); err != nil {
			return nil, fmt.Errorf("write token index: %w", err)
		}
		return []string{"token"}, w.txn.Set(secretKey(k, id), []byte(hexSum))
	}
	return nil, nil
}

// plainSecret stores a recoverable password (trunks, gateways; DECISIONS 17). When the username
// is cleared the stored password goes too; a username without any password is rejected.
func (w *wctx) plainSecret(k Kind, id int64, user, pw string, update bool, pwField, userField string) ([]string, error) {
	key := secretKey(k, id)
	if pw != "" {
		return []string{pwField}, w.txn.Set(key, []byte(pw))
	}
	if !update {
		return nil, nil
	}
	_, err := w.txn.Get(key)
	exists := err == nil
	if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	switch {
	case user == "" && exists:
		return []string{pwField}, w.txn.Delete(key)
	case user != "" && !exists:
		return nil, fieldErr(pwField, "required when %s is set", userField)
	}
	return nil, nil
}

func (w *wctx) setJSON(key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode secret: %w", err)
	}
	if err := w.txn.Set(key, b); err != nil {
		return fmt.Errorf("write secret: %w", err)
	}
	return nil
}

func (w *wctx) deleteTokenIndex(id int64) error {
	item, err := w.txn.Get(secretKey(KindAPIToken, id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read token hash: %w", err)
	}
	h, err := item.ValueCopy(nil)
	if err != nil {
		return fmt.Errorf("read token hash: %w", err)
	}
	return w.txn.Delete(idxKey("api_token_hash", string(h)))
}

func (w *wctx) deleteSecrets(old Record) error {
	if old.Kind() == KindAPIToken {
		if err := w.deleteTokenIndex(old.GetID()); err != nil {
			return err
		}
	}
	if err := w.txn.Delete(secretKey(old.Kind(), old.GetID())); err != nil {
		return fmt.Errorf("delete secret: %w", err)
	}
	return nil
}

func (s *Store) readSecret(k Kind, id int64) ([]byte, error) {
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(secretKey(k, id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("secret of %s %d: %w", k, id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read secret of %s %d: %w", k, id, err)
		}
		out, err = item.ValueCopy(nil)
		return err
	})
	return out, err
}

// GetSIPSecret returns the digest credentials of a SIP account (ErrNotFound if none).
func (s *Store) GetSIPSecret(accountID int64) (SIPSecret, error) {
	var sec SIPSecret
	b, err := s.readSecret(KindSIPAccount, accountID)
	if err != nil {
		return sec, err
	}
	if err := json.Unmarshal(b, &sec); err != nil {
		return sec, fmt.Errorf("decode secret of sip_account %d: %w", accountID, err)
	}
	return sec, nil
}

// GetGatewaySecret returns a termination gateway's auth_password (ErrNotFound if none is set).
func (s *Store) GetGatewaySecret(gatewayID int64) (string, error) {
	b, err := s.readSecret(KindTerminationGateway, gatewayID)
	return string(b), err
}

// GetTrunkSecret returns an incoming trunk's auth_password (ErrNotFound if none is set).
func (s *Store) GetTrunkSecret(trunkID int64) (string, error) {
	b, err := s.readSecret(KindIncomingTrunk, trunkID)
	return string(b), err
}

// CreateToken creates rec with a freshly generated secret and returns the plaintext (shown once)
// with the stored token. rec.Token is ignored.
func (s *Store) CreateToken(rec APIToken, who Actor) (string, APIToken, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", APIToken{}, fmt.Errorf("generate token: %w", err)
	}
	rec.Token = "sy_" + base64.RawURLEncoding.EncodeToString(raw)
	out, err := Create(s, &rec, who)
	if err != nil {
		return "", APIToken{}, err
	}
	return rec.Token, *out, nil
}

// LookupToken returns the token whose secret is plaintext; the hashes are compared in constant time.
func (s *Store) LookupToken(plaintext string) (APIToken, bool) {
	if plaintext == "" {
		return APIToken{}, false
	}
	sum := sha256.Sum256([]byte(plaintext))
	want := []byte(hex.EncodeToString(sum[:]))
	var tok APIToken
	found := false
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(idxKey("api_token_hash", string(want)))
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		_, id, err := parseRef(v)
		if err != nil {
			return err
		}
		sitem, err := txn.Get(secretKey(KindAPIToken, id))
		if err != nil {
			return err
		}
		stored, err := sitem.ValueCopy(nil)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(stored, want) != 1 {
			return nil
		}
		r, err := getTx(txn, KindAPIToken, id)
		if err != nil {
			return err
		}
		tok, found = *r.(*APIToken), true
		return nil
	})
	if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		s.log.Error().Err(err).Msg("token lookup failed")
	}
	return tok, found
}

// DomainByName returns the domain with the name, or with an alias of that name (case-insensitive).
func (s *Store) DomainByName(name string) (*Domain, error) {
	var d *Domain
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		d, err = domainByNameTx(txn, name)
		return err
	})
	return d, err
}

func domainByNameTx(txn *badger.Txn, name string) (*Domain, error) {
	item, err := txn.Get(idxKey("host", strings.ToLower(name)))
	if errors.Is(err, badger.ErrKeyNotFound) || name == "" {
		return nil, fmt.Errorf("domain %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read domain index: %w", err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, fmt.Errorf("read domain index: %w", err)
	}
	k, id, err := parseRef(v)
	if err != nil {
		return nil, err
	}
	if k == KindDomainAlias {
		a, err := getTx(txn, KindDomainAlias, id)
		if err != nil {
			return nil, err
		}
		id = a.Scope()
	}
	r, err := getTx(txn, KindDomain, id)
	if err != nil {
		return nil, err
	}
	return r.(*Domain), nil
}

// VerifyESLUser checks ESL userauth credentials "user@domainName" in constant time. It fails for
// unknown users and domains and for locked domains (DECISIONS 28).
func (s *Store) VerifyESLUser(domainName, user, password string) (ESLUser, bool) {
	var u ESLUser
	var h eslHash
	err := s.db.View(func(txn *badger.Txn) error {
		d, err := domainByNameTx(txn, domainName)
		if err != nil {
			return err
		}
		if d.Status == StatusLocked {
			return errors.New("domain locked")
		}
		item, err := txn.Get(idxKey("esl_username", pad(d.ID)+"/"+user))
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		_, id, err := parseRef(v)
		if err != nil {
			return err
		}
		r, err := getTx(txn, KindESLUser, id)
		if err != nil {
			return err
		}
		u = *r.(*ESLUser)
		sitem, err := txn.Get(secretKey(KindESLUser, id))
		if err != nil {
			return err
		}
		return sitem.Value(func(b []byte) error { return json.Unmarshal(b, &h) })
	})
	if err != nil || h.Iter <= 0 {
		// Burn comparable time so unknown users are not distinguishable by timing.
		_, _ = pbkdf2.Key(sha256.New, password, make([]byte, 16), eslIterations, eslKeyLen)
		return ESLUser{}, false
	}
	got, err := pbkdf2.Key(sha256.New, password, h.Salt, h.Iter, len(h.Hash))
	if err != nil || subtle.ConstantTimeCompare(got, h.Hash) != 1 {
		return ESLUser{}, false
	}
	return u, true
}
