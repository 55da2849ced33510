//! Charts (`report::svg`): tick values, error bars, legends, and PNG images that decode.

use qep::report::svg::{
    chart_png, chart_svg, render, render_png, Chart, Curve, Panel, Series, PANEL_HEIGHT,
    PANEL_WIDTH,
};

/// Decodes a PNG and returns its width and height.
pub(crate) fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    (info.width, info.height)
}

/// The text of every `<text>` element of an SVG document, trimmed.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = t.split_once('>')?.1;
            Some(body.split_once("</text>")?.0.trim().to_string())
        })
        .collect()
}

/// Asserts that the SVG has a text element reading exactly `label`.
fn has_label(svg: &str, label: &str) {
    let t = texts(svg);
    assert!(t.iter().any(|x| x == label), "no label {label:?} in {t:?}");
}

fn variance_chart() -> Chart {
    let n = [4.0, 6.0, 8.0, 10.0];
    let v = [1e-1, 1e-2, 1e-3, 1e-4];
    Chart {
        title: "gradient variance, chain, 50 draws".into(),
        x_label: "qubits N".into(),
        y_label: "Var".into(),
        log_x: false,
        log_y: true,
        y_range: None,
        curves: vec![Curve::new("all", n.iter().copied().zip(v).collect())
            .with_errors(v.iter().map(|x| 0.3 * x).collect())],
    }
}

#[test]
fn log_axis_over_three_decades_is_labelled_by_powers_of_ten() {
    let svg = chart_svg(&[variance_chart()]);
    for label in ["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹"] {
        has_label(&svg, label);
    }
    // Qubit counts are whole numbers: ticks 4, 6, 8, 10 (step 2 for this range), no 4.5.
    for label in ["4", "6", "8", "10"] {
        has_label(&svg, label);
    }
    assert!(!texts(&svg)
        .iter()
        .any(|t| t == "4.5" || t == "5" || t == "5.0"));
    assert!(svg.contains("gradient variance, chain, 50 draws"));
}

#[test]
fn error_bars_are_drawn_from_the_given_half_widths() {
    let with = chart_svg(&[variance_chart()]);
    let mut bare = variance_chart();
    bare.curves[0].errors = None;
    let without = chart_svg(&[bare]);
    // Each bar is one vertical stroke and two caps: three more paths per point.
    let paths = |s: &str| s.matches("<polyline").count() + s.matches("<path").count();
    assert_eq!(paths(&with), paths(&without) + 3 * 4, "{with}");
}

#[test]
fn short_log_axis_gets_one_two_five_ticks() {
    let chart = Chart {
        y_range: Some((0.01, 0.2)),
        ..variance_chart()
    };
    let svg = chart_svg(&[chart]);
    for label in ["0.01", "0.02", "0.05", "0.1", "0.2"] {
        has_label(&svg, label);
    }
}

#[test]
fn png_decodes_with_one_panel_width_per_panel() {
    let panel = Panel {
        title: "accuracy".into(),
        x_label: "epoch".into(),
        y_label: "fraction correct".into(),
        log_y: false,
        y_range: Some((0.0, 1.0)),
        series: vec![Series::new(
            "train",
            (1..=20)
                .map(|e| (e as f64, 0.5 + 0.02 * e as f64))
                .collect(),
        )],
    };
    let png = render_png(&[panel.clone(), panel.clone()]).expect("a PNG");
    assert_eq!(png_size(&png), (2 * PANEL_WIDTH, PANEL_HEIGHT));
    let svg = render(&[panel]);
    for label in ["0", "0.2", "0.4", "0.6", "0.8", "1.0"] {
        has_label(&svg, label);
    }
    let one = chart_png(&[variance_chart()]).expect("a PNG");
    assert_eq!(png_size(&one), (PANEL_WIDTH, PANEL_HEIGHT));
}

#[test]
fn log_x_axis_and_empty_or_non_finite_data_still_draw() {
    let chart = Chart {
        title: "RMS error vs shots".into(),
        x_label: "shots".into(),
        y_label: "RMS".into(),
        log_x: true,
        log_y: true,
        y_range: None,
        curves: vec![
            Curve::new(
                "β = 0.1",
                vec![(100.0, 0.3), (1000.0, 0.1), (1e4, 0.03), (1e5, f64::NAN)],
            ),
            Curve::new("empty", vec![]),
        ],
    };
    let svg = chart_svg(std::slice::from_ref(&chart));
    for label in ["100", "1000"] {
        has_label(&svg, label);
    }
    assert!(chart_png(&[chart]).is_ok());
    assert!(chart_png(&[]).is_ok());
}

#[test]
fn a_curve_with_nothing_to_draw_stays_out_of_the_legend() {
    // On a log axis a curve of values ≤ 0 (a noise-corrected variance that came out negative)
    // draws nothing: the legend names the two curves that are drawn, in their own colours.
    let mut chart = variance_chart();
    chart.curves.push(Curve::new(
        "corrected",
        vec![(4.0, -1e-3), (6.0, 0.0), (8.0, f64::NAN)],
    ));
    chart
        .curves
        .push(Curve::new("noise", vec![(4.0, 1e-2), (10.0, 1e-3)]));
    let svg = chart_svg(std::slice::from_ref(&chart));
    has_label(&svg, "all");
    has_label(&svg, "noise");
    assert!(
        !texts(&svg).iter().any(|t| t == "corrected"),
        "{:?}",
        texts(&svg)
    );
    // The third colour (the third curve's) is used for "noise", the first for "all"; the
    // second (that of the curve left out) appears nowhere.
    assert!(svg.contains("#2CA02C") && svg.contains("#1F77B4"), "{svg}");
    assert!(!svg.contains("#D62728"), "{svg}");
}

