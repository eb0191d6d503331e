package gateway

import (
	"container/list"
	"math"
	"net/netip"
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
// anything. IPv6 clients are counted per /64, the block one host usually
// holds. Zero fields take the defaults; a negative Burst turns the limit
// off.
type AuthFailureLimit struct {
	Burst int
	Every time.Duration
	// MaxClients bounds the addresses remembered (the least recently
	// counted forgotten first), so that the limiter's memory is bounded
	// however many addresses fail. Default 10,000.
	MaxClients int
	// Now is the clock; nil for time.Now.
	Now func() time.Time
}

// AuthFailureLimiter keeps a token bucket of failures per client address.
// A request that may fail takes a token before its key is verified
// (Reserve) and gives it back when the key turns out valid (Refund): so
// requests verified at the same moment cannot together overrun the
// burst. It is safe for concurrent use. A nil *AuthFailureLimiter allows
// everything.
type AuthFailureLimiter struct {
	burst float64
	every time.Duration
	max   int
	now   func() time.Time

	mu      sync.Mutex
	clients map[string]*list.Element // of *failBucket
	lru     list.List                // front: most recently counted
}

type failBucket struct {
	client string
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

// clientOf is the bucket key of an address: IPv6 addresses by their /64.
func clientOf(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// bucket returns ip's bucket, brought up to now. l.mu is held.
func (l *AuthFailureLimiter) bucket(ip string) *failBucket {
	now := l.now()
	client := clientOf(ip)
	e := l.clients[client]
	if e == nil {
		if l.lru.Len() >= l.max {
			oldest := l.lru.Back()
			l.lru.Remove(oldest)
			delete(l.clients, oldest.Value.(*failBucket).client)
		}
		e = l.lru.PushFront(&failBucket{client: client, tokens: l.burst, at: now})
		l.clients[client] = e
	} else {
		l.lru.MoveToFront(e)
	}
	b := e.Value.(*failBucket)
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+float64(elapsed)/float64(l.every))
		b.at = now
	}
	return b
}

// Reserve takes one failure's token for a request from ip that is about
// to have its key verified. When none is left it reports how long until
// one is, and the request must be refused. Refund the token when the key
// verifies.
func (l *AuthFailureLimiter) Reserve(ip string) (retryAfter time.Duration, ok bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(ip)
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) * float64(l.every)), false
	}
	b.tokens--
	return 0, true
}

// Refund gives back the token Reserve took, for a request that did not
// fail.
func (l *AuthFailureLimiter) Refund(ip string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(ip)
	b.tokens = math.Min(l.burst, b.tokens+1)
}
