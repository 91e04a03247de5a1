//! Self-contained SVG charts (no scripts, no network): scatter/bubble maps, bar charts, a
//! dendrogram, a heatmap, line charts and stacked bars. Plain data in, an `<svg>` string out,
//! so `bertopic report` and a web app draw the same charts. Every mark has an SVG `<title>`,
//! which browsers show as a hover tooltip.

use std::fmt::Write as _;

/// Outlier topic colour.
pub const GREY: &str = "#b0b0b0";

/// A colour per index (Tableau 20, dark shades first), cycling.
pub fn color(i: usize) -> &'static str {
    const P: [&str; 20] = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
        "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
        "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
    ];
    P[i % P.len()]
}

/// The colour of a topic id (outliers grey).
pub fn topic_color(topic: i64) -> &'static str {
    if topic < 0 {
        GREY
    } else {
        color(topic as usize)
    }
}

/// Escapes text for SVG/HTML content and attributes.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

fn open(w: f64, h: f64, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" \
         viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"Helvetica,Arial,sans-serif\" font-size=\"12\">\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
         <text x=\"{:.0}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
        w / 2.0,
        esc(title)
    )
}

/// About `n` round tick values covering `[lo, hi]`.
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    // Ticks are counted by index: with a span near the values' rounding error (a flat curve
    // whose points differ in the last bits), `t += step` stops advancing and never ends.
    let first = (lo / step).ceil();
    let last = (hi / step + 1e-9).floor();
    if last < first || last - first > 1000.0 {
        return vec![lo];
    }
    (0..=(last - first) as usize)
        .map(|i| {
            let t = (first + i as f64) * step;
            if t.abs() < step * 1e-9 {
                0.0
            } else {
                t
            }
        })
        .collect()
}

/// A tick value with as many decimals as the tick step needs (0.7125 stays 0.7125).
fn fmt_tick(v: f64, ticks: &[f64]) -> String {
    let step = match ticks {
        [a, b, ..] => (b - a).abs(),
        _ => return fmt_num(v),
    };
    let mut decimals = 0usize;
    while decimals < 8
        && ((step * 10f64.powi(decimals as i32)).round() - step * 10f64.powi(decimals as i32)).abs()
            > 1e-6
    {
        decimals += 1;
    }
    format!("{v:.decimals$}")
}

fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1000.0 || (v.fract() == 0.0 && v.abs() >= 1.0) {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// A point of a [`scatter`] chart.
#[derive(Debug, Clone)]
pub struct Point {
    /// Horizontal coordinate, in data units.
    pub x: f64,
    /// Vertical coordinate, in data units.
    pub y: f64,
    /// Radius in pixels.
    pub r: f64,
    /// Fill colour (any SVG colour).
    pub color: String,
    /// Hover text.
    pub title: String,
    /// Text drawn at the point (empty: none).
    pub label: String,
}

/// A scatter or bubble chart (axes hidden: the 2-D coordinates of a reduction mean nothing).
#[derive(Debug, Clone)]
pub struct Scatter {
    /// Chart title.
    pub title: String,
    /// Width in pixels.
    pub width: f64,
    /// Height in pixels.
    pub height: f64,
    /// Fill opacity of the points, 0 to 1.
    pub opacity: f64,
    /// The points, drawn in order.
    pub points: Vec<Point>,
    /// (colour, text) legend entries, drawn on the right.
    pub legend: Vec<(String, String)>,
    /// Axis captions (x, y).
    pub axes: (String, String),
}

/// Draws a [`Scatter`].
pub fn scatter(s: &Scatter) -> String {
    let legend_w = if s.legend.is_empty() { 0.0 } else { 230.0 };
    let (w, h) = (s.width, s.height);
    let (l, r, t, b) = (40.0, 20.0 + legend_w, 35.0, 35.0);
    let mut o = open(w, h, &s.title);
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in &s.points {
        x0 = x0.min(p.x);
        x1 = x1.max(p.x);
        y0 = y0.min(p.y);
        y1 = y1.max(p.y);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    let pad = 0.05;
    let sx = |x: f64| l + ((x - x0) / (x1 - x0) * (1.0 - 2.0 * pad) + pad) * (w - l - r);
    let sy = |y: f64| h - b - ((y - y0) / (y1 - y0) * (1.0 - 2.0 * pad) + pad) * (h - t - b);
    let _ = writeln!(
        o,
        "<rect x=\"{l}\" y=\"{t}\" width=\"{:.0}\" height=\"{:.0}\" fill=\"none\" stroke=\"#ccc\"/>",
        w - l - r,
        h - t - b
    );
    let _ = writeln!(
        o,
        "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" fill=\"#555\">{}</text>\
         <text x=\"15\" y=\"{:.0}\" text-anchor=\"middle\" fill=\"#555\" transform=\"rotate(-90 15 {:.0})\">{}</text>",
        l + (w - l - r) / 2.0,
        h - 10.0,
        esc(&s.axes.0),
        t + (h - t - b) / 2.0,
        t + (h - t - b) / 2.0,
        esc(&s.axes.1)
    );
    // Big marks first so small ones stay visible on top.
    let mut order: Vec<&Point> = s.points.iter().collect();
    order.sort_by(|a, b| b.r.total_cmp(&a.r));
    for p in order {
        let _ = writeln!(
            o,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{:.1}\" fill=\"{}\" fill-opacity=\"{}\" stroke=\"white\" stroke-width=\"0.5\"><title>{}</title></circle>",
            sx(p.x),
            sy(p.y),
            p.r,
            p.color,
            s.opacity,
            esc(&p.title)
        );
    }
    for p in s.points.iter().filter(|p| !p.label.is_empty()) {
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"10\" pointer-events=\"none\">{}</text>",
            sx(p.x),
            sy(p.y),
            esc(&p.label)
        );
    }
    legend(&mut o, &s.legend, w - legend_w + 10.0, t);
    o.push_str("</svg>\n");
    o
}

fn legend(o: &mut String, items: &[(String, String)], x: f64, y: f64) {
    for (i, (c, text)) in items.iter().enumerate() {
        let yy = y + 8.0 + 16.0 * i as f64;
        let short: String = text.chars().take(32).collect();
        let _ = writeln!(
            o,
            "<rect x=\"{x:.0}\" y=\"{:.0}\" width=\"10\" height=\"10\" fill=\"{c}\"/><text x=\"{:.0}\" y=\"{:.0}\">{}<title>{}</title></text>",
            yy - 9.0,
            x + 15.0,
            yy,
            esc(&short),
            esc(text)
        );
    }
}

/// A horizontal bar chart: `bars` top to bottom.
pub fn bars(title: &str, bars: &[(String, f64)], color: &str, width: f64) -> String {
    let row = 18.0;
    let (t, label_w) = (32.0, 110.0);
    let h = t + row * bars.len() as f64 + 10.0;
    let mut o = open(width, h, title);
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max);
    let plot = width - label_w - 55.0;
    for (i, (label, v)) in bars.iter().enumerate() {
        let y = t + row * i as f64;
        let bw = if max > 0.0 { v / max * plot } else { 0.0 };
        let _ = writeln!(
            o,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{label_w:.0}\" y=\"{:.0}\" width=\"{bw:.1}\" height=\"{:.0}\" fill=\"{color}\"><title>{}: {}</title></rect>\
             <text x=\"{:.0}\" y=\"{:.0}\" fill=\"#555\" font-size=\"10\">{}</text>",
            label_w - 5.0,
            y + 12.0,
            esc(label),
            y + 2.0,
            row - 4.0,
            esc(label),
            fmt_num(*v),
            label_w + bw + 4.0,
            y + 12.0,
            fmt_num(*v)
        );
    }
    o.push_str("</svg>\n");
    o
}

