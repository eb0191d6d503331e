package main

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/ from the program's output")

// golden compares got with the file testdata/name, or rewrites the file
// with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file: run go test ./cmd/mcpstore -update and read the diff")
	assert.Equal(t, string(want), got, "%s differs: run go test ./cmd/mcpstore -update and read the diff", path)
}

// everyCommand returns every command of the tree, the root first.
func everyCommand() []*command {
	all := []*command{root}
	for _, c := range commands {
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b *command) int { return strings.Compare(a.path, b.path) })
	return all
}

// Every command answers -h, --help and "help" with its usage, flags and an
// example, exits 0 and touches no database (the URL given cannot be
// opened); testdata/help holds each text.
func TestHelpOfEveryCommand(t *testing.T) {
	c := cli{t, "mysql://nowhere"}
	var seen []string
	for _, cmd := range everyCommand() {
		words := strings.Fields(cmd.path)
		name := strings.Join(append([]string{"mcpstore"}, words...), "-")
		t.Run(name, func(t *testing.T) {
			assert.NotEmpty(t, cmd.summary, "a summary for the list of commands")
			assert.NotEmpty(t, cmd.example, "an example")
			code, help, errOut := c.run("", append(slices.Clone(words), "-h")...)
			require.Equal(t, exitOK, code, errOut)
			assert.Empty(t, errOut)
			assert.True(t, strings.HasPrefix(help, "usage: "+cmd.name()), help)
			assert.Contains(t, help, "\nGlobal flags:\n")
			_, example, _ := strings.Cut(help, "\nExample:\n  ")
			assert.Contains(t, example, cmd.name(), "an example of the command")
			if cmd.isGroup() {
				assert.Contains(t, help, "\nCommands:\n")
			}
			fs, _ := cmd.flagSet(&env{})
			for _, f := range ownFlags(fs) {
				assert.Regexp(t, `\n  --?`+f.Name+`[ \n]`, help, "every flag is listed")
			}
			for _, asked := range [][]string{
				append(slices.Clone(words), "--help"),
				append([]string{"help"}, words...),
				append([]string{"--json", "-h"}, words...), // -h before the command: the root's help
			} {
				code, out, errOut := c.run("", asked...)
				assert.Equal(t, exitOK, code, "%v: %s", asked, errOut)
				if asked[0] == "--json" {
					assert.True(t, strings.HasPrefix(out, "usage: mcpstore COMMAND\n"), "%v", asked)
					continue
				}
				assert.Equal(t, help, out, "%v", asked)
			}
			if cmd.isGroup() && cmd != root {
				code, out, _ := c.run("", append(slices.Clone(words), "help")...)
				assert.Equal(t, exitOK, code)
				assert.Equal(t, help, out, "%s help", cmd.path)
			}
			golden(t, filepath.Join("help", name+".txt"), help)
			seen = append(seen, name+".txt")
		})
	}
	// No golden file is left of a command that went away.
	files, err := filepath.Glob(filepath.Join("testdata", "help", "*.txt"))
	require.NoError(t, err)
	for _, f := range files {
		if !slices.Contains(seen, filepath.Base(f)) {
			if *update {
				require.NoError(t, os.Remove(f))
				continue
			}
			t.Errorf("%s: no such command (run with -update)", f)
		}
	}
}

// A wrong flag on any command: exit 2, the error, then the command's
// usage on stderr.
func TestWrongFlagPrintsUsage(t *testing.T) {
	c := cli{t, "mysql://nowhere"}
	for _, cmd := range everyCommand() {
		words := strings.Fields(cmd.path)
		code, out, errOut := c.run("", append(words, "--no-such-flag")...)
		assert.Equal(t, exitUsage, code, "%s: %s", cmd.path, errOut)
		assert.Empty(t, out)
		first, rest, _ := strings.Cut(errOut, "\n")
		assert.Contains(t, first, "flag provided but not defined: -no-such-flag", cmd.path)
		assert.True(t, strings.HasPrefix(rest, "\nusage: "+cmd.name()), "%s: %q", cmd.path, errOut)
	}
}

// help names no command that does not exist.
func TestHelpOfUnknownCommand(t *testing.T) {
	c := cli{t, "mysql://nowhere"}
	for _, args := range [][]string{{"help", "nope"}, {"keys", "help", "nope"}, {"help", "keys", "create", "extra"}} {
		code, out, errOut := c.run("", args...)
		assert.Equal(t, exitUsage, code, "%v", args)
		assert.Empty(t, out)
		assert.Contains(t, errOut, `unknown command "`, "%v", args)
	}
}
