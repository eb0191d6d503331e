package gateway

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testKey is a well-formed mcpstore key, built as Issue builds one.
var testKey = keyFromSecret([]byte("0123456789abcdef0123456789abcdef"))

// TestRedact is the redaction rule, case by case: names that end in a
// secret word whatever their case and separators, name/value pairs,
// credentials inside values and text, JSON inside strings, and what must
// stay as it is.
func TestRedact(t *testing.T) {
	r := NewRedactor(nil, 0)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"nil stays nil", "", ""},
		{"nothing secret is returned as it is", `{"q": "x", "n": 1.50}`, `{"q": "x", "n": 1.50}`},
		{"top-level field", `{"password":"hunter2","user":"bob"}`, `{"password":"[REDACTED]","user":"bob"}`},
		{"OPENAI_API_KEY", `{"env":{"OPENAI_API_KEY":"sk-proj-abc","HOME":"/root"}}`, `{"env":{"HOME":"/root","OPENAI_API_KEY":"[REDACTED]"}}`},
		{"aws_secret_access_key", `{"aws_access_key_id":"AKIA1","aws_secret_access_key":"wJalr"}`, `{"aws_access_key_id":"AKIA1","aws_secret_access_key":"[REDACTED]"}`},
		{"SecretAccessKey", `{"Credentials":null,"SecretAccessKey":"wJalr","AccessKeyId":"AKIA1"}`, `{"AccessKeyId":"AKIA1","Credentials":"[REDACTED]","SecretAccessKey":"[REDACTED]"}`},
		{"privateKeyPem", `{"privateKeyPem":"-----BEGIN PRIVATE KEY-----\nMIIE"}`, `{"privateKeyPem":"[REDACTED]"}`},
		{"apiKeys", `{"apiKeys":["k1","k2"],"count":2}`, `{"apiKeys":"[REDACTED]","count":2}`},
		{"pwd", `{"user":"root","pwd":"toor"}`, `{"pwd":"[REDACTED]","user":"root"}`},
		{"dsn", `{"dsn":"host=db user=app","sentry_dsn":"https://k@o1.ingest/1"}`, `{"dsn":"[REDACTED]","sentry_dsn":"[REDACTED]"}`},
		{"connection string", `{"connectionString":"Server=x;Password=y"}`, `{"connectionString":"[REDACTED]"}`},
		{"passphrase and passwd", `{"ssh":{"passphrase":"p","passwd":"q"}}`, `{"ssh":{"passphrase":"[REDACTED]","passwd":"[REDACTED]"}}`},
		{"tokens of every kind", `{"session_token":"a","refresh-token":"b","id_token":"c","x-auth-token":"d","jwt":"e"}`,
			`{"id_token":"[REDACTED]","jwt":"[REDACTED]","refresh-token":"[REDACTED]","session_token":"[REDACTED]","x-auth-token":"[REDACTED]"}`},
		{"cookies", `{"Set-Cookie":"s=1","cookies":["a=b"]}`, `{"Set-Cookie":"[REDACTED]","cookies":"[REDACTED]"}`},
		{"case and separators", `{"Authorization":"x","API-Key":"k","apiKey":"k","X_API_KEY":"k","ACCESS.TOKEN":"t","Api Key":"k"}`,
			`{"ACCESS.TOKEN":"[REDACTED]","API-Key":"[REDACTED]","Api Key":"[REDACTED]","Authorization":"[REDACTED]","X_API_KEY":"[REDACTED]","apiKey":"[REDACTED]"}`},
		{"a name ends in the word", `{"db_password":"p","githubToken":"t","max_tokens":5,"tokenizer":"bpe","client-secret":"s"}`,
			`{"client-secret":"[REDACTED]","db_password":"[REDACTED]","githubToken":"[REDACTED]","max_tokens":5,"tokenizer":"bpe"}`},
		{"look-alike names stay", `{"keyboard":"x","monkey":"y","primary_key":"id","tokens_used":5,"author":"a","passage":"p"}`,
			`{"keyboard":"x","monkey":"y","primary_key":"id","tokens_used":5,"author":"a","passage":"p"}`},
		{"header list", `{"headers":[{"name":"Authorization","value":"Token abc"},{"name":"Accept","value":"*/*"}]}`,
			`{"headers":[{"name":"Authorization","value":"[REDACTED]"},{"name":"Accept","value":"*/*"}]}`},
		{"environment list", `{"env":[{"name":"DB_PASSWORD","value":"x"},{"name":"LOG_LEVEL","value":"debug"}]}`,
			`{"env":[{"name":"DB_PASSWORD","value":"[REDACTED]"},{"name":"LOG_LEVEL","value":"debug"}]}`},
		{"key and value pairs", `{"params":[{"key":"api_key","value":"abc"},{"Key":"q","Value":"x"}]}`,
			`{"params":[{"key":"api_key","value":"[REDACTED]"},{"Key":"q","Value":"x"}]}`},
		{"JSON inside a string", `{"body":"{\"password\":\"hunter2\",\"user\":\"bob\"}"}`,
			`{"body":"{\"password\":\"[REDACTED]\",\"user\":\"bob\"}"}`},
		{"a JSON array inside a string", `{"body":"[{\"token\":\"t\"},1]"}`, `{"body":"[{\"token\":\"[REDACTED]\"},1]"}`},
		{"JSON inside a string inside a string", `{"a":"{\"b\":\"{\\\"secret\\\":\\\"s\\\"}\"}"}`,
			`{"a":"{\"b\":\"{\\\"secret\\\":\\\"[REDACTED]\\\"}\"}"}`},
		{"a string that only looks like JSON", `{"s":"{not json, token: abc}"}`, `{"s":"{not json, token: [REDACTED]}"}`},
		{"password in a URL", `{"url":"postgres://admin:hunter2@db.internal:5432/app?sslmode=require"}`,
			`{"url":"postgres://admin:[REDACTED]@db.internal:5432/app?sslmode=require"}`},
		{"URLs inside text", `{"log":"tried redis://:s3cr3t@cache:6379 then https://u:p@example.com/x"}`,
			`{"log":"tried redis://:[REDACTED]@cache:6379 then https://u:[REDACTED]@example.com/x"}`},
		{"a URL without a password stays", `{"url":"https://git@github.com/a/b","home":"https://example.com/?q=a@b"}`,
			`{"url":"https://git@github.com/a/b","home":"https://example.com/?q=a@b"}`},
		{"an mcpstore key inside a value", `{"note":"use ` + testKey + ` for CI"}`, `{"note":"use [REDACTED] for CI"}`},
		{"an mcpstore key as a whole value", `{"args":["` + testKey + `"]}`, `{"args":["[REDACTED]"]}`},
		{"a key's display prefix stays", `{"prefix":"mcp_AbCd12"}`, `{"prefix":"mcp_AbCd12"}`},
		{"Bearer token in any field", `{"h":"Bearer eyJhbGciOi.eyJzdWIi.sig"}`, `{"h":"Bearer [REDACTED]"}`},
		{"bearer inside text", `{"log":"sent bearer abc123 upstream"}`, `{"log":"sent bearer [REDACTED] upstream"}`},
		{"Basic credentials", `{"h":"Basic dXNlcjpwYXNz"}`, `{"h":"Basic [REDACTED]"}`},
		{"basic in prose stays", `{"doc":"Basic usage: call it"}`, `{"doc":"Basic usage: call it"}`},
		{"text content of a result: an env file", `{"content":[{"type":"text","text":"OPENAI_API_KEY=sk-abc\nDEBUG=1"}]}`,
			`{"content":[{"type":"text","text":"OPENAI_API_KEY=[REDACTED]\nDEBUG=1"}]}`},
		{"text content of a result: YAML", `{"content":[{"type":"text","text":"user: bob\npassword: hunter2\n"}]}`,
			`{"content":[{"type":"text","text":"user: bob\npassword: [REDACTED]\n"}]}`},
		{"a query string", `{"url":"https://api.example.com/v1?api_key=abc123&q=x"}`, `{"url":"https://api.example.com/v1?api_key=[REDACTED]&q=x"}`},
		{"a header written as text", `{"raw":"Authorization: Bearer tok123\r\nHost: x"}`, `{"raw":"Authorization: Bearer [REDACTED]\r\nHost: x"}`},
		{"a JSON fragment in text", `{"log":"got {\"token\": \"abc\"} back"}`, `{"log":"got {\"token\": \"[REDACTED]\"} back"}`},
		{"nested objects", `{"arguments":{"auth":{"token":"t","user":"u"},"q":"x"}}`,
			`{"arguments":{"auth":{"token":"[REDACTED]","user":"u"},"q":"x"}}`},
		{"objects inside arrays", `{"headers":[{"name":"a","cookie":"c"},[{"secret":1}],"plain"]}`,
			`{"headers":[{"cookie":"[REDACTED]","name":"a"},[{"secret":"[REDACTED]"}],"plain"]}`},
		{"a secret object or array is hidden whole", `{"credentials":{"user":"u","pass":"p"},"private_key":[1,2]}`,
			`{"credentials":"[REDACTED]","private_key":"[REDACTED]"}`},
		{"numbers and HTML characters pass through exactly", `{"token":"t","big":12345678901234567890.10,"html":"<a&b>"}`,
			`{"big":12345678901234567890.10,"html":"<a&b>","token":"[REDACTED]"}`},
		{"redacted already: unchanged", `{"password":"[REDACTED]","url":"https://u:[REDACTED]@h"}`, `{"password":"[REDACTED]","url":"https://u:[REDACTED]@h"}`},
		{"non-ASCII names", `{"Contraseña":"x","MOT_DE_PASSE":"y","Пароль_token":"z"}`, `{"Contraseña":"x","MOT_DE_PASSE":"y","Пароль_token":"[REDACTED]"}`},
		{"array at the top", `[{"password":"p"},{"ok":true}]`, `[{"password":"[REDACTED]"},{"ok":true}]`},
		{"a string is not an object", `"password"`, `"password"`},
		{"a lone string with a key", `"` + testKey + `"`, `"[REDACTED]"`},
		{"a number", `42`, `42`},
		{"null", `null`, `null`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in json.RawMessage
			if tc.in != "" {
				in = json.RawMessage(tc.in)
			}
			orig := string(in)
			got, err := r.Redact(in)
			require.NoError(t, err)
			if tc.want == "" {
				assert.Nil(t, got)
				return
			}
			if tc.in == tc.want {
				assert.Equal(t, tc.want, string(got), "returned as it is")
			} else {
				assert.JSONEq(t, tc.want, string(got))
			}
			assert.Equal(t, orig, string(in), "the input is not modified")
			again, err := r.Redact(got)
			require.NoError(t, err)
			assert.JSONEq(t, string(got), string(again), "redacting twice changes nothing more")
		})
	}
}

