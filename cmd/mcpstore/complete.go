package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Shell completion: each shell's script asks the program itself
// ("mcpstore __complete WORDS...") for the candidates, which it reads from
// the command tree, so that the scripts never fall behind the commands.

func init() {
	register(command{path: "help", args: []string{"[COMMAND]..."}, summary: "the help of a command",
		example: "mcpstore help audit query",
		setup: func(*flag.FlagSet) action {
			return func(_ *env, words []string) error { return helpOf(root, words) }
		}})
	register(command{path: "completion", summary: "print a shell completion script (bash, zsh, fish)",
		help: `Print the completion script of a shell. The script asks mcpstore itself
for the commands and flags, so it never needs regenerating.`,
		example: "source <(mcpstore completion bash)   # in ~/.bashrc\nmcpstore completion fish > ~/.config/fish/completions/mcpstore.fish"})
	for _, sh := range []struct{ name, summary, example, script string }{
		{"bash", "the bash completion script", "source <(mcpstore completion bash)   # in ~/.bashrc", bashScript},
		{"zsh", "the zsh completion script", `mcpstore completion zsh > "${fpath[1]}/_mcpstore"   # or: source <(mcpstore completion zsh)`, zshScript},
		{"fish", "the fish completion script", "mcpstore completion fish > ~/.config/fish/completions/mcpstore.fish", fishScript},
	} {
		register(command{path: "completion " + sh.name, summary: sh.summary, example: sh.example,
			setup: func(*flag.FlagSet) action {
				return func(e *env, _ []string) error {
					_, err := io.WriteString(e.stdout, sh.script)
					return err
				}
			}})
	}
	register(command{path: hiddenComplete, args: []string{"[WORD]..."}, summary: "the completions of the last word (for the scripts)",
		example: "mcpstore __complete -- keys cr",
		setup: func(*flag.FlagSet) action {
			return func(e *env, words []string) error {
				for _, c := range complete(words) {
					fmt.Fprintln(e.stdout, c)
				}
				return nil
			}
		}})
}

// hiddenComplete is the command the scripts call; no list shows it.
const hiddenComplete = "__complete"

// complete returns the candidates for the last of words, the words after
// "mcpstore" up to the cursor (the last one "" when a new word starts).
func complete(words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, before := words[len(words)-1], words[:len(words)-1]
	c := root
	var e env
	fs, _ := c.flagSet(&e)
	for i := 0; i < len(before); i++ {
		w := before[i]
		if w == "--" {
			return nil
		}
		if strings.HasPrefix(w, "-") {
			name, _, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
			if f := fs.Lookup(name); f != nil && !isBool(f) && !hasValue {
				if i == len(before)-1 {
					return nil // cur is the flag's value: the shell's own completion
				}
				i++
			}
			continue
		}
		if !c.isGroup() {
			continue // a positional argument
		}
		next := c.child(w)
		if next == nil {
			return nil
		}
		c = next
		fs, _ = c.flagSet(&e)
	}
	var out []string
	switch {
	case strings.HasPrefix(cur, "-"):
		fs.VisitAll(func(f *flag.Flag) {
			name := "--" + f.Name
			if len(f.Name) == 1 {
				name = "-" + f.Name
			}
			if strings.HasPrefix(name, cur) {
				out = append(out, name)
			}
		})
	case c.isGroup():
		for _, sub := range c.children() {
			if sub.path != hiddenComplete && strings.HasPrefix(sub.leaf(), cur) {
				out = append(out, sub.leaf())
			}
		}
	}
	return out
}

// isBool reports a flag that takes no value.
func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

const bashScript = `# bash completion for mcpstore: source <(mcpstore completion bash)
_mcpstore() {
	local IFS=$'\n'
	COMPREPLY=($("${COMP_WORDS[0]}" __complete -- "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _mcpstore mcpstore
`

const zshScript = `#compdef mcpstore
# zsh completion for mcpstore: put it in a directory of $fpath as _mcpstore,
# or source <(mcpstore completion zsh) after compinit.
_mcpstore() {
	local -a candidates
	candidates=("${(@f)$("${words[1]}" __complete -- "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	candidates=(${candidates:#})
	if (( ${#candidates} )); then
		compadd -- "${candidates[@]}"
	else
		_files
	fi
}
if [[ "${funcstack[1]}" == _mcpstore ]]; then
	_mcpstore "$@"
else
	compdef _mcpstore mcpstore
fi
`

const fishScript = `# fish completion for mcpstore: mcpstore completion fish > ~/.config/fish/completions/mcpstore.fish
function __mcpstore_complete
	set -l words (commandline -opc)
	set -l cmd $words[1]
	set -e words[1]
	$cmd __complete -- $words (commandline -ct) 2>/dev/null
end
complete -c mcpstore -f -a '(__mcpstore_complete)'
`
