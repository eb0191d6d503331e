package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"
)

// sessionRecheckDelay is how long KeySessions waits before asking again
// about a key it could not read (the database was unavailable).
const sessionRecheckDelay = time.Second

// KeySessions ends the open sessions of keys that stop working. An SDK
// adapter adds each session with the key that opened it; when Keys hears
// that one of those keys changed (revoked, rotated, deactivated, deleted:
// see Keys.Watch), or the key's ValidUntil passes, KeySessions reads the key
// once and closes its sessions if it no longer grants access. A revocation
// committed anywhere thus ends the key's sessions and their event streams
// within the time Keys takes to hear of it (milliseconds) plus one read.
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
}

// keySessions are the open sessions of one key.
type keySessions struct {
	sessions map[io.Closer]struct{}
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
		byKey: map[string]*keySessions{},
	}
	s.stopWatch = keys.Watch(s.changed)
	go s.run()
	return s
}

// Add tracks sess as a session of the key p and returns the function to
// call when the session ends by other means. Adding a session twice is
// harmless.
func (s *KeySessions) Add(p Principal, sess io.Closer) (remove func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ks := s.byKey[p.KeyID]
	if ks == nil {
		ks = &keySessions{sessions: map[io.Closer]struct{}{}}
		s.byKey[p.KeyID] = ks
		s.setDeadline(p.KeyID, ks, p.ValidUntil)
	}
	ks.sessions[sess] = struct{}{}
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
	ks.timer = time.AfterFunc(time.Until(until), func() { s.changed(keyID) })
}

// changed marks a key (every key for "") to be read again.
func (s *KeySessions) changed(keyID string) {
	s.mu.Lock()
	if keyID == "" {
		for _, ks := range s.byKey {
			ks.dirty = true
		}
	} else if ks := s.byKey[keyID]; ks != nil {
		ks.dirty = true
	}
	s.mu.Unlock()
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
// no longer grant access. It reports whether some key could not be read.
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
		p, err := s.keys.Status(s.ctx, id)
		var closing []io.Closer
		s.mu.Lock()
		ks := s.byKey[id]
		switch {
		case ks == nil: // its sessions ended meanwhile
		case errors.Is(err, ErrInvalidKey):
			for sess := range ks.sessions {
				closing = append(closing, sess)
			}
			if ks.timer != nil {
				ks.timer.Stop()
			}
			delete(s.byKey, id)
		case err != nil:
			ks.dirty, failed = true, true
		default:
			if !p.ValidUntil.Equal(ks.until) {
				s.setDeadline(id, ks, p.ValidUntil)
			}
		}
		s.mu.Unlock()
		if err != nil && !errors.Is(err, ErrInvalidKey) && s.ctx.Err() == nil {
			s.log.Warn("gateway: could not re-check a key with open sessions; retrying", "key_id", id, "err", err)
		}
		for _, sess := range closing {
			_ = sess.Close()
		}
		if len(closing) > 0 {
			s.log.Info("gateway: sessions of a key that stopped working closed", "key_id", id, "sessions", len(closing))
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
