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
