package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
)

func init() {
	register("keys", "keys create|list|show|revoke|rotate|verify   manage API keys (mcpstore keys help)", keys)
}

const keysUsage = `usage:
  mcpstore keys create --name N [--user U] [--role R]... [--permission P]... [--expires-in DURATION]
  mcpstore keys list [--user U]
  mcpstore keys show ID
  mcpstore keys revoke ID [--reason R]
  mcpstore keys rotate ID [--grace DURATION]
  mcpstore keys verify < KEYFILE    (exit 0 when the key is valid, 1 when not)
durations: 90m, 12h, 7d, 1d12h`

// maxKeyInput bounds what keys verify reads: a key is far shorter.
const maxKeyInput = 4096

func keys(e *env, args []string) error {
	if len(args) == 0 {
		return usagef("keys: missing subcommand (create, list, show, revoke, rotate, verify)")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "create":
		return keysCreate(e, args)
	case "list":
		return keysList(e, args)
	case "show":
		return keysShow(e, args)
	case "revoke":
		return keysRevoke(e, args)
	case "rotate":
		return keysRotate(e, args)
	case "verify":
		return keysVerify(e, args)
	case "help":
		_, err := fmt.Fprintln(e.stdout, keysUsage)
		return err
	}
	return usagef("keys: unknown subcommand %q (create, list, show, revoke, rotate, verify)", sub)
}

// withKeys opens the database and runs fn with a gateway.Keys on it,
// closed (its last-use times written) before returning. The CLI runs one
// command: no cache, so no revocation listener either.
func withKeys(e *env, fn func(k *gateway.Keys) error) error {
	s, err := e.open()
	if err != nil {
		return err
	}
	k, err := gateway.NewKeys(e.ctx, s, gateway.KeysOptions{CacheSize: -1, UnknownSize: -1})
	if err != nil {
		return err
	}
	return errors.Join(fn(k), k.Close(e.ctx))
}

// keyView is a key as the CLI shows it: never its hash (KeyInfo has none),
// with its state worked out.
type keyView struct {
	gateway.KeyInfo
	State string
}

func viewOf(k gateway.KeyInfo, now time.Time) keyView {
	state := "active"
	switch {
	case !k.Active:
		state = "inactive"
	case !k.RevokedAt.IsZero() && !now.Before(k.RevokedAt):
		state = "revoked"
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		state = "expired"
	case !k.RevokedAt.IsZero():
		state = "rotating" // revoked from RevokedAt on: a rotation's grace period
	}
	return keyView{KeyInfo: k, State: state}
}

// newKey is the answer of keys create and keys rotate: the raw key, shown
// this once, and its record.
type newKey struct {
	Key string
	keyView
	Replaces string `json:",omitempty"`
}

func printNewKey(e *env, raw string, info gateway.KeyInfo, replaces string) error {
	v := newKey{Key: raw, keyView: viewOf(info, time.Now()), Replaces: replaces}
	if e.json {
		return printJSON(e.stdout, v)
	}
	verb := "Created"
	if replaces != "" {
		verb = "Rotated " + replaces + " into"
	}
	_, err := fmt.Fprintf(e.stdout, "%s API key %s %q (prefix %s, expires %s).\nThe key is shown only this once; store it now:\n\n%s\n",
		verb, info.ID, info.Name, info.Prefix, never(info.ExpiresAt), raw)
	return err
}

func keysCreate(e *env, args []string) error {
	fs := e.flags("keys create")
	name := fs.String("name", "", "the key's name (required)")
	user := fs.String("user", "", "the user id owning the key")
	var roles, perms stringList
	fs.Var(&roles, "role", "a role (repeatable)")
	fs.Var(&perms, "permission", "a permission such as tools:call:search_* (repeatable)")
	var expires durationFlag
	fs.Var(&expires, "expires-in", "lifetime, such as 90d (default: never expires)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("keys create", pos); err != nil {
		return err
	}
	switch {
	case *name == "":
		return usagef("keys create: --name is required")
	case expires.set && expires.d <= 0:
		return usagef("keys create: --expires-in must be positive")
	}
	opts := gateway.IssueOptions{Name: *name, Owner: *user, Roles: roles, Permissions: perms}
	if expires.set {
		opts.ExpiresAt = time.Now().Add(expires.d)
	}
	return withKeys(e, func(k *gateway.Keys) error {
		raw, info, err := k.Issue(e.ctx, opts)
		if err != nil {
			return err
		}
		return printNewKey(e, raw, info, "")
	})
}

func keysList(e *env, args []string) error {
	fs := e.flags("keys list")
	user := fs.String("user", "", "only the keys of this user")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("keys list", pos); err != nil {
		return err
	}
	userSet := false
	fs.Visit(func(f *flag.Flag) { userSet = userSet || f.Name == "user" })
	return withKeys(e, func(k *gateway.Keys) error {
		views := []keyView{}
		now := time.Now()
		for off := 0; ; off += db.MaxLimit {
			p := db.Page{Limit: db.MaxLimit, Offset: off}
			var page []gateway.KeyInfo
			if userSet {
				page, err = k.ListByOwner(e.ctx, *user, false, p)
			} else {
				page, err = k.List(e.ctx, p)
			}
			if err != nil {
				return err
			}
			for _, info := range page {
				views = append(views, viewOf(info, now))
			}
			if len(page) < db.MaxLimit {
				break
			}
		}
		if e.json {
			return printJSON(e.stdout, views)
		}
		rows := make([][]string, len(views))
		for i, v := range views {
			rows[i] = []string{v.ID, v.Name, v.Prefix, orDash(v.Owner), v.State, list(v.Roles), list(v.Permissions),
				when(v.CreatedAt), when(v.ExpiresAt), when(v.LastUsedAt)}
		}
		return table(e.stdout, []string{"ID", "NAME", "PREFIX", "OWNER", "STATE", "ROLES", "PERMISSIONS", "CREATED", "EXPIRES", "LAST USED"}, rows)
	})
}

