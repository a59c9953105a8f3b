package persistence

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	badger "github.com/dgraph-io/badger/v4"
)

// ConfigSet holds configuration records and the secrets the switch needs at run time.
type ConfigSet struct {
	Aliases           []*DomainAlias
	ForceSources      []*ForceSource
	ForceDestinations []*ForceDestination
	Customers         []*Customer
	SIPAccounts       []*SIPAccount
	Numbers           []*Number
	IncomingTrunks    []*IncomingTrunk
	Gateways          []*TerminationGateway
	Routes            []*TerminationRoute
	ESLUsers          []*ESLUser
	APITokens         []*APIToken
	// SIPSecrets maps account id to its digest HA1s.
	SIPSecrets map[int64]SIPSecret
	// GatewaySecrets and TrunkSecrets map record id to the stored auth_password.
	GatewaySecrets map[int64]string
	TrunkSecrets   map[int64]string
}

// Snapshot is every config record of every domain, read in one consistent transaction.
type Snapshot struct {
	Domains []*Domain
	ConfigSet
}

// DomainConfig is one domain's records (tokens include only that domain's tenant tokens).
type DomainConfig struct {
	Domain *Domain
	ConfigSet
}

func (c *ConfigSet) add(r Record) {
	switch v := r.(type) {
	case *DomainAlias:
		c.Aliases = append(c.Aliases, v)
	case *ForceSource:
		c.ForceSources = append(c.ForceSources, v)
	case *ForceDestination:
		c.ForceDestinations = append(c.ForceDestinations, v)
	case *Customer:
		c.Customers = append(c.Customers, v)
	case *SIPAccount:
		c.SIPAccounts = append(c.SIPAccounts, v)
	case *Number:
		c.Numbers = append(c.Numbers, v)
	case *IncomingTrunk:
		c.IncomingTrunks = append(c.IncomingTrunks, v)
	case *TerminationGateway:
		c.Gateways = append(c.Gateways, v)
	case *TerminationRoute:
		c.Routes = append(c.Routes, v)
	case *ESLUser:
		c.ESLUsers = append(c.ESLUsers, v)
	case *APIToken:
		c.APITokens = append(c.APITokens, v)
	}
}

