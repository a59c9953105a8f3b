package persistence

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"
)

// SchemaVersion is the key-layout version written to meta/schema at Open.
const SchemaVersion = 1

// Options configure Open.
type Options struct {
	// Dir is the data directory (ignored when InMemory).
	Dir string
	// InMemory keeps everything in RAM (tests, benchmarks); nothing survives Close.
	InMemory bool
	// Logger receives Badger's warnings/errors and the store's own messages.
	Logger zerolog.Logger
	// Small shrinks memtables, caches and value-log files for tests.
	Small bool
}

// Actor identifies who made a change (token name or id) for the audit log.
type Actor struct {
	Identity string
	DomainID int64
}

// Store is the Badger-backed persistence layer. All methods are safe for concurrent use.
// Config writes (Create/Update/Delete) are serialized and committed with SyncWrites.
type Store struct {
	db  *badger.DB
	log zerolog.Logger

	// cfgMu serializes config writes so unique checks, counters and limits see a stable view.
	cfgMu sync.Mutex
	// now is the clock (overridden in tests).
	now func() time.Time

	closeOnce sync.Once
	closeErr  error
}

// Open opens (or creates) the store. A data dir locked by another process yields an error
// wrapping ErrLocked.
func Open(opts Options) (*Store, error) {
	if !opts.InMemory && opts.Dir == "" {
		return nil, errors.New("open store: Options.Dir is required unless InMemory")
	}
	db, err := badger.Open(badgerOptions(opts))
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("data dir %q is locked by another switchyard process: %w", opts.Dir, ErrLocked)
		}
		return nil, fmt.Errorf("open badger at %q: %w", opts.Dir, err)
	}
	s := &Store{db: db, log: opts.Logger, now: func() time.Time { return time.Now().UTC() }}
	if err := s.checkSchema(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func badgerOptions(opts Options) badger.Options {
	bo := badger.DefaultOptions(opts.Dir).
		WithInMemory(opts.InMemory).
		WithSyncWrites(!opts.InMemory).
		WithLogger(badgerLogger{opts.Logger}).
		WithLoggingLevel(badger.WARNING)
	if opts.InMemory {
		bo = bo.WithDir("").WithValueDir("")
	}
	if opts.Small {
		bo = bo.WithMemTableSize(8 << 20).
			WithValueThreshold(64 << 10).
			WithValueLogFileSize(16 << 20).
			WithBlockCacheSize(1 << 20).
			WithIndexCacheSize(1 << 20).
			WithNumMemtables(2).
			WithNumLevelZeroTables(2).
			WithNumLevelZeroTablesStall(4).
			WithNumCompactors(2)
	}
	return bo
}

// checkSchema writes meta/schema on a new store and refuses a store written by a newer version.
func (s *Store) checkSchema() error {
	return s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(keySchema))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return txn.Set([]byte(keySchema), []byte(strconv.Itoa(SchemaVersion)))
		}
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("schema version %q is not a number: %w", v, err)
		}
		if n > SchemaVersion {
			return fmt.Errorf("store schema version %d is newer than supported version %d", n, SchemaVersion)
		}
		if n < SchemaVersion {
			return txn.Set([]byte(keySchema), []byte(strconv.Itoa(SchemaVersion)))
		}
		return nil
	})
}

// Close flushes and closes the database; further calls return the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close badger: %w", err)
		}
	})
	return s.closeErr
}

// Sync forces pending asynchronous writes (bindings) to disk.
func (s *Store) Sync() error {
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("sync badger: %w", err)
	}
	return nil
}

// badgerLogger adapts zerolog to badger.Logger; Badger is only allowed to log at warn and above.
type badgerLogger struct{ l zerolog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error().Str("component", "badger").Msg(strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn().Str("component", "badger").Msg(strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
