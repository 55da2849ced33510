//! The shot-aware default β: with shots and no β chosen for them, β comes from the bias–noise
//! error model (`qep::ep::shot_beta`). Its scaling with the shot budget, its agreement with
//! the β that minimises the measured error, and who wins when β is given.

use std::path::Path;

use qep::ep::{shot_aware_beta, BetaSource, Engine, EpOverrides, EpParams, ShotAwareBeta};
use qep::hamiltonian::{load, parse_str, Model};

use crate::common::{json, model, qep, succeeds};

fn load_model(name: &str) -> Model {
    load(Path::new(&model(name))).unwrap()
}

/// Least-squares slope of `ln y` against `ln x`.
fn log_slope(x: &[f64], y: &[f64]) -> f64 {
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let n = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = lx.iter().map(|a| (a - mx) * (a - mx)).sum();
    sxy / sxx
}

/// β* from the library for S = 10², …, 10⁶ on xor: the log-log slope is −1/6 (symmetric) and
/// −1/4 (one-sided) — a formula with S-independent σ and b, so checked to 1e-9, and σ, b are
/// the same at every S.
#[test]
fn shot_aware_beta_scales_as_the_error_model_says() {
    let m = load_model("xor.yaml");
    let ex = m.dataset.as_ref().unwrap().train[0].clone();
    let shots = [100u64, 1_000, 10_000, 100_000, 1_000_000];
    for (one_sided, exponent) in [(false, -1.0 / 6.0), (true, -0.25)] {
        let p = EpParams {
            one_sided,
            ..EpParams::default()
        };
        let fits: Vec<ShotAwareBeta> = shots
            .iter()
            .map(|&s| shot_aware_beta(&m, &m.theta(), &ex, &p, s).unwrap())
            .collect();
        let betas: Vec<f64> = fits.iter().map(|f| f.beta).collect();
        assert!(
            betas.iter().all(|&b| b > 1e-3 && b < 1.0),
            "premise: no β at the rule's limits: {betas:?}"
        );
        assert!(fits
            .iter()
            .all(|f| f.sigma == fits[0].sigma && f.b == fits[0].b));
        assert!(fits[0].sigma > 0.0 && fits[0].b > 0.0, "{:?}", fits[0]);
        let x: Vec<f64> = shots.iter().map(|&s| s as f64).collect();
        let slope = log_slope(&x, &betas);
        assert!(
            (slope - exponent).abs() < 1e-9,
            "one-sided {one_sided}: slope {slope}"
        );
        assert_eq!(fits[0].exponent, exponent);
        // The closed form, recomputed here.
        let s = 1_000f64;
        let want = if one_sided {
            (fits[1].sigma / (fits[1].b * s.sqrt())).sqrt()
        } else {
            (fits[1].sigma / (2.0 * fits[1].b * s.sqrt())).cbrt()
        };
        assert!((fits[1].beta - want).abs() < 1e-12 * want);
    }
}

/// The root-mean-square error of the shot-based EP gradient over a β grid (S = 1000 shots per
/// group and state, 60 seeded repeats per β, against the exact gradient): the shot-aware β
/// lies within a factor 2 of the grid's best, on xor and on the Heisenberg network.
#[test]
fn shot_aware_beta_is_near_the_measured_optimum() {
    let s = 1_000;
    for name in ["xor.yaml", "heisenberg_xor.yaml"] {
        let m = load_model(name);
        let ex = m.dataset.as_ref().unwrap().train[1].clone();
        let theta = m.theta();
        let base = EpParams {
            gap: false,
            ..EpParams::default()
        };
        let exact = Engine::Eigen.exact(&m, &theta, &ex, &base).unwrap();
        let chosen = shot_aware_beta(&m, &theta, &ex, &base, s).unwrap().beta;
        let grid: Vec<f64> = (0..16).map(|i| 0.02 * 1.3f64.powi(i)).collect();
        let rms: Vec<f64> = grid
            .iter()
            .map(|&beta| {
                let mut sum = 0.0;
                let repeats = 60;
                for r in 0..repeats {
                    let p = EpParams {
                        beta,
                        shots: Some(s),
                        shot_seed: 1_000 + r,
                        ..base.clone()
                    };
                    let g = Engine::Eigen.gradient(&m, &theta, &ex, &p).unwrap();
                    sum +=
                        g.ep.iter()
                            .zip(&exact)
                            .map(|(a, b)| (a - b) * (a - b))
                            .sum::<f64>();
                }
                (sum / (repeats as f64 * exact.len() as f64)).sqrt()
            })
            .collect();
        let (best_i, _) = rms
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .unwrap();
        let best = grid[best_i];
        assert!(
            best_i > 0 && best_i + 1 < grid.len(),
            "{name}: premise: the optimum lies inside the grid: {grid:?} {rms:?}"
        );
        let ratio = chosen / best;
        assert!(
            (0.5..=2.0).contains(&ratio),
            "{name}: chosen β {chosen:.4} vs measured best {best:.4} (rms {rms:?})"
        );
    }
}