// loadSecrets fills the secret maps for the records already in c.
func (c *ConfigSet) loadSecrets(txn *badger.Txn) error {
	c.SIPSecrets = map[int64]SIPSecret{}
	c.GatewaySecrets = map[int64]string{}
	c.TrunkSecrets = map[int64]string{}
	get := func(k Kind, id int64) ([]byte, error) {
		item, err := txn.Get(secretKey(k, id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read secret of %s %d: %w", k, id, err)
		}
		return item.ValueCopy(nil)
	}
	for _, a := range c.SIPAccounts {
		b, err := get(KindSIPAccount, a.ID)
		if err != nil || b == nil {
			return err
		}
		var sec SIPSecret
		if err := json.Unmarshal(b, &sec); err != nil {
			return fmt.Errorf("decode secret of sip_account %d: %w", a.ID, err)
		}
		c.SIPSecrets[a.ID] = sec
	}
	for _, g := range c.Gateways {
		b, err := get(KindTerminationGateway, g.ID)
		if err != nil {
			return err
		}
		if b != nil {
			c.GatewaySecrets[g.ID] = string(b)
		}
	}
	for _, t := range c.IncomingTrunks {
		b, err := get(KindIncomingTrunk, t.ID)
		if err != nil {
			return err
		}
		if b != nil {
			c.TrunkSecrets[t.ID] = string(b)
		}
	}
	return nil
}

// LoadAll reads every config record and the run-time secrets (boot and reload).
func (s *Store) LoadAll() (*Snapshot, error) {
	snap := &Snapshot{}
	err := s.db.View(func(txn *badger.Txn) error {
		for _, k := range kinds {
			err := eachOfKind(txn, k.kind, 0, func(r Record) error {
				if d, ok := r.(*Domain); ok {
					snap.Domains = append(snap.Domains, d)
					return nil
				}
				snap.add(r)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return snap.loadSecrets(txn)
	})
	if err != nil {
		return nil, fmt.Errorf("load all config: %w", err)
	}
	return snap, nil
}

// LoadDomain reads one domain and everything scoped to it (ErrNotFound for an unknown id).
func (s *Store) LoadDomain(id int64) (*DomainConfig, error) {
	dc := &DomainConfig{}
	err := s.db.View(func(txn *badger.Txn) error {
		d, err := getTx(txn, KindDomain, id)
		if err != nil {
			return err
		}
		dc.Domain = d.(*Domain)
		for _, k := range kinds[1:] {
			if err := eachOfKind(txn, k.kind, id, func(r Record) error { dc.add(r); return nil }); err != nil {
				return err
			}
		}
		return dc.loadSecrets(txn)
	})
	if err != nil {
		return nil, fmt.Errorf("load domain %d: %w", id, err)
	}
	return dc, nil
}

// Management domain constants (seed 002: the first tenant is reserved for management).
const (
	ManagementDomainName   = "management"
	ManagementDomainPrefix = "00000"
)

// Bootstrap creates the reserved management domain (id 1) on an empty store. It reports whether
// it created anything; on a store that already has domains it does nothing.
func (s *Store) Bootstrap() (bool, error) {
	var empty bool
	err := s.db.View(func(txn *badger.Txn) error {
		empty = countPrefix(txn, cfgPrefix(KindDomain)) == 0 && countPrefix(txn, seqKey(string(KindDomain))) == 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	if !empty {
		return false, nil
	}
	d := &Domain{Name: ManagementDomainName, DomainPrefix: ManagementDomainPrefix,
		Comment: strPtr("reserved for management"), Management: true}
	if _, err := s.createPrepared(d, Actor{Identity: "bootstrap"}); err != nil {
		return false, fmt.Errorf("bootstrap management domain: %w", err)
	}
	return true, nil
}

// Backup writes a full Badger backup stream to w and returns the version it covers.
func (s *Store) Backup(w io.Writer) (uint64, error) {
	v, err := s.db.Backup(w, 0)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	return v, nil
}

// Restore loads a backup stream into a fresh store at dir. It refuses a directory that already
// holds a non-empty store (or is locked by a running switch).
func Restore(dir string, r io.Reader) error {
	if dir == "" {
		return errors.New("restore: directory is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("restore: create %q: %w", dir, err)
	}
	opts := Options{Dir: dir, Small: true}
	db, err := badger.Open(badgerOptions(opts))
	if err != nil {
		return fmt.Errorf("restore: open %q: %w", dir, err)
	}
	nonEmpty := false
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		it.Rewind()
		nonEmpty = it.Valid()
		return nil
	})
	if err == nil && nonEmpty {
		err = fmt.Errorf("restore: %q already holds a store; restore only into an empty directory", dir)
	}
	if err == nil {
		if lerr := db.Load(&frameGuard{r: r}, 256); lerr != nil {
			err = fmt.Errorf("restore: load backup: %w", lerr)
		}
	}
	if cerr := db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("restore: close: %w", cerr)
	}
	return err
}

// maxBackupFrame bounds one frame of a backup stream (Badger batches are about 100 MB at most).
const maxBackupFrame = 256 << 20

// frameGuard passes a Badger backup stream through while checking each frame header
// (8-byte little-endian length), so a corrupt stream gives an error instead of a huge allocation.
type frameGuard struct {
	r      io.Reader
	hdr    [8]byte
	nhdr   int    // header bytes seen for the current frame
	remain uint64 // payload bytes left in the current frame
}

func (g *frameGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for i := 0; i < n; {
		if g.remain > 0 {
			step := min(uint64(n-i), g.remain)
			g.remain -= step
			i += int(step)
			continue
		}
		g.hdr[g.nhdr] = p[i]
		g.nhdr++
		i++
		if g.nhdr == 8 {
			g.nhdr = 0
			g.remain = binary.LittleEndian.Uint64(g.hdr[:])
			if g.remain > maxBackupFrame {
				return 0, fmt.Errorf("not a switchyard backup stream (frame of %d bytes)", g.remain)
			}
		}
	}
	return n, err
}
