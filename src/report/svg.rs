//! Minimal SVG line charts for result files (`training.svg`, later `shots.svg`, …).
//!
//! Written by hand rather than with plotters: plotters needs a font stack to lay out text,
//! while an SVG viewer renders `<text>` itself; a chart here is a few dozen lines of
//! deterministic markup that diff cleanly between runs.

use std::fmt::Write;

/// One curve.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// `(x, y)` points; non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A curve named `name` through `points`.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
        }
    }
}

/// One panel: axes, curves, labels.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Title above the panel.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Logarithmic y axis (non-positive values are skipped).
    pub log_y: bool,
    /// Fixed y range, else the data's.
    pub y_range: Option<(f64, f64)>,
    /// Curves.
    pub series: Vec<Series>,
}

const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];
const W: f64 = 420.0;
const H: f64 = 300.0;
const ML: f64 = 64.0;
const MR: f64 = 16.0;
const MT: f64 = 32.0;
const MB: f64 = 44.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Tick label: short and exact enough for an axis.
fn tick(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e4 || v.abs() < 1e-3) {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Renders panels side by side as one SVG document.
pub fn render(panels: &[Panel]) -> String {
    let total_w = W * panels.len().max(1) as f64;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{H}" viewBox="0 0 {total_w} {H}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (pi, p) in panels.iter().enumerate() {
        panel(&mut s, p, pi as f64 * W);
    }
    s.push_str("</svg>\n");
    s
}

fn panel(s: &mut String, p: &Panel, x0: f64) {
    let ty = |y: f64| if p.log_y { y.log10() } else { y };
    let pts: Vec<(f64, f64)> = p
        .series
        .iter()
        .flat_map(|c| c.points.iter().copied())
        .filter(|&(x, y)| x.is_finite() && y.is_finite() && (!p.log_y || y > 0.0))
        .map(|(x, y)| (x, ty(y)))
        .collect();
    let (mut xmin, mut xmax) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(x, _)| {
            (a.min(x), b.max(x))
        });
    let (mut ymin, mut ymax) = match p.y_range {
        Some((a, b)) => (ty(a), ty(b)),
        None => pts
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, y)| {
                (a.min(y), b.max(y))
            }),
    };
    if !xmin.is_finite() {
        (xmin, xmax) = (0.0, 1.0);
    }
    if !ymin.is_finite() {
        (ymin, ymax) = (0.0, 1.0);
    }
    if xmax == xmin {
        xmax = xmin + 1.0;
    }
    if ymax == ymin {
        ymax = ymin + 1.0;
    }
    let (pw, ph) = (W - ML - MR, H - MT - MB);
    let sx = |x: f64| x0 + ML + (x - xmin) / (xmax - xmin) * pw;
    let sy = |y: f64| MT + ph - (y - ymin) / (ymax - ymin) * ph;
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="18" text-anchor="middle" font-size="13">{}</text>"#,
        x0 + ML + pw / 2.0,
        esc(&p.title)
    );
    let _ = writeln!(
        s,
        r##"<rect x="{:.1}" y="{MT}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>"##,
        x0 + ML
    );
    for i in 0..=4 {
        let f = i as f64 / 4.0;
        let (xv, yv) = (xmin + f * (xmax - xmin), ymin + f * (ymax - ymin));
        let ylab = if p.log_y {
            tick(10f64.powf(yv))
        } else {
            tick(yv)
        };
        let _ = writeln!(
            s,
            r##"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            x0 + ML,
            x0 + ML + pw,
            sy(yv),
            sy(yv),
            x0 + ML - 4.0,
            sy(yv) + 4.0,
            ylab
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            sx(xv),
            MT + ph + 16.0,
            tick(xv)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        x0 + ML + pw / 2.0,
        H - 8.0,
        esc(&p.x_label)
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate({:.1},{:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        x0 + 14.0,
        MT + ph / 2.0,
        esc(&p.y_label)
    );
    for (ci, c) in p.series.iter().enumerate() {
        let color = COLORS[ci % COLORS.len()];
        let path: Vec<String> = c
            .points
            .iter()
            .filter(|&&(x, y)| x.is_finite() && y.is_finite() && (!p.log_y || y > 0.0))
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(ty(y))))
            .collect();
        if !path.is_empty() {
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{}"/>"#,
                path.join(" ")
            );
        }
        let ly = MT + 12.0 + 14.0 * ci as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{:.1}" x2="{:.1}" y1="{ly:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            x0 + ML + pw - 110.0,
            x0 + ML + pw - 92.0,
            x0 + ML + pw - 88.0,
            ly + 4.0,
            esc(&c.name)
        );
    }
}
