package report

import (
	"fmt"
	"image/color"
	"os"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// sideColors are the bar colours of the three sides.
var sideColors = map[string]color.Color{
	Replicasd: color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	APIServer: color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	Baseline:  color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
}

// panel is one bar chart: a value per side and protocol.
type panel struct {
	title, unit string
	row         string
	size        int
	value       func(*Measurement) float64
}

// Chart draws the throughput and p99 of the three sides, HTTP/2 and
// HTTP/1.1 side by side, to a PNG at path.
func Chart(r *Results, path string) error {
	size := r.Settings.PrimarySize
	listSize := 0
	for _, s := range r.Settings.Sizes {
		listSize = max(listSize, s)
	}
	panels := [][]panel{
		{
			{title: "GET one: max throughput", unit: "requests/s", row: RowGetMax, size: size,
				value: func(m *Measurement) float64 { return m.Median.ReqPerSec }},
			{title: "GET one: p99 at ½ kube-apiserver's max" + p99Note(r, size), unit: "ms", row: RowGetFixed, size: size,
				value: func(m *Measurement) float64 { return m.Median.P99 }},
		},
		{
			{title: fmt.Sprintf("LIST %s Deployments: throughput%s", count(listSize), listRatio(r, listSize)), unit: "requests/s", row: RowList, size: listSize,
				value: func(m *Measurement) float64 { return m.Median.ReqPerSec }},
			{title: "New mTLS connections (keep-alive off)", unit: "handshakes/s", row: RowHandshake, size: size,
				value: func(m *Measurement) float64 { return m.Median.ReqPerSec }},
		},
	}
	plots := make([][]*plot.Plot, len(panels))
	for i, row := range panels {
		for _, pn := range row {
			p, err := barPlot(r, pn)
			if err != nil {
				return err
			}
			plots[i] = append(plots[i], p)
		}
	}
	const width, height = 12 * vg.Inch, 8 * vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(panels), Cols: 2, PadX: vg.Inch / 3, PadY: vg.Inch / 3,
		PadTop: vg.Inch / 5, PadBottom: vg.Inch / 5, PadLeft: vg.Inch / 5, PadRight: vg.Inch / 5}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		for j, p := range plots[i] {
			p.Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing the chart: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing the chart: %w", err)
	}
	return f.Close()
}

func barPlot(r *Results, pn panel) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.title
	p.Y.Label.Text = pn.unit
	p.Y.Min = 0
	p.NominalX("HTTP/2", "HTTP/1.1")
	p.Legend.Top = true
	barWidth := vg.Points(28)
	var sides []string
	for _, side := range sideOrder {
		if r.Find(pn.row, pn.size, side, H2) != nil || r.Find(pn.row, pn.size, side, H1) != nil {
			sides = append(sides, side)
		}
	}
	top := 0.0
	for i, side := range sides {
		values := make(plotter.Values, 2)
		for j, proto := range []string{H2, H1} {
			if m := r.Find(pn.row, pn.size, side, proto); m != nil {
				values[j] = pn.value(m)
				top = max(top, values[j])
			}
		}
		bars, err := plotter.NewBarChart(values, barWidth)
		if err != nil {
			return nil, err
		}
		bars.Color = sideColors[side]
		bars.LineStyle.Width = 0
		bars.Offset = barWidth * vg.Length(float64(i)-float64(len(sides)-1)/2)
		p.Add(bars)
		p.Legend.Add(side, bars)
	}
	// Room above the bars for the legend.
	p.Y.Max = top * 1.3
	return p, nil
}

// listRatio names how many times kube-apiserver's LIST rate replicasd's
// is, since kube-apiserver's bars are too small to see.
func listRatio(r *Results, size int) string {
	var parts []string
	for _, proto := range []string{H2, H1} {
		rsd, api := r.Find(RowList, size, Replicasd, proto), r.Find(RowList, size, APIServer, proto)
		if rsd != nil && api != nil && api.Median.ReqPerSec > 0 {
			parts = append(parts, fmt.Sprintf("%.0f×", rsd.Median.ReqPerSec/api.Median.ReqPerSec))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (replicasd " + strings.Join(parts, ", ") + " kube-apiserver's)"
}

// p99Note gives replicasd's and the baseline's p99s, too small to see
// next to kube-apiserver's.
func p99Note(r *Results, size int) string {
	var parts []string
	for _, side := range []string{Replicasd, Baseline} {
		var v []string
		for _, proto := range []string{H2, H1} {
			if m := r.Find(RowGetFixed, size, side, proto); m != nil {
				v = append(v, msStr(m.Median.P99))
			}
		}
		if len(v) > 0 {
			parts = append(parts, side+" "+strings.Join(v, "/"))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "\n(" + strings.Join(parts, " ms, ") + " ms)"
}