// oneID parses a command that takes one key id.
func oneID(e *env, name string, args []string, setup func(fs *flag.FlagSet)) (string, error) {
	fs := e.flags(name)
	if setup != nil {
		setup(fs)
	}
	pos, err := parse(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", usagef("usage: mcpstore %s ID", name)
	}
	return pos[0], nil
}

func keysShow(e *env, args []string) error {
	id, err := oneID(e, "keys show", args, nil)
	if err != nil {
		return err
	}
	return withKeys(e, func(k *gateway.Keys) error {
		info, err := k.Get(e.ctx, id)
		if err != nil {
			return err
		}
		return printKey(e, viewOf(info, time.Now()))
	})
}

func printKey(e *env, v keyView) error {
	if e.json {
		return printJSON(e.stdout, v)
	}
	meta := "-"
	if len(v.Metadata) > 0 {
		meta = string(v.Metadata)
	}
	rows := [][]string{
		{"ID:", v.ID}, {"Name:", v.Name}, {"Prefix:", v.Prefix}, {"Owner:", orDash(v.Owner)}, {"State:", v.State},
		{"Roles:", list(v.Roles)}, {"Permissions:", list(v.Permissions)},
		{"Created:", when(v.CreatedAt)}, {"Expires:", never(v.ExpiresAt)}, {"Last used:", when(v.LastUsedAt)},
		{"Revoked:", when(v.RevokedAt)}, {"Revoke reason:", orDash(v.RevokeReason)}, {"Metadata:", meta},
	}
	return lines(e.stdout, rows)
}

func keysRevoke(e *env, args []string) error {
	var reason *string
	id, err := oneID(e, "keys revoke", args, func(fs *flag.FlagSet) {
		reason = fs.String("reason", "", "why the key is revoked")
	})
	if err != nil {
		return err
	}
	return withKeys(e, func(k *gateway.Keys) error {
		if err := k.Revoke(e.ctx, id, *reason); err != nil {
			return err
		}
		info, err := k.Get(e.ctx, id)
		if err != nil {
			return err
		}
		v := viewOf(info, time.Now())
		if e.json {
			return printJSON(e.stdout, v)
		}
		_, err = fmt.Fprintf(e.stdout, "Revoked API key %s %q at %s.\n", v.ID, v.Name, when(v.RevokedAt))
		return err
	})
}

func keysRotate(e *env, args []string) error {
	var grace durationFlag
	id, err := oneID(e, "keys rotate", args, func(fs *flag.FlagSet) {
		fs.Var(&grace, "grace", "how long the old key keeps working, such as 1h (default: stops now)")
	})
	if err != nil {
		return err
	}
	if grace.d < 0 {
		return usagef("keys rotate: --grace must not be negative")
	}
	return withKeys(e, func(k *gateway.Keys) error {
		raw, info, err := k.Rotate(e.ctx, id, grace.d)
		if err != nil {
			return err
		}
		return printNewKey(e, raw, info, id)
	})
}

// verdict is keys verify's JSON answer.
type verdict struct {
	Valid     bool
	Principal *gateway.Principal `json:",omitempty"`
}

func keysVerify(e *env, args []string) error {
	pos, err := parse(e.flags("keys verify"), args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		// A key on the command line would land in the shell's history and
		// the process list: it is read from stdin only.
		return usagef("keys verify: the key is read from stdin, not from arguments")
	}
	in, err := io.ReadAll(io.LimitReader(e.stdin, maxKeyInput))
	if err != nil {
		return fmt.Errorf("keys verify: read stdin: %w", err)
	}
	raw := strings.TrimSpace(string(in))
	return withKeys(e, func(k *gateway.Keys) error {
		p, err := k.Verify(e.ctx, raw)
		if errors.Is(err, gateway.ErrInvalidKey) {
			// Never the key, nor why it was refused: the answer a client gets.
			if e.json {
				if err := printJSON(e.stdout, verdict{}); err != nil {
					return err
				}
			}
			fmt.Fprintln(e.stderr, "invalid API key")
			return exitError{exitFail}
		}
		if err != nil {
			return err
		}
		if e.json {
			return printJSON(e.stdout, verdict{Valid: true, Principal: &p})
		}
		return lines(e.stdout, [][]string{
			{"Valid:", "yes"}, {"Key ID:", p.KeyID}, {"Key name:", p.KeyName}, {"Owner:", orDash(p.Owner)},
			{"Roles:", list(p.Roles)}, {"Permissions:", list(p.Permissions)}, {"Expires:", never(p.ExpiresAt)},
		})
	})
}
