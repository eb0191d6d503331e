package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
)

// Decide for what go-sdk clients do not send: the handshake of the
// stateless protocol, notifications, unknown completion references,
// names that need quoting.
func TestPolicyDecide(t *testing.T) {
	p := gateway.Policy{ServerID: "srv"}
	none := gateway.NewGrants(nil)
	all := gateway.NewGrants([]string{"*"})
	// Whatever is audited has what an audit row needs.
	for _, m := range []string{"tools/call", "resources/read", "prompts/get", "completion/complete", "acme/x", "subscriptions/listen"} {
		for _, g := range []*gateway.Grants{none, all} {
			d := p.Decide(g, m, gateway.Target{Name: "n", URI: "u://x", URIs: []string{"u://x"}, Ref: gateway.CompletionRef{Type: "ref/prompt", Name: "n"}})
			assert.True(t, d.Audit, m)
			assert.NotEmpty(t, d.Action, m)
			assert.NotEmpty(t, d.ResourceType, m)
		}
	}
	for _, m := range []string{"initialize", "ping", "server/discover", "notifications/initialized",
		"notifications/roots/list_changed", "notifications/cancelled", "notifications/progress"} {
		d := p.Decide(nil, m, gateway.Target{})
		assert.True(t, d.Allowed, "%s needs no permission", m)
		assert.False(t, d.Audit, "%s is not audited", m)
	}
	for _, m := range []string{"tools/list", "resources/list", "resources/templates/list", "prompts/list"} {
		d := p.Decide(none, m, gateway.Target{})
		assert.True(t, d.Allowed, "%s is filtered, never refused", m)
		assert.NotEqual(t, gateway.NotAList, d.List)
		assert.False(t, d.Audit)
		d = gateway.Policy{AuditLists: true}.Decide(none, m, gateway.Target{})
		assert.True(t, d.Audit, "%s audited on request", m)
		assert.NotEmpty(t, d.ResourceType, "%s: an audit row names what kind of thing it is about", m)
	}

	d := p.Decide(none, "notifications/acme/export", gateway.Target{})
	assert.False(t, d.Allowed, "a method under notifications/ that MCP does not define is a method like any other")
	assert.Equal(t, "mcp:notifications/acme/export", d.Permission)
	assert.True(t, d.Audit)

	d = p.Decide(none, "acme/anything", gateway.Target{})
	assert.False(t, d.Allowed, "a custom method is denied by default")
	assert.Equal(t, "mcp:acme/anything", d.Permission)
	assert.True(t, d.Audit)
	assert.True(t, p.Decide(gateway.NewGrants([]string{"mcp:acme/*"}), "acme/anything", gateway.Target{}).Allowed)
	assert.False(t, p.Decide(gateway.NewGrants([]string{"mcp:acme/*"}), "tools/call", gateway.Target{Name: "x"}).Allowed,
		"mcp:* patterns grant no tool")

	listen := func(g *gateway.Grants, uris ...string) gateway.Decision {
		return p.Decide(g, "subscriptions/listen", gateway.Target{URIs: uris})
	}
	assert.True(t, listen(none).Allowed, "list-change notifications need no permission")
	assert.False(t, listen(none).Audit)
	docs := gateway.NewGrants([]string{"resources:read:test://docs/*"})
	assert.True(t, listen(docs, "test://docs/a", "test://docs/b").Allowed)
	assert.True(t, listen(docs, "test://docs/a").Audit)
	d = listen(docs, "test://docs/a", "test://secret")
	assert.False(t, d.Allowed, "subscribing to a resource the key may not read")
	assert.Equal(t, "test://secret", d.ResourceID)

	d = p.Decide(all, "completion/complete", gateway.Target{Ref: gateway.CompletionRef{Type: "ref/other"}})
	assert.False(t, d.Allowed, "a completion of an unknown kind of reference is refused, even to *")
	assert.True(t, d.Audit)

	name := "\x1b]0;pwned\x07" + strings.Repeat("x", 100)
	d = p.Decide(none, "tools/call", gateway.Target{Name: name})
	assert.False(t, d.Allowed)
	assert.NotContains(t, d.Message, "\x1b", "control characters are escaped in the client's error")
	assert.Less(t, len(d.Message), 120, "a long name is cut in the message")
	assert.Equal(t, "srv/"+name, d.ResourceID, "the audit row keeps the whole name (the Auditor bounds it)")
}

