//! Charts for result files (`training.svg`, `plateau.svg`, …), drawn once with plotters and
//! written as SVG ([`render`], [`chart_svg`]) and PNG ([`render_png`], [`chart_png`]).
//!
//! Text is laid out with an embedded DejaVu Sans subset (`fonts/`, licence beside it) through
//! ab_glyph, so no system font stack (fontconfig, freetype) is needed and a PNG looks the same
//! on every machine. Tick values are chosen here rather than by plotters: 1, 2, 5 × 10ᵏ on
//! logarithmic axes (labelled `10⁻⁴` …), integer steps when every x is an integer (qubit counts,
//! epochs), and round 1, 2, 5 steps otherwise. The legend goes into the corner of the plot that
//! holds the fewest points; when every corner holds some, the y range grows to make room.

use super::axis::{linear_ticks, log_ticks, pad, span, to_axis, Axis};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

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

/// One panel: axes, curves, labels (the plain form of a [`Chart`]).
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

/// A curve with optional error bars.
#[derive(Clone, Debug)]
pub struct Curve {
    /// Legend label.
    pub name: String,
    /// `(x, y)` points; non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
    /// Half-widths of the error bars, one per point (`y ± e`, e.g. a standard error); `None`
    /// draws no bars, a non-finite or non-positive entry none at that point.
    pub errors: Option<Vec<f64>>,
}

impl Curve {
    /// A curve named `name` through `points`, without error bars.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            errors: None,
        }
    }

    /// The same curve with error bars `y ± errors[i]` at point `i`.
    pub fn with_errors(mut self, errors: Vec<f64>) -> Self {
        self.errors = Some(errors);
        self
    }
}

impl From<Series> for Curve {
    fn from(s: Series) -> Self {
        Curve::new(s.name, s.points)
    }
}

/// One panel with every option: logarithmic x, error bars.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Title above the panel: what was run.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Logarithmic x axis (non-positive values are skipped).
    pub log_x: bool,
    /// Logarithmic y axis (non-positive values are skipped; error bars reaching below zero are
    /// cut at the bottom of the axis).
    pub log_y: bool,
    /// Fixed y range, else the data's (with its error bars).
    pub y_range: Option<(f64, f64)>,
    /// Curves.
    pub curves: Vec<Curve>,
}

impl From<Panel> for Chart {
    fn from(p: Panel) -> Self {
        Chart {
            title: p.title,
            x_label: p.x_label,
            y_label: p.y_label,
            log_x: false,
            log_y: p.log_y,
            y_range: p.y_range,
            curves: p.series.into_iter().map(Curve::from).collect(),
        }
    }
}

/// A chart that could not be drawn or encoded.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The embedded font was rejected (a build defect, not an input error).
    #[error("the embedded chart font could not be loaded")]
    Font,
    /// plotters failed to draw panel `panel` (0-based).
    #[error("drawing panel {panel} of the chart failed: {message}")]
    Draw {
        /// Which panel.
        panel: usize,
        /// plotters' message.
        message: String,
    },
    /// The PNG encoder failed.
    #[error("encoding the {width}×{height} PNG failed: {message}")]
    Encode {
        /// Image width in pixels.
        width: u32,
        /// Image height in pixels.
        height: u32,
        /// The encoder's message.
        message: String,
    },
}

/// Width of one panel in pixels (SVG user units).
pub const PANEL_WIDTH: u32 = 640;
/// Height of a chart in pixels (SVG user units).
pub const PANEL_HEIGHT: u32 = 440;

static FONT: &[u8] = include_bytes!("fonts/DejaVuSans-subset.ttf");
const FAMILY: &str = "sans-serif";
const COLORS: [RGBColor; 8] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x17, 0xbe, 0xcf),
];
/// Pixels between the panel's edge and its plot area, for tick labels and axis titles.
const LEFT: u32 = 78;
const BOTTOM: u32 = 52;
const TOP: u32 = 40;
const RIGHT: u32 = 20;