/// Widths of the blank column runs between the inked columns of the window `cols` × `rows`
/// of a PNG: the gaps between the letters of a label drawn there.
fn letter_gaps(bytes: &[u8], cols: std::ops::Range<u32>, rows: std::ops::Range<u32>) -> Vec<u32> {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    let w = info.width;
    let inked = |x: u32| {
        rows.clone().any(|y| {
            let i = ((y * w + x) * 3) as usize;
            buf[i..i + 3].iter().map(|&c| u32::from(c)).sum::<u32>() < 3 * 160
        })
    };
    let ink: Vec<bool> = cols.map(inked).collect();
    let first = ink.iter().position(|&c| c).expect("ink");
    let last = ink.iter().rposition(|&c| c).expect("ink");
    let mut gaps = Vec::new();
    let mut run = 0;
    for &c in &ink[first..=last] {
        if c {
            if run > 0 {
                gaps.push(run);
            }
            run = 0;
        } else {
            run += 1;
        }
    }
    gaps
}

#[test]
fn png_labels_keep_letters_evenly_spaced() {
    // The x label "epoch" (14 px, centred under the plot): its letters must be spaced as the
    // font says. Drawn without each glyph's left side bearing, `e` and `p` touched and a gap
    // opened after the `p` ("ep och").
    let chart = Chart {
        title: String::new(),
        x_label: "epoch".into(),
        y_label: String::new(),
        log_x: false,
        log_y: false,
        y_range: Some((0.0, 1.0)),
        curves: vec![Curve::new("a", vec![(0.0, 0.5), (1.0, 0.5)])],
    };
    let png = chart_png(&[chart]).expect("PNG");
    let gaps = letter_gaps(&png, 300..420, PANEL_HEIGHT - 22..PANEL_HEIGHT);
    // e|p, p|o, o|c, c|h: four gaps, none more than 1 px wider than another.
    assert_eq!(gaps.len(), 4, "{gaps:?}");
    let (lo, hi) = (
        gaps.iter().min().expect("gaps"),
        gaps.iter().max().expect("gaps"),
    );
    assert!(hi - lo <= 1, "uneven letter gaps {gaps:?}");
}

#[test]
fn training_chart_starts_with_the_untrained_network_at_epoch_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("xor");
    crate::common::succeeds(crate::common::qep().args([
        "run",
        &crate::common::model("xor.yaml"),
        "--epochs",
        "3",
        "--out",
        out.to_str().expect("utf-8"),
    ]));
    let svg = std::fs::read_to_string(out.join("training.svg")).expect("training.svg");
    // The train curves (first colour, 2 px) of the cost and accuracy panels: epochs 0..=3.
    let curves: Vec<usize> = svg
        .split("<polyline")
        .skip(1)
        .filter(|p| p.contains("stroke=\"#1F77B4\" stroke-width=\"2\""))
        .filter_map(|p| p.split("points=\"").nth(1)?.split('"').next())
        .map(|pts| pts.split_whitespace().count())
        .filter(|&n| n > 2)
        .collect();
    assert_eq!(curves, vec![4, 4], "{curves:?}");
    // metrics.csv keeps one row per trained epoch.
    let csv = std::fs::read_to_string(out.join("metrics.csv")).expect("metrics.csv");
    assert_eq!(csv.lines().count(), 1 + 3);
    assert!(
        csv.lines().nth(1).is_some_and(|l| l.starts_with("1,")),
        "{csv}"
    );
}

#[test]
fn a_tall_legend_grows_the_axis_only_as_far_as_it_needs() {
    // The shot-noise chart's shape: eight curves falling from the left (up to 5 at x = 10²)
    // to between 0.002 and 0.25 on the right, on log-log axes. Every corner holds points, so
    // the legend needs room above the data; over the right-hand column the data reach only
    // 0.25, so the axis grows to about 16 there. Growing by the legend's whole height (half
    // the plot) doubled the range in decades: ticks up to 10⁴, three empty decades.
    let xs: [f64; 5] = [1e2, 1e3, 1e4, 1e5, 1e6];
    let curves: Vec<Curve> = (0..8)
        .map(|k| {
            let a = 5.0 / 2f64.powi(k);
            let floor = if k % 2 == 0 {
                0.25
            } else {
                0.002 * f64::from(k)
            };
            Curve::new(
                format!("β = {}", 0.0125 * 2f64.powi(k)),
                xs.iter()
                    .map(|&x| (x, (a * (1e2 / x).sqrt()).max(floor)))
                    .collect(),
            )
        })
        .collect();
    let chart = Chart {
        title: "shot-based EP".into(),
        x_label: "shots S".into(),
        y_label: "RMS error".into(),
        log_x: true,
        log_y: true,
        y_range: None,
        curves,
    };
    let svg = chart_svg(std::slice::from_ref(&chart));
    let t = texts(&svg);
    has_label(&svg, "1");
    assert!(
        !t.iter().any(|x| x == "100" || x == "1000" || x == "10000"),
        "{t:?}"
    );
    assert!(chart_png(&[chart]).is_ok());
}
