package sqlite

import (
	"context"
	"log/slog"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gen/sqlitedb"
)

// KeyPollInterval is how often ListenKeyChanges reads the change log: a
// change made by another process reaches a cache within about this long.
// Each read is one or two look-ups by primary key on a reader connection.
const KeyPollInterval = 25 * time.Millisecond

// keyPollBatch bounds the changes read at once; more wait for the next
// read, which follows at once.
const keyPollBatch = 500

// keyPollBackoffMax bounds the wait between reads after errors (the change
// log missing on a database not migrated yet, the file gone).
const keyPollBackoffMax = 5 * time.Second

var _ db.KeyChangeListener = (*Store)(nil)

// ListenKeyChanges reads the change log that triggers on api_keys keep
// (migration 00003) every KeyPollInterval and hands on each changed key's
// id, whichever process changed it; see db.KeyChangeListener. It calls
// onListen when it starts reading, and again whenever it may have missed
// changes: when the log dropped some it had not read yet, or when the log
// starts over below what it had read (a database restored or migrated down
// and up again). After an error it resumes where it stopped: the log kept
// what it missed meanwhile.
func (s *Store) ListenKeyChanges(ctx context.Context, onListen func(), onChange func(keyID string)) error {
	log := s.e.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	missed := func() {
		if onListen != nil {
			onListen()
		}
	}
	q := sqlitedb.New(s.e.r)
	var last int64
	listening, failing := false, false
	wait := KeyPollInterval
	for {
		err := func() error {
			if !listening {
				seq, err := q.APIKeyChangeLast(ctx)
				if err != nil {
					return err
				}
				last, listening = seq, true
				missed()
				return nil
			}
			changes, err := q.APIKeyChangesAfter(ctx, last, keyPollBatch)
			if err != nil {
				return err
			}
			if len(changes) == 0 {
				// Nothing new, or a log that started over below last.
				seq, err := q.APIKeyChangeLast(ctx)
				if err != nil {
					return err
				}
				if seq < last {
					last = seq
					missed()
				}
				return nil
			}
			if changes[0].Seq != last+1 {
				missed() // the log dropped changes this reader had not read
			}
			for _, c := range changes {
				if onChange != nil {
					onChange(c.KeyID)
				}
				last = c.Seq
			}
			if len(changes) == keyPollBatch {
				wait = 0 // more to read
			}
			return nil
		}()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case err != nil:
			if !failing {
				log.WarnContext(ctx, "mcpstore: cannot read the key change log; retrying",
					"error", db.MapError("ListenKeyChanges", s.e, err))
			}
			failing = true
			wait = min(max(2*wait, KeyPollInterval), keyPollBackoffMax)
		case failing:
			log.InfoContext(ctx, "mcpstore: reading the key change log again")
			failing, wait = false, KeyPollInterval
		case wait == 0:
			wait = KeyPollInterval
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}
