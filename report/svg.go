package report

import (
	"fmt"
	"html/template"
	"strings"
)

// Bar is one bar of a chart.
type Bar struct {
	Label string
	Value float64
}

// BarChart draws a horizontal bar chart as inline SVG, rendered on the server: no script,
// no external resource, so it shows under the pages' Content-Security-Policy
// (default-src 'none') and prints as it looks. The title is the chart's accessible name.
func BarChart(title, unit string, bars []Bar) template.HTML {
	const width, labelW, rowH, top = 640, 220, 24, 28
	maxV := 0.0
	for _, b := range bars {
		maxV = max(maxV, b.Value)
	}
	height := top + rowH*max(len(bars), 1) + 8
	esc := template.HTMLEscapeString
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="%d" height="%d" viewBox="0 0 %d %d" aria-label="%s">`,
		width, height, width, height, esc(title))
	fmt.Fprintf(&sb, `<title>%s</title>`, esc(title))
	fmt.Fprintf(&sb, `<text x="0" y="16" font-size="14" font-weight="bold" fill="#222">%s</text>`, esc(title))
	if len(bars) == 0 {
		fmt.Fprintf(&sb, `<text x="0" y="%d" font-size="13" fill="#666">—</text>`, top+16)
	}
	barSpace := float64(width - labelW - 90)
	for i, b := range bars {
		y := top + i*rowH
		w := 0.0
		if maxV > 0 {
			w = b.Value / maxV * barSpace
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d" font-size="13" text-anchor="end" fill="#222">%s</text>`, labelW-8, y+16, esc(b.Label))
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#1a4d8f"></rect>`, labelW, y+4, w, rowH-8)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" font-size="13" fill="#222">%s%s</text>`, float64(labelW)+w+6, y+16, esc(formatNumber(b.Value)), esc(unit))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) //nolint:gosec // every text above is escaped
}

func formatNumber(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.1f", v)
}
