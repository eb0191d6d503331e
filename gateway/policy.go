package gateway

import (
	"strconv"
	"strings"
)

// MCP methods the Policy names. Any other method, custom ones included,
// needs MethodPermission(method); notifications (methods under
// "notifications/") need nothing.
const (
	MethodInitialize            = "initialize"
	MethodPing                  = "ping"
	MethodDiscover              = "server/discover" // the stateless protocol's handshake
	MethodToolsList             = "tools/list"
	MethodToolsCall             = "tools/call"
	MethodResourcesList         = "resources/list"
	MethodResourceTemplatesList = "resources/templates/list"
	MethodResourcesRead         = "resources/read"
	MethodResourcesSubscribe    = "resources/subscribe"
	MethodResourcesUnsubscribe  = "resources/unsubscribe"
	MethodPromptsList           = "prompts/list"
	MethodPromptsGet            = "prompts/get"
	MethodComplete              = "completion/complete"
	// MethodSubscriptionsListen is the stateless protocol's stream of
	// notifications: list changes (which need no permission, like the
	// stateful protocol's event stream) and resource subscriptions (which
	// need resources:read, like resources/subscribe).
	MethodSubscriptionsListen = "subscriptions/listen"
)

// The audit rows' resource types, by what a request reaches.
const (
	ResourceTypeTool             = "tool"
	ResourceTypeResource         = "resource"
	ResourceTypeResourceTemplate = "resource_template"
	ResourceTypePrompt           = "prompt"
	ResourceTypeCompletion       = "completion" // a completion of an unknown kind of reference
	ResourceTypeMethod           = "method"
	ResourceTypeAPIKey           = "api_key"
)

const (
	completionRefPrompt   = "ref/prompt"
	completionRefResource = "ref/resource"
	deniedMessagePrefix   = "permission denied: this key may not "
	maxQuotedTargetChars  = 64
)

// clientNotifications are the notifications MCP lets a client send: they
// need no permission. Any other method under "notifications/" is treated
// like any other method (an SDK may register a custom request by that
// name).
var clientNotifications = map[string]struct{}{
	"notifications/initialized":        {},
	"notifications/cancelled":          {},
	"notifications/progress":           {},
	"notifications/roots/list_changed": {},
}

// Audit vocabulary shared by every SDK adapter. The action of a request's
// event is its MCP method (such as "tools/call"); a refused key is
// ActionAuth, which any client can cause: the Auditor counts such events
// per client address under pressure instead of queueing each (see
// AuditorOptions.AggregateInterval).
const (
	ActionAuth = "auth"

	StatusSuccess      = "success"
	StatusError        = "error"
	StatusDenied       = "denied"
	StatusUnauthorized = "unauthorized"
)

// CodePermissionDenied is the JSON-RPC error code of a request the key may
// not make. The MCP specification leaves authorization errors to the
// server; -32030 sits in JSON-RPC's range for server-defined errors, apart
// from the codes go-sdk and MCP use (-32001 to -32005 mean connection
// states to go-sdk's client, -32002 and -32020 to -32042 are MCP's).
const CodePermissionDenied = -32030

// Target is what an MCP request reaches, read from its params by the SDK
// adapter: the tool or prompt name, the resource URI, or the reference of a
// completion. Fields a method does not use stay empty.
type Target struct {
	Name string // tools/call, prompts/get
	URI  string // resources/read, resources/subscribe, resources/unsubscribe
	// URIs are the resources subscriptions/listen subscribes to.
	URIs []string
	// Ref is the reference of completion/complete: Type "ref/prompt" with
	// Name, or "ref/resource" with URI (a resource template).
	Ref CompletionRef
}

// CompletionRef is the ref of a completion/complete request.
type CompletionRef struct {
	Type string
	Name string
	URI  string
}

// ListKind says which list a method returns, for filtering.
type ListKind int

// The lists the Policy filters.
const (
	NotAList ListKind = iota
	ListTools
	ListResources
	ListResourceTemplates
	ListPrompts
)

// Policy decides every MCP request by a key's permissions, deny by
// default. It imports no SDK: each adapter reads the method and its target
// from the request, asks Decide, refuses or runs the request, filters list
// results with Visible, and audits what Decide says to audit.
//
//	method                                  permission needed                audited
//	initialize, ping, server/discover       none                             no
//	notifications/*                         none                             no
//	tools/call                              tools:call:<name>                yes
//	tools/list                              none; filtered by tools:call     with AuditLists
//	resources/read, subscribe, unsubscribe  resources:read:<uri>             yes
//	resources/list                          none; filtered by resources:read with AuditLists
//	resources/templates/list                none; a template is listed when  with AuditLists
//	                                        the key may read some URI of it
//	prompts/get                             prompts:get:<name>               yes
//	prompts/list                            none; filtered by prompts:get    with AuditLists
//	completion/complete                     that of its prompt or template   yes
//	subscriptions/listen                    resources:read of each resource  when it subscribes
//	                                        it subscribes to; none otherwise to resources
//	any other method                        mcp:<method>                     yes
//
// A client's answers to the server's own requests (sampling, elicitation,
// roots) are responses, not requests: they need no permission, and the
// adapters make sure they come from the session's own key.
type Policy struct {
	// ServerID qualifies tool and prompt names in audit rows
	// ("server/tool"); "" leaves them bare.
	ServerID string
	// AuditLists audits allowed list calls too.
	AuditLists bool
}

