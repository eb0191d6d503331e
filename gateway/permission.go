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
// next literal part fits, which is enough when only '*' is special.
func matchPattern(p, s string) bool {
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}
