package gateway_test

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/mcpbench"
)

func TestAllows(t *testing.T) {
	for _, c := range []struct {
		patterns []string
		want     string
		ok       bool
	}{
		{[]string{"tools:call:*"}, "tools:call:search", true},
		{[]string{"tools:call:*"}, "tools:call:", true},
		{[]string{"tools:call:*"}, "tools:list", false},
		{[]string{"tools:call:search_*"}, "tools:call:search_web", true},
		{[]string{"tools:call:search_*"}, "tools:call:search", false},
		{[]string{"tools:call:search_*"}, "tools:call:delete_all", false},
		{[]string{"tools:call:search"}, "tools:call:search", true},
		{[]string{"tools:call:search"}, "tools:call:search2", false},
		{[]string{"*"}, "anything:at:all", true},
		{[]string{"**"}, "anything:at:all", true},
		{[]string{"tools:*:search"}, "tools:call:search", true},
		{[]string{"tools:*:search"}, "tools:call:searching", false},
		{[]string{"tools:call:a*b*c"}, "tools:call:aXbYc", true},
		{[]string{"tools:call:a*b*c"}, "tools:call:aXcYb", false},
		{[]string{"tools:call:*ab"}, "tools:call:ab", true},
		{[]string{"tools:call:a*a"}, "tools:call:a", false},
		{nil, "tools:call:x", false},
		{[]string{"tools:call:x", "tools:call:y*"}, "tools:call:yz", true},
		// Prefixes that cover each other, and one that is a prefix of the
		// permission without covering it.
		{[]string{"tools:call:b*", "tools:*", "tools:call:a*"}, "tools:list", true},
		{[]string{"a*", "ab*"}, "ac", true},
		{[]string{"ab*", "abc*"}, "abd", true},
		{[]string{"abc*", "ab*"}, "ac", false},
		// Escapes: \* is a literal star, \\ a backslash.
		{[]string{`resources:read:file:///a\*b`}, "resources:read:file:///a*b", true},
		{[]string{`resources:read:file:///a\*b`}, "resources:read:file:///aXb", false},
		{[]string{`resources:read:x\\*`}, `resources:read:x\anything`, true},
		{[]string{`resources:read:x\\*`}, `resources:read:xy`, false},
		{[]string{`a\*b*c`}, "a*bXc", true},
		{[]string{`a\*b*c`}, "aXbXc", false},
		{[]string{`\*`}, "*", true},
		{[]string{`\*`}, "x", false},
	} {
		assert.Equal(t, c.ok, gateway.Allows(c.patterns, c.want), "%v ~ %q", c.patterns, c.want)
	}
	assert.Equal(t, "tools:call:search", gateway.ToolCallPermission("search"))
	assert.True(t, gateway.NewGrants([]string{"*"}).All())
	assert.True(t, gateway.NewGrants(nil).Empty())
	assert.False(t, gateway.NewGrants([]string{`\*`}).All(), "an escaped star is not everything")
}

func TestEscapePattern(t *testing.T) {
	for _, s := range []string{"plain", "a*b", `a\b`, `*\*\\`, "", "résumé*"} {
		p := gateway.EscapePattern(s)
		assert.NoError(t, gateway.ValidatePermission(p))
		assert.True(t, gateway.Allows([]string{p}, s), "%q grants %q", p, s)
		assert.False(t, gateway.Allows([]string{p}, s+"x"), "%q grants only %q", p, s)
	}
	for _, bad := range []string{`a\`, `a\b`, `\x*`} {
		assert.ErrorIs(t, gateway.ValidatePermission(bad), gateway.ErrBadPattern, "%q", bad)
	}
}

// reference is the pattern rule written the slow, obvious way: a regular
// expression per pattern.
func reference(patterns []string, want string) bool { return referenceMatcher(patterns)(want) }

func referenceMatcher(patterns []string) func(string) bool {
	var res []*regexp.Regexp
	for _, p := range patterns {
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch {
			case p[i] == '\\' && i+1 < len(p) && (p[i+1] == '*' || p[i+1] == '\\'):
				re.WriteString(regexp.QuoteMeta(p[i+1 : i+2]))
				i++
			case p[i] == '*':
				re.WriteString("(?s:.*)")
			default:
				re.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		re.WriteString("$")
		res = append(res, regexp.MustCompile(re.String()))
	}
	return func(want string) bool {
		for _, re := range res {
			if re.MatchString(want) {
				return true
			}
		}
		return false
	}
}

// randomString draws from an alphabet small enough for matches to happen.
func randomString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, r.IntN(n+1))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// Compiled grants (exact set, prefix search, globs) decide as the obvious
// rule does, over 20,000 random pattern sets.
func TestGrantsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		var patterns []string
		for range r.IntN(4) {
			patterns = append(patterns, randomString(r, `ab*\`, 5))
		}
		want := randomString(r, `ab*\`, 6)
		g := gateway.NewGrants(patterns)
		if !assert.Equal(t, reference(patterns, want), g.Allows(want), "%q ~ %q", patterns, want) {
			return
		}
		// The same question by kind and rest, as lists ask it.
		cut := r.IntN(len(want) + 1)
		if !assert.Equal(t, reference(patterns, want), g.AllowsUnder(want[:cut], want[cut:]), "%q ~ %q + %q", patterns, want[:cut], want[cut:]) {
			return
		}
	}
}

// AllowsSome is true exactly when some filling of the template's holes is
// granted: checked against every filling up to the length a witness needs
// (a hole never needs more characters than the pattern has literals).
func TestGrantsAllowsSome(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fillings := []string{""}
	for n := 1; n <= 4; n++ {
		for _, f := range fillings {
			if len(f) == n-1 {
				fillings = append(fillings, f+"a", f+"b")
			}
		}
	}
	for range 3000 {
		pattern := randomString(r, "ab*", 4)
		match := referenceMatcher([]string{pattern})
		parts := []string{randomString(r, "ab", 2)}
		for range r.IntN(3) {
			parts = append(parts, "", randomString(r, "ab", 2))
		}
		want := false
		var fill func(prefix string, i int)
		fill = func(prefix string, i int) {
			if want {
				return
			}
			if i == len(parts) {
				want = match(prefix)
				return
			}
			if i%2 == 0 {
				fill(prefix+parts[i], i+1)
				return
			}
			for _, f := range fillings {
				fill(prefix+f, i+1)
			}
		}
		fill("", 0)
		got := gateway.NewGrants([]string{pattern}).AllowsSome(parts)
		if !assert.Equal(t, want, got, "pattern %q, template parts %q", pattern, parts) {
			return
		}
	}
}

// Filtering a tools/list of 1,000 tools for a key with 50 patterns (the
// target is at most 200 µs per list).
func BenchmarkFilterTools(b *testing.B) {
	p, g, names := mcpbench.FilterFixture()
	b.ReportAllocs()
	for b.Loop() {
		mcpbench.Filter(p, g, names)
	}
}

func TestFilterFixture(t *testing.T) {
	p, g, names := mcpbench.FilterFixture()
	assert.Len(t, names, 1000)
	assert.Equal(t, 104, mcpbench.Filter(p, g, names), "the fixture's key sees a tenth of the tools")
}
