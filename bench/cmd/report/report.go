package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// table is one Markdown table of the report.
type table struct {
	head []string
	rows [][]string
}

type section struct {
	title, intro string
	tables       []table
}

// goalResult is one goal of the report and whether this run met it.
type goalResult struct {
	name          string
	ratio, target float64
	atMost        bool   // the target is a maximum (ratio ≤ target), not a minimum
	unit          string // "": ratio and target are ratios; else a unit both are in, such as "µs"
	why           string // why it may be missed
	fix           string // what would close it
}

// measured reports whether the run produced the goal's ratio; one it did
// not (shown as "–") is neither met nor missed.
func (g goalResult) measured() bool { return !math.IsNaN(g.ratio) && !math.IsInf(g.ratio, 0) }

// met reports whether the run met the goal.
func (g goalResult) met() bool {
	if g.atMost {
		return g.ratio <= g.target
	}
	return g.ratio >= g.target
}

// ratioText is the goal's ratio as the report shows it, with as many
// decimals as it takes for a miss not to read as its target.
func (g goalResult) ratioText() string {
	if g.unit != "" {
		return g.format(g.ratio)
	}
	if !g.measured() || g.met() || ratio(g.ratio) != ratio(g.target) {
		return ratio(g.ratio)
	}
	prec := 3
	for ; prec < 9; prec++ {
		if v, _ := strconv.ParseFloat(strconv.FormatFloat(g.ratio, 'f', prec, 64), 64); v != g.target {
			break
		}
	}
	return strconv.FormatFloat(g.ratio, 'f', prec, 64) + "×"
}

// targetText is the target as the report shows it: "2.00×" for a minimum,
// "≤ 1.10×" for a maximum.
func (g goalResult) targetText(atMost string) string {
	if g.atMost {
		return atMost + " " + g.format(g.target)
	}
	return g.format(g.target)
}

