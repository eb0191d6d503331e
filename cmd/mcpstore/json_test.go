package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// freeForm are the fields whose values are documents or counts keyed by
// data (what a client sent, a tool's schema, a count per status): their
// keys are values, not field names.
var freeForm = []string{"metadata", "input_schema", "output_schema", "annotations", "request_data", "response_data",
	"by_status", "by_action"}

// fieldNames returns the field names of the JSON documents in js (one, or
// one per line), in the order they first appear: "a", "a.b" for a field of
// an object in a; the fields of an array's objects are their own.
func fieldNames(t *testing.T, js string) []string {
	t.Helper()
	var names []string
	var dec *json.Decoder
	var walk func(prefix string)
	walk = func(prefix string) {
		tok, err := dec.Token()
		require.NoError(t, err)
		switch tok {
		case json.Delim('['):
			for dec.More() {
				walk(prefix)
			}
			_, err = dec.Token()
			require.NoError(t, err)
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				require.NoError(t, err)
				name := prefix + k.(string)
				if !slices.Contains(names, name) {
					names = append(names, name)
				}
				if slices.Contains(freeForm, k.(string)) {
					var skip json.RawMessage
					require.NoError(t, dec.Decode(&skip))
					continue
				}
				walk(name + ".")
			}
			_, err = dec.Token()
			require.NoError(t, err)
		}
	}
	docs := json.NewDecoder(strings.NewReader(js))
	for {
		var doc json.RawMessage
		err := docs.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return names
		}
		require.NoError(t, err)
		dec = json.NewDecoder(bytes.NewReader(doc))
		walk("")
	}
}

// jsonOutputs runs every command that prints JSON, on a database with a
// key, a tool and audit events, and returns each command's output by the
// name the README and testdata/json-fields.txt give it.
func jsonOutputs(t *testing.T, c cli) map[string]string {
	c.ok("migrate", "up")
	s := openStore(t, c.dbURL)
	ctx := t.Context()
	_, err := gateway.NewRegistry(s, gateway.RegistryOptions{}).Sync(ctx, "files", []gateway.Tool{
		{Name: "read_file", InputSchema: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}}}`)}})
	require.NoError(t, err)
	d := 1.5
	for i := range 3 {
		_, err := s.AuditLogs().Insert(ctx, db.AuditLogCreate{RequestID: fmt.Sprintf("r%d", i), UserID: "alice", APIKeyID: "k",
			Action: "tools/call", ResourceType: "tool", ResourceID: "files/read_file", Status: "success", DurationMS: &d,
			RequestData: json.RawMessage(`{"arguments":{"path":"a"}}`), CreatedAt: time.Now().Add(-time.Hour)})
		require.NoError(t, err)
	}
	out := map[string]string{}
	out["migrate status"] = c.ok("migrate", "status", "--json")
	out["keys create"] = c.ok("keys", "create", "--name", "ci", "--user", "alice", "--permission", "tools:call:*", "--json")
	var created newKeyJSON
	require.NoError(t, json.Unmarshal([]byte(out["keys create"]), &created))
	out["keys list"] = c.ok("keys", "list", "--json")
	out["keys show"] = c.ok("keys", "show", created.ID, "--json")
	code, verify, _ := c.run(created.Key, "keys", "verify", "--json")
	require.Equal(t, exitOK, code)
	out["keys verify"] = verify
	out["keys rotate"] = c.ok("keys", "rotate", created.ID, "--grace", "1h", "--json")
	out["keys revoke"] = c.ok("keys", "revoke", created.ID, "--json")
	out["tools list"] = c.ok("tools", "list", "--json")
	out["audit tail"] = c.ok("audit", "tail", "--json")
	out["audit query"] = c.ok("audit", "query", "--user", "alice", "--json")
	out["audit stats"] = c.ok("audit", "stats", "--json")
	out["audit export"] = c.ok("audit", "export")
	out["audit prune"] = c.ok("audit", "prune", "--older-than", "1m", "--json")
	out["migrate up"] = c.ok("migrate", "up", "--json")
	return out
}

// The field names of every command's JSON are lower-case snake_case and
// those of testdata/json-fields.txt, which the README lists too.
func TestJSONFieldNames(t *testing.T) {
	c := cli{t, testdb.SQLiteEmptyURL(t)}
	outputs := jsonOutputs(t, c)
	names := make([]string, 0, len(outputs))
	for name := range outputs {
		names = append(names, name)
	}
	slices.Sort(names)
	var want bytes.Buffer
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	for _, name := range names {
		fields := fieldNames(t, outputs[name])
		require.NotEmpty(t, fields, name)
		for _, f := range fields {
			for part := range strings.SplitSeq(f, ".") {
				assert.Regexp(t, snake, part, "%s: %s", name, f)
			}
		}
		fmt.Fprintf(&want, "%s: %s\n", name, strings.Join(fields, " "))
	}
	golden(t, "json-fields.txt", want.String())

	// The README's table lists the same fields, command by command.
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	row := regexp.MustCompile("(?m)^\\| `mcpstore ([a-z ]+)[^`]*` \\|[^|]*\\| (.*) \\|$")
	listed := map[string]string{}
	span := regexp.MustCompile("`([^`]*)`")
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		var fields []string
		for _, f := range span.FindAllStringSubmatch(m[2], -1) {
			fields = append(fields, f[1])
		}
		listed[strings.TrimSpace(m[1])] = strings.Join(fields, " ")
	}
	for _, name := range names {
		assert.Equal(t, strings.Join(fieldNames(t, outputs[name]), " "), listed[name], "README's JSON row of %s", name)
	}
}

func TestFieldNames(t *testing.T) {
	assert.Equal(t, []string{"a", "b", "b.c", "b.c.x", "metadata", "d"},
		fieldNames(t, `[{"a":1,"b":{"c":[1,{"x":2}]}},{"a":2,"metadata":{"k":1},"d":null}]`))
	assert.Equal(t, []string{"id", "x"}, fieldNames(t, "{\"id\":1}\n{\"id\":2,\"x\":[]}\n"), "one per line")
}