fn register_font() -> Result<(), PlotError> {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *ONCE
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

/// Renders panels side by side as one SVG document. A panel that cannot be drawn is replaced
/// by a line of text saying why (an SVG result file is never missing because of its chart).
pub fn render(panels: &[Panel]) -> String {
    chart_svg(&panels.iter().cloned().map(Chart::from).collect::<Vec<_>>())
}

/// [`render`] as a PNG image ([`PANEL_WIDTH`] × number of panels by [`PANEL_HEIGHT`] pixels).
///
/// # Errors
/// [`PlotError`] when drawing or encoding fails.
pub fn render_png(panels: &[Panel]) -> Result<Vec<u8>, PlotError> {
    chart_png(&panels.iter().cloned().map(Chart::from).collect::<Vec<_>>())
}

/// Charts side by side as one SVG document (see [`render`]).
pub fn chart_svg(charts: &[Chart]) -> String {
    let (w, h) = size(charts);
    let mut out = String::new();
    let drawn = register_font().and_then(|()| {
        let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
        draw_all(&root, charts)?;
        root.present().map_err(|e| PlotError::Draw {
            panel: 0,
            message: e.to_string(),
        })
    });
    match drawn {
        Ok(()) => out,
        Err(e) => format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\"><text x=\"10\" y=\"20\">{}</text></svg>\n",
            escape(&e.to_string())
        ),
    }
}

/// Charts side by side as a PNG image (see [`render_png`]).
///
/// # Errors
/// [`PlotError`] when drawing or encoding fails.
pub fn chart_png(charts: &[Chart]) -> Result<Vec<u8>, PlotError> {
    register_font()?;
    let (w, h) = size(charts);
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let font = ab_glyph::FontRef::try_from_slice(FONT).map_err(|_| PlotError::Font)?;
        let root = super::glyphs::Glyphs::new(BitMapBackend::with_buffer(&mut rgb, (w, h)), font)
            .into_drawing_area();
        draw_all(&root, charts)?;
        root.present().map_err(|e| PlotError::Draw {
            panel: 0,
            message: e.to_string(),
        })?;
    }
    let encode_err = |e: png::EncodingError| PlotError::Encode {
        width: w,
        height: h,
        message: e.to_string(),
    };
    let mut bytes = Vec::new();
    let mut enc = png::Encoder::new(&mut bytes, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(encode_err)?;
    writer.write_image_data(&rgb).map_err(encode_err)?;
    writer.finish().map_err(encode_err)?;
    Ok(bytes)
}

fn size(charts: &[Chart]) -> (u32, u32) {
    (PANEL_WIDTH * charts.len().max(1) as u32, PANEL_HEIGHT)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn draw_all<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    charts: &[Chart],
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(|e| PlotError::Draw {
        panel: 0,
        message: e.to_string(),
    })?;
    if charts.is_empty() {
        return Ok(());
    }
    let areas = root.split_evenly((1, charts.len()));
    for (i, (area, chart)) in areas.iter().zip(charts).enumerate() {
        draw_chart(area, chart).map_err(|message| PlotError::Draw { panel: i, message })?;
    }
    Ok(())
}

/// One curve's points on the axes, with the error bar ends (`None` without a bar).
type Placed = Vec<((f64, f64), Option<(f64, f64)>)>;

fn place(c: &Curve, log_x: bool, log_y: bool, y_floor: f64) -> Placed {
    c.points
        .iter()
        .enumerate()
        .filter_map(|(i, &(x, y))| {
            let (px, py) = (to_axis(x, log_x)?, to_axis(y, log_y)?);
            let bar = c
                .errors
                .as_ref()
                .and_then(|e| e.get(i).copied())
                .filter(|e| e.is_finite() && *e > 0.0)
                .map(|e| {
                    let lo = to_axis(y - e, log_y).unwrap_or(y_floor);
                    let hi = to_axis(y + e, log_y).unwrap_or(py);
                    (lo, hi)
                });
            Some(((px, py), bar))
        })
        .collect()
}

