// Package mcpbench holds what the gateway benchmarks and the benchmark
// report share: one MCP server served twice over loopback HTTP, plain and
// behind mcpstore (go-sdk's here; mcp-go's in gateway/mcpgo/mcpgobench,
// through NewPairOf), and the tools/list filter fixture.
package mcpbench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpsdk"
	"github.com/mcpstore/mcpstore/internal/mcphttp"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// Pair is the same MCP server (one tool, echo) served over loopback HTTP
// twice: Plain is the SDK alone; Gateway is behind mcpstore (a verified,
// cached key; the permission check; an audit event per call, stored in the
// background on the Store given). Both are called with go-sdk's client.
type Pair struct {
	Plain, Gateway *mcp.ClientSession
	closers        []func() error
}

// Servers builds a pair's two servers with the Keys and Auditor the pair
// owns: the SDK alone, and behind mcpstore with the ServerID "bench";
// closeFn releases what they hold.
type Servers func(keys *gateway.Keys, auditor *gateway.Auditor) (plain, withGateway http.Handler, closeFn func() error, err error)

type echoArgs struct {
	Text string `json:"text"`
}

func newServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in echoArgs) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
	})
	return s
}

// goSDK is the go-sdk server behind mcpsdk's Handler and Middleware.
func goSDK(keys *gateway.Keys, auditor *gateway.Auditor) (http.Handler, http.Handler, func() error, error) {
	g := mcpsdk.New(mcpsdk.Options{ServerID: "bench", Keys: keys, Auditor: auditor})
	plain := newServer()
	withGateway := newServer()
	withGateway.AddReceivingMiddleware(g.Middleware())
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return plain }, nil), g.Handler(withGateway, nil), g.Close, nil
}

// NewPair starts go-sdk's pair and connects a client to each server.
func NewPair(ctx context.Context, store db.Store) (*Pair, error) {
	return NewPairOf(ctx, store, goSDK)
}

// NewPairOf starts the pair servers builds and connects a client to each.
func NewPairOf(ctx context.Context, store db.Store, servers Servers) (_ *Pair, err error) {
	p := &Pair{}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	keys, err := gateway.NewKeys(ctx, store, gateway.KeysOptions{})
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, func() error { return keys.Close(context.Background()) })
	auditor := gateway.NewAuditor(store, gateway.AuditorOptions{})
	p.closers = append(p.closers, func() error { return auditor.Close(context.Background()) })
	raw, _, err := keys.Issue(ctx, gateway.IssueOptions{Name: "bench", Permissions: []string{"tools:call:echo"}})
	if err != nil {
		return nil, err
	}
	plain, withGateway, closeFn, err := servers(keys, auditor)
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, closeFn)
	if p.Plain, err = p.serve(ctx, plain, ""); err != nil {
		return nil, err
	}
	if p.Gateway, err = p.serve(ctx, withGateway, raw); err != nil {
		return nil, err
	}
	return p, nil
}

// serve serves h on a loopback port and connects a client with key.
func (p *Pair) serve(ctx context.Context, h http.Handler, key string) (*mcp.ClientSession, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // ends with ErrServerClosed
	p.closers = append(p.closers, hs.Close)
	hdr := mcphttp.Headers{}
	if key != "" {
		hdr = mcphttp.Bearer(key)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: "http://" + ln.Addr().String(), HTTPClient: &http.Client{Transport: hdr}, MaxRetries: -1,
	}, nil)
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, cs.Close)
	return cs, nil
}

// Call calls echo on cs once.
func Call(ctx context.Context, cs *mcp.ClientSession) error {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}})
	if err == nil && res.IsError {
		err = errors.New("mcpbench: echo failed")
	}
	return err
}

