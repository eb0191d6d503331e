package main

import (
	"flag"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpstore/mcpstore/db"
)

func init() {
	register("tools", "tools list [--server S]          list registered tools", tools)
}

func tools(e *env, args []string) error {
	fs := e.flags("tools")
	server := fs.String("server", "", "only the tools of this server")
	all := fs.Bool("all", false, "include inactive tools")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "list" {
		return usagef("usage: mcpstore tools list [--server S] [--all]")
	}
	s, err := e.open()
	if err != nil {
		return err
	}
	serverSet := false
	fs.Visit(func(f *flag.Flag) { serverSet = serverSet || f.Name == "server" })
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
		return printJSON(e.stdout, list)
	}
	rows := make([][]string, len(list))
	for i, t := range list {
		rows[i] = []string{strconv.FormatInt(t.ID, 10), orDash(t.ServerID), t.Name, strconv.FormatBool(t.IsActive), when(t.UpdatedAt), t.Description}
	}
	return table(e.stdout, []string{"ID", "SERVER", "NAME", "ACTIVE", "UPDATED", "DESCRIPTION"}, rows)
}
