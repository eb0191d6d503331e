package gateway

import (
	"errors"
	"slices"
	"strings"
	"sync"
)

// Permissions are patterns a key carries, such as "tools:call:*" or
// "resources:read:file:///docs/*". A pattern grants a permission when the
// two are equal, with each '*' in the pattern standing for any run of
// characters (none included). A backslash makes the next character
// literal: "\*" is a '*' and "\\" a backslash; a backslash before any
// other character, or at the end, is refused (ValidatePermission). There is
// no other special character. A key whose only permission is "*" may do
// everything.
//
// The permissions an MCP request needs are listed by Policy: one per kind
// of thing a client can reach.
const (
	// PermToolCall + tool name: call the tool (and see it in tools/list).
	PermToolCall = "tools:call:"
	// PermResourceRead + URI: read the resource, subscribe to it (and see
	// it in resources/list; a template is listed when the key may read
	// some URI it produces).
	PermResourceRead = "resources:read:"
	// PermPromptGet + prompt name: get the prompt (and see it in
	// prompts/list).
	PermPromptGet = "prompts:get:"
	// PermMethod + method name: any other MCP method, custom ones
	// included, such as "mcp:logging/setLevel".
	PermMethod = "mcp:"
)

// ToolCallPermission is the permission needed to call the tool name.
func ToolCallPermission(name string) string { return PermToolCall + name }

// ResourceReadPermission is the permission needed to read the resource at
// uri.
func ResourceReadPermission(uri string) string { return PermResourceRead + uri }

// PromptGetPermission is the permission needed to get the prompt name.
func PromptGetPermission(name string) string { return PermPromptGet + name }

// MethodPermission is the permission needed for an MCP method that is not
// about a tool, resource or prompt.
func MethodPermission(method string) string { return PermMethod + method }

