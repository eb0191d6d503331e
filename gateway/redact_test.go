package gateway

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedact(t *testing.T) {
	r := NewRedactor(nil, 0)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"nil stays nil", "", ""},
		{"nothing secret is returned as it is", `{"q": "x", "n": 1.50}`, `{"q": "x", "n": 1.50}`},
		{"top-level field", `{"password":"hunter2","user":"bob"}`, `{"password":"[REDACTED]","user":"bob"}`},
		{"case and separators", `{"Authorization":"Bearer x","API-Key":"k","apiKey":"k","X_API_KEY":"k","Set-Cookie":"s","ACCESS.TOKEN":"t"}`,
			`{"ACCESS.TOKEN":"[REDACTED]","API-Key":"[REDACTED]","Authorization":"[REDACTED]","Set-Cookie":"[REDACTED]","X_API_KEY":"[REDACTED]","apiKey":"[REDACTED]"}`},
		{"last word", `{"db_password":"p","githubToken":"t","max_tokens":5,"tokenizer":"bpe","client-secret":"s"}`,
			`{"client-secret":"[REDACTED]","db_password":"[REDACTED]","githubToken":"[REDACTED]","max_tokens":5,"tokenizer":"bpe"}`},
		{"nested objects", `{"arguments":{"auth":{"token":"t","user":"u"},"q":"x"}}`,
			`{"arguments":{"auth":{"token":"[REDACTED]","user":"u"},"q":"x"}}`},
		{"objects inside arrays", `{"headers":[{"name":"a","cookie":"c"},[{"secret":1}],"plain"]}`,
			`{"headers":[{"cookie":"[REDACTED]","name":"a"},[{"secret":"[REDACTED]"}],"plain"]}`},
		{"a secret object or array is hidden whole", `{"credentials":{"user":"u","pass":"p"},"private_key":[1,2]}`,
			`{"credentials":"[REDACTED]","private_key":"[REDACTED]"}`},
		{"numbers and HTML characters pass through exactly", `{"token":"t","big":12345678901234567890.10,"html":"<a&b>"}`,
			`{"big":12345678901234567890.10,"html":"<a&b>","token":"[REDACTED]"}`},
		{"array at the top", `[{"password":"p"},{"ok":true}]`, `[{"password":"[REDACTED]"},{"ok":true}]`},
		{"a string is not an object", `"password"`, `"password"`},
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
			assert.Equal(t, tc.want, string(got))
			assert.Equal(t, orig, string(in), "the input is not modified")
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

func TestLastWord(t *testing.T) {
	for in, want := range map[string]string{
		"password": "password", "db_password": "password", "dbPassword": "password",
		"x-auth-token": "token", "token_": "token", "HTTPHeader": "httpheader", "": "",
	} {
		assert.Equal(t, want, lastWord(in), in)
	}
}