// Close stops the servers and closes the clients, the Auditor and Keys.
func (p *Pair) Close() error {
	var errs []error
	for _, c := range slices.Backward(p.closers) {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// Latencies times calls on the two clients in alternating rounds of
// perRound calls each (so that a noisy moment of a shared machine falls on
// both alike) and returns each client's latencies, sorted.
func (p *Pair) Latencies(ctx context.Context, rounds, perRound int) (plain, gateway []time.Duration, err error) {
	for i := range rounds {
		order := []*mcp.ClientSession{p.Plain, p.Gateway}
		if i%2 == 1 {
			order = []*mcp.ClientSession{p.Gateway, p.Plain}
		}
		for _, cs := range order {
			for range perRound {
				start := time.Now()
				if err := Call(ctx, cs); err != nil {
					return nil, nil, err
				}
				d := time.Since(start)
				if cs == p.Plain {
					plain = append(plain, d)
				} else {
					gateway = append(gateway, d)
				}
			}
		}
	}
	slices.Sort(plain)
	slices.Sort(gateway)
	return plain, gateway, nil
}

// Quantile returns the q-quantile of sorted durations (nearest rank).
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

// FilterFixture is a tools/list filter's workload: 1,000 tool names and a
// key with 50 patterns (30 exact names, 15 prefixes, 5 with a star inside),
// which allow 104 of them.
func FilterFixture() (gateway.Policy, *gateway.Grants, []string) {
	names, patterns := filterWorkload()
	return gateway.Policy{}, gateway.NewGrants(patterns), names
}

func filterWorkload() (names, patterns []string) {
	kinds := []string{"search", "read", "write", "admin", "report"}
	for i := range 1000 {
		names = append(names, fmt.Sprintf("%s_%s_%03d", kinds[i%len(kinds)], []string{"db", "fs", "web", "mail"}[i%4], i))
	}
	for i := range 30 {
		patterns = append(patterns, gateway.ToolCallPermission(names[i*31]))
	}
	for i := range 15 {
		patterns = append(patterns, gateway.ToolCallPermission(fmt.Sprintf("report_web_%d*", i%10)))
	}
	for i := range 5 {
		patterns = append(patterns, gateway.ToolCallPermission(fmt.Sprintf("*_mail_%d*7", i)))
	}
	return names, patterns
}

// Filter applies the fixture's filter to every name, as tools/list does.
func Filter(p gateway.Policy, g *gateway.Grants, names []string) int {
	n := 0
	for _, name := range names {
		if p.Visible(g, gateway.ListTools, name) {
			n++
		}
	}
	return n
}

// ListThroughMiddleware returns a function answering one tools/list of the
// fixture's 1,000 tools through mcpstore's Middleware, for a verified key
// with the fixture's 50 patterns: the whole filtered-list path (reading
// the server's list, filtering, ordering, paging) without a transport. The
// server's own answer is made once, beforehand. done releases it.
func ListThroughMiddleware(ctx context.Context, store db.Store) (list func() (int, error), done func(), err error) {
	names, patterns := filterWorkload()
	keys, err := gateway.NewKeys(ctx, store, gateway.KeysOptions{})
	if err != nil {
		return nil, nil, err
	}
	g := mcpsdk.New(mcpsdk.Options{Keys: keys})
	done = func() { g.Close(); keys.Close(context.Background()) }
	raw, _, err := keys.Issue(ctx, gateway.IssueOptions{Name: "bench", Permissions: patterns})
	if err != nil {
		done()
		return nil, nil, err
	}
	p, err := keys.Verify(ctx, raw)
	if err != nil {
		done()
		return nil, nil, err
	}
	tools := make([]*mcp.Tool, len(names))
	for i, n := range names {
		tools[i] = &mcp.Tool{Name: n, InputSchema: map[string]any{"type": "object"}}
	}
	server := func(context.Context, string, mcp.Request) (mcp.Result, error) {
		return &mcp.ListToolsResult{Tools: tools}, nil
	}
	h := g.Middleware()(server)
	req := &mcp.ListToolsRequest{Params: &mcp.ListToolsParams{}, Extra: &mcp.RequestExtra{
		TokenInfo: &auth.TokenInfo{UserID: p.KeyID, Extra: map[string]any{mcpsdk.ExtraPrincipal: &p}},
	}}
	list = func() (int, error) {
		res, err := h(ctx, gateway.MethodToolsList, req)
		if err != nil {
			return 0, err
		}
		return len(res.(*mcp.ListToolsResult).Tools), nil
	}
	return list, done, nil
}

// BenchmarkToolCall times tool calls through a pair newPair starts, on
// each engine, in alternating rounds, and reports the medians of both
// servers and the difference: p50_added_µs is what mcpstore adds to a call
// at the median.
func BenchmarkToolCall(b *testing.B, newPair func(context.Context, db.Store) (*Pair, error)) {
	for _, engine := range testdb.Engines {
		b.Run(engine, func(b *testing.B) {
			s := testdb.Open(b, testdb.URL(b, engine))
			p, err := newPair(b.Context(), s)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			perRound := max(b.N/10, 1)
			b.ResetTimer()
			plain, gw, err := p.Latencies(b.Context(), 10, perRound)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
			b.ReportMetric(us(Quantile(plain, 0.5)), "p50_plain_µs")
			b.ReportMetric(us(Quantile(gw, 0.5)), "p50_mcpstore_µs")
			b.ReportMetric(us(Quantile(gw, 0.5)-Quantile(plain, 0.5)), "p50_added_µs")
		})
	}
}
