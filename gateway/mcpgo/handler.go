package mcpgo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mcpstore/mcpstore/gateway"
)

// call is one HTTP request through Handler, as the server's hooks find it
// in the request's context.
type call struct {
	g      *Gateway
	h      *handler
	p      *gateway.Principal // nil without Keys
	grants *gateway.Grants
	ip     string
	header http.Header
	cancel context.CancelFunc // ends the request and its stream
	stream bool               // a GET: the event stream

	// Of a POSTed message:
	body     []byte
	msg      message
	decision gateway.Decision
	after    string // the id a list's cursor holds
	start    time.Time

	// How the server ended the request, noted by its hooks (which run on
	// the request's goroutine, before Handler reads them).
	ran       bool
	err       error
	toolError bool
	response  json.RawMessage
}

type callKey struct{}

// nestedKey marks the Gateway's own requests to the server (reading a whole
// list): the policy hooks let them through.
type nestedKey struct{}

// trustedKey marks the requests of the Gateway's tool sync.
type trustedKey struct{}

// callOf returns the call a hook runs for; nil for the Gateway's own
// requests, or a request that did not come through a Handler of g.
func (g *Gateway) callOf(ctx context.Context) *call {
	if ctx.Value(nestedKey{}) != nil {
		return nil
	}
	c, _ := ctx.Value(callKey{}).(*call)
	if c == nil || c.g != g {
		return nil
	}
	return c
}

// grantsOf returns what the request behind ctx may do: everything for the
// Gateway's own requests and without Keys, nothing for a request that did
// not come through Handler.
func (g *Gateway) grantsOf(ctx context.Context) *gateway.Grants {
	if g.opts.Keys == nil || ctx.Value(trustedKey{}) == g {
		return allGrants
	}
	if c, _ := ctx.Value(callKey{}).(*call); c != nil && c.g == g {
		return c.grants
	}
	return nil
}

// handler serves one mcp-go server over streamable HTTP behind a Gateway.
type handler struct {
	g     *Gateway
	s     *server.MCPServer
	inner *server.StreamableHTTPServer
}

// Handler serves s over streamable HTTP (server.NewStreamableHTTPServer with
// opts) behind mcpstore, and equips s with the policy's hooks (once per
// server; see the package documentation):
//
//   - a request without a valid key gets 401 and reaches nothing (but a
//     CORS preflight, which mcp-go answers or refuses itself); a key
//     that cannot be checked (the database is down), 500; an address past
//     Options.AuthFailureLimit, 429 with Retry-After;
//   - a request on a session opened by another key gets 403, one on a
//     session the Gateway does not know, 404;
//   - every POSTed message is decided by gateway.Policy before mcp-go
//     sees it; a refused request is answered with the JSON-RPC error
//     gateway.CodePermissionDenied, a refused notification with 403;
//   - what the policy audits is recorded, refused or run.
//
// A session belongs to the key that opened it and ends when the key stops
// working (gateway.KeySessions): mcp-go's default session ids are not
// checked across processes, so a deployment of several replicas needs
// sticky sessions, as go-sdk's does.
func (g *Gateway) Handler(s *server.MCPServer, opts ...server.StreamableHTTPOption) http.Handler {
	g.install(s)
	return &handler{g: g, s: s, inner: server.NewStreamableHTTPServer(s, opts...)}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g := h.g
	if r.Method == http.MethodOptions {
		// A CORS preflight carries no key and no message: mcp-go answers
		// it (server.WithStreamableHTTPCORS) or refuses it.
		h.inner.ServeHTTP(w, r)
		return
	}
	c := &call{g: g, h: h, grants: allGrants, header: r.Header, ip: g.auth.ClientIP(r)}
	if g.opts.Keys != nil {
		var ok bool
		if r, ok = g.auth.Admit(w, r); !ok {
			return
		}
		token, ok := gateway.BearerToken(r.Header.Get("Authorization"))
		if !ok {
			unauthorized(w, "no bearer token")
			return
		}
		p, err := g.auth.Verify(r.Context(), r, token)
		switch {
		case errors.Is(err, gateway.ErrInvalidKey):
			unauthorized(w, "invalid API key")
			return
		case err != nil:
			http.Error(w, "API key verification is unavailable", http.StatusInternalServerError)
			return
		}
		c.p, c.grants = &p, p.Grants
	}
	var sess *session
	if sid := r.Header.Get(server.HeaderKeySessionID); sid != "" && c.p != nil {
		if sess = g.session(sid); sess == nil {
			http.Error(w, "session not found", http.StatusNotFound)
			return
		}
		if sess.keyID != c.p.KeyID {
			http.Error(w, "this session belongs to another key", http.StatusForbidden)
			return
		}
	}
	ctx, cancel := context.WithCancel(context.WithValue(r.Context(), callKey{}, c))
	defer cancel()
	c.cancel = cancel
	r = r.WithContext(ctx)
	if sess != nil {
		if !sess.add(c) {
			http.Error(w, "session not found", http.StatusNotFound)
			return
		}
		defer sess.done(c)
	}
	if r.Method != http.MethodPost {
		c.stream = r.Method == http.MethodGet
		// GET (the event stream, ended with its session or, without one,
		// tracked by the hook that registers the session mcp-go opens
		// for it), DELETE, and what mcp-go refuses.
		h.inner.ServeHTTP(w, r)
		return
	}
	h.post(w, r, c, sess)
}

