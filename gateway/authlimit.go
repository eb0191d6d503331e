package gateway

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// Defaults of AuthFailureLimit.
const (
	DefaultAuthFailureBurst      = 20
	DefaultAuthFailureEvery      = time.Second
	DefaultAuthFailureMaxClients = 10_000
)

// AuthFailureLimit bounds failed key verifications per client address: a
// client may fail Burst times at once, then once per Every; beyond that
// its requests are answered 429 with Retry-After, without verifying
// anything. Zero fields take the defaults; a negative Burst turns the
// limit off.
type AuthFailureLimit struct {
	Burst int
	Every time.Duration
	// MaxClients bounds the addresses remembered (least recently failed
	// forgotten first), so that the limiter's memory is bounded however
	// many addresses fail. Default 10,000.
	MaxClients int
	// Now is the clock; nil for time.Now.
	Now func() time.Time
}

// AuthFailureLimiter keeps a token bucket of failures per client address.
// It is safe for concurrent use. A nil *AuthFailureLimiter allows
// everything.
type AuthFailureLimiter struct {
	burst float64
	every time.Duration
	max   int
	now   func() time.Time

	mu      sync.Mutex
	clients map[string]*list.Element // of *failBucket
	lru     list.List                // front: most recent failure
}

type failBucket struct {
	ip     string
	tokens float64
	at     time.Time // when tokens was computed
}

// NewAuthFailureLimiter returns a limiter, or nil when l turns it off.
func NewAuthFailureLimiter(l AuthFailureLimit) *AuthFailureLimiter {
	if l.Burst < 0 {
		return nil
	}
	if l.Burst == 0 {
		l.Burst = DefaultAuthFailureBurst
	}
	if l.Every <= 0 {
		l.Every = DefaultAuthFailureEvery
	}
	if l.MaxClients <= 0 {
		l.MaxClients = DefaultAuthFailureMaxClients
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return &AuthFailureLimiter{
		burst: float64(l.Burst), every: l.Every, max: l.MaxClients, now: l.Now,
		clients: map[string]*list.Element{},
	}
}

// refill brings b's tokens to now. l.mu is held.
func (l *AuthFailureLimiter) refill(b *failBucket, now time.Time) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+float64(elapsed)/float64(l.every))
		b.at = now
	}
}

// Allow reports whether a request from ip may try a key, and if not, how
// long until it may.
func (l *AuthFailureLimiter) Allow(ip string) (retryAfter time.Duration, ok bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.clients[ip]
	if e == nil {
		return 0, true
	}
	b := e.Value.(*failBucket)
	l.refill(b, l.now())
	if b.tokens >= 1 {
		return 0, true
	}
	return time.Duration((1 - b.tokens) * float64(l.every)), false
}

// Fail counts a failed verification from ip.
func (l *AuthFailureLimiter) Fail(ip string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.clients[ip]
	if e == nil {
		if l.lru.Len() >= l.max {
			oldest := l.lru.Back()
			l.lru.Remove(oldest)
			delete(l.clients, oldest.Value.(*failBucket).ip)
		}
		e = l.lru.PushFront(&failBucket{ip: ip, tokens: l.burst, at: now})
		l.clients[ip] = e
	} else {
		l.lru.MoveToFront(e)
	}
	b := e.Value.(*failBucket)
	l.refill(b, now)
	b.tokens = math.Max(b.tokens-1, 0)
}
