package gateway

import (
	"fmt"
	"strings"

	"github.com/mcpstore/mcpstore/db"
)

// MaxToolNameLen is the longest tool name the MCP specification (2025-11-25)
// allows, in characters.
const MaxToolNameLen = db.MaxToolNameLen

// QualifiedSeparator joins a server id and a tool name into a qualified
// name. Tool names cannot contain it, so a qualified name splits at its last
// separator even when the server id holds one too.
const QualifiedSeparator = "/"

// ToolError is the error for a tool definition, tool name, server id or
// qualified name that breaks the rules of the MCP specification or of the
// registry. It matches db.ErrInvalid under errors.Is, like every refusal of
// bad input in mcpstore; whenever it is returned, nothing was written.
type ToolError struct {
	// Server is the server id the tool was given for, when known.
	Server string
	// Index is the tool's position in the list given to Sync, or -1.
	Index int
	// Tool is the tool's name as given (possibly the invalid name itself).
	Tool string
	// Field names the offending field in the MCP tool definition's
	// spelling: "name", "title", "description", "inputSchema",
	// "outputSchema", "annotations", "_meta"; or "serverId" and
	// "qualifiedName" for look-ups.
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error names the tool (quoted, and cut short when very long), its place in
// the list, the field and the rule it breaks.
func (e *ToolError) Error() string {
	var b strings.Builder
	b.WriteString("gateway: invalid tool")
	if e.Tool != "" || e.Field == "name" {
		fmt.Fprintf(&b, " %.64q", e.Tool)
	}
	if e.Index >= 0 {
		fmt.Fprintf(&b, " (#%d", e.Index)
		if e.Server != "" {
			fmt.Fprintf(&b, " of server %.64q", e.Server)
		}
		b.WriteString(")")
	} else if e.Server != "" {
		fmt.Fprintf(&b, " of server %.64q", e.Server)
	}
	fmt.Fprintf(&b, ": %s: %s", e.Field, e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, db.ErrInvalid) hold.
func (e *ToolError) Unwrap() error { return db.ErrInvalid }

// ValidateToolName checks a tool name against the MCP specification
// (2025-11-25): 1 to 128 characters, each an ASCII letter, a digit, '_', '-'
// or '.'. Names are case-sensitive. It is db.CheckToolName, the rule the
// repository applies to every stored name, with the error a *ToolError.
func ValidateToolName(name string) error {
	if err := db.CheckToolName(name); err != nil {
		return &ToolError{Index: -1, Tool: name, Field: "name", Msg: dbMsg(err)}
	}
	return nil
}

// validateServerID checks a server id: 1 to db.MaxShortLen characters of
// valid UTF-8 without NUL. The registry keeps tools per server, so the
// repository's "" (tools of no server) is not a registry server.
func validateServerID(serverID string) error {
	if err := db.CheckText("server_id", serverID, 1, db.MaxShortLen); err != nil {
		return &ToolError{Index: -1, Field: "serverId", Msg: dbMsg(err)}
	}
	return nil
}

// QualifiedName returns the name a gateway exposing many servers at once
// gives a tool: the server id, QualifiedSeparator, and the tool name, as in
// "files/read_file". A server id may itself contain the separator
// ("team/files/read_file" is tool "read_file" of server "team/files").
func QualifiedName(serverID, tool string) string {
	return serverID + QualifiedSeparator + tool
}

// ParseQualifiedName splits a qualified name at its last separator into a
// server id and a tool name; it is the inverse of QualifiedName. Both parts
// must be valid: a non-empty server id, and a tool name of the MCP
// specification. The error is a *ToolError.
func ParseQualifiedName(qualified string) (serverID, tool string, err error) {
	i := strings.LastIndex(qualified, QualifiedSeparator)
	if i < 0 {
		return "", "", &ToolError{Index: -1, Field: "qualifiedName", Msg: "want SERVER" + QualifiedSeparator + "TOOL"}
	}
	serverID, tool = qualified[:i], qualified[i+len(QualifiedSeparator):]
	if err := validateServerID(serverID); err != nil {
		return "", "", err
	}
	if err := ValidateToolName(tool); err != nil {
		te := err.(*ToolError)
		te.Server = serverID
		return "", "", te
	}
	return serverID, tool, nil
}