/// A dendrogram (SciPy linkage numbering: leaves `0..n`, merge `k` is node `n + k`), leaves
/// on the left with their labels, distance growing to the right.
pub fn dendrogram(
    title: &str,
    leaves: &[String],
    merges: &[(usize, usize, f64)],
    node_titles: &[String],
    width: f64,
) -> String {
    let n = leaves.len();
    let row = 14.0;
    let (t, label_w, r) = (35.0, 300.0, 30.0);
    let h = t + row * n.max(1) as f64 + 40.0;
    let mut o = open(width, h, title);
    if n == 0 || merges.len() + 1 != n {
        o.push_str("</svg>\n");
        return o;
    }
    // Leaf order: depth first from the root, left child first.
    let mut order = Vec::with_capacity(n);
    let mut stack = vec![n + merges.len() - 1];
    while let Some(id) = stack.pop() {
        if id < n {
            order.push(id);
        } else {
            let (a, b, _) = merges[id - n];
            stack.push(b);
            stack.push(a);
        }
    }
    let mut y = vec![0.0; n + merges.len()];
    let mut x = vec![0.0; n + merges.len()];
    for (pos, &leaf) in order.iter().enumerate() {
        y[leaf] = t + row * pos as f64 + row / 2.0;
    }
    let dmax = merges.iter().map(|m| m.2).fold(0.0, f64::max).max(1e-12);
    let plot = width - label_w - r;
    let sx = |d: f64| label_w + d / dmax * plot;
    for xi in x.iter_mut().take(n) {
        *xi = sx(0.0);
    }
    for (k, &(a, b, d)) in merges.iter().enumerate() {
        let id = n + k;
        x[id] = sx(d);
        y[id] = (y[a] + y[b]) / 2.0;
        let tip = node_titles.get(k).map(String::as_str).unwrap_or("");
        let _ = writeln!(
            o,
            "<path d=\"M{:.1},{:.1}H{:.1}V{:.1}H{:.1}\" fill=\"none\" stroke=\"#4a6fa5\" stroke-width=\"1.2\"><title>{} (distance {:.3})</title></path>",
            x[a], y[a], x[id], y[b], x[b], esc(tip), d
        );
    }
    for &leaf in &order {
        let label: String = leaves[leaf].chars().take(48).collect();
        let _ = writeln!(
            o,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\" dominant-baseline=\"middle\">{}<title>{}</title></text>",
            label_w - 4.0,
            y[leaf],
            esc(&label),
            esc(&leaves[leaf])
        );
    }
    let base = t + row * n as f64 + 8.0;
    let _ = writeln!(
        o,
        "<line x1=\"{label_w}\" y1=\"{base:.0}\" x2=\"{:.0}\" y2=\"{base:.0}\" stroke=\"#333\"/>",
        label_w + plot
    );
    let dt = ticks(0.0, dmax, 6);
    for &v in &dt {
        let _ = writeln!(
            o,
            "<line x1=\"{0:.1}\" y1=\"{base:.0}\" x2=\"{0:.1}\" y2=\"{1:.0}\" stroke=\"#333\"/><text x=\"{0:.1}\" y=\"{2:.0}\" text-anchor=\"middle\" font-size=\"10\">{3}</text>",
            sx(v),
            base + 4.0,
            base + 16.0,
            fmt_tick(v, &dt)
        );
    }
    let _ = writeln!(
        o,
        "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" fill=\"#555\">Ward distance</text>",
        label_w + plot / 2.0,
        base + 30.0
    );
    o.push_str("</svg>\n");
    o
}