// Permissions match a URI as text, so a URI with dot-segments, raw or
// percent-encoded, is refused whatever the key: a handler that cleans the
// path would serve what the prefix does not grant.
func TestPolicyDotSegments(t *testing.T) {
	p := gateway.Policy{}
	docs := gateway.NewGrants([]string{"resources:read:file:///docs/*"})
	for _, uri := range []string{"file:///docs/../secret/key.pem", "file:///docs/%2e%2e/secret", "file:///docs/%2E./secret",
		"file:///docs/..%2fsecret", "file:///docs/..%5csecret", `file:///docs\..\secret`, "file:///docs/./x", "file:///docs/.."} {
		for _, m := range []string{"resources/read", "resources/subscribe", "resources/unsubscribe"} {
			d := p.Decide(docs, m, gateway.Target{URI: uri})
			assert.False(t, d.Allowed, "%s %s", m, uri)
			assert.True(t, d.Audit)
		}
		assert.False(t, p.Decide(docs, "subscriptions/listen", gateway.Target{URIs: []string{uri}}).Allowed, uri)
		assert.False(t, p.Decide(gateway.NewGrants([]string{"*"}), "resources/read", gateway.Target{URI: uri}).Allowed, "even for *: %s", uri)
	}
	for _, uri := range []string{"file:///docs/a.b", "file:///docs/.hidden", "file:///docs/a..b", "file:///docs/%41"} {
		assert.True(t, p.Decide(docs, "resources/read", gateway.Target{URI: uri}).Allowed, uri)
	}
}

// Judging a template a client names costs its length times each
// pattern's: a template beyond MaxTemplateLen is judged for no key but *.
func TestPolicyLongTemplate(t *testing.T) {
	p := gateway.Policy{}
	g := gateway.NewGrants([]string{"resources:read:test://docs/*", "tools:call:search_*", "prompts:get:p*"})
	long := "test://docs/{x}" + strings.Repeat("a", gateway.MaxTemplateLen)
	assert.False(t, p.Visible(g, gateway.ListResourceTemplates, long))
	assert.True(t, p.Visible(gateway.NewGrants([]string{"*"}), gateway.ListResourceTemplates, long))
	huge := "{x}" + strings.Repeat("a", 3<<20)
	start := time.Now()
	d := p.Decide(g, "completion/complete", gateway.Target{Ref: gateway.CompletionRef{Type: "ref/resource", URI: huge}})
	assert.False(t, d.Allowed)
	t.Logf("a 3 MiB template judged in %s", time.Since(start))
	allocs := testing.AllocsPerRun(3, func() {
		p.Decide(g, "completion/complete", gateway.Target{Ref: gateway.CompletionRef{Type: "ref/resource", URI: huge}})
	})
	assert.Less(t, allocs, 50.0, "no table proportional to the template")
}

// A resource template is visible, and completable, when the key may read
// some URI it produces.
func TestPolicyTemplates(t *testing.T) {
	p := gateway.Policy{}
	for _, c := range []struct {
		grant, template string
		ok              bool
	}{
		{"resources:read:file:///docs/*", "file:///docs/{name}", true},
		{"resources:read:file:///docs/readme", "file:///docs/{name}", true},
		{"resources:read:file:///docs/readme", "file:///docs/{name}.md", false},
		{"resources:read:file:///docs/*", "file:///secret/{name}", false},
		{"resources:read:file:///*/readme", "file:///{dir}/{file}", true},
		{"resources:read:*", "anything://{x}", true},
		{"tools:call:*", "file:///docs/{name}", false},
		{"resources:read:file:///docs/{name}", "file:///docs/{name}", true},
		{"resources:read:db://a", "db://{table}{?limit}", true},
		{"resources:read:plain://x", "plain://x", true},
		{"resources:read:plain://x", "plain://y", false},
	} {
		g := gateway.NewGrants([]string{c.grant})
		assert.Equal(t, c.ok, p.Visible(g, gateway.ListResourceTemplates, c.template), "%s sees %s", c.grant, c.template)
		d := p.Decide(g, "completion/complete", gateway.Target{Ref: gateway.CompletionRef{Type: "ref/resource", URI: c.template}})
		assert.Equal(t, c.ok, d.Allowed, "%s completes %s", c.grant, c.template)
	}
}

