package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"
)

const (
	// sessionRecheckDelay is how long KeySessions waits before asking
	// again about a key it could not read (the database was unavailable).
	sessionRecheckDelay = time.Second
	// sessionStatusTimeout bounds one read of a key.
	sessionStatusTimeout = 5 * time.Second
	// changeMemory is how long KeySessions remembers that a key without
	// open sessions changed, and changeMemorySize how many such keys: a
	// request verified before the change may open its session after.
	changeMemory     = time.Hour
	changeMemorySize = 10_000
)

// KeySessions ends the open sessions of keys that stop working. An SDK
// adapter adds each session with the key that opened it; when Keys hears
// that one of those keys changed (revoked, rotated, deactivated, deleted,
// given other permissions: see Keys.Watch), or the key's ValidUntil passes,
// KeySessions reads the key once and closes its sessions if it no longer
// grants access or its permissions changed (the client opens a new session
// under the new ones). A revocation committed anywhere thus ends the key's
// sessions and their event streams within the time Keys takes to hear of
// it (milliseconds) plus one read.
//
// A session added for a key that changed after the key was verified (a
// request in flight during the revocation) is read again at once: changes
// to keys without sessions are remembered for an hour (the last 10,000).
//
// KeySessions is safe for concurrent use; Close stops it.
type KeySessions struct {
	keys      *Keys
	log       *slog.Logger
	stopWatch func()
	ctx       context.Context
	cancel    context.CancelFunc
	done      chan struct{}
	kick      chan struct{}

	mu    sync.Mutex
	byKey map[string]*keySessions
	// changed holds when keys without sessions last changed; before
	// horizon, changes may have been missed (forgotten, or the listener
	// reconnected).
	changed map[string]time.Time
	horizon time.Time
}

// keySessions are the open sessions of one key.
type keySessions struct {
	sessions map[io.Closer]struct{}
	perms    []string    // the key's permissions when last read
	until    time.Time   // the key's ValidUntil when last read
	timer    *time.Timer // fires at until
	dirty    bool        // to be read again
}

// NewKeySessions starts watching keys for changes. log may be nil.
func NewKeySessions(keys *Keys, log *slog.Logger) *KeySessions {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &KeySessions{
		keys: keys, log: log, ctx: ctx, cancel: cancel,
		done: make(chan struct{}), kick: make(chan struct{}, 1),
		byKey: map[string]*keySessions{}, changed: map[string]time.Time{},
	}
	s.stopWatch = keys.Watch(s.onChange)
	go s.run()
	return s
}

// Add tracks sess as a session of the key p (as Verify returned it) and
// returns the function to call when the session ends by other means.
// Adding a session twice is harmless.
func (s *KeySessions) Add(p Principal, sess io.Closer) (remove func()) {
	s.mu.Lock()
	ks := s.byKey[p.KeyID]
	kick := false
	if ks == nil {
		ks = &keySessions{sessions: map[io.Closer]struct{}{}, perms: p.Permissions}
		s.byKey[p.KeyID] = ks
		s.setDeadline(p.KeyID, ks, p.ValidUntil)
		// p may predate a change heard while the key had no session.
		if at, ok := s.changed[p.KeyID]; (ok && !at.Before(p.read)) || !s.horizon.Before(p.read) {
			ks.dirty, kick = true, true
		}
	}
	ks.sessions[sess] = struct{}{}
	s.mu.Unlock()
	if kick {
		s.wake()
	}
	return func() { s.remove(p.KeyID, sess) }
}

func (s *KeySessions) remove(keyID string, sess io.Closer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ks := s.byKey[keyID]
	if ks == nil {
		return
	}
	delete(ks.sessions, sess)
	if len(ks.sessions) == 0 {
		if ks.timer != nil {
			ks.timer.Stop()
		}
		delete(s.byKey, keyID)
	}
}

// Len returns how many sessions are open, over all keys.
func (s *KeySessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ks := range s.byKey {
		n += len(ks.sessions)
	}
	return n
}

// setDeadline arms the timer that reads the key again when it would stop
// working. s.mu is held.
func (s *KeySessions) setDeadline(keyID string, ks *keySessions, until time.Time) {
	if ks.timer != nil {
		ks.timer.Stop()
		ks.timer = nil
	}
	ks.until = until
	if until.IsZero() {
		return
	}
	ks.timer = time.AfterFunc(max(time.Until(until), 0), func() { s.onChange(keyID) })
}

// onChange marks a key (every key for "") to be read again, or remembers
// the change of a key without sessions.
func (s *KeySessions) onChange(keyID string) {
	now := time.Now()
	s.mu.Lock()
	switch ks := s.byKey[keyID]; {
	case keyID == "":
		for _, ks := range s.byKey {
			ks.dirty = true
		}
		s.horizon = now
	case ks != nil:
		ks.dirty = true
	default:
		s.remember(keyID, now)
	}
	s.mu.Unlock()
	s.wake()
}

// remember records that a key without sessions changed at now, within
// bounds: the changes forgotten move the horizon. s.mu is held.
func (s *KeySessions) remember(keyID string, now time.Time) {
	if len(s.changed) >= changeMemorySize {
		for id, at := range s.changed {
			if now.Sub(at) > changeMemory || len(s.changed) >= changeMemorySize {
				delete(s.changed, id)
				if at.After(s.horizon) {
					s.horizon = at
				}
			}
		}
	}
	s.changed[keyID] = now
}

func (s *KeySessions) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *KeySessions) run() {
	defer close(s.done)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.kick:
		case <-retry.C:
		}
		if s.recheck() {
			retry.Reset(sessionRecheckDelay)
		}
	}
}

// recheck reads every dirty key once and closes the sessions of those that
// no longer grant access, or whose permissions changed. It reports whether
// some key could not be read.
func (s *KeySessions) recheck() (failed bool) {
	s.mu.Lock()
	var ids []string
	for id, ks := range s.byKey {
		if ks.dirty {
			ks.dirty = false
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(s.ctx, sessionStatusTimeout)
		p, err := s.keys.Status(ctx, id)
		cancel()
		var closing []io.Closer
		reason := ""
		s.mu.Lock()
		ks := s.byKey[id]
		switch {
		case ks == nil: // its sessions ended meanwhile
		case errors.Is(err, ErrInvalidKey):
			reason = "the key stopped working"
		case err != nil:
			ks.dirty, failed = true, true
		case !slices.Equal(p.Permissions, ks.perms):
			reason = "the key's permissions changed"
		default:
			// Armed again even when unchanged: a timer that fired early
			// (the wall clock moved) must fire again.
			s.setDeadline(id, ks, p.ValidUntil)
		}
		if reason != "" {
			for sess := range ks.sessions {
				closing = append(closing, sess)
			}
			if ks.timer != nil {
				ks.timer.Stop()
			}
			delete(s.byKey, id)
			s.remember(id, time.Now())
		}
		s.mu.Unlock()
		if err != nil && !errors.Is(err, ErrInvalidKey) && s.ctx.Err() == nil {
			s.log.Warn("gateway: could not re-check a key with open sessions; retrying", "key_id", id, "err", err)
		}
		for _, sess := range closing {
			_ = sess.Close()
		}
		if len(closing) > 0 {
			s.log.Info("gateway: sessions closed", "key_id", id, "sessions", len(closing), "reason", reason)
		}
	}
	return failed
}

// Close stops watching keys. Sessions stay open.
func (s *KeySessions) Close() {
	s.stopWatch()
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ks := range s.byKey {
		if ks.timer != nil {
			ks.timer.Stop()
		}
	}
}
