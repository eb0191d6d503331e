package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/sqlite"
	"github.com/mcpstore/mcpstore/examples/mcpserver/exampleserver"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/mcphttp"
)

func init() {
	register(command{path: "demo", summary: "run the example MCP server end to end on a temporary database",
		help: `Run the example MCP server end to end, in a few seconds, with nothing
but Go: a SQLite database in a temporary folder, a key, the server on a
loopback port, a real MCP client calling it, and the audit log it leaves.
It ignores --db: it never touches an operator's database.`,
		example: "mcpstore demo",
		setup:   func(*flag.FlagSet) action { return demo }})
}

// demoPermissions are the demo key's: echo and upper, not
// delete_everything; the docs, not the secret; the greet prompt, not the
// admin report.
var demoPermissions = []string{"tools:call:echo", "tools:call:upper",
	"resources:read:example://docs/*", "prompts:get:" + exampleserver.GreetPrompt}

// demo shows mcpstore at work in a few seconds, with nothing but Go: a
// SQLite database in a temporary folder, a key, the example MCP server on
// a loopback port, a real MCP client calling it, and the audit log it
// leaves. It ignores --db: it never touches an operator's database.
func demo(e *env, _ []string) (err error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	w := e.stdout

	dir, err := os.MkdirTemp("", "mcpstore-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()

	section(w, "Database")
	store, err := sqlite.Open(ctx, "sqlite:"+filepath.Join(dir, "demo.db"), sqlite.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.MigrateUp(ctx); err != nil {
		return err
	}
	fmt.Fprintln(w, "A new SQLite database in a temporary folder, migrated.")

	srv, err := exampleserver.New(ctx, store)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			err = errors.Join(err, srv.Close(context.WithoutCancel(ctx)))
		}
	}()

	section(w, "API key")
	raw, info, err := srv.Keys.Issue(ctx, gateway.IssueOptions{Name: "demo", Owner: "alice", Permissions: demoPermissions})
	if err != nil {
		return err
	}
	// Only the prefix: even a demo does not print a key.
	fmt.Fprintf(w, "Issued key %q to alice: prefix %s, permissions %s.\n", info.Name, info.Prefix, strings.Join(info.Permissions, ", "))

	section(w, "Server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: listen: %w", err)
	}
	hs := &http.Server{Handler: srv.Handler, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // Serve ends with ErrServerClosed at Shutdown
	defer hs.Close()
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(w, "The example MCP server (tools echo, upper, delete_everything; two resources; prompts greet, admin_report) listens on %s.\n", url)

	client := mcp.NewClient(&mcp.Implementation{Name: "mcpstore-demo", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: url, HTTPClient: &http.Client{Transport: mcphttp.Bearer(raw)}, MaxRetries: -1,
	}, nil)
	if err != nil {
		return fmt.Errorf("demo: connect: %w", err)
	}
	defer cs.Close()
	fmt.Fprintln(w, "A go-sdk client connected over streamable HTTP with the key as its bearer token.")

	section(w, "tools/list: only the tools the key may call")
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		return fmt.Errorf("demo: list tools: %w", err)
	}
	rows := make([][]string, len(tools.Tools))
	for i, t := range tools.Tools {
		rows[i] = []string{"  " + t.Name, t.Description}
	}
	if err := lines(w, rows); err != nil {
		return err
	}

	section(w, `tools/call upper {"text": "hello, mcpstore"}: allowed`)
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "upper", Arguments: map[string]any{"text": "hello, mcpstore"}})
	if err != nil {
		return fmt.Errorf("demo: call upper: %w", err)
	}
	out, _ := json.Marshal(res.StructuredContent)
	fmt.Fprintf(w, "Result: %s\n", out)

	section(w, "tools/call delete_everything: denied")
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_everything", Arguments: map[string]any{}})
	if err == nil {
		return errors.New("demo: delete_everything ran with a key not allowed to call it")
	}
	fmt.Fprintf(w, "Refused: %v\n", err)

	if err := demoResourcesAndPrompts(ctx, w, cs); err != nil {
		return err
	}

	section(w, "A wrong key")
	status, _, err := mcphttp.Initialize(ctx, url, "mcp_this_is_not_a_key")
	if err != nil {
		return fmt.Errorf("demo: raw request: %w", err)
	}
	fmt.Fprintf(w, "POST initialize with a wrong bearer token: HTTP %d %s; nothing ran.\n", status, http.StatusText(status))

	// Closing the server flushes the audit log.
	cs.Close()
	closed = true
	if err := srv.Close(ctx); err != nil {
		return err
	}

	section(w, "Audit log")
	events, err := store.AuditLogs().List(ctx, db.AuditQuery{Limit: db.MaxLimit})
	if err != nil {
		return err
	}
	if err := eventTable(w, events); err != nil {
		return err
	}

	section(w, "Statistics")
	now := time.Now()
	st, err := store.AuditLogs().Statistics(ctx, start.Add(-time.Minute), now.Add(time.Minute))
	if err != nil {
		return err
	}
	if err := printStats(w, start.Add(-time.Minute), now.Add(time.Minute), st); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "\nDone in %s; the temporary database is removed.\n", time.Since(start).Round(time.Millisecond))
	return err
}

// demoResourcesAndPrompts shows the same permissions at work on
// resources and prompts.
func demoResourcesAndPrompts(ctx context.Context, w io.Writer, cs *mcp.ClientSession) error {
	section(w, "resources/list: only the resources the key may read")
	resources, err := cs.ListResources(ctx, nil)
	if err != nil {
		return fmt.Errorf("demo: list resources: %w", err)
	}
	for _, r := range resources.Resources {
		fmt.Fprintf(w, "  %s\n", r.URI)
	}

	section(w, "resources/read "+exampleserver.DocURI+": allowed")
	doc, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: exampleserver.DocURI})
	if err != nil {
		return fmt.Errorf("demo: read %s: %w", exampleserver.DocURI, err)
	}
	fmt.Fprintf(w, "Contents: %q\n", doc.Contents[0].Text)

	section(w, "resources/read "+exampleserver.SecretURI+": denied")
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: exampleserver.SecretURI}); err == nil {
		return errors.New("demo: the secret was read with a key not allowed to read it")
	} else {
		fmt.Fprintf(w, "Refused: %v\n", err)
	}

	section(w, "prompts/get "+exampleserver.GreetPrompt+": allowed; "+exampleserver.ReportPrompt+": denied")
	prompt, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: exampleserver.GreetPrompt, Arguments: map[string]string{"name": "alice"}})
	if err != nil {
		return fmt.Errorf("demo: get prompt: %w", err)
	}
	if text, ok := prompt.Messages[0].Content.(*mcp.TextContent); ok {
		fmt.Fprintf(w, "Prompt: %q\n", text.Text)
	}
	if _, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: exampleserver.ReportPrompt}); err == nil {
		return errors.New("demo: the admin report was got with a key not allowed to get it")
	} else {
		fmt.Fprintf(w, "Refused: %v\n", err)
	}
	return nil
}

func section(w io.Writer, title string) {
	fmt.Fprintf(w, "\n== %s\n", title)
}