fn draw_chart<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Chart) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let all_x = c
        .curves
        .iter()
        .flat_map(|k| k.points.iter())
        .filter_map(|&(x, y)| to_axis(x, c.log_x).filter(|_| to_axis(y, c.log_y).is_some()));
    let (x_lo, x_hi) = pad(span(all_x).unwrap_or((0.0, 1.0)), c.log_x);
    let integer_x = !c.log_x
        && c.curves
            .iter()
            .flat_map(|k| k.points.iter())
            .all(|&(x, _)| !x.is_finite() || x.fract() == 0.0);
    // The lowest point first, so that a bar reaching below zero on a log axis has an end.
    let data_y = span(
        c.curves
            .iter()
            .flat_map(|k| k.points.iter())
            .filter_map(|&(_, y)| to_axis(y, c.log_y)),
    );
    let floor = data_y.map_or(0.0, |(lo, hi)| lo - 0.5 * (hi - lo).max(0.5));
    let placed: Vec<Placed> = c
        .curves
        .iter()
        .map(|k| place(k, c.log_x, c.log_y, floor))
        .collect();
    let (y_lo, mut y_hi) = match c.y_range.and_then(|(a, b)| {
        Some((to_axis(a, c.log_y)?, to_axis(b, c.log_y)?)).filter(|(a, b)| b > a)
    }) {
        Some(r) => r,
        None => pad(
            span(placed.iter().flatten().flat_map(|&((_, y), bar)| {
                let (a, b) = bar.unwrap_or((y, y));
                [y, a.max(floor), b]
            }))
            .unwrap_or((0.0, 1.0)),
            c.log_y,
        ),
    };

    // The legend: the corner with the fewest points, growing the y range if none is empty.
    // A curve with nothing to draw on these axes (e.g. only values ≤ 0 on a log axis) is
    // left out of it, so that it names only what the reader can find in the plot; each entry
    // keeps its curve's colour.
    let names: Vec<(usize, &str)> = c
        .curves
        .iter()
        .zip(&placed)
        .enumerate()
        .filter(|(_, (_, p))| !p.is_empty())
        .map(|(i, (k, _))| (i, k.name.as_str()))
        .collect();
    let plot_w = f64::from(area.dim_in_pixel().0.saturating_sub(LEFT + RIGHT)).max(1.0);
    let plot_h = f64::from(area.dim_in_pixel().1.saturating_sub(TOP + BOTTOM)).max(1.0);
    let legend_w = 34.0 + 7.6 * names.iter().map(|n| n.1.chars().count()).max().unwrap_or(0) as f64;
    let legend_h = 8.0 + 19.0 * names.len() as f64;
    let pts: Vec<(f64, f64)> = placed
        .iter()
        .flatten()
        .flat_map(|&((x, y), bar)| {
            let (a, b) = bar.unwrap_or((y, y));
            [(x, y), (x, a), (x, b)]
        })
        .collect();
    let corner = |right: bool, top: bool, y_lo: f64, y_hi: f64| -> usize {
        let fw = (legend_w + 12.0) / plot_w;
        let fh = (legend_h + 12.0) / plot_h;
        pts.iter()
            .filter(|&&(x, y)| {
                let u = (x - x_lo) / (x_hi - x_lo);
                let v = (y - y_lo) / (y_hi - y_lo);
                let in_x = if right { u >= 1.0 - fw } else { u <= fw };
                let in_y = if top { v >= 1.0 - fh } else { v <= fh };
                in_x && in_y
            })
            .count()
    };
    let fixed = c.y_range.is_some();
    let mut best = [(true, true), (false, true), (true, false), (false, false)]
        .into_iter()
        .map(|(r, t)| (corner(r, t, y_lo, y_hi), r, t))
        .min_by_key(|&(n, _, _)| n)
        .unwrap_or((0, true, true));
    if best.0 > 0 && !names.is_empty() && !fixed {
        // Room above the data for the legend, only as much as it needs: in the top corner
        // whose column of the plot holds the lower points, the y range grows until the
        // highest of them sits below the box. Growing by the legend's whole height instead
        // added decades of empty axis wherever the data are high on one side only.
        let fh = ((legend_h + 16.0) / plot_h).min(0.6);
        let fw = (legend_w + 12.0) / plot_w;
        let needed = |right: bool| {
            let top = pts
                .iter()
                .filter(|&&(x, _)| {
                    let u = (x - x_lo) / (x_hi - x_lo);
                    if right {
                        u >= 1.0 - fw
                    } else {
                        u <= fw
                    }
                })
                .map(|&(_, y)| y)
                .fold(f64::NEG_INFINITY, f64::max);
            if top.is_finite() {
                y_hi.max(y_lo + (top - y_lo) / (1.0 - fh))
            } else {
                y_hi
            }
        };
        let (hi, right) = [(needed(true), true), (needed(false), false)]
            .into_iter()
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or((y_hi, true));
        y_hi = hi;
        best = (corner(right, true, y_lo, y_hi), right, true);
    }
    if y_hi <= y_lo {
        y_hi = y_lo + 1.0;
    }
    let (_, legend_right, legend_top) = best;

    let x_ticks = if c.log_x {
        log_ticks(x_lo, x_hi)
    } else {
        linear_ticks(x_lo, x_hi, integer_x)
    };
    let y_ticks = if c.log_y {
        log_ticks(y_lo, y_hi)
    } else {
        linear_ticks(y_lo, y_hi, false)
    };
    let x_labels = x_ticks.major.clone();
    let y_labels = y_ticks.major.clone();
    let label_of = |ticks: &[(f64, String)], v: f64| -> String {
        ticks
            .iter()
            .find(|(t, _)| (t - v).abs() < 1e-9 * (1.0 + t.abs()))
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    };
    let x_fmt = |v: &f64| label_of(&x_labels, *v);
    let y_fmt = |v: &f64| label_of(&y_labels, *v);

    let title_size = (20.0f64)
        .min(1.9 * f64::from(area.dim_in_pixel().0) / c.title.chars().count().max(1) as f64)
        .max(11.0);
    let mut chart = ChartBuilder::on(area)
        .caption(&c.title, (FAMILY, title_size))
        .margin_top(6)
        .margin_left(12)
        .margin_right(RIGHT)
        .x_label_area_size(BOTTOM - 6)
        .y_label_area_size(LEFT - 6)
        .build_cartesian_2d(
            Axis::new(x_lo, x_hi, &x_ticks),
            Axis::new(y_lo, y_hi, &y_ticks),
        )
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(c.x_label.as_str())
        .y_desc(c.y_label.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .light_line_style(RGBColor(0xf2, 0xf2, 0xf2))
        .axis_style(RGBColor(0x44, 0x44, 0x44))
        .draw()
        .map_err(e)?;

    let cap = 0.006 * (x_hi - x_lo);
    for (i, pts) in placed.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let line = color.stroke_width(2);
        let xy: Vec<(f64, f64)> = pts.iter().map(|p| p.0).collect();
        if xy.len() > 1 {
            chart
                .draw_series(std::iter::once(PathElement::new(xy.clone(), line)))
                .map_err(e)?;
        }
        if xy.len() <= 60 {
            chart
                .draw_series(xy.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(e)?;
        }
        for &((x, _), bar) in pts {
            if let Some((a, b)) = bar {
                let a = a.max(y_lo);
                let b = b.min(y_hi);
                chart
                    .draw_series([
                        PathElement::new(vec![(x, a), (x, b)], color.stroke_width(1)),
                        PathElement::new(vec![(x - cap, a), (x + cap, a)], color.stroke_width(1)),
                        PathElement::new(vec![(x - cap, b), (x + cap, b)], color.stroke_width(1)),
                    ])
                    .map_err(e)?;
            }
        }
    }

    if !names.is_empty() {
        let (xr, yr) = chart.plotting_area().get_pixel_range();
        let (ox, oy) = area.get_base_pixel();
        let w = legend_w as i32;
        let h = legend_h as i32;
        let x0 = if legend_right {
            xr.end - w - 8
        } else {
            xr.start + 8
        } - ox;
        let y0 = if legend_top {
            yr.start + 8
        } else {
            yr.end - h - 8
        } - oy;
        area.draw(&Rectangle::new(
            [(x0, y0), (x0 + w, y0 + h)],
            ShapeStyle::from(&WHITE.mix(0.85)).filled(),
        ))
        .map_err(e)?;
        area.draw(&Rectangle::new(
            [(x0, y0), (x0 + w, y0 + h)],
            RGBColor(0xbb, 0xbb, 0xbb).stroke_width(1),
        ))
        .map_err(e)?;
        for (row, &(i, name)) in names.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let y = y0 + 14 + 19 * row as i32;
            area.draw(&PathElement::new(
                vec![(x0 + 6, y), (x0 + 26, y)],
                color.stroke_width(2),
            ))
            .map_err(e)?;
            area.draw(&Circle::new((x0 + 16, y), 3, color.filled()))
                .map_err(e)?;
            area.draw(&Text::new(
                name.to_string(),
                (x0 + 32, y - 8),
                (FAMILY, 14).into_font().color(&BLACK),
            ))
            .map_err(e)?;
        }
    }
    Ok(())
}