/// `qep grad --shots` without `--beta` picks the shot-aware β, prints it with its reason and
/// records `beta_source: shot-aware` with the fit; `--beta` wins over it; a model file that
/// sets both `shots` and `beta` keeps its β.
#[test]
fn explicit_beta_wins_and_the_choice_is_recorded() {
    let xor = model("xor.yaml");
    let v = json(&["grad", &xor, "--shots", "1000"]);
    assert_eq!(v["beta_source"], "shot-aware");
    let beta = v["beta"].as_f64().unwrap();
    let m = load_model("xor.yaml");
    let ex = m.dataset.as_ref().unwrap().train[0].clone();
    let p = EpParams::from_model(
        &m,
        &EpOverrides {
            shots: Some(1000),
            ..EpOverrides::default()
        },
    )
    .unwrap();
    let want = shot_aware_beta(&m, &m.theta(), &ex, &p, 1000).unwrap();
    assert!(
        (beta - want.beta).abs() < 1e-9 * want.beta,
        "{beta} vs {}",
        want.beta
    );
    assert!(
        beta > 0.05,
        "β {beta} is far above the exact-expectation default"
    );
    assert_eq!(v["shot_aware"]["b"].as_f64(), Some(want.b));
    let settings = &v["provenance"]["settings"];
    assert_eq!(settings["beta_source"], "shot-aware", "{settings}");
    assert!(settings["shot_aware"]["sigma"].as_f64().unwrap() > 0.0);

    let given = json(&["grad", &xor, "--shots", "1000", "--beta", "0.05"]);
    assert_eq!(given["beta"].as_f64(), Some(0.05));
    assert_eq!(given["beta_source"], "given");
    assert!(given.get("shot_aware").is_none());
    assert!(given["provenance"]["settings"].get("beta_source").is_none());

    let text = String::from_utf8(
        succeeds(qep().args(["grad", &xor, "--shots", "1000"]))
            .stdout
            .clone(),
    )
    .unwrap();
    assert!(
        text.contains(&format!(
            "β = {:.4}: shot-aware default for S = 1000 shots",
            want.beta
        )),
        "{text}"
    );

    // A model that chose β for its own shots keeps it.
    let both = parse_str(
        "qubits: 2\ninputs: [0]\noutputs: [1]\nterms:\n  - {pauli: X0, coeff: -1}\n  - {pauli: X1, coeff: -1}\nparams:\n  - {pauli: Z0 Z1, value: 0.4}\nshots: 500\nbeta: 0.07\ndataset:\n  inputs: [[1]]\n  targets: [[1]]\n",
        Path::new("both.yaml"),
    )
    .unwrap();
    let mut p = EpParams::from_model(&both, &EpOverrides::default()).unwrap();
    let ex = both.first_example().unwrap();
    assert!(p
        .apply_shot_aware_beta(&both, &both.theta(), &ex)
        .unwrap()
        .is_none());
    assert_eq!((p.beta, p.beta_source), (0.07, BetaSource::Model));
    // Shots from the caller: the file's β was tuned without them and gives way.
    let mut p = EpParams::from_model(
        &both,
        &EpOverrides {
            shots: Some(2_000),
            ..EpOverrides::default()
        },
    )
    .unwrap();
    assert!(p
        .apply_shot_aware_beta(&both, &both.theta(), &ex)
        .unwrap()
        .is_some());
    assert_eq!(p.beta_source, BetaSource::ShotAware);
    assert!(p.beta != 0.07);
}

/// `qep run --shots` prints the chosen β and records it in the run's settings.
#[test]
fn run_with_shots_uses_and_records_the_shot_aware_beta() {
    let dir = tempfile::tempdir().unwrap();
    let out = succeeds(
        qep()
            .args(["run", &model("xor.yaml"), "--epochs", "1", "--shots", "400"])
            .arg("--out")
            .arg(dir.path()),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("xor: β = ") && err.contains("shot-aware default for S = 400 shots"),
        "{err}"
    );
    let ck = std::fs::read_to_string(dir.path().join("checkpoint.json")).unwrap();
    assert!(ck.contains("\"beta_source\": \"shot-aware\""), "{ck}");
}
