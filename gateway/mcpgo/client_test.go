package mcpgo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/adaptertest"
)

// mcpGoClient is mark3labs' own client: its streamable HTTP transport and
// its Initialize. The rows' requests go through its transport, because its
// typed methods keep only the message of an error whose code they do not
// know, and the rows check codes.
var mcpGoClient = adaptertest.ClientKind{
	Name: "mcp-go",
	Connect: func(ctx context.Context, url, key string, hdr map[string]string) (adaptertest.Client, error) {
		headers := map[string]string{"Authorization": "Bearer " + key}
		for k, v := range hdr {
			headers[k] = v
		}
		c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(headers))
		if err != nil {
			return nil, err
		}
		if err := c.Start(ctx); err != nil {
			return nil, err
		}
		init := mcp.InitializeRequest{}
		init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
		init.Params.ClientInfo = mcp.Implementation{Name: "c", Version: "1"}
		if _, err := c.Initialize(ctx, init); err != nil {
			c.Close()
			return nil, err
		}
		return &mcpGoSession{c: c}, nil
	},
	Code: func(err error) (int, bool) {
		var e *rpcError
		if errors.As(err, &e) {
			return e.code, true
		}
		return 0, false
	},
}

type rpcError struct {
	code int
	msg  string
}

func (e *rpcError) Error() string { return fmt.Sprintf("%s (%d)", e.msg, e.code) }

type mcpGoSession struct {
	c  *client.Client
	id atomic.Int64
}

// call sends one request and decodes its result into out (nil: ignored).
func (s *mcpGoSession) call(ctx context.Context, method string, params, out any) error {
	resp, err := s.c.GetTransport().SendRequest(ctx, transport.JSONRPCRequest{
		JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(1_000_000 + s.id.Add(1)), Method: method, Params: params,
	})
	if err != nil {
		return err
	}
	if resp.Error != nil {
		return &rpcError{resp.Error.Code, resp.Error.Message}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(resp.Result, out)
}

func (s *mcpGoSession) SessionID() string { return s.c.GetSessionId() }
func (s *mcpGoSession) Close() error      { return s.c.Close() }

func (s *mcpGoSession) Ping(ctx context.Context) error { return s.call(ctx, "ping", nil, nil) }

func (s *mcpGoSession) List(ctx context.Context, method, cursor string) (adaptertest.Page, error) {
	var params any
	if cursor != "" {
		params = map[string]any{"cursor": cursor}
	}
	var r struct {
		Tools             []mcp.Tool             `json:"tools"`
		Resources         []mcp.Resource         `json:"resources"`
		ResourceTemplates []mcp.ResourceTemplate `json:"resourceTemplates"`
		Prompts           []mcp.Prompt           `json:"prompts"`
		NextCursor        string                 `json:"nextCursor"`
		CacheScope        string                 `json:"cacheScope"`
	}
	if err := s.call(ctx, method, params, &r); err != nil {
		return adaptertest.Page{}, err
	}
	p := adaptertest.Page{IDs: []string{}, Next: r.NextCursor, CacheScope: r.CacheScope}
	switch method {
	case gateway.MethodToolsList:
		for _, t := range r.Tools {
			p.IDs = append(p.IDs, t.Name)
		}
	case gateway.MethodResourcesList:
		for _, r := range r.Resources {
			p.IDs = append(p.IDs, r.URI)
		}
	case gateway.MethodResourceTemplatesList:
		for _, t := range r.ResourceTemplates {
			p.IDs = append(p.IDs, t.URITemplate.Raw())
		}
	case gateway.MethodPromptsList:
		for _, pr := range r.Prompts {
			p.IDs = append(p.IDs, pr.Name)
		}
	}
	return p, nil
}

func (s *mcpGoSession) CallTool(ctx context.Context, name string, args, meta map[string]any) error {
	params := map[string]any{"name": name, "arguments": args}
	if meta != nil {
		params["_meta"] = meta
	}
	var r mcp.CallToolResult
	if err := s.call(ctx, "tools/call", params, &r); err != nil {
		return err
	}
	if r.IsError {
		return errors.New("the tool reported an error")
	}
	return nil
}

func (s *mcpGoSession) ReadResource(ctx context.Context, uri string) (string, error) {
	var r struct {
		CacheScope string `json:"cacheScope"`
	}
	err := s.call(ctx, "resources/read", map[string]any{"uri": uri}, &r)
	return r.CacheScope, err
}

func (s *mcpGoSession) Subscribe(ctx context.Context, uri string) error {
	return s.call(ctx, "resources/subscribe", map[string]any{"uri": uri}, nil)
}

func (s *mcpGoSession) Unsubscribe(ctx context.Context, uri string) error {
	return s.call(ctx, "resources/unsubscribe", map[string]any{"uri": uri}, nil)
}

func (s *mcpGoSession) GetPrompt(ctx context.Context, name string) error {
	return s.call(ctx, "prompts/get", map[string]any{"name": name}, nil)
}

func (s *mcpGoSession) Complete(ctx context.Context, refType, nameOrURI string) error {
	ref := map[string]any{"type": refType, "name": nameOrURI}
	if refType == "ref/resource" {
		ref = map[string]any{"type": refType, "uri": nameOrURI}
	}
	return s.call(ctx, "completion/complete", map[string]any{"ref": ref, "argument": map[string]any{"name": "name", "value": "a"}}, nil)
}

func (s *mcpGoSession) SetLogLevel(ctx context.Context, level string) error {
	return s.call(ctx, "logging/setLevel", map[string]any{"level": level}, nil)
}

func (s *mcpGoSession) Custom(ctx context.Context, method string, params map[string]any) error {
	return s.call(ctx, method, params, nil)
}
