//! The digits study: the principal components against a case with a known answer and against
//! the variances of the projected data, the reduced file `qep reproduce` writes, and the sizes
//! of the model that learns it.

use std::path::Path;

use qep::study::digits::{
    digits_pca_csv, learning_chart, mean_curve, pca, CLASSES, COMPONENTS, PER_CLASS,
};

use crate::common::repo;

#[test]
fn pca_recovers_a_known_covariance() {
    // Four points a·u + b·v + m with a = ±3, b = ±1 and orthonormal u, v: the sample
    // covariance (n − 1 = 3) is 12 uuᵀ + (4/3) vvᵀ, so the variances are 12, 4/3, 0 and the
    // coordinates of each point on the two components are (a, b) up to the components' signs.
    let u = [1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0];
    let v = [2.0 / 3.0, 1.0 / 3.0, -2.0 / 3.0];
    let m = [5.0, -1.0, 2.0];
    let ab = [(3.0, 1.0), (3.0, -1.0), (-3.0, 1.0), (-3.0, -1.0)];
    let rows: Vec<Vec<f64>> = ab
        .iter()
        .map(|&(a, b)| (0..3).map(|i| a * u[i] + b * v[i] + m[i]).collect())
        .collect();
    let p = pca(&rows, 2).expect("pca");
    for (got, want) in p.variances.iter().zip([12.0, 4.0 / 3.0, 0.0]) {
        assert!((got - want).abs() < 1e-12, "{:?}", p.variances);
    }
    for (i, &mi) in m.iter().enumerate() {
        assert!((p.mean[i] - mi).abs() < 1e-12, "{:?}", p.mean);
    }
    // Signed so that the largest entry is positive: u as given, v as given.
    for (c, want) in p.components.iter().zip([u, v]) {
        for (x, y) in c.iter().zip(want) {
            assert!((x - y).abs() < 1e-12, "{c:?} vs {want:?}");
        }
    }
    for (r, &(a, b)) in rows.iter().zip(&ab) {
        let x = p.project(r);
        assert!(
            (x[0] - a).abs() < 1e-12 && (x[1] - b).abs() < 1e-12,
            "{x:?}"
        );
    }
    assert!((p.explained() - 1.0).abs() < 1e-12);
    assert!(pca(&rows, 4).is_err() && pca(&rows[..1], 1).is_err());
}

/// The coordinates of the reduced file: `(header, rows of numbers, labels)`.
fn reduced(text: &str) -> (Vec<String>, Vec<Vec<f64>>, Vec<String>) {
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_string)
        .collect();
    let (mut rows, mut labels) = (Vec::new(), Vec::new());
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        rows.push(
            f[..f.len() - 1]
                .iter()
                .map(|x| x.parse().expect("number"))
                .collect(),
        );
        labels.push(f[f.len() - 1].to_string());
    }
    (header, rows, labels)
}

