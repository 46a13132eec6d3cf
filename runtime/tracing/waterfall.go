package tracing

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// barWidth is how many columns the waterfall's bars span.
const barWidth = 40

// Waterfall draws t as a table: each span indented under its parent, its
// start offset and duration, where it ran, how it ended, and a bar placing
// it on the trace's time line.
func Waterfall(w io.Writer, t Trace) error {
	sum := Summarize(t)
	fmt.Fprintf(w, "trace %s  %s  %s  %d spans  %s\n\n", t.TraceID, strings.Join(sum.Functions, " → "),
		round(sum.Duration), sum.Spans, sum.Outcome)
	if t.Dropped > 0 {
		fmt.Fprintf(w, "(%d more spans were not kept)\n", t.Dropped)
	}
	spans, depth := ordered(t.Spans)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OFFSET\tDURATION\tSPAN\tFUNCTION\tOUTCOME\tTIMELINE")
	for i, sp := range spans {
		offset := sp.Start.Sub(sum.Start)
		name := strings.Repeat("  ", min(depth[i], 10)) + sp.Name
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", round(offset), round(sp.Duration()), name,
			where(sp), spanOutcome(sp), bar(offset, sp, sum))
	}
	return tw.Flush()
}

// where names the function a span is about, or the service that made it.
func where(sp Span) string {
	if fn := sp.Attributes[string(FunctionKey)]; fn != "" {
		return fn
	}
	return sp.Service
}

// spanOutcome is the delivery outcome, the HTTP status or the status.
func spanOutcome(sp Span) string {
	out := sp.Attributes[string(OutcomeKey)]
	if code := sp.Attributes["http.response.status_code"]; code != "" {
		out = strings.TrimSpace(out + " " + code)
	}
	if out == "" {
		out = sp.Status
	}
	if out == "" {
		out = "ok"
	}
	return out
}

func bar(offset interface{ Nanoseconds() int64 }, sp Span, sum Summary) string {
	total := sum.Duration.Nanoseconds()
	if total <= 0 {
		return "|" + strings.Repeat("█", barWidth) + "|"
	}
	from := int(offset.Nanoseconds() * barWidth / total)
	n := max(1, int(sp.Duration().Nanoseconds()*barWidth/total))
	from = min(max(from, 0), barWidth-1)
	n = min(n, barWidth-from)
	b := strings.Repeat(" ", from) + strings.Repeat("█", n)
	return "|" + b + strings.Repeat(" ", barWidth-utf8.RuneCountInString(b)) + "|"
}