// Decision is the Policy's answer for one request.
type Decision struct {
	// Allowed: run the request. When false, refuse it with
	// CodePermissionDenied and Message.
	Allowed bool
	// Permission is the permission the request needed; "" when it needs
	// none.
	Permission string
	// List names the filter for the result of a list method.
	List ListKind
	// Audit: record the request in the audit log, with Action (the
	// method), ResourceType and ResourceID.
	Audit        bool
	Action       string
	ResourceType string
	ResourceID   string
	// Message is the error message for the client when the request is
	// refused; AuditError the error_message of its audit row.
	Message    string
	AuditError string
	// CheckServed: the request is allowed only if ResourceID (the
	// reference of a completion) is a resource template, or a resource,
	// that the server serves. The Policy cannot know; the adapter checks,
	// and refuses with NotServed when it is not. Without this, a client
	// could name a made-up template (such as "{x}") that some pattern
	// covers, and reach the completion handler with it.
	CheckServed bool
}

// NotServed is d refused because its reference names nothing the server
// serves.
func (d Decision) NotServed() Decision {
	d.Allowed, d.CheckServed = false, false
	d.Message = deniedMessagePrefix + "complete resource template " + quote(d.ResourceID)
	d.AuditError = "permission denied: not a resource template this server serves"
	return d
}

// Decide decides a request of method on target for a key with grants (nil:
// no permissions at all).
func (p Policy) Decide(g *Grants, method string, t Target) Decision {
	d := Decision{Allowed: true, Action: method}
	switch method {
	case MethodInitialize, MethodPing, MethodDiscover:
		return d
	case MethodToolsList:
		d.List, d.Audit, d.ResourceType = ListTools, p.AuditLists, ResourceTypeTool
		return d
	case MethodResourcesList:
		d.List, d.Audit, d.ResourceType = ListResources, p.AuditLists, ResourceTypeResource
		return d
	case MethodResourceTemplatesList:
		d.List, d.Audit, d.ResourceType = ListResourceTemplates, p.AuditLists, ResourceTypeResourceTemplate
		return d
	case MethodPromptsList:
		d.List, d.Audit, d.ResourceType = ListPrompts, p.AuditLists, ResourceTypePrompt
		return d
	case MethodToolsCall:
		d.ResourceType, d.ResourceID = ResourceTypeTool, p.qualified(t.Name)
		return p.check(d, g, ToolCallPermission(t.Name), "call tool", t.Name)
	case MethodResourcesRead, MethodResourcesSubscribe, MethodResourcesUnsubscribe:
		d.ResourceType, d.ResourceID = ResourceTypeResource, t.URI
		return p.checkURI(d, g, t.URI, "read resource")
	case MethodPromptsGet:
		d.ResourceType, d.ResourceID = ResourceTypePrompt, p.qualified(t.Name)
		return p.check(d, g, PromptGetPermission(t.Name), "get prompt", t.Name)
	case MethodComplete:
		return p.complete(d, g, t.Ref)
	case MethodSubscriptionsListen:
		if len(t.URIs) == 0 {
			return d
		}
		d.ResourceType = ResourceTypeResource
		for _, uri := range t.URIs {
			if dd := p.checkURI(d, g, uri, "subscribe to resource"); !dd.Allowed {
				dd.ResourceID = uri
				return dd
			}
		}
		d.Audit, d.ResourceID = true, strings.Join(t.URIs, " ")
		return d
	}
	if _, ok := clientNotifications[method]; ok {
		return d
	}
	d.ResourceType, d.ResourceID = ResourceTypeMethod, method
	return p.check(d, g, MethodPermission(method), "call method", method)
}

