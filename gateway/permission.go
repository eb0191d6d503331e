package gateway

import "strings"

// Permissions are patterns a key carries, such as "tools:call:*" or
// "tools:call:search_*". A pattern matches a permission asked for when they
// are equal, with each '*' in the pattern standing for any run of
// characters (none included). There is no other special character.

// ToolCallPermission is the permission needed to call the tool name:
// "tools:call:" + name.
func ToolCallPermission(name string) string { return "tools:call:" + name }

// Allows reports whether any of the patterns grants want.
func Allows(patterns []string, want string) bool {
	for _, p := range patterns {
		if matchPattern(p, want) {
			return true
		}
	}
	return false
}

// matchPattern matches s against p, where '*' matches any run of
// characters. Linear in practice: each '*' anchors at the first place its
// next literal part fits, which is enough when only '*' is special. It
// allocates nothing (it runs for every tool of every tools/list; the
// permission string it is given is built once per tool by the caller).
func matchPattern(p, s string) bool {
	first, rest, ok := strings.Cut(p, "*")
	if !ok {
		return p == s
	}
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for {
		mid, more, ok := strings.Cut(rest, "*")
		if !ok {
			return strings.HasSuffix(s, rest) // rest is the last part
		}
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s, rest = s[i+len(mid):], more
	}
}
