package main

import (
	"fmt"
	"math"
	"strings"
)

// growthSVG draws the growth figures as a small line chart: verifications
// and ingested rows per second against rows stored (log scale), each line
// relative to its value at the smallest size, so that a flat line is the
// goal.
func (r *report) growthSVG() string {
	const w, h, left, right, top, bottom = 640, 360, 70, 20, 40, 60
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="14">Cost as the tables grow (relative to the smallest size; flat is the goal)</text>`+"\n", left)
	if len(r.growth) == 0 {
		b.WriteString("</svg>\n")
		return b.String()
	}
	lo, hi := math.Log10(float64(r.growth[0].rows)), math.Log10(float64(r.growth[len(r.growth)-1].rows))
	if hi == lo {
		hi = lo + 1
	}
	const ymax = 1.5
	x := func(rows int) float64 {
		return left + (math.Log10(float64(rows))-lo)/(hi-lo)*float64(w-left-right)
	}
	y := func(v float64) float64 { return top + (1-math.Min(v, ymax)/ymax)*float64(h-top-bottom) }
	// Axes and grid.
	for _, v := range []float64{0, 0.5, 1, 1.5} {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%.1f×</text>`+"\n",
			left, y(v), w-right, y(v), left-6, y(v)+4, v)
	}
	for _, p := range r.growth {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n",
			x(p.rows), top, x(p.rows), h-bottom, x(p.rows), h-bottom+16, num(float64(p.rows)))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">rows already stored (log scale)</text>`+"\n", (w+left)/2, h-bottom+36)
	lines := []struct {
		name, color string
		v           func(growthPoint) float64
	}{
		{"uncached Verify, verifies/s", "#1f77b4", func(p growthPoint) float64 { return p.verifyPerSec }},
		{"Auditor ingestion, rows/s", "#d62728", func(p growthPoint) float64 { return p.ingestPerSec }},
	}
	for i, l := range lines {
		base := l.v(r.growth[0])
		var pts []string
		for _, p := range r.growth {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.rows), y(l.v(p)/base)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", l.color, strings.Join(pts, " "))
		for _, p := range r.growth {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", x(p.rows), y(l.v(p)/base), l.color)
		}
		ly := h - 12 - 0
		lx := left + i*280
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/><text x="%d" y="%d">%s (%s at %s rows)</text>`+"\n",
			lx, ly-4, lx+20, ly-4, l.color, lx+26, ly, l.name, num(base), num(float64(r.growth[0].rows)))
	}
	b.WriteString("</svg>\n")
	return b.String()
}
