package main

import (
	"flag"
	"strconv"

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
	var list []db.Tool
	serverSet := false
	fs.Visit(func(f *flag.Flag) { serverSet = serverSet || f.Name == "server" })
	if serverSet {
		list, err = s.Tools().ListByServer(e.ctx, *server)
	} else {
		list, err = allTools(e, s)
	}
	if err != nil {
		return err
	}
	if !*all {
		active := list[:0]
		for _, t := range list {
			if t.IsActive {
				active = append(active, t)
			}
		}
		list = active
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

// allTools pages through every tool.
func allTools(e *env, s db.Store) ([]db.Tool, error) {
	out := []db.Tool{}
	for off := 0; ; off += db.MaxLimit {
		page, err := s.Tools().List(e.ctx, db.Page{Limit: db.MaxLimit, Offset: off})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < db.MaxLimit {
			return out, nil
		}
	}
}