// post decides one POSTed message and serves it when allowed.
func (h *handler) post(w http.ResponseWriter, r *http.Request, c *call, sess *session) {
	g := h.g
	body, err := h.readBody(w, r)
	if err != nil {
		return
	}
	m, err := parseMessage(body)
	if err != nil {
		writeRPCError(w, http.StatusBadRequest, nil, mcp.PARSE_ERROR, "request body is not a JSON-RPC message")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if m.answer {
		h.inner.ServeHTTP(w, r)
		return
	}
	c.body, c.msg = body, m
	d := g.policy.Decide(c.grants, m.method, m.target)
	if d.CheckServed && !h.served(r.Context(), sess, d.ResourceID) {
		d = d.NotServed()
	}
	c.decision, c.start = d, time.Now()
	if !d.Allowed {
		g.audit(r.Context(), c)
		if m.notification {
			writeRPCError(w, http.StatusForbidden, nil, gateway.CodePermissionDenied, d.Message)
		} else {
			writeRPCError(w, http.StatusOK, m.id, gateway.CodePermissionDenied, d.Message)
		}
		return
	}
	if d.List != gateway.NotAList && g.opts.Keys != nil {
		if c.after, err = gateway.DecodeCursor(m.cursor); err != nil {
			c.ran, c.err = true, err
			g.audit(r.Context(), c)
			writeRPCError(w, http.StatusOK, m.id, mcp.INVALID_PARAMS, "invalid cursor")
			return
		}
	}
	if m.method == gateway.MethodSubscriptionsListen && sess == nil && c.p != nil {
		// A stream without a session: ended when the key stops working.
		defer g.keyTrack.Add(*c.p, &stream{c.cancel})()
	}
	if m.method == gateway.MethodInitialize && c.p != nil {
		w = &bindOnWrite{ResponseWriter: w, h: h, c: c}
	}
	defer func() {
		if v := recover(); v != nil {
			// A panic below would end the request without an audit row.
			g.log.ErrorContext(r.Context(), "mcpgo: a request panicked", "method", m.method, "panic", v, "stack", string(debug.Stack()))
			c.ran, c.err = true, errors.New("internal error")
			g.audit(r.Context(), c)
			panic(v)
		}
	}()
	h.inner.ServeHTTP(w, r)
	if m.notification && strings.HasPrefix(m.method, "notifications/") {
		// Delivered to the server's handler of that notification, if it
		// has one: mcp-go answers nothing. A request sent without an id
		// reaches no request handler, and stays "not run".
		c.ran = true
	}
	g.audit(r.Context(), c)
}

// readBody reads the request's body whole, within Options.MaxRequestBodyBytes
// (413 beyond it).
func (h *handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if max := h.g.opts.MaxRequestBodyBytes; max > 0 {
		r.Body = http.MaxBytesReader(w, r.Body, max)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "cannot read the request body", http.StatusBadRequest)
		}
		return nil, err
	}
	return body, nil
}

// audit records a decided message when the policy audits it.
func (g *Gateway) audit(ctx context.Context, c *call) {
	if g.opts.Auditor == nil || !c.decision.Audit {
		return
	}
	err := c.err
	if c.decision.Allowed && !c.ran {
		err = errNotRun
	}
	a := gateway.RequestAudit{Decision: c.decision, Principal: c.p, ClientIP: c.ip, Header: c.header,
		Meta: c.msg.meta, Data: c.msg.data, Start: c.start}
	g.auth.Record(ctx, a.Event(err, c.toolError, c.response))
}

// errNotRun is the audit error of an allowed request the server answered
// without running: a method it does not serve, or a request it refused
// before its handler.
var errNotRun = errors.New("the server did not run the request")

// unauthorized answers 401.
func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", "Bearer")
	http.Error(w, msg, http.StatusUnauthorized)
}

// writeRPCError answers a JSON-RPC error, as mcp-go writes its own.
func writeRPCError(w http.ResponseWriter, status int, id any, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(mcp.JSONRPCError{
		JSONRPC: mcp.JSONRPC_VERSION,
		ID:      mcp.NewRequestId(id),
		Error:   mcp.NewJSONRPCErrorDetails(code, msg, nil),
	})
}

// stream is a request's stream, ended on Close.
type stream struct{ cancel context.CancelFunc }

func (s *stream) Close() error { s.cancel(); return nil }