// complete decides completion/complete: allowed for a prompt the key may
// get, or a resource template the key may read some URI of.
func (p Policy) complete(d Decision, g *Grants, ref CompletionRef) Decision {
	d.Audit = true
	switch ref.Type {
	case completionRefPrompt:
		d.ResourceType, d.ResourceID = ResourceTypePrompt, p.qualified(ref.Name)
		return p.check(d, g, PromptGetPermission(ref.Name), "complete prompt", ref.Name)
	case completionRefResource:
		d.ResourceType, d.ResourceID = ResourceTypeResourceTemplate, ref.URI
		d.Permission = ResourceReadPermission(ref.URI)
		if !templateAllowed(g, ref.URI) {
			return denied(d, "complete resource template", ref.URI)
		}
		d.CheckServed = true
		return d
	}
	d.Allowed, d.ResourceType, d.ResourceID = false, ResourceTypeCompletion, ref.Type
	d.Message = deniedMessagePrefix + "complete " + quote(ref.Type)
	d.AuditError = "permission denied: unknown completion reference"
	return d
}

// checkURI checks read access to a resource URI. Permissions match the URI
// as text, so a URI with dot-segments ("docs/../secret"), raw or
// percent-encoded, is refused whatever the key: a handler that cleans the
// path would otherwise serve what the text's prefix does not grant.
func (p Policy) checkURI(d Decision, g *Grants, uri, verb string) Decision {
	d = p.check(d, g, ResourceReadPermission(uri), verb, uri)
	if d.Allowed && hasDotSegment(uri) {
		d.Allowed = false
		d.Message = deniedMessagePrefix + verb + " " + quote(uri) + ": a URI with dot-segments is refused"
		d.AuditError = "permission denied: dot-segments in the URI"
	}
	return d
}

// hasDotSegment reports whether uri, its percent-escapes decoded, has a
// "." or ".." segment between slashes or backslashes.
func hasDotSegment(uri string) bool {
	if !strings.Contains(uri, ".") && !strings.Contains(uri, "%") {
		return false
	}
	decoded := uri
	if strings.Contains(uri, "%") {
		var b strings.Builder
		for i := 0; i < len(uri); i++ {
			if uri[i] == '%' && i+2 < len(uri) && isHex(uri[i+1]) && isHex(uri[i+2]) {
				b.WriteByte(unhex(uri[i+1])<<4 | unhex(uri[i+2]))
				i += 2
				continue
			}
			b.WriteByte(uri[i])
		}
		decoded = b.String()
	}
	for _, seg := range strings.FieldsFunc(decoded, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func (p Policy) check(d Decision, g *Grants, perm, verb, target string) Decision {
	d.Audit, d.Permission = true, perm
	if !g.Allows(perm) {
		return denied(d, verb, target)
	}
	return d
}

func denied(d Decision, verb, target string) Decision {
	d.Allowed = false
	d.Message = deniedMessagePrefix + verb + " " + quote(target)
	d.AuditError = "permission denied: " + d.Permission
	return d
}

func (p Policy) qualified(name string) string {
	if p.ServerID == "" || name == "" {
		return name
	}
	return QualifiedName(p.ServerID, name)
}

// Visible reports whether a key with grants sees an item of a list: id is
// the tool's or prompt's name, the resource's URI, or the template's URI
// template.
func (p Policy) Visible(g *Grants, kind ListKind, id string) bool {
	switch kind {
	case ListTools:
		return g.AllowsUnder(PermToolCall, id)
	case ListResources:
		return g.AllowsUnder(PermResourceRead, id)
	case ListResourceTemplates:
		return templateAllowed(g, id)
	case ListPrompts:
		return g.AllowsUnder(PermPromptGet, id)
	}
	return false
}

// templateAllowed reports whether the key may read some URI of the
// resource template tmpl (see Grants.AllowsSome). A template beyond
// MaxTemplateLen is turned away before it is even split.
func templateAllowed(g *Grants, tmpl string) bool {
	if len(tmpl) > MaxTemplateLen {
		return g.All()
	}
	return g.AllowsSome(templateParts(PermResourceRead, tmpl))
}

// templateParts splits prefix+tmpl, an RFC 6570 URI template, into literal
// text and holes for Grants.AllowsSome: every {expression} is a hole that
// any run of characters may fill.
func templateParts(prefix, tmpl string) []string {
	parts := []string{prefix}
	for {
		open := strings.IndexByte(tmpl, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(tmpl[open:], '}')
		if end < 0 {
			break // not a template expression: literal text
		}
		parts[len(parts)-1] += tmpl[:open]
		parts = append(parts, "", "") // a hole, then the next literal
		tmpl = tmpl[open+end+1:]
	}
	parts[len(parts)-1] += tmpl
	return parts
}

// quote quotes s for an error message, cut to 64 characters; control
// characters are escaped. It reads no further than it shows.
func quote(s string) string {
	n := 0
	for i := range s {
		if n == maxQuotedTargetChars {
			return strconv.Quote(s[:i]) + "..."
		}
		n++
	}
	return strconv.Quote(s)
}
