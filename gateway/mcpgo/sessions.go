package mcpgo

import (
	"context"
	"net/http"
	"sync"

	"github.com/mark3labs/mcp-go/server"
)

// session is a session of the streamable HTTP transport, bound to the key
// that opened it: only that key's requests reach it, and it ends when the
// key stops working.
type session struct {
	id    string
	keyID string
	h     *handler

	mu     sync.Mutex
	cs     server.ClientSession // mcp-go's, once registered
	calls  map[*call]struct{}   // requests in flight on it
	closed bool
	remove func() // from the Gateway's KeySessions
}

// session returns the open session id, or nil.
func (g *Gateway) session(id string) *session {
	if v, ok := g.sessions.Load(id); ok {
		return v.(*session)
	}
	return nil
}

// bind makes id a session of c's key, unless it is one already, and
// returns it.
func (h *handler) bind(id string, c *call) *session {
	s := &session{id: id, keyID: c.p.KeyID, h: h, calls: map[*call]struct{}{}}
	if v, loaded := h.g.sessions.LoadOrStore(id, s); loaded {
		return v.(*session)
	}
	remove := h.g.keyTrack.Add(*c.p, s)
	s.mu.Lock()
	s.remove = remove
	s.mu.Unlock()
	return s
}

// add counts c among the requests in flight on s; false when s has ended.
func (s *session) add(c *call) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.calls[c] = struct{}{}
	return true
}

func (s *session) done(c *call) {
	s.mu.Lock()
	delete(s.calls, c)
	s.mu.Unlock()
}

// Close ends the session, because its key stopped working: its requests
// in flight and its event stream end, and mcp-go ends it as a DELETE from
// its client would.
func (s *session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	calls := make([]*call, 0, len(s.calls))
	for c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	s.h.g.sessions.CompareAndDelete(s.id, s)
	for _, c := range calls {
		c.cancel()
	}
	del, err := http.NewRequestWithContext(context.Background(), http.MethodDelete, "/", nil)
	if err != nil {
		return err
	}
	del.Header.Set(server.HeaderKeySessionID, s.id)
	s.h.inner.ServeHTTP(discard{header: http.Header{}}, del)
	return nil
}

// discard is a ResponseWriter for the Gateway's own requests, whose
// answers nobody reads.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(p []byte) (int, error) { return len(p), nil }
func (d discard) WriteHeader(int)             {}

// forget drops a session mcp-go ended (its client's DELETE, the idle
// sweeper, or Close).
func (g *Gateway) forget(id string) {
	v, ok := g.sessions.LoadAndDelete(id)
	if !ok {
		return
	}
	s := v.(*session)
	s.mu.Lock()
	s.closed = true
	remove := s.remove
	s.mu.Unlock()
	if remove != nil {
		remove()
	}
}

// onRegister binds a session mcp-go registers to the key of the request
// that opened it: an initialize (bound already, when its response's
// header was written) or an event stream opened without a session id,
// which then ends with the session.
func (g *Gateway) onRegister(ctx context.Context, cs server.ClientSession) {
	c := g.callOf(ctx)
	if c == nil || c.p == nil {
		return
	}
	s := c.h.bind(cs.SessionID(), c)
	s.mu.Lock()
	s.cs = cs
	s.mu.Unlock()
	if c.stream {
		s.add(c)
	}
}

// onUnregister forgets a session mcp-go ended.
func (g *Gateway) onUnregister(_ context.Context, cs server.ClientSession) {
	g.forget(cs.SessionID())
}

// bindOnWrite binds the session an initialize opens to its key as soon as
// mcp-go writes its id in the response's header, before the client can
// use it.
type bindOnWrite struct {
	http.ResponseWriter
	h    *handler
	c    *call
	done bool
}

func (b *bindOnWrite) WriteHeader(code int) {
	if !b.done {
		b.done = true
		if id := b.Header().Get(server.HeaderKeySessionID); id != "" && code == http.StatusOK {
			b.h.bind(id, b.c)
		}
	}
	b.ResponseWriter.WriteHeader(code)
}

func (b *bindOnWrite) Write(p []byte) (int, error) {
	if !b.done {
		b.WriteHeader(http.StatusOK)
	}
	return b.ResponseWriter.Write(p)
}

func (b *bindOnWrite) Flush() {
	if f, ok := b.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (b *bindOnWrite) Unwrap() http.ResponseWriter { return b.ResponseWriter }
