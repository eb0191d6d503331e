package main

import (
	"flag"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpstore/mcpstore/db"
)

func init() {
	register(command{path: "tools", summary: "read the tool registry",
		example: "mcpstore tools list --server files"})
	register(command{path: "tools list", summary: "list registered tools",
		help: `List the registered tools: the active ones of every server, by default.
--server '' lists the tools of no particular server.`,
		example: "mcpstore tools list --server files --all --json",
		setup:   toolsList})
}

func toolsList(fs *flag.FlagSet) action {
	server := fs.String("server", "", "only the tools of this `server` id")
	all := fs.Bool("all", false, "include inactive tools")
	return func(e *env, _ []string) error {
		s, err := e.open()
		if err != nil {
			return err
		}
		serverSet := given(fs)["server"]
		// --server '' selects the tools of no server, which a query cannot
		// (its "" is every server): they are picked out here.
		list := []db.Tool{}
		for t, err := range s.Tools().All(e.ctx, db.ToolQuery{ServerID: *server, ActiveOnly: !*all, Limit: db.MaxLimit}) {
			if err != nil {
				return err
			}
			if !serverSet || t.ServerID == *server {
				list = append(list, t)
			}
		}
		if serverSet {
			slices.SortFunc(list, func(a, b db.Tool) int { return strings.Compare(a.Name, b.Name) })
		}
		if e.json {
			return printJSON(e.stdout, mapSlice(list, toolJSONOf))
		}
		rows := make([][]string, len(list))
		for i, t := range list {
			rows[i] = []string{strconv.FormatInt(t.ID, 10), orDash(t.ServerID), t.Name, strconv.FormatBool(t.IsActive), when(t.UpdatedAt), t.Description}
		}
		return table(e.stdout, []string{"ID", "SERVER", "NAME", "ACTIVE", "UPDATED", "DESCRIPTION"}, rows)
	}
}
