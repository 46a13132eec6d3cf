//go:build bench

package e2e

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

var (
	systemColor = map[string]string{"seed": "#9e9e9e", "funcd": "#1565c0"}
	protoTitle  = map[string]string{"http": "HTTP", "grpc": "gRPC"}
)

// svg draws two panels: saturated events/s by publisher protocol, and
// end-to-end latency percentiles at the fixed rate; bars are medians,
// whiskers the lowest and highest round.
func (r *benchReport) svg() string {
	var b strings.Builder
	const w, h = 960, 420
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" text-anchor="middle">funcd up (shipped) vs daprd 1.16 + Redis 7 (seed): medians of %d rounds, %s, %d cores, load %s</text>`+"\n",
		w/2, len(r.pick("funcd", "http", eventsPerSec)), r.Started.Format("2006-01-02"), r.Machine.Cores, r.Machine.LoadStart)

	var groups []barGroup
	for _, proto := range benchProtocols {
		groups = append(groups, r.group(protoTitle[proto]+" publishers", proto, eventsPerSec))
	}
	panel(&b, 60, 60, 380, 300, fmt.Sprintf("saturated, %d publishers: events/s", r.Publishers), "%.0f", groups)

	groups = nil
	for _, proto := range benchProtocols {
		for _, q := range []struct {
			name string
			f    func(benchResult) float64
		}{{"p50", func(x benchResult) float64 { return x.AtRate.P50 }}, {"p90", func(x benchResult) float64 { return x.AtRate.P90 }},
			{"p99", func(x benchResult) float64 { return x.AtRate.P99 }}} {
			groups = append(groups, r.group(protoTitle[proto]+" "+q.name, proto, q.f))
		}
	}
	panel(&b, 530, 60, 400, 300, fmt.Sprintf("end to end at %d events/s: latency ms", r.Rate), "%.1f", groups)

	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#555">bars: medians; lines: lowest to highest round</text>`+"\n", 20, h-10)
	for i, sys := range benchSystems {
		x := 380 + i*220
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="14" height="14" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			x, h-22, systemColor[sys], x+20, h-10, systemTitle[sys])
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// barGroup is one group of bars: a median and range per system.
type barGroup struct {
	label       string
	med, lo, hi []float64 // by benchSystems
}

func (r *benchReport) group(label, proto string, f func(benchResult) float64) barGroup {
	g := barGroup{label: label}
	for _, sys := range benchSystems {
		v := r.pick(sys, proto, f)
		lo, hi := 0.0, 0.0
		if len(v) > 0 {
			lo, hi = slices.Min(v), slices.Max(v)
		}
		g.med, g.lo, g.hi = append(g.med, median(v)), append(g.lo, lo), append(g.hi, hi)
	}
	return g
}

// panel draws grouped bars with whiskers in the box at x, y of size w, h.
func panel(b *strings.Builder, x, y, w, h int, title, format string, groups []barGroup) {
	top := 0.0
	for _, g := range groups {
		top = max(top, slices.Max(g.hi))
	}
	top = niceCeil(top)
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="13" text-anchor="middle">%s</text>`+"\n", x+w/2, y-12, title)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", x, y+h, x+w, y+h)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", x, y, x, y+h)
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		yy := float64(y+h) - float64(h)*float64(i)/4
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e0e0e0"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n",
			x+1, yy, x+w, yy, x-4, yy+4, fmt.Sprintf(format, v))
	}
	gw := float64(w) / float64(len(groups))
	bw := gw * 0.7 / float64(len(benchSystems))
	scale := func(v float64) float64 { return float64(h) * v / top }
	for gi, g := range groups {
		gx := float64(x) + gw*float64(gi) + gw*0.15
		for si, sys := range benchSystems {
			bx := gx + bw*float64(si)
			bh := scale(g.med[si])
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", bx, float64(y+h)-bh, bw-2, bh, systemColor[sys])
			cx := bx + (bw-2)/2
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n",
				cx, float64(y+h)-scale(g.lo[si]), cx, float64(y+h)-scale(g.hi[si]))
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>`+"\n",
				cx, float64(y+h)-scale(g.hi[si])-4, fmt.Sprintf(format, g.med[si]))
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", gx+bw*float64(len(benchSystems))/2, y+h+16, g.label)
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