// format shows a goal's figure: a ratio, or a value in the goal's unit.
func (g goalResult) format(v float64) string {
	if g.unit == "" {
		return ratio(v)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.1f %s", v, g.unit)
}

// growthPoint is one size of the growth measurement.
type growthPoint struct {
	rows         int
	verifyPerSec float64
	ingestPerSec float64
}

type report struct {
	cfg      config
	started  time.Time
	took     time.Duration
	machine  []string
	sections []section
	goals    []goalResult
	notes    []string
	growth   []growthPoint
}

func (r *report) section(title, intro string, tables ...table) {
	r.sections = append(r.sections, section{title: title, intro: intro, tables: tables})
}

// goal records a goal met when ratio ≥ target.
func (r *report) goal(name string, ratio, target float64, why, fix string) {
	r.goals = append(r.goals, goalResult{name: name, ratio: ratio, target: target, why: why, fix: fix})
}

// goalAtMost records a goal met when ratio ≤ target (a time that must stay
// within a bound of another).
func (r *report) goalAtMost(name string, ratio, target float64, why, fix string) {
	r.goals = append(r.goals, goalResult{name: name, ratio: ratio, target: target, atMost: true, why: why, fix: fix})
}

// goalAtMostIn records a goal met when value ≤ target, both in unit (an
// absolute bound, such as a time added per call).
func (r *report) goalAtMostIn(name string, value, target float64, unit, why, fix string) {
	r.goals = append(r.goals, goalResult{name: name, ratio: value, target: target, atMost: true, unit: unit, why: why, fix: fix})
}

func (r *report) notef(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// num formats a rate or a time with thousands separators.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	if v < 100 {
		return fmt.Sprintf("%.1f", v)
	}
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func ratio(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case v >= 100:
		return fmt.Sprintf("%.0f×", v)
	case v >= 10:
		return fmt.Sprintf("%.1f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

func (t table) markdown(b *strings.Builder) {
	b.WriteString("| " + strings.Join(t.head, " | ") + " |\n|")
	for range t.head {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, row := range t.rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	b.WriteString("\n")
}

func (r *report) markdown() string {
	var b strings.Builder
	b.WriteString("# mcpstore benchmarks\n\n")
	b.WriteString("Written by `make bench` (`bench/cmd/report`); every figure below comes from one run on one machine, and every ratio compares two figures of that run. Rerun it to check them on yours.\n\n")
	mode := "full (`make bench`)"
	if r.cfg.short {
		mode = "short (`make bench-short`: shorter measurements and smaller tables, for CI; figures are rougher than the full run's)"
	}
	fmt.Fprintf(&b, "## Machine and method\n\n- Date: %s; the run took %s; mode: %s.\n", r.started.UTC().Format("2006-01-02 15:04 MST"), r.took.Round(time.Second), mode)
	for _, m := range r.machine {
		b.WriteString("- " + m + "\n")
	}
	fmt.Fprintf(&b, "- Throughput figures run each measurement for %s and count completed operations; concurrency is goroutines in one process, each with its own connection from the pool (sized to the number of clients). Repository operations use `testing.Benchmark` (benchtime %s) for ns/op and allocs/op from one goroutine, and the same throughput measurement from %d. Each measurement gets a fresh database with mcpstore's migrations.\n\n", r.cfg.dur, r.cfg.benchtime, repoClients)

	b.WriteString("## Goals\n\n| goal | this run | target | met |\n| --- | --- | --- | --- |\n")
	missed := 0
	for _, g := range r.goals {
		met := "yes"
		if !g.measured() {
			met = "n/a"
		} else if !g.met() {
			met = "**no**"
			missed++
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", g.name, g.ratioText(), g.targetText("≤"), met)
	}
	b.WriteString("\n")
	// Sections are measured in the order that shares databases best and
	// shown in the order of their numbers.
	slices.SortStableFunc(r.sections, func(a, b section) int { return strings.Compare(a.title, b.title) })
	for _, s := range r.sections {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", s.title, s.intro)
		for _, t := range s.tables {
			t.markdown(&b)
		}
	}
	if len(r.growth) > 0 {
		fmt.Fprintf(&b, "![Growth: verification and ingestion against rows stored](%s)\n\n", filepath.Base(r.cfg.svg))
	}
	b.WriteString("## Closing note\n\n")
	if missed == 0 {
		b.WriteString("Every goal measured was met in this run.\n\n")
	} else {
		fmt.Fprintf(&b, "%d goal(s) missed in this run:\n\n", missed)
		// Goals missed for one reason share one item, in the order of the
		// first of them.
		type reason struct{ why, fix string }
		var order []reason
		misses := map[reason][]string{}
		for _, g := range r.goals {
			if !g.measured() || g.met() {
				continue
			}
			k := reason{g.why, g.fix}
			if misses[k] == nil {
				order = append(order, k)
			}
			misses[k] = append(misses[k], fmt.Sprintf("%s: %s against %s", g.name, g.ratioText(), g.targetText("at most")))
		}
		for _, k := range order {
			fmt.Fprintf(&b, "- %s. Why: %s. What would close it: %s.\n", strings.Join(misses[k], "; "), k.why, k.fix)
		}
		b.WriteString("\n")
	}
	for _, n := range r.notes {
		b.WriteString("- " + n + "\n")
	}
	return b.String()
}

// machine records cores, memory and the database versions.
func machine(ctx context.Context, r *report) error {
	mem := "unknown"
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				var kb float64
				fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
				mem = fmt.Sprintf("%.1f GiB", kb/1024/1024)
			}
		}
		f.Close()
	}
	model := "unknown"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
				break
			}
		}
		f.Close()
	}
	conn, err := pgx.Connect(ctx, r.cfg.pgURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var version, fsync, syncCommit string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		return err
	}
	conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync)
	conn.QueryRow(ctx, "SHOW synchronous_commit").Scan(&syncCommit)
	sqliteVersion, err := sqliteVersion(ctx)
	if err != nil {
		return err
	}
	r.machine = append(r.machine,
		fmt.Sprintf("CPU: %d cores (GOMAXPROCS %d), %s; memory %s; %s/%s, %s.", runtime.NumCPU(), runtime.GOMAXPROCS(0), model, mem, runtime.GOOS, runtime.GOARCH, runtime.Version()),
		fmt.Sprintf("PostgreSQL: %s, on loopback; fsync = %s, synchronous_commit = %s.", version, fsync, syncCommit),
		fmt.Sprintf("SQLite: %s (modernc.org/sqlite, pure Go), WAL mode, synchronous = FULL, on a temporary file.", sqliteVersion),
	)
	if fsync != "on" || syncCommit != "on" {
		r.notef("This run's PostgreSQL did not make commits durable (fsync = %s, synchronous_commit = %s): every figure that pays for a commit (the seed paths above all) is faster than on a production server, and the ratios against them smaller. `make bench` asks scripts/with-postgres for a durable server; a server named by MCPSTORE_TEST_DATABASE_URL is used as it is.", fsync, syncCommit)
	}
	return nil
}
