package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// command is one command of the tree under "mcpstore", declared once with
// register: its place, arguments, flags, help and what it runs. Help,
// usage errors and shell completion are all read from this declaration.
type command struct {
	// path is the command's words after "mcpstore": "keys create".
	path string
	// args names the positional arguments: "ID" is required, "[ID]"
	// optional (after every required one), and a last name ending in
	// "..." takes any number.
	args []string
	// summary is one line for the list of commands; help, if any, the
	// paragraphs its help prints after the usage line.
	summary, help string
	// example is one or more command lines, printed by its help.
	example string
	// setup declares the command's flags and returns what runs it with
	// its positional arguments. A command without setup is a group: it
	// only holds subcommands.
	setup func(fs *flag.FlagSet) action
}

// action runs a command once its command line is parsed.
type action func(e *env, args []string) error

var commands = map[string]*command{}

// register declares a command. Its parent group must be declared too.
func register(c command) {
	if _, dup := commands[c.path]; dup {
		panic("mcpstore: command declared twice: " + c.path)
	}
	commands[c.path] = &c
}

// root is "mcpstore" itself: the group of every top-level command.
var root = &command{
	summary: "the operators' tool for an mcpstore database",
	help: `Migrate the database, manage API keys, list tools, and read, follow,
summarise, prune and export the audit log. Every command prints an aligned
table or plain text, or JSON with --json. An error is one line on stderr:
exit code 2 for a bad command line (followed by the command's usage), 1
otherwise.`,
	example: "mcpstore --db postgres://gw@db.internal/mcp keys list",
}

func lookup(path string) *command {
	if path == "" {
		return root
	}
	return commands[path]
}

// name is what the command is called on a command line.
func (c *command) name() string { return strings.TrimSpace("mcpstore " + c.path) }

func (c *command) isGroup() bool { return c.setup == nil }

// children returns the command's subcommands, sorted by name.
func (c *command) children() []*command {
	var out []*command
	for p, sub := range commands {
		parent := ""
		if i := strings.LastIndexByte(p, ' '); i >= 0 {
			parent = p[:i]
		}
		if parent == c.path {
			out = append(out, sub)
		}
	}
	slices.SortFunc(out, func(a, b *command) int { return strings.Compare(a.path, b.path) })
	return out
}

// leaf returns the last word of the command's path.
func (c *command) leaf() string { return c.path[strings.LastIndexByte(c.path, ' ')+1:] }

// child returns the subcommand called word, or nil.
func (c *command) child(word string) *command {
	if c.path == "" {
		return commands[word]
	}
	return commands[c.path+" "+word]
}

// flagSet returns the command's flags, the global ones included, and its
// action (nil for a group). Parsing writes the global flags into e.
func (c *command) flagSet(e *env) (*flag.FlagSet, action) {
	fs := flag.NewFlagSet(c.name(), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	e.globalFlags(fs)
	var act action
	if c.setup != nil {
		act = c.setup(fs)
	}
	return fs, act
}

// errHelp asks for the help of command.
type errHelp struct{ cmd *command }

func (errHelp) Error() string { return "help requested" }

// usageError marks an error in the command line: exit code 2, the
// message, then the usage of cmd (when known) on stderr.
type usageError struct {
	msg string
	cmd *command
}

func (u usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return usageError{msg: fmt.Sprintf(format, a...)} }

// parseArgs parses a command's flags, which may come before, between and
// after its positional arguments ("keys show ID --json"), and returns the
// positional ones; "--" ends the flags.
func parseArgs(c *command, fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp{c}
			}
			return nil, usageError{msg: fmt.Sprintf("%s: %v", c.path, err), cmd: c}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if i := len(args) - len(rest) - 1; i >= 0 && args[i] == "--" {
			return append(pos, rest...), nil // Parse took the "--"
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// checkArgs holds the positional arguments to the command's declaration.
func checkArgs(c *command, pos []string) error {
	least, most := 0, len(c.args)
	for _, a := range c.args {
		switch {
		case strings.HasSuffix(a, "..."):
			most = -1
		case !strings.HasPrefix(a, "["):
			least++
		}
	}
	switch {
	case len(pos) < least:
		return usageError{msg: fmt.Sprintf("%s: missing %s", c.path, strings.Join(c.args[len(pos):least], " ")), cmd: c}
	case most == 0 && len(pos) > 0:
		// Not quoted: a key pasted by mistake is never echoed.
		return usageError{msg: fmt.Sprintf("%s: takes no arguments", c.path), cmd: c}
	case most > 0 && len(pos) > most:
		return usageError{msg: fmt.Sprintf("%s: too many arguments (%d, at most %d)", c.path, len(pos), most), cmd: c}
	}
	return nil
}

// dispatch finds the command args name, parses its flags and runs it.
// "help", "-h" and "--help" anywhere before "--" ask for the help of the
// command named so far.
func dispatch(e *env, args []string) error {
	c := root
	for {
		e.cmd = c
		fs, act := c.flagSet(e)
		if act != nil {
			pos, err := parseArgs(c, fs, args)
			if err != nil {
				return err
			}
			if err := checkArgs(c, pos); err != nil {
				return err
			}
			return act(e, pos)
		}
		// A group: its flags (the global ones), then a subcommand.
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return errHelp{c}
			}
			return usageError{msg: strings.TrimSpace(c.path + ": " + err.Error()), cmd: c}
		}
		args = fs.Args()
		if len(args) == 0 {
			if c == root {
				return errHelp{c}
			}
			return usageError{msg: c.path + ": missing command", cmd: c}
		}
		next := c.child(args[0])
		if next == nil && args[0] == "help" {
			return helpOf(c, args[1:]) // "keys help create"
		}
		if next == nil {
			return usageError{msg: strings.TrimSpace(fmt.Sprintf("%s: unknown command %q", c.path, args[0])), cmd: c}
		}
		c, args = next, args[1:]
	}
}

