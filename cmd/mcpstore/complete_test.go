package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestComplete(t *testing.T) {
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{nil, []string{"audit", "completion", "demo", "help", "keys", "migrate", "tools"}},
		{[]string{""}, []string{"audit", "completion", "demo", "help", "keys", "migrate", "tools"}},
		{[]string{"k"}, []string{"keys"}},
		{[]string{"keys", "r"}, []string{"revoke", "rotate"}},
		{[]string{"keys", "create", "--"}, []string{"--db", "--expires-in", "--json", "--name", "--permission", "--role", "--user"}},
		{[]string{"keys", "create", "--n"}, []string{"--name"}},
		{[]string{"keys", "create", "--name", ""}, nil},                         // the flag's value
		{[]string{"keys", "create", "--name", "ci", "--u"}, []string{"--user"}}, // after a flag and its value
		{[]string{"keys", "create", "--name=ci", "--u"}, []string{"--user"}},
		{[]string{"--json", "audit", "t"}, []string{"tail"}},           // a bool global flag first
		{[]string{"--db", "sqlite:x", "audit", "t"}, []string{"tail"}}, // a global flag and its value
		{[]string{"audit", "tail", "-"}, []string{"--db", "-f", "--json", "-n"}},
		{[]string{"keys", "show", ""}, nil}, // a key id: nothing to offer
		{[]string{"nope", ""}, nil},
		{[]string{"__"}, nil}, // the scripts' own command is not offered
		{[]string{"completion", ""}, []string{"bash", "fish", "zsh"}},
	} {
		assert.Equal(t, tc.want, complete(tc.words), "%q", tc.words)
	}
}

// completionSetup builds the program into a directory of PATH, as a user
// has it, and returns that PATH.
func completionSetup(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "mcpstore"), ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// shell runs script in the shell named, or skips when it is not installed.
func shell(t *testing.T, path, name string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed", name)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "PATH="+path, "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}

// Each shell's script, run by the shell itself, completes commands,
// subcommands and flags.
func TestCompletionScripts(t *testing.T) {
	path := completionSetup(t)
	t.Run("bash", func(t *testing.T) {
		out := shell(t, path, "bash", "-c", `source <(mcpstore completion bash)
for line in "keys cr" "audit export --f" "" "keys create --name "; do
	read -ra COMP_WORDS <<<"mcpstore $line"
	[[ -z $line || $line == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_mcpstore
	echo "${COMPREPLY[*]}"
done
complete -p mcpstore`)
		assert.Equal(t, "create\n--format --from\naudit completion demo help keys migrate tools\n\ncomplete -o default -F _mcpstore mcpstore\n", out)
	})
	t.Run("zsh", func(t *testing.T) {
		// compadd and _files stand in for zsh's completion system, which
		// only runs in an interactive shell: the script's own work (the
		// words it passes, the candidates it reads back) is what runs.
		out := shell(t, path, "zsh", "-c", `compdef() { print "compdef $*" }
compadd() { shift; print -r -- "${(j: :)@}" }
_files() { print FILES }
source <(mcpstore completion zsh)
words=(mcpstore keys cr); CURRENT=3; _mcpstore
words=(mcpstore audit export --f); CURRENT=4; _mcpstore
words=(mcpstore ""); CURRENT=2; _mcpstore
words=(mcpstore keys create --name ""); CURRENT=5; _mcpstore`)
		assert.Equal(t, "compdef _mcpstore mcpstore\ncreate\n--format --from\naudit completion demo help keys migrate tools\nFILES\n", out)
	})
	t.Run("fish", func(t *testing.T) {
		out := shell(t, path, "fish", "-c", `mcpstore completion fish | source
complete -C "mcpstore keys cr"
complete -C "mcpstore audit export --f"
complete -C "mcpstore mig"`)
		assert.Equal(t, "create\n--format\n--from\nmigrate\n", out)
	})
}

// The scripts are what the completion commands print.
func TestCompletionCommands(t *testing.T) {
	c := cli{t, "mysql://nowhere"}
	for sh, script := range map[string]string{"bash": bashScript, "zsh": zshScript, "fish": fishScript} {
		assert.Equal(t, script, c.ok("completion", sh))
	}
	assert.Equal(t, "create\n", c.ok(hiddenComplete, "--", "keys", "cr"))
	assert.Equal(t, "--name\n", c.ok(hiddenComplete, "--", "keys", "create", "--na"))
	assert.True(t, strings.HasPrefix(c.ok("--help"), "usage: mcpstore COMMAND"))
	assert.NotContains(t, c.ok("--help"), hiddenComplete, "not listed")
}
