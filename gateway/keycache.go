package gateway

import (
	"crypto/sha256"
	"sync"
	"time"
)

// keyCache is a bounded LRU cache of key lookups by key hash, each entry
// living for a fixed TTL. It is hand-written rather than taken from a
// library because Keys needs three things at once: an index by key id (a
// revocation names the id, the lookup uses the hash), a generation counter
// (so that a database read that raced with a revocation cannot put the
// revoked key back), and no goroutine of its own to leak (an expired entry
// is dropped when it is next looked at, or pushed out by newer ones).
type keyCache struct {
	mu    sync.Mutex
	size  int
	ttl   time.Duration
	items map[[sha256.Size]byte]*cacheNode
	byID  map[string]*cacheNode
	// head is the most recently used node, tail the least.
	head, tail *cacheNode
	// gen changes on every invalidation; see get and add.
	gen uint64
}

type cacheNode struct {
	hash       [sha256.Size]byte
	entry      *keyEntry // nil: the key is unknown
	expires    time.Time
	prev, next *cacheNode
}

func newKeyCache(size int, ttl time.Duration) *keyCache {
	return &keyCache{
		size:  size,
		ttl:   ttl,
		items: make(map[[sha256.Size]byte]*cacheNode, min(size, 1024)),
		byID:  make(map[string]*cacheNode),
	}
}

// get returns the cached lookup of h, if any and still fresh at now, and
// the current generation: a caller that misses reads the database and
// passes the generation to add, which refuses the entry when an
// invalidation happened in between.
func (c *keyCache) get(h [sha256.Size]byte, now time.Time) (*keyEntry, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.items[h]
	if !ok {
		return nil, c.gen, false
	}
	if !now.Before(n.expires) {
		c.remove(n)
		return nil, c.gen, false
	}
	c.toFront(n)
	return n.entry, c.gen, true
}

// add caches e (nil for an unknown key) under h until now+ttl, unless the
// cache was invalidated since generation gen. It evicts the least recently
// used entries beyond the size.
func (c *keyCache) add(h [sha256.Size]byte, e *keyEntry, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if old, ok := c.items[h]; ok {
		c.remove(old)
	}
	n := &cacheNode{hash: h, entry: e, expires: now.Add(c.ttl)}
	c.items[h] = n
	if e != nil {
		if old, ok := c.byID[e.principal.KeyID]; ok {
			c.remove(old)
		}
		c.byID[e.principal.KeyID] = n
	}
	n.next = c.head
	if c.head != nil {
		c.head.prev = n
	}
	c.head = n
	if c.tail == nil {
		c.tail = n
	}
	for len(c.items) > c.size {
		c.remove(c.tail)
	}
}

// generation returns the current generation: a load that begins now
// passes it to add.
func (c *keyCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// removeID drops the entry of key id, and makes loads in flight not cache
// what they read.
func (c *keyCache) removeID(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if n, ok := c.byID[id]; ok {
		c.remove(n)
	}
}

// purge drops every entry, and makes loads in flight not cache what they
// read.
func (c *keyCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.items)
	clear(c.byID)
	c.head, c.tail = nil, nil
}

func (c *keyCache) toFront(n *cacheNode) {
	if c.head == n {
		return
	}
	c.unlink(n)
	n.next = c.head
	c.head.prev = n
	c.head = n
}

func (c *keyCache) remove(n *cacheNode) {
	c.unlink(n)
	delete(c.items, n.hash)
	if n.entry != nil && c.byID[n.entry.principal.KeyID] == n {
		delete(c.byID, n.entry.principal.KeyID)
	}
}

func (c *keyCache) unlink(n *cacheNode) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		c.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		c.tail = n.prev
	}
	n.prev, n.next = nil, nil
}