// helpOf is "help WORDS...": the help of the command the words name
// under c.
func helpOf(c *command, words []string) error {
	for _, w := range words {
		next := c.child(w)
		if next == nil {
			return usageError{msg: strings.TrimSpace(fmt.Sprintf("%s: unknown command %q", c.path, w)), cmd: c}
		}
		c = next
	}
	return errHelp{c}
}

// globalUsage describes the flags every command accepts.
var globalUsage = [][2]string{
	{"--db URL", "the database: postgres://... or sqlite:PATH (default: $MCPSTORE_DATABASE_URL, else sqlite:mcpstore.db)"},
	{"--json", "print JSON (field names: the README's \"JSON output\")"},
}

// printHelp prints c's help: with full, its description and example as
// well as its usage and flags.
func printHelp(w io.Writer, e *env, c *command, full bool) {
	synopsis := c.name()
	if c.isGroup() {
		synopsis += " COMMAND"
	}
	fs, _ := c.flagSet(e)
	own := ownFlags(fs)
	if len(own) > 0 {
		synopsis += " [flags]"
	}
	for _, a := range c.args {
		synopsis += " " + a
	}
	fmt.Fprintf(w, "usage: %s\n", synopsis)
	if !full {
		fmt.Fprintf(w, "  %s\n", c.summary)
	} else {
		text := c.help
		if text == "" {
			text = capitalise(c.summary) + "."
		}
		fmt.Fprintf(w, "\n%s\n", text)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	if c.isGroup() {
		fmt.Fprintln(tw, "\nCommands:")
		listCommands(tw, c)
	}
	if len(own) > 0 {
		fmt.Fprintln(tw, "\nFlags:")
		for _, f := range own {
			name, usage := flag.UnquoteUsage(f)
			left := "--" + f.Name
			if len(f.Name) == 1 {
				left = "-" + f.Name
			}
			if name != "" {
				left += " " + strings.ToUpper(name)
			}
			if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
				usage += fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(tw, "  %s\t%s\n", left, usage)
		}
	}
	fmt.Fprintln(tw, "\nGlobal flags:")
	for _, g := range globalUsage {
		fmt.Fprintf(tw, "  %s\t%s\n", g[0], g[1])
	}
	tw.Flush()
	if !full {
		fmt.Fprintf(w, "\nRun '%s -h' for more, with an example.\n", c.name())
		return
	}
	fmt.Fprintln(w, "\nExample:")
	for l := range strings.Lines(c.example) {
		fmt.Fprintf(w, "  %s", strings.TrimRight(l, "\n")+"\n")
	}
	if c.isGroup() {
		fmt.Fprintf(w, "\nRun '%s COMMAND -h' for a command's help.\n", c.name())
	}
}

// listCommands lists c's subcommands with their summaries; under the root,
// the subcommands of each group too.
func listCommands(tw io.Writer, c *command) {
	for _, sub := range c.children() {
		if sub.path == hiddenComplete {
			continue
		}
		if c == root && sub.isGroup() {
			for _, leaf := range sub.children() {
				fmt.Fprintf(tw, "  %s %s\t%s\n", sub.leaf(), leaf.leaf(), leaf.summary)
			}
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\n", sub.leaf(), sub.summary)
	}
}

// ownFlags returns the flags of fs but the global ones, sorted.
func ownFlags(fs *flag.FlagSet) []*flag.Flag {
	var out []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if !isGlobalFlag(f.Name) {
			out = append(out, f)
		}
	})
	return out
}

func isGlobalFlag(name string) bool { return name == "db" || name == "json" }

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
