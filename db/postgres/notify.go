package postgres

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcpstore/mcpstore/db"
)

// keyChannel is the NOTIFY channel of changed API keys; the payload is the
// key's id (never its hash). A trigger on api_keys (migration 00003) sends
// it for every update that changes what gateway.Keys caches of a key, and
// for every delete, whichever statement makes them.
const keyChannel = "mcpstore_api_keys"

// Reconnection backoff of the listener: doubling from the first delay up to
// the last, with jitter so that replicas do not reconnect in step.
const (
	listenBackoffMin = 50 * time.Millisecond
	listenBackoffMax = 5 * time.Second
)

var _ db.KeyChangeListener = (*Store)(nil)

// ListenKeyChanges listens for changed keys on a connection of its own,
// outside the pool, so it neither holds a pooled connection forever nor is
// closed by the pool's idle rules; see db.KeyChangeListener.
func (s *Store) ListenKeyChanges(ctx context.Context, onListen func(), onChange func(keyID string)) error {
	log := s.e.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	backoff := listenBackoffMin
	for {
		started := time.Now()
		err := s.listenOnce(ctx, onListen, onChange)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Since(started) > listenBackoffMax {
			backoff = listenBackoffMin // it had been working: retry soon
		}
		log.WarnContext(ctx, "mcpstore: key change listener lost its connection; reconnecting",
			"error", db.MapError("ListenKeyChanges", s.e, err), "retry_in", backoff)
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		backoff = min(2*backoff, listenBackoffMax)
	}
}

// listenOnce connects, listens and hands on notifications until the
// connection fails or ctx ends.
func (s *Store) listenOnce(ctx context.Context, onListen func(), onChange func(keyID string)) error {
	conn, err := pgx.ConnectConfig(ctx, s.e.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+keyChannel); err != nil {
		return err
	}
	if onListen != nil {
		onListen()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Channel == keyChannel && onChange != nil {
			onChange(n.Payload)
		}
	}
}