func TestRedactInvalidJSON(t *testing.T) {
	r := NewRedactor(nil, 0)
	for _, in := range []string{`{"password":`, `{"a":1} x`, `nope`, `{"a":1}]`} {
		got, err := r.Redact(json.RawMessage(in))
		assert.Error(t, err, in)
		assert.Equal(t, in, string(got), "returned unchanged")
	}
}

func TestRedactCustomKeys(t *testing.T) {
	r := NewRedactor([]string{"ssn", "card-number"}, 0)
	got, err := r.Redact(json.RawMessage(`{"SSN":"1","cardNumber":"2","password":"3","home_ssn":"4"}`))
	require.NoError(t, err)
	assert.Equal(t, `{"SSN":"[REDACTED]","cardNumber":"[REDACTED]","home_ssn":"[REDACTED]","password":"3"}`, string(got),
		"only the configured names")

	none := NewRedactor([]string{}, 0)
	got, err = none.Redact(json.RawMessage(`{"password":"3"}`))
	require.NoError(t, err)
	assert.Equal(t, `{"password":"3"}`, string(got), "an empty list hides nothing")
}

func TestRedactTruncates(t *testing.T) {
	const max = 200
	r := NewRedactor(nil, max)

	small := `{"q":"` + strings.Repeat("x", 100) + `"}`
	got, err := r.Redact(json.RawMessage(small))
	require.NoError(t, err)
	assert.Equal(t, small, string(got), "under the limit: unchanged")

	spaced := "{\"q\":" + strings.Repeat(" ", 40) + "\"" + strings.Repeat("x", 150) + "\"    ,   \"r\":   1}"
	require.Greater(t, len(spaced), max)
	got, err = r.Redact(json.RawMessage(spaced))
	require.NoError(t, err)
	assert.Equal(t, `{"q":"`+strings.Repeat("x", 150)+`","r":1}`, string(got), "compacted under the limit: kept whole")

	// Quotes and multi-byte characters: the preview grows when escaped and
	// must not split a character.
	doc := `{"password":"p","text":"` + strings.Repeat(`é\"`, 300) + `"}`
	got, err = r.Redact(json.RawMessage(doc))
	require.NoError(t, err)
	assert.LessOrEqual(t, len(got), max, "the stand-in fits the limit")
	var env struct {
		Truncated bool   `json:"_truncated"`
		Size      int    `json:"_size"`
		Preview   string `json:"_preview"`
	}
	require.NoError(t, json.Unmarshal(got, &env), "still a JSON object: %s", got)
	assert.True(t, env.Truncated)
	redacted := `{"text":"` + strings.Repeat(`é\"`, 300) + `","password":"[REDACTED]"}` // canonical key order
	assert.Equal(t, len(redacted), env.Size, "the size of the redacted document")
	assert.True(t, strings.HasPrefix(redacted, env.Preview), "the preview is the start of the redacted document")
	assert.True(t, utf8.ValidString(env.Preview))
	assert.Greater(t, len(env.Preview), 50)
	assert.NotContains(t, string(got), "\"p\"", "the secret is redacted before the preview is taken")
	var obj map[string]any
	require.NoError(t, json.Unmarshal(got, &obj))
	assert.Len(t, obj, 3)

	// A limit smaller than the envelope still yields a valid object.
	tiny := NewRedactor(nil, 10)
	got, err = tiny.Redact(json.RawMessage(doc))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(got, &env))
	assert.Equal(t, "", env.Preview)
	assert.True(t, env.Truncated)
}
