// Package mcphttp holds the few HTTP pieces that the demo and the tests
// use to talk to an MCP server over streamable HTTP.
package mcphttp

import (
	"context"
	"io"
	"net/http"
	"strings"
)

// Headers is an http.RoundTripper that sets its headers on every request
// before sending it with http.DefaultTransport.
type Headers map[string]string

// Bearer returns Headers that send token as the bearer token.
func Bearer(token string) Headers {
	return Headers{"Authorization": "Bearer " + token}
}

func (h Headers) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// initialize is an MCP initialize request as a client first sends it.
const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// Initialize posts a raw MCP initialize request to url, with key as its
// bearer token unless key is empty, and returns the HTTP status and body.
func Initialize(ctx context.Context, url, key string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(initialize))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}
