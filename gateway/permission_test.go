package gateway_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mcpstore/mcpstore/gateway"
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
		{[]string{"tools:*:search"}, "tools:call:search", true},
		{[]string{"tools:*:search"}, "tools:call:searching", false},
		{[]string{"tools:call:a*b*c"}, "tools:call:aXbYc", true},
		{[]string{"tools:call:a*b*c"}, "tools:call:aXcYb", false},
		{[]string{"tools:call:*ab"}, "tools:call:ab", true},
		{[]string{"tools:call:a*a"}, "tools:call:a", false},
		{nil, "tools:call:x", false},
		{[]string{"tools:call:x", "tools:call:y*"}, "tools:call:yz", true},
	} {
		assert.Equal(t, c.ok, gateway.Allows(c.patterns, c.want), "%v ~ %q", c.patterns, c.want)
	}
	assert.Equal(t, "tools:call:search", gateway.ToolCallPermission("search"))
}
