package mcpgo

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/mcpstore/mcpstore/gateway"
)

// message is what Handler reads of a POSTed JSON-RPC message, parsed the
// way mcp-go parses it (encoding/json into the same shapes and mcp-go's
// own request types), so that what is decided is what the server runs.
type message struct {
	// answer: a response to the server's own request (no method, an id);
	// mcp-go delivers it to the session, which only its key reaches.
	answer bool
	// notification: no id, or a null one; mcp-go answers nothing.
	notification bool
	id           any // as mcp-go reads it, for the refusal's id
	method       string
	target       gateway.Target
	cursor       string          // of a list method
	meta         map[string]any  // the params' _meta
	data         json.RawMessage // what the audit row keeps of the params
}

var errNotJSONRPC = errors.New("not a JSON-RPC message")

// parseMessage reads one JSON-RPC message. A batch (a JSON array), which
// mcp-go refuses as well, or anything that is not a JSON object is an
// error.
func parseMessage(body []byte) (message, error) {
	var env struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return message{}, errNotJSONRPC
	}
	m := message{method: env.Method}
	hasID := len(env.ID) > 0 && !bytes.Equal(env.ID, []byte("null"))
	if m.method == "" && len(env.ID) > 0 {
		// mcp-go's streamable transport takes any message without a
		// method and with an id (null included) as an answer.
		m.answer = true
		return m, nil
	}
	m.notification = !hasID
	if hasID {
		_ = json.Unmarshal(env.ID, &m.id)
	}
	m.target, m.cursor, m.meta, m.data = readParams(m.method, body, env.Params)
	return m, nil
}

// readParams reads what a request reaches from the whole message, with
// mcp-go's request type for its method: a message mcp-go cannot parse
// reaches nothing (mcp-go refuses it too).
func readParams(method string, body, params json.RawMessage) (t gateway.Target, cursor string, meta map[string]any, data json.RawMessage) {
	var m *mcp.Meta
	if method != gateway.MethodToolsCall {
		data = gateway.ParamsData(params)
	}
	switch method {
	case gateway.MethodToolsCall:
		// The fields of mcp.CallToolParams that the decision and the audit
		// read, under the same names and types (mcp-go's own parse of the
		// whole request costs several times more, for arguments decoded
		// into maps): a name read here is the name mcp-go reads, or mcp-go
		// refuses the request.
		var p struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
			Meta      *mcp.Meta       `json:"_meta"`
		}
		if json.Unmarshal(params, &p) == nil {
			t.Name, m, data = p.Name, p.Meta, gateway.ToolCallData(p.Arguments)
		}
	case gateway.MethodPromptsGet:
		var r mcp.GetPromptRequest
		if json.Unmarshal(body, &r) == nil {
			t.Name, m = r.Params.Name, r.Params.Meta
		}
	case gateway.MethodResourcesRead:
		var r mcp.ReadResourceRequest
		if json.Unmarshal(body, &r) == nil {
			t.URI, m = r.Params.URI, r.Params.Meta
		}
	case gateway.MethodResourcesSubscribe:
		var r mcp.SubscribeRequest
		if json.Unmarshal(body, &r) == nil {
			t.URI = r.Params.URI
		}
	case gateway.MethodResourcesUnsubscribe:
		var r mcp.UnsubscribeRequest
		if json.Unmarshal(body, &r) == nil {
			t.URI = r.Params.URI
		}
	case gateway.MethodComplete:
		var r mcp.CompleteRequest
		if json.Unmarshal(body, &r) == nil {
			switch ref := r.Params.Ref.(type) {
			case mcp.PromptReference:
				t.Ref = gateway.CompletionRef{Type: ref.Type, Name: ref.Name}
			case mcp.ResourceReference:
				t.Ref = gateway.CompletionRef{Type: ref.Type, URI: ref.URI}
			}
		}
	case gateway.MethodSubscriptionsListen:
		var r mcp.SubscriptionsListenRequest
		if json.Unmarshal(body, &r) == nil {
			t.URIs, m = r.Params.Notifications.ResourceSubscriptions, r.Params.Meta
		}
	case gateway.MethodToolsList, gateway.MethodResourcesList, gateway.MethodResourceTemplatesList, gateway.MethodPromptsList:
		var r mcp.PaginatedRequest
		if json.Unmarshal(body, &r) == nil {
			cursor, m = string(r.Params.Cursor), r.Params.Meta
		}
	}
	if m != nil {
		meta = m.AdditionalFields
	} else if len(params) > 0 {
		var p struct {
			Meta map[string]any `json:"_meta"`
		}
		_ = json.Unmarshal(params, &p)
		meta = p.Meta
	}
	return t, cursor, meta, data
}
