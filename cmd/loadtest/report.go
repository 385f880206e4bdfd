package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// runInfo is what the report says of the run as a whole.
type runInfo struct {
	start              time.Time
	took               time.Duration
	cores              int
	loadStart, loadEnd float64
	generator          string
}

// hwmTarget is the resident set the server should stay within under
// uncached walks of 500-item pages over the big cluster.
const hwmTarget = 64 << 20

// writeMethodReport writes the Markdown block of the method's results,
// ready to paste into BENCHMARKS.md.
func writeMethodReport(out io.Writer, cfg methodConfig, run runInfo, all []measured, mem []phaseResult, skipped []string) {
	fmt.Fprintf(out, "<!-- scripts/load.sh %s -->\n", strings.Join(cfg.args, " "))
	fmt.Fprintf(out, "Run of %s UTC, %s, on %d cores, load average (1 min) %.2f at the start and %.2f at the end: %d repetitions of %s per side of each figure, the sides taking turns, by %s; medians, (min–max) of the repetitions; load average before→after each figure.\n",
		run.start.UTC().Format("2006-01-02 15:04"), run.took.Round(time.Second), run.cores, run.loadStart, run.loadEnd, cfg.reps, cfg.duration, run.generator)
	if run.loadStart > float64(run.cores)/2 {
		fmt.Fprintf(out, "The machine was not quiet: a load average of %.2f on %d cores at the start; these are not figures to publish.\n", run.loadStart, run.cores)
	}
	if cfg.reps < 3 {
		fmt.Fprintf(out, "Fewer than 3 repetitions: not figures to publish.\n")
	}
	for _, s := range skipped {
		fmt.Fprintf(out, "%s.\n", s)
	}
	type key struct{ store, config string }
	var keys []key
	for _, m := range all {
		if k := (key{m.store, m.config}); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		fmt.Fprintf(out, "\n#### %s, %s configuration\n\n", k.store, k.config)
		fmt.Fprintln(out, "| phase | figure | conns | reference | req/s | p99 ms | measured | req/s | p99 ms | ratio req/s | ratio p99 | load avg |")
		fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|---|---|")
		for _, m := range all {
			if m.store != k.store || m.config != k.config {
				continue
			}
			ar, br, ap, bp := rpsSpread(m.a), rpsSpread(m.b), p99Spread(m.a), p99Spread(m.b)
			fmt.Fprintf(out, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %.2f | %.2f | %.2f→%.2f |\n",
				m.phase, m.figure, m.conns, m.aLabel, ar.rps(), ap.ms(), m.bLabel, br.rps(), bp.ms(),
				br.median/ar.median, bp.median/ap.median, m.loadBefore, m.loadAfter)
		}
	}

	// Uncached walks over the big cluster against cached walks over the
	// small one: what size and the caches' misses cost.
	find := func(store, config, phase, figure string, conns int) (measured, bool) {
		for _, m := range all {
			if m.store == store && m.config == config && m.phase == phase && m.figure == figure && m.conns == conns {
				return m, true
			}
		}
		return measured{}, false
	}
	var rows []string
	for _, k := range keys {
		for _, per := range walkPerPage {
			for _, count := range []bool{true, false} {
				fig := fmt.Sprintf("%d a page, includeCount=%t", per, count)
				for _, conns := range cfg.conns {
					u, ok1 := find(k.store, k.config, cfg.walkPhaseName("big", "uncached", per), fig, conns)
					c, ok2 := find(k.store, k.config, cfg.walkPhaseName("small", "cached", per), fig, conns)
					if !ok1 || !ok2 {
						continue
					}
					ur, cr, up, cp := rpsSpread(u.b), rpsSpread(c.b), p99Spread(u.b), p99Spread(c.b)
					rows = append(rows, fmt.Sprintf("| %s | %s | %d | %t | %d | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |",
						k.store, k.config, per, count, conns, ur.median, cr.median, ur.median/cr.median, up.median*1e3, cp.median*1e3, up.median/cp.median))
				}
			}
		}
	}
	if len(rows) > 0 {
		fmt.Fprintf(out, "\n#### Uncached walk over %s against cached walk over %s\n\n", sizeLabel(cfg.big), sizeLabel(cfg.small))
		fmt.Fprintf(out, "| store | configuration | items a page | includeCount | conns | req/s uncached %s | req/s cached %s | ratio req/s | p99 ms uncached | p99 ms cached | ratio p99 |\n", sizeLabel(cfg.big), sizeLabel(cfg.small))
		fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|---|")
		for _, r := range rows {
			fmt.Fprintln(out, r)
		}
	}

	// Shipped against stripped, figure by figure.
	rows = rows[:0]
	for _, m := range all {
		if m.config != cfgShipped {
			continue
		}
		s, ok := find(m.store, cfgStripped, m.phase, m.figure, m.conns)
		if !ok || m.b[0].rps == 0 {
			continue
		}
		sh, st := rpsSpread(m.b), rpsSpread(s.b)
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %d | %s | %.0f | %.0f | %.2f |", m.store, m.phase, m.figure, m.conns, m.bLabel, sh.median, st.median, sh.median/st.median))
	}
	if len(rows) > 0 {
		fmt.Fprintln(out, "\n#### Shipped against stripped configuration (checkpointd's side of each figure)")
		fmt.Fprintln(out, "\n| store | phase | figure | conns | measured | req/s shipped | req/s stripped | ratio |")
		fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|")
		for _, r := range rows {
			fmt.Fprintln(out, r)
		}
	}

	// Memory: the server's high-water mark in each phase.
	if len(mem) > 0 {
		fmt.Fprintln(out, "\n#### Resident set of the server, high-water mark (VmHWM) by phase")
		fmt.Fprintln(out, "\nEach phase a fresh `checkpointd serve`; its mark reset (`/proc/PID/clear_refs`) after start and capture; in parentheses its RSS then.")
		var cols []string
		for _, p := range mem {
			if c := p.store + ", " + p.config; !slices.Contains(cols, c) {
				cols = append(cols, c)
			}
		}
		fmt.Fprintf(out, "\n| phase | %s |\n|---|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
		var phases []string
		for _, p := range mem {
			if !slices.Contains(phases, p.phase) {
				phases = append(phases, p.phase)
			}
		}
		for _, ph := range phases {
			var cells []string
			for _, c := range cols {
				cell := ""
				for _, p := range mem {
					if p.phase == ph && p.store+", "+p.config == c {
						cell = fmt.Sprintf("%s (%s)", mib(p.hwm), mib(p.startRSS))
					}
				}
				cells = append(cells, cell)
			}
			fmt.Fprintf(out, "| %s | %s |\n", ph, strings.Join(cells, " | "))
		}
		target := cfg.walkPhaseName("big", "uncached", 500)
		fmt.Fprintln(out)
		for _, p := range mem {
			if p.phase != target {
				continue
			}
			verdict := "met"
			if p.hwm > hwmTarget {
				verdict = "NOT met"
			}
			fmt.Fprintf(out, "RSS target (≤ %s under random 500-item pages at %s), %s, %s: %s, %s.\n", mib(hwmTarget), sizeLabel(cfg.big), p.store, p.config, mib(p.hwm), verdict)
		}
	}
}
