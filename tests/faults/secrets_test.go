package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbopen"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpsdk"
)

// TestNoSecretsAtRest runs keys, the audit pipeline, the HTTP front and
// the CLI over one database per engine, with every logger captured, then
// searches the whole database (rows as text; the SQLite file and WAL
// bytes) and the logs for any raw key and any value of a secret field.
func TestNoSecretsAtRest(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			var logs logBuffer
			url := newURL(t, engine)
			s, err := dbopen.Open(ctx, url, dbopen.Options{
				Postgres: postgresOptions(logs.logger()), SQLite: sqliteOptions(logs.logger()),
			})
			require.NoError(t, err)
			defer s.Close()

			keys, err := gateway.NewKeys(ctx, s, gateway.KeysOptions{Logger: logs.logger()})
			require.NoError(t, err)
			defer keys.Close(context.Background())
			auditor := gateway.NewAuditor(s, gateway.AuditorOptions{Logger: logs.logger()})

			// Keys issued, verified, rotated, revoked, refused.
			var raws []string
			for i := range 3 {
				raw, info, err := keys.Issue(ctx, gateway.IssueOptions{Name: fmt.Sprintf("k%d", i), Permissions: []string{"tools:call:*"}})
				require.NoError(t, err)
				raws = append(raws, raw)
				_, err = keys.Verify(ctx, raw)
				require.NoError(t, err)
				switch i {
				case 1:
					rotated, _, err := keys.Rotate(ctx, info.ID, 0)
					require.NoError(t, err)
					raws = append(raws, rotated)
				case 2:
					require.NoError(t, keys.Revoke(ctx, info.ID, "leaked"))
				}
				_, _ = keys.Verify(ctx, raw)
			}
			require.NoError(t, keys.Flush(ctx))

			// Audit events carrying every key and secret-named fields.
			for i, raw := range raws {
				require.NoError(t, auditor.Record(ctx, db.AuditLogCreate{
					RequestID: fmt.Sprintf("r%d", i), Action: "tools/call", ResourceType: "tool", Status: "success",
					RequestData: json.RawMessage(fmt.Sprintf(
						`{"api_key":%q,"nested":[{"Authorization":"Bearer %s"},{"db_password":"pw-%d-secret"}],"x-api-key":%q}`, raw, raw, i, raw)),
					ResponseData: json.RawMessage(`{"session_token":"tok-secret","refreshToken":{"v":"rt-secret"}}`),
				}))
			}

			// The HTTP front: refused keys (revoked, rotated) are audited.
			server := mcp.NewServer(&mcp.Implementation{Name: "files", Version: "1"}, nil)
			g := mcpsdk.New(mcpsdk.Options{ServerID: "files", Keys: keys, Auditor: auditor, Logger: logs.logger()})
			server.AddReceivingMiddleware(g.Middleware())
			h := httptest.NewServer(g.Handler(server, nil))
			defer h.Close()
			for _, raw := range append(raws, raws[0][:20]+"-secret") {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
				req.Header.Set("Authorization", "Bearer "+raw)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				resp, err := h.Client().Do(req)
				require.NoError(t, err)
				resp.Body.Close()
			}
			require.NoError(t, auditor.Close(ctx))
			require.NotZero(t, auditor.Stats().Stored)

			// The CLI verifies a key and prints nothing of it.
			f := &fixture{url: url, raw: raws[0]}
			require.ErrorIs(t, f.cli(t, raws[0]+"\n", "keys", "verify"), exitCode(0))

			var leaks []string
			for _, raw := range raws {
				leaks = append(leaks, secretsAtRest(t, s, &logs, raw, "-secret")...)
			}
			assert.Empty(t, leaks)
			dump := 0
			for _, text := range dumpText(t, s) {
				dump += len(text)
			}
			summary(t, "%d keys, %d audit events, %d bytes of database and %d of logs searched: %d raw keys or secret values found",
				len(raws), auditor.Stats().Stored, dump, len(logs.String()), len(leaks))
		})
	}
}
