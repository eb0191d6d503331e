package adaptertest

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/gateway"
)

// Every method of the table has its row in the README's permission table,
// and the permission that row names is the one each request needs: each
// key's outcome in TestPolicyTable follows from it by the pattern rule.
func TestPolicyTableMatchesREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(readme), "### Permissions")
	require.True(t, ok, "README has a Permissions section")
	table, _, _ = strings.Cut(table, "\n\n#")
	perms := map[string][]*regexp.Regexp{} // by method: the permission templates of its row
	listed := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if !strings.HasPrefix(line, "| ") || len(cells) < 4 {
			continue
		}
		var templates []*regexp.Regexp
		for _, m := range regexp.MustCompile("`([a-z]+:[^`]*)`").FindAllStringSubmatch(cells[1], -1) {
			pattern := regexp.QuoteMeta(m[1])
			pattern = regexp.MustCompile(`<[a-z]+>`).ReplaceAllString(pattern, ".+")
			templates = append(templates, regexp.MustCompile("^"+pattern+"$"))
		}
		methods := []string{}
		if strings.HasPrefix(cells[0], "any other method") {
			methods = append(methods, "any other method")
		} else {
			for _, m := range regexp.MustCompile("`([a-z/_]+)`").FindAllStringSubmatch(cells[0], -1) {
				methods = append(methods, m[1])
			}
		}
		for _, method := range methods {
			perms[method] = templates
			listed[method] = strings.HasPrefix(cells[2], "filtered")
		}
	}
	for _, r := range requests() {
		templates, ok := perms[r.row]
		if !assert.True(t, ok, "README's permission table has a row for %s", r.row) {
			continue
		}
		if r.allowed == nil {
			assert.True(t, listed[r.row], "README says %s is filtered", r.row)
			continue
		}
		if r.perm == "" {
			assert.Empty(t, templates, "README says %s needs no permission", r.row)
			continue
		}
		assert.True(t, slices.ContainsFunc(templates, func(re *regexp.Regexp) bool { return re.MatchString(r.perm) }),
			"%s needs %s, which README's row for %s names", r.name, r.perm, r.row)
		for _, k := range policyKeys {
			granted := k.perm != "" && gateway.Allows([]string{k.perm}, r.perm)
			if slices.Contains(r.allowed, k.name) {
				assert.True(t, granted, "%s: key %s runs it, so %q grants %s", r.name, k.name, k.perm, r.perm)
			} else if granted {
				assert.Contains(t, []string{"completion/complete of a template the server does not serve", "resources/read with dot-segments"}, r.name,
					"%s: key %s is refused although %q grants %s", r.name, k.name, k.perm, r.perm)
			}
		}
	}
	for _, m := range []string{"initialize", "ping", "server/discover", "notifications/initialized", "notifications/cancelled", "subscriptions/listen"} {
		assert.Contains(t, perms, m, "README's permission table has a row for %s", m)
	}
}
