package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// series is one line of a chart.
type series struct {
	name  string
	color string
	ys    []float64
}

// svgChart draws a line chart (x = seconds) as inline SVG; no scripts or external resources.
func svgChart(title, unit string, xs []float64, ss []series) template.HTML {
	const w, h, left, right, top, bottom = 640.0, 220.0, 56.0, 12.0, 28.0, 30.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`,
		w, h, w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%.0f" height="%.0f" fill="#fff" stroke="#ddd"/>`, w, h)
	fmt.Fprintf(&b, `<text x="%.0f" y="18" font-size="13" font-family="sans-serif" font-weight="bold">%s</text>`, left, html.EscapeString(title))
	ymax, xmax := 0.0, 0.0
	for _, x := range xs {
		xmax = math.Max(xmax, x)
	}
	for _, s := range ss {
		for _, y := range s.ys {
			if !math.IsNaN(y) && !math.IsInf(y, 0) {
				ymax = math.Max(ymax, y)
			}
		}
	}
	if len(xs) == 0 || ymax == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="12" font-family="sans-serif" fill="#888">no data</text></svg>`, left, h/2)
		return template.HTML(b.String())
	}
	ymax *= 1.1
	if xmax == 0 {
		xmax = 1
	}
	pw, ph := w-left-right, h-top-bottom
	px := func(x float64) float64 { return left + x/xmax*pw }
	py := func(y float64) float64 { return top + ph - y/ymax*ph }
	for i := 0; i <= 4; i++ {
		y := ymax * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`, left, py(y), w-right, py(y))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" font-family="sans-serif" text-anchor="end">%s</text>`,
			left-4, py(y)+3, html.EscapeString(formatTick(y)))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" font-family="sans-serif" text-anchor="end">%.0f s</text>`, w-right, h-8, xmax)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" font-family="sans-serif">0 s · %s</text>`, left, h-8, html.EscapeString(unit))
	lx := left + 200
	for _, s := range ss {
		var pts []string
		for i, y := range s.ys {
			if i < len(xs) && !math.IsNaN(y) && !math.IsInf(y, 0) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(xs[i]), py(y)))
			}
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, s.color, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<rect x="%.0f" y="9" width="10" height="10" fill="%s"/><text x="%.0f" y="18" font-size="11" font-family="sans-serif">%s</text>`,
			lx, s.color, lx+14, html.EscapeString(s.name))
		lx += 16 + 7*float64(len(s.name)) + 12
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func formatTick(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.1fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"mib": func(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>switchyard bench: {{.R.Scenario}}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.charts svg{margin:6px 0;display:block}pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:12px}
</style></head><body>
<h1>switchyard bench: {{.R.Scenario}}</h1>
<p>{{.R.StartedAt.Format "2006-01-02 15:04:05 UTC"}} · measured {{printf "%.1f" .R.Seconds}} s ·
switch {{.R.Switch.Version}}{{if .R.Switch.Spawned}} (spawned, pid {{.R.Switch.PID}}){{end}} ·
{{.R.Machine.Cores}} cores, {{.R.Machine.CPUModel}} · {{.R.Machine.GoVersion}}</p>
<p><code>{{.R.Config.Command}}</code></p>
<h2>Summary</h2>
<table>
<tr><th>metric</th><th>value</th></tr>
<tr><td>target rate</td><td>{{printf "%.1f" .R.TargetRate}}/s</td></tr>
<tr><td>achieved rate</td><td>{{printf "%.1f" .R.AchievedRate}}/s</td></tr>
{{if .R.Register}}<tr><td>REGISTER attempted / ok / failed</td><td>{{.R.Register.Attempted}} / {{.R.Register.Succeeded}} / {{.R.Register.Failed}}</td></tr>
{{else}}<tr><td>calls attempted / answered / completed / failed</td><td>{{.R.Calls.Attempted}} / {{.R.Calls.Answered}} / {{.R.Calls.Completed}} / {{.R.Calls.Failed}}</td></tr>
<tr><td>answer-seizure ratio</td><td>{{printf "%.4f" .R.Calls.ASR}}</td></tr>
<tr><td>max concurrent calls</td><td>{{.R.Calls.MaxConcurrent}}</td></tr>{{end}}
{{if .R.Switch.Spawned}}<tr><td>switch CPU mean / max (% of one core)</td><td>{{printf "%.1f" .R.Switch.CPUPercent}} / {{printf "%.1f" .R.Switch.CPUMax}}</td></tr>
<tr><td>switch RSS start / end / max (MiB)</td><td>{{mib .R.Switch.RSSStart}} / {{mib .R.Switch.RSSBytes}} / {{mib .R.Switch.RSSMax}}</td></tr>{{end}}
<tr><td>harness CPU (% of one core)</td><td>{{printf "%.1f" .R.HarnessCPU}}</td></tr>
{{with .R.Soak}}<tr><td>soak: target / reached concurrent</td><td>{{.TargetConcurrent}} / {{.ReachedConcurrent}}</td></tr>
<tr><td>soak: RSS per call</td><td>{{printf "%.0f" .RSSPerCallBytes}} bytes</td></tr>{{end}}
{{with .R.ESL}}<tr><td>ESL events/s (all / per subscriber)</td><td>{{printf "%.0f" .EventsPerSec}} / {{printf "%.0f" .EventsPerSecPerSub}}</td></tr>
<tr><td>ESL events received / dropped by client</td><td>{{.EventsReceived}} / {{.Dropped}}</td></tr>{{end}}
{{with .R.Ramp}}<tr><td>ramp: highest clean rate</td><td>{{printf "%.1f" .HighestCleanRate}}/s</td></tr>{{end}}
</table>
<h2>Latency (ms)</h2>
<table><tr><th>distribution</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>
{{range .Lat}}<tr><td>{{.Name}}</td><td>{{.L.Count}}</td><td>{{printf "%.2f" .L.P50}}</td><td>{{printf "%.2f" .L.P90}}</td><td>{{printf "%.2f" .L.P99}}</td><td>{{printf "%.2f" .L.P999}}</td><td>{{printf "%.2f" .L.Max}}</td></tr>
{{end}}</table>
{{if .R.FailuresByCode}}<h2>Failures by code</h2><table><tr><th>code</th><th>count</th></tr>
{{range .Fail}}<tr><td>{{.K}}</td><td>{{.V}}</td></tr>{{end}}</table>{{end}}
{{with .R.Ramp}}<h2>Ramp steps</h2><table><tr><th>target/s</th><th>started/s</th><th>answered/s</th><th>attempted</th><th>failed</th><th>failure ratio</th><th>setup p99 ms</th><th>clean</th></tr>
{{range .Steps}}<tr><td>{{printf "%.0f" .TargetRate}}</td><td>{{printf "%.1f" .LaunchRate}}</td><td>{{printf "%.1f" .AchievedRate}}</td><td>{{.Attempted}}</td><td>{{.Failed}}</td><td>{{printf "%.4f" .FailureRatio}}</td><td>{{printf "%.2f" .SetupP99}}</td><td>{{.Clean}}</td></tr>
{{end}}</table>{{end}}
<h2>Over time</h2>
<div class="charts">{{range .Charts}}{{.}}{{end}}</div>
{{if .R.Notes}}<h2>Notes</h2><ul>{{range .R.Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>report.json</h2>
<pre>{{.JSON}}</pre>
</body></html>
`))

type namedLatency struct {
	Name string
	L    Latency
}

type kv struct {
	K string
	V int64
}

// renderHTML renders the self-contained HTML report.
func renderHTML(r *Report) ([]byte, error) {
	xs := make([]float64, len(r.Timeline))
	col := func(f func(Point) float64) []float64 {
		out := make([]float64, len(r.Timeline))
		for i, p := range r.Timeline {
			out[i] = f(p)
		}
		return out
	}
	for i, p := range r.Timeline {
		xs[i] = p.T
	}
	latTitle := "Setup latency INVITE→200 per second"
	if r.Scenario == ScenarioRegister {
		latTitle = "REGISTER latency per second"
	}
	charts := []template.HTML{
		svgChart(latTitle, "ms", xs, []series{
			{"p50", "#1f77b4", col(func(p Point) float64 { return p.P50 })},
			{"p99", "#d62728", col(func(p Point) float64 { return p.P99 })},
		}),
		svgChart("Rate vs target", "per second", xs, []series{
			{"target", "#999999", col(func(p Point) float64 { return p.Target })},
			{"started", "#2ca02c", col(func(p Point) float64 { return p.Rate })},
			{"answered/ok", "#1f77b4", col(func(p Point) float64 { return p.Done })},
		}),
	}
	if r.Scenario != ScenarioRegister {
		charts = append(charts, svgChart("Concurrent calls", "calls", xs, []series{
			{"up", "#9467bd", col(func(p Point) float64 { return float64(p.Concurrent) })},
		}))
	}
	if r.ESL != nil {
		charts = append(charts, svgChart("ESL events received", "events/s", xs, []series{
			{"all subscribers", "#8c564b", col(func(p Point) float64 { return p.Events })},
		}))
	}
	if r.Switch.Spawned {
		charts = append(charts,
			svgChart("Switch CPU", "% of one core", xs, []series{{"cpu", "#ff7f0e", col(func(p Point) float64 { return p.CPU })}}),
			svgChart("Switch RSS", "MiB", xs, []series{{"rss", "#17becf", col(func(p Point) float64 { return float64(p.RSS) / (1 << 20) })}}))
	}
	lat := []namedLatency{{"setup INVITE→200", r.Setup}, {"ringing INVITE→180", r.Ringing}}
	if r.Register != nil {
		lat = []namedLatency{{"REGISTER (with digest round)", r.Register.Latency}}
	}
	if r.ESL != nil {
		lat = append(lat, namedLatency{"ESL delivery lag", r.ESL.Lag})
	}
	var fails []kv
	for _, k := range sortedKeys(r.FailuresByCode) {
		fails = append(fails, kv{k, r.FailuresByCode[k]})
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render html: %w", err)
	}
	var buf bytes.Buffer
	data := map[string]any{"R": r, "Charts": charts, "Lat": lat, "Fail": fails, "JSON": string(js)}
	if err := reportTmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render html: %w", err)
	}
	return buf.Bytes(), nil
}