/// A square heatmap of `matrix` (rows and columns labelled by `labels`), white → dark blue
/// over `[lo, hi]`.
pub fn heatmap(title: &str, labels: &[String], matrix: &[Vec<f64>], lo: f64, hi: f64) -> String {
    let n = labels.len();
    let cell = (560.0 / n.max(1) as f64).clamp(8.0, 28.0);
    let label_w = 170.0;
    let w = label_w + cell * n as f64 + 90.0;
    let h = 35.0 + cell * n as f64 + label_w;
    let mut o = open(w, h, title);
    let t = 35.0;
    let shade = |v: f64| {
        let f = ((v - lo) / (hi - lo).max(1e-12)).clamp(0.0, 1.0);
        let c = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
        format!(
            "#{:02x}{:02x}{:02x}",
            c(247.0, 8.0),
            c(251.0, 48.0),
            c(255.0, 107.0)
        )
    };
    for (i, row) in matrix.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let _ = write!(
                o,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{cell:.1}\" height=\"{cell:.1}\" fill=\"{}\"><title>{} × {}: {v:.3}</title></rect>",
                label_w + cell * j as f64,
                t + cell * i as f64,
                shade(v),
                esc(&labels[i]),
                esc(&labels[j])
            );
        }
        o.push('\n');
    }
    let fs = (cell * 0.8).clamp(7.0, 11.0);
    for (i, l) in labels.iter().enumerate() {
        let short: String = l.chars().take(26).collect();
        let y = t + cell * i as f64 + cell / 2.0;
        let x = label_w + cell * i as f64 + cell / 2.0;
        let yb = t + cell * n as f64 + 4.0;
        let text = esc(&short);
        let lx = label_w - 4.0;
        let _ = writeln!(
            o,
            "<text x=\"{lx:.0}\" y=\"{y:.1}\" text-anchor=\"end\" dominant-baseline=\"middle\" font-size=\"{fs:.0}\">{text}</text>\
             <text x=\"{x:.1}\" y=\"{yb:.1}\" text-anchor=\"end\" dominant-baseline=\"middle\" font-size=\"{fs:.0}\" transform=\"rotate(-60 {x:.1} {yb:.1})\">{text}</text>"
        );
    }
    // Colour scale.
    let sx = label_w + cell * n as f64 + 20.0;
    for k in 0..20 {
        let v = hi - (hi - lo) * k as f64 / 19.0;
        let _ = write!(
            o,
            "<rect x=\"{sx:.0}\" y=\"{:.0}\" width=\"14\" height=\"8\" fill=\"{}\"/>",
            t + 8.0 * k as f64,
            shade(v)
        );
    }
    let _ = writeln!(
        o,
        "<text x=\"{:.0}\" y=\"{:.0}\" font-size=\"10\">{}</text><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"10\">{}</text>",
        sx + 18.0,
        t + 8.0,
        fmt_num(hi),
        sx + 18.0,
        t + 160.0,
        fmt_num(lo)
    );
    o.push_str("</svg>\n");
    o
}

/// A line of a [`lines`] chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// Line colour.
    pub color: String,
    /// (x, y, hover text) points, x ascending.
    pub points: Vec<(f64, f64, String)>,
}

/// A line chart with labelled x ticks (`x_ticks`: position and text) and a legend.
pub fn lines(
    title: &str,
    series: &[Series],
    x_ticks: &[(f64, String)],
    axes: (&str, &str),
    width: f64,
    height: f64,
) -> String {
    let legend_w = 230.0;
    let (l, r, t, b) = (60.0, 20.0 + legend_w, 35.0, 60.0);
    let mut o = open(width, height, title);
    let pts = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in pts {
        x0 = x0.min(p.0);
        x1 = x1.max(p.0);
        y0 = y0.min(p.1);
        y1 = y1.max(p.1);
    }
    if x0 > x1 {
        o.push_str("<text x=\"60\" y=\"80\">no data</text></svg>\n");
        return o;
    }
    if y0 > 0.0 && y0 < 0.5 * y1 {
        y0 = 0.0;
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    // A flat series (values equal up to rounding) gets a unit range, not a 1e-16 one.
    if y1 - y0 <= 1e-9 * y0.abs().max(y1.abs()) || y1 <= y0 {
        y1 = y0 + 1.0;
    }
    let (pw, ph) = (width - l - r, height - t - b);
    let sx = |x: f64| l + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| t + ph - (y - y0) / (y1 - y0) * ph;
    let yt = ticks(y0, y1, 5);
    for &v in &yt {
        let _ = writeln!(
            o,
            "<line x1=\"{l}\" y1=\"{0:.1}\" x2=\"{1:.0}\" y2=\"{0:.1}\" stroke=\"#eee\"/><text x=\"{2:.0}\" y=\"{0:.1}\" text-anchor=\"end\" dominant-baseline=\"middle\" font-size=\"10\">{3}</text>",
            sy(v),
            l + pw,
            l - 5.0,
            fmt_tick(v, &yt)
        );
    }
    let every = (x_ticks.len() / 12).max(1);
    for (x, text) in x_ticks.iter().step_by(every) {
        let _ = writeln!(
            o,
            "<line x1=\"{0:.1}\" y1=\"{1:.0}\" x2=\"{0:.1}\" y2=\"{2:.0}\" stroke=\"#333\"/><text x=\"{0:.1}\" y=\"{3:.0}\" text-anchor=\"end\" font-size=\"10\" transform=\"rotate(-35 {0:.1} {3:.0})\">{4}</text>",
            sx(*x),
            t + ph,
            t + ph + 4.0,
            t + ph + 14.0,
            esc(text)
        );
    }
    let _ = writeln!(
        o,
        "<path d=\"M{l},{t}V{:.0}H{:.0}\" fill=\"none\" stroke=\"#333\"/>\
         <text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" fill=\"#555\">{}</text>\
         <text x=\"14\" y=\"{:.0}\" text-anchor=\"middle\" fill=\"#555\" transform=\"rotate(-90 14 {:.0})\">{}</text>",
        t + ph,
        l + pw,
        l + pw / 2.0,
        height - 8.0,
        esc(axes.0),
        t + ph / 2.0,
        t + ph / 2.0,
        esc(axes.1)
    );
    for s in series {
        let path: Vec<String> = s
            .points
            .iter()
            .map(|p| format!("{:.1},{:.1}", sx(p.0), sy(p.1)))
            .collect();
        let _ = writeln!(
            o,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"><title>{}</title></polyline>",
            path.join(" "),
            s.color,
            esc(&s.name)
        );
        for p in &s.points {
            let _ = write!(
                o,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"><title>{}</title></circle>",
                sx(p.0),
                sy(p.1),
                s.color,
                esc(&p.2)
            );
        }
        o.push('\n');
    }
    let items: Vec<(String, String)> = series
        .iter()
        .map(|s| (s.color.clone(), s.name.clone()))
        .collect();
    legend(&mut o, &items, width - legend_w + 10.0, t);
    o.push_str("</svg>\n");
    o
}

/// A segment of a [`stacked_bars`] row.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Length of the segment, in data units.
    pub value: f64,
    /// Fill colour.
    pub color: String,
    /// Hover text.
    pub title: String,
}