#[test]
fn the_reduced_digits_are_uncorrelated_with_the_eigenvalues_as_variances() {
    let raw = std::fs::read_to_string(repo("data/digits.csv")).expect("data/digits.csv");
    let d = digits_pca_csv(&raw, &CLASSES, PER_CLASS, COMPONENTS).expect("reduce");
    assert_eq!(d.rows_per_class, vec![PER_CLASS; CLASSES.len()]);
    let (header, rows, labels) = reduced(&d.csv);
    assert_eq!(header, ["pc1", "pc2", "pc3", "pc4", "class"]);
    assert_eq!(rows.len(), PER_CLASS * CLASSES.len());
    for c in CLASSES {
        let n = labels.iter().filter(|l| **l == c.to_string()).count();
        assert_eq!(n, PER_CLASS, "class {c}");
    }
    // Independent of the eigensolver: the sample covariance of the projected coordinates is
    // diagonal, with the leading eigenvalues on the diagonal (to the file's 6 decimals), and
    // the total variance is the trace of the pixel covariance.
    let n = rows.len() as f64;
    let mean: Vec<f64> = (0..COMPONENTS)
        .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n)
        .collect();
    for j in 0..COMPONENTS {
        assert!(mean[j].abs() < 1e-5, "mean of pc{} = {}", j + 1, mean[j]);
        for k in 0..=j {
            let c = rows.iter().map(|r| r[j] * r[k]).sum::<f64>() / (n - 1.0);
            let want = if j == k { d.pca.variances[j] } else { 0.0 };
            assert!(
                (c - want).abs() < 1e-5 * d.pca.variances[0],
                "cov(pc{}, pc{}) = {c}, expected {want}",
                j + 1,
                k + 1
            );
        }
    }
    let pixels: Vec<Vec<f64>> = raw
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<f64> = l.split(',').map(|x| x.parse().expect("number")).collect();
            let c = f[64] as u32;
            CLASSES.contains(&c).then(|| f[..64].to_vec())
        })
        .collect();
    // The first PER_CLASS of each class in file order, as digits_pca_csv keeps them.
    let mut count = [0usize; 10];
    let labels_all: Vec<u32> = raw
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next()?.parse().ok())
        .filter(|c| CLASSES.contains(c))
        .collect();
    let kept: Vec<&Vec<f64>> = pixels
        .iter()
        .zip(&labels_all)
        .filter(|(_, &c)| {
            count[c as usize] += 1;
            count[c as usize] <= PER_CLASS
        })
        .map(|(r, _)| r)
        .collect();
    let trace: f64 = (0..64)
        .map(|j| {
            let m = kept.iter().map(|r| r[j]).sum::<f64>() / n;
            kept.iter().map(|r| (r[j] - m).powi(2)).sum::<f64>() / (n - 1.0)
        })
        .sum();
    let total: f64 = d.pca.variances.iter().sum();
    assert!((total / trace - 1.0).abs() < 1e-10, "{total} vs {trace}");
    let e = d.pca.explained();
    assert!(e > 0.5 && e < 1.0, "explained {e}");
    // The file the model reads is the one qep reproduce writes from data/digits.csv.
    let committed =
        std::fs::read_to_string(repo("results/digits/digits-pca.csv")).expect("reduced file");
    assert_eq!(committed, d.csv);
}

#[test]
fn the_digits_model_has_the_stated_sizes() {
    let m = qep::hamiltonian::load(Path::new(&repo("hamiltonians/digits.yaml"))).expect("model");
    assert_eq!(m.qubits, 10);
    assert_eq!(m.inputs.len(), COMPONENTS);
    assert_eq!(m.outputs.len(), CLASSES.len());
    // 12 input→hidden, 9 hidden→output, 12 input→output ZZ couplings; 6 Z biases.
    assert_eq!(m.params.len(), 12 + 9 + 12 + 6);
    let d = m.dataset.as_ref().expect("dataset");
    assert_eq!(d.classes, ["0", "1", "2"]);
    assert_eq!((d.train.len(), d.test.len()), (126, 54));
    for x in d.train.iter().chain(&d.test) {
        assert_eq!(x.inputs.len(), COMPONENTS);
        assert!(x.inputs.iter().all(|u| (-3.0..=3.0).contains(u)));
        assert_eq!(x.targets.iter().filter(|t| **t == 1.0).count(), 1);
    }
}

#[test]
fn learning_curves_average_over_seeds() {
    let runs = vec![vec![0.5, 0.7, 0.9], vec![0.7, 0.9, 1.0, 1.0]];
    let c = mean_curve(&runs);
    assert_eq!(c.len(), 3);
    assert!((c[0].0 - 0.6).abs() < 1e-12 && (c[0].1 - 0.02f64.sqrt()).abs() < 1e-12);
    assert!((c[2].0 - 0.95).abs() < 1e-12);
    let chart = learning_chart("t", &[("exact".into(), runs.clone(), runs)]);
    assert_eq!(chart.curves.len(), 2);
    assert_eq!(chart.curves[0].points[1], (2.0, 0.8));
    assert!(chart.curves[0].errors.is_some() && chart.curves[1].errors.is_none());
}