func TestClientIP(t *testing.T) {
	trusted, err := gateway.ParsePrefixes([]string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"})
	require.NoError(t, err)
	for _, c := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"203.0.113.5:1234", nil, "203.0.113.5"},
		{"203.0.113.5:1234", []string{"198.51.100.1"}, "203.0.113.5"}, // untrusted peer: its header is ignored
		{"10.1.2.3:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"10.1.2.3:80", []string{"6.6.6.6, 198.51.100.1, 10.9.9.9"}, "198.51.100.1"}, // rightmost untrusted, not the client's own leftmost claim
		{"10.1.2.3:80", []string{"6.6.6.6", "198.51.100.1, 192.0.2.7"}, "198.51.100.1"},
		{"10.1.2.3:80", []string{"not-an-ip, 198.51.100.1, garbage"}, "198.51.100.1"},
		{"10.1.2.3:80", []string{"garbage"}, "10.1.2.3"},
		{"10.1.2.3:80", []string{"10.4.4.4"}, "10.4.4.4"},
		{"10.1.2.3:80", []string{"[2001:db8::1]:443, 198.51.100.1:5555"}, "198.51.100.1"},
		{"[2001:db8::5]:80", []string{"2001:db9::1"}, "2001:db9::1"},
		{"[::ffff:10.1.2.3]:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"10.1.2.3:80", []string{strings.Repeat("x,", 100_000) + "198.51.100.1"}, "198.51.100.1"},
		{"10.1.2.3:80", []string{"198.51.100.1, " + strings.Repeat("10.0.0.1,", 40)}, "10.0.0.1"}, // beyond 32 hops: not read
		{"pipe", nil, "pipe"},
	} {
		assert.Equal(t, c.want, gateway.ClientIP(c.peer, c.xff, trusted), "peer %s, X-Forwarded-For %.60q", c.peer, c.xff)
	}
	_, err = gateway.ParsePrefixes([]string{"10.0.0.0/8", "nope"})
	assert.Error(t, err)
}

func TestAuthFailureLimiter(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	l := gateway.NewAuthFailureLimiter(gateway.AuthFailureLimit{Burst: 2, Every: time.Second, MaxClients: 2,
		Now: func() time.Time { return now }})
	reserve := func(ip string) bool { _, ok := l.Reserve(ip); return ok }
	assert.True(t, reserve("192.0.2.1"))
	l.Refund("192.0.2.1") // it verified: not a failure
	assert.True(t, reserve("192.0.2.1"))
	assert.True(t, reserve("192.0.2.1"))
	wait, ok := l.Reserve("192.0.2.1")
	assert.False(t, ok, "past the burst")
	assert.Equal(t, time.Second, wait)
	now = now.Add(500 * time.Millisecond)
	wait, ok = l.Reserve("192.0.2.1")
	assert.False(t, ok)
	assert.Equal(t, 500*time.Millisecond, wait)
	now = now.Add(500 * time.Millisecond)
	assert.True(t, reserve("192.0.2.1"), "one failure refilled")

	// IPv6 addresses count per /64.
	assert.True(t, reserve("2001:db8:1:2::1"))
	assert.True(t, reserve("2001:db8:1:2::ffff"))
	assert.False(t, reserve("2001:db8:1:2:abcd::9"), "same /64")
	// A third client pushes out the least recently counted, 192.0.2.1.
	assert.True(t, reserve("2001:db8:9::1"))
	assert.True(t, reserve("192.0.2.1"), "forgotten")

	var off *gateway.AuthFailureLimiter = gateway.NewAuthFailureLimiter(gateway.AuthFailureLimit{Burst: -1})
	assert.Nil(t, off)
	_, ok = off.Reserve("a")
	assert.True(t, ok)
	off.Refund("a")
}

func TestIssueRefusesMalformedPatterns(t *testing.T) {
	s := newStore(t, "sqlite")
	k := newKeys(t, s, gateway.KeysOptions{})
	_, _, err := k.Issue(t.Context(), gateway.IssueOptions{Name: "k", Permissions: []string{"tools:call:*", `resources:read:a\b`}})
	assert.ErrorContains(t, err, "permissions")
	keys, err := s.APIKeys().List(t.Context(), db.KeyQuery{})
	require.NoError(t, err)
	assert.Empty(t, keys, "nothing written")
}
