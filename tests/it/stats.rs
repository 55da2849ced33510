//! Tests for `measure::stats`: the delete-one jackknife against closed forms (the standard
//! error of a mean, a ratio of means to first order) and the one Welford accumulator.

use qep::measure::stats::{jackknife, Welford};

#[test]
fn jackknife_of_the_mean_is_the_standard_error() {
    let xs = [0.3, -1.2, 2.5, 0.7, 0.0, 4.1, -0.6, 1.9];
    let rows: Vec<Vec<f64>> = xs.iter().map(|&x| vec![x, 2.0 * x + 1.0]).collect();
    let r = xs.len() as f64;
    let (est, se) = jackknife(&rows, |tot| tot.iter().map(|t| t / r).collect());
    let mut w = Welford::default();
    xs.iter().for_each(|&x| w.push(x));
    // s/√R with s² = Σ(x − x̄)²/(R − 1), by hand.
    let mean = xs.iter().sum::<f64>() / r;
    let s2 = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (r - 1.0);
    let sem = (s2 / r).sqrt();
    assert!((est[0] - mean).abs() < 1e-15, "{est:?}");
    assert!((se[0] - sem).abs() < 1e-14 * sem, "{} vs {sem}", se[0]);
    assert!((w.sem() - sem).abs() < 1e-14 * sem, "Welford {}", w.sem());
    // A linear function of the column: its error scales with it.
    assert!((est[1] - (2.0 * mean + 1.0)).abs() < 1e-14);
    assert!((se[1] - 2.0 * sem).abs() < 1e-13 * sem, "{}", se[1]);
}

#[test]
fn jackknife_of_a_ratio_matches_the_delta_method_and_needs_two_rows() {
    // Pairs (a_i, b_i) with a ≈ 3 b: the ratio Σa/Σb, its delta-method error
    // √(Σ (a_i − q b_i)² / (R (R − 1))) / b̄ agrees with the jackknife to O(1/R).
    let rows: Vec<Vec<f64>> = (0..400)
        .map(|i| {
            let b = 1.0 + 0.3 * ((i * 7919) % 101) as f64 / 101.0;
            let a = 3.0 * b + 0.2 * (((i * 104_729) % 97) as f64 / 97.0 - 0.5);
            vec![a, b]
        })
        .collect();
    let r = rows.len() as f64;
    let (q, se) = jackknife(&rows, |t| vec![t[0] / t[1]]);
    let (sa, sb) = rows
        .iter()
        .fold((0.0, 0.0), |(x, y), row| (x + row[0], y + row[1]));
    assert!((q[0] - sa / sb).abs() < 1e-15);
    let bbar = sb / r;
    let delta = (rows
        .iter()
        .map(|row| (row[0] - q[0] * row[1]).powi(2))
        .sum::<f64>()
        / (r * (r - 1.0)))
        .sqrt()
        / bbar;
    assert!(
        (se[0] / delta - 1.0).abs() < 0.02,
        "jackknife {} vs delta method {delta}",
        se[0]
    );
    let (one, nan) = jackknife(&rows[..1], |t| vec![t[0] / t[1]]);
    assert_eq!(one[0], rows[0][0] / rows[0][1]);
    assert!(nan[0].is_nan());
}