// EscapePattern returns a pattern that grants exactly s: every '*' and
// backslash in s made literal.
func EscapePattern(s string) string {
	if !strings.ContainsAny(s, `*\`) {
		return s
	}
	var b strings.Builder
	for _, c := range []byte(s) {
		if c == '*' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// ErrBadPattern is the error of ValidatePermission.
var ErrBadPattern = errors.New("a backslash in a permission must come before '*' or '\\'")

// ValidatePermission reports whether p is a well-formed pattern: every
// backslash escapes a '*' or a backslash. Keys.Issue refuses keys with
// malformed patterns; a stored malformed pattern (written by other means)
// takes each stray backslash literally.
func ValidatePermission(p string) error {
	for i := 0; i < len(p); i++ {
		if p[i] != '\\' {
			continue
		}
		if i+1 == len(p) || (p[i+1] != '*' && p[i+1] != '\\') {
			return ErrBadPattern
		}
		i++
	}
	return nil
}

// Allows reports whether any of the patterns grants want. For many checks
// against one key's patterns, compile them once with NewGrants.
func Allows(patterns []string, want string) bool {
	return NewGrants(patterns).Allows(want)
}

// Grants is a key's permission patterns compiled for matching: exact
// permissions in a set, patterns with one trailing '*' as sorted prefixes
// (a binary search each), the rest as token lists. A key's Grants are
// compiled once, when Keys caches it, and are safe for concurrent use.
type Grants struct {
	all      bool                // a pattern that is only stars
	exact    map[string]struct{} // patterns without '*'
	prefixes []string            // sorted; none is a prefix of another
	globs    []glob              // the rest

	// views holds, by kind ("tools:call:" and the like), the grants that
	// can match under it with the kind cut off (see AllowsUnder).
	views sync.Map // string -> *grantsView
}

// glob is a pattern as literal parts between stars: parts[0] must start
// the string, parts[len-1] end it, the others appear in order between.
type glob struct{ parts []string }

// NewGrants compiles patterns.
func NewGrants(patterns []string) *Grants {
	split := make([][]string, len(patterns))
	for i, p := range patterns {
		split[i] = splitPattern(p)
	}
	return compile(split)
}

// compile builds grants from patterns split at their stars.
func compile(patterns [][]string) *Grants {
	g := &Grants{}
	for _, parts := range patterns {
		switch {
		case len(parts) == 1:
			if g.exact == nil {
				g.exact = make(map[string]struct{}, len(patterns))
			}
			g.exact[parts[0]] = struct{}{}
		case len(parts) == 2 && parts[1] == "":
			if parts[0] == "" {
				g.all = true
			}
			g.prefixes = append(g.prefixes, parts[0])
		default:
			if allEmpty(parts) {
				g.all = true
			}
			g.globs = append(g.globs, glob{parts})
		}
	}
	// Keep only prefixes that no other prefix covers: then the one prefix
	// that can match a string is the greatest not after it.
	slices.Sort(g.prefixes)
	kept := g.prefixes[:0]
	for _, p := range g.prefixes {
		if len(kept) == 0 || !strings.HasPrefix(p, kept[len(kept)-1]) {
			kept = append(kept, p)
		}
	}
	g.prefixes = kept
	return g
}

// grantsView is what of some grants can match strings that start with a
// kind: the patterns that start with the kind, with it cut off, and those
// whose first part is shorter than the kind (matched whole).
type grantsView struct {
	under *Grants
	whole []glob
}

// AllowsUnder reports whether the grants allow kind+rest, such as
// ToolCallPermission(name) for kind PermToolCall and rest name, without
// building that string: for checking one kind many times (a list).
func (g *Grants) AllowsUnder(kind, rest string) bool {
	if g == nil {
		return false
	}
	if g.all {
		return true
	}
	v := g.view(kind)
	if v.under.Allows(rest) {
		return true
	}
	for _, p := range v.whole {
		if p.match(kind + rest) {
			return true
		}
	}
	return false
}

// view returns the grants' view under kind, made on first use.
func (g *Grants) view(kind string) *grantsView {
	if v, ok := g.views.Load(kind); ok {
		return v.(*grantsView)
	}
	var cut [][]string
	v := &grantsView{}
	for e := range g.exact {
		if rest, ok := strings.CutPrefix(e, kind); ok {
			cut = append(cut, []string{rest})
		}
	}
	for _, p := range g.prefixes {
		if rest, ok := strings.CutPrefix(p, kind); ok {
			cut = append(cut, []string{rest, ""})
		} else if strings.HasPrefix(kind, p) {
			cut = append(cut, []string{"", ""}) // covers the whole kind
		}
	}
	for _, p := range g.globs {
		if rest, ok := strings.CutPrefix(p.parts[0], kind); ok {
			cut = append(cut, append([]string{rest}, p.parts[1:]...))
		} else if strings.HasPrefix(kind, p.parts[0]) {
			v.whole = append(v.whole, p) // its first star falls inside the kind
		}
	}
	v.under = compile(cut)
	actual, _ := g.views.LoadOrStore(kind, v)
	return actual.(*grantsView)
}

func allEmpty(parts []string) bool {
	for _, p := range parts {
		if p != "" {
			return false
		}
	}
	return true
}

// splitPattern splits p at its unescaped stars into literal parts, with
// escapes resolved: "a*b\*c" is ["a", "b*c"].
func splitPattern(p string) []string {
	if !strings.ContainsRune(p, '\\') {
		return strings.Split(p, "*")
	}
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p) && (p[i+1] == '*' || p[i+1] == '\\'):
			cur.WriteByte(p[i+1])
			i++
		case c == '*':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, cur.String())
}

// All reports whether the grants allow everything.
func (g *Grants) All() bool { return g != nil && g.all }

// Empty reports whether the grants allow nothing.
func (g *Grants) Empty() bool {
	return g == nil || (len(g.exact) == 0 && len(g.prefixes) == 0 && len(g.globs) == 0)
}

// Allows reports whether the grants allow the permission want.
func (g *Grants) Allows(want string) bool {
	if g == nil {
		return false
	}
	if g.all {
		return true
	}
	if _, ok := g.exact[want]; ok {
		return true
	}
	if len(g.prefixes) > 0 {
		i, found := slices.BinarySearch(g.prefixes, want)
		if found || (i > 0 && strings.HasPrefix(want, g.prefixes[i-1])) {
			return true
		}
	}
	for _, p := range g.globs {
		if p.match(want) {
			return true
		}
	}
	return false
}

// match reports whether s is in the glob's language. The two ends are
// checked first, which turns most strings away at once; then greedy
// placement of each middle part at its first occurrence is exact when only
// '*' is special.
func (p glob) match(s string) bool {
	parts := p.parts
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return true
}

// MaxTemplateLen bounds the templates AllowsSome judges, in bytes: a longer
// one is granted only to a key that may do everything. Judging a template
// costs its length times each pattern's, and a client can name one
// (completion/complete).
const MaxTemplateLen = 2048

// AllowsSome reports whether the grants allow at least one permission of
// the form template, where template's parts alternate literal text and
// holes that any run of characters may fill: parts[0] literal, parts[1] a
// hole, parts[2] literal, and so on. It is how a resource template is
// judged: the key may use the template when it may read some URI the
// template produces.
func (g *Grants) AllowsSome(parts []string) bool {
	if g == nil {
		return false
	}
	if g.all {
		return true
	}
	if len(parts) == 1 {
		return g.Allows(parts[0])
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n > MaxTemplateLen {
		return false
	}
	t := glob{parts: holesToGlob(parts)}
	for e := range g.exact {
		if t.match(e) {
			return true
		}
	}
	for _, p := range g.prefixes {
		if intersects(glob{parts: []string{p, ""}}, t) {
			return true
		}
	}
	for _, p := range g.globs {
		if intersects(p, t) {
			return true
		}
	}
	return false
}

// holesToGlob turns alternating literal/hole parts into a glob's parts.
func holesToGlob(parts []string) []string {
	out := make([]string, 0, (len(parts)+1)/2)
	for i := 0; i < len(parts); i += 2 {
		out = append(out, parts[i])
	}
	if len(parts)%2 == 0 { // ends with a hole
		out = append(out, "")
	}
	return out
}

// intersects reports whether some string matches both globs. Their ends
// are compared first: a common string starts with both first parts and
// ends with both last parts, so one of each pair must extend the other,
// which turns most pairs away at once. The rest is a walk over pairs of
// positions in the two, where a star may take nothing or take the other
// side's next character (or star), kept one row at a time.
func intersects(a, b glob) bool {
	a0, b0 := a.parts[0], b.parts[0]
	if !strings.HasPrefix(a0, b0) && !strings.HasPrefix(b0, a0) {
		return false
	}
	az, bz := a.parts[len(a.parts)-1], b.parts[len(b.parts)-1]
	if !strings.HasSuffix(az, bz) && !strings.HasSuffix(bz, az) {
		return false
	}
	x, y := tokens(a), tokens(b)
	// row[j], for the current i: the first i tokens of x and the first j
	// of y can produce a common string.
	row := make([]bool, len(y)+1)
	nextRow := make([]bool, len(y)+1)
	row[0] = true
	for i := 0; i <= len(x); i++ {
		clear(nextRow)
		for j := 0; j <= len(y); j++ {
			if !row[j] {
				continue
			}
			xs := i < len(x) && x[i] == star
			ys := j < len(y) && y[j] == star
			if xs {
				nextRow[j] = true // x's star takes nothing more
				if j < len(y) {
					row[j+1] = true // it takes y's next token
				}
			}
			if ys {
				row[j+1] = true
				if i < len(x) {
					nextRow[j] = true
				}
			}
			if !xs && !ys && i < len(x) && j < len(y) && x[i] == y[j] {
				nextRow[j+1] = true
			}
		}
		if i == len(x) {
			return row[len(y)]
		}
		row, nextRow = nextRow, row
	}
	return false
}

const star = -1

// tokens is a glob as bytes, with star for each star.
func tokens(p glob) []int16 {
	var t []int16
	for i, part := range p.parts {
		if i > 0 {
			t = append(t, star)
		}
		for _, c := range []byte(part) {
			t = append(t, int16(c))
		}
	}
	return t
}