/// Horizontal bars of shares (each row scaled to 100 %), one per category.
pub fn stacked_bars(
    title: &str,
    rows: &[(String, Vec<Segment>)],
    legend_items: &[(String, String)],
    width: f64,
) -> String {
    let row = 22.0;
    let (t, label_w, legend_w) = (35.0, 170.0, 230.0);
    let h = (t + row * rows.len() as f64 + 30.0).max(t + 16.0 * legend_items.len() as f64 + 20.0);
    let mut o = open(width, h, title);
    let plot = width - label_w - legend_w - 20.0;
    for (i, (name, segs)) in rows.iter().enumerate() {
        let y = t + row * i as f64;
        let total: f64 = segs.iter().map(|s| s.value).sum();
        let _ = write!(
            o,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{} ({})</text>",
            label_w - 5.0,
            y + 14.0,
            esc(&name.chars().take(22).collect::<String>()),
            fmt_num(total)
        );
        let mut x = label_w;
        for s in segs {
            let w = if total > 0.0 {
                s.value / total * plot
            } else {
                0.0
            };
            let _ = write!(
                o,
                "<rect x=\"{x:.1}\" y=\"{:.0}\" width=\"{w:.1}\" height=\"{:.0}\" fill=\"{}\"><title>{} ({:.1} %)</title></rect>",
                y + 2.0,
                row - 4.0,
                s.color,
                esc(&s.title),
                if total > 0.0 { 100.0 * s.value / total } else { 0.0 }
            );
            x += w;
        }
        o.push('\n');
    }
    legend(&mut o, legend_items, width - legend_w + 10.0, t);
    o.push_str("</svg>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(
            ticks(0.0, 1.0, 5),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(ticks(3.0, 3.0, 5), vec![3.0]);
        // A span at the values' rounding error (a flat coherence curve) ends, with few ticks.
        let lo = 0.527_f64;
        let hi = lo + 2.0 * f64::EPSILON;
        assert!(ticks(lo, hi, 5).len() <= 7);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let svg = bars("t<", &[("x&y".into(), 1.0)], "#000", 300.0);
        assert!(svg.contains("t&lt;") && svg.contains("x&amp;y") && !svg.contains("x&y"));
    }

    #[test]
    fn dendrogram_draws_every_merge() {
        let leaves: Vec<String> = (0..4).map(|i| format!("t{i}")).collect();
        let svg = dendrogram(
            "d",
            &leaves,
            &[(0, 1, 1.0), (2, 3, 2.0), (4, 5, 3.0)],
            &[],
            600.0,
        );
        assert_eq!(svg.matches("<path").count(), 3);
        for leaf in &leaves {
            assert!(
                svg.contains(&format!(">{leaf}<title>{leaf}</title>")),
                "{leaf}"
            );
        }
    }
}
