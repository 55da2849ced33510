//! Where the covariance formula of Eq. 43 fails (`qep thermal-scan`): at each temperature, the
//! relative errors of the covariance, clamped and Kubo–Mori thermal EP gradients against the
//! exact thermal gradient (the dense side-by-side comparison of [`crate::ep::thermal`]).

use serde::Serialize;

use crate::cancel::Cancel;
use crate::ep::thermal::thermal_gradients;
use crate::evolve::{density_bytes, gibbs_memory, GibbsDensity};
use crate::hamiltonian::{Model, ModelError};
use crate::report::svg::{chart_png, chart_svg, Chart, Curve, PlotError};
use crate::report::{OnProgress, Progress};
use crate::state::MemoryPlan;
use crate::Error;

/// Settings of [`thermal_scan`]; serialised as the provenance of its result.
#[derive(Clone, Debug, Serialize)]
pub struct ThermalScanSettings {
    /// The temperatures `T`, scanned in this order.
    pub temperatures: Vec<f64>,
    /// Clamping strength `β`.
    pub beta: f64,
    /// Index of the training example.
    pub example: usize,
}

/// One temperature: relative errors `‖est − exact‖/‖exact‖` over the XX, ZZ and all parameters.
#[derive(Clone, Debug, Serialize)]
pub struct ThermalScanRow {
    /// Temperature `T`.
    pub temperature: f64,
    /// Covariance estimator over the XX couplings (`null` without any).
    pub covariance_xx: Option<f64>,
    /// Covariance estimator over the ZZ couplings (`null` without any).
    pub covariance_zz: Option<f64>,
    /// Covariance estimator over all parameters (Eq. 43).
    pub covariance: f64,
    /// Clamped finite difference over all parameters.
    pub clamped: f64,
    /// Kubo–Mori estimator over all parameters.
    pub kubo_mori: f64,
    /// `‖exact‖`.
    pub exact_norm: f64,
}

/// The result of [`thermal_scan`] (the JSON of `qep thermal-scan`).
#[derive(Clone, Debug, Serialize)]
pub struct ThermalScan {
    /// Clamping strength `β`.
    pub beta: f64,
    /// One row per temperature computed.
    pub rows: Vec<ThermalScanRow>,
    /// Whether every temperature asked for was computed (false after a cancellation).
    pub complete: bool,
    /// The settings (for provenance).
    #[serde(skip)]
    pub settings: ThermalScanSettings,
}

/// `‖a − b‖/‖b‖` over the indices `idx` (None when empty).
fn rel(a: &[f64], b: &[f64], idx: &[usize]) -> Option<f64> {
    if idx.is_empty() {
        return None;
    }
    let d: f64 = idx
        .iter()
        .map(|&i| (a[i] - b[i]).powi(2))
        .sum::<f64>()
        .sqrt();
    let n: f64 = idx.iter().map(|&i| b[i].powi(2)).sum::<f64>().sqrt();
    Some(if n > 0.0 { d / n } else { d })
}

/// Indices of the parameters whose every string is a two-qubit string of `X`s only (`xx`) or
/// of `Z`s only (`!xx`). A tied parameter counts only if all its strings do: a Heisenberg
/// bond `θ(XX + YY + ZZ)` is neither, whatever its first string.
pub fn two_body(model: &Model, xx: bool) -> Vec<usize> {
    model
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p.strings
                .iter()
                .all(|(s, _)| s.weight() == 2 && if xx { s.z() == 0 } else { s.x() == 0 })
        })
        .map(|(i, _)| i)
        .collect()
}

/// Scans the temperatures of `settings` and compares, at each, the three thermal EP gradient
/// estimators (covariance, Eq. 43; clamped; Kubo–Mori) with the exact gradient of the thermal
/// cost, by relative error. Per temperature it holds the free and two clamped dense Gibbs
/// states and the parameters' operators in the eigenbasis; the qubit limit and this memory
/// plan are checked before any work. Stops between temperatures once `cancel` is set (the
/// result then has `complete: false`); reports temperatures done to `progress`.
///
/// # Errors
/// [`ModelError::NoSuchExample`], [`ModelError::NoParameters`], the dense size limit and the
/// memory plan; the thermal gradients' errors (temperature or `β` not positive, …).
///
/// # Examples
/// ```
/// use qep::cancel::Cancel;
/// use qep::study::thermal_scan::{thermal_scan, ThermalScanSettings};
/// let model = qep::hamiltonian::parse_str(
///     "qubits: 2\ninputs: [0]\noutputs: [1]\nterms:\n  - {pauli: X1, coeff: -1.0}\n\
///      params:\n  - {pauli: Z0 Z1, value: 0.5}\n\
///      dataset:\n  inputs: [[0.3]]\n  targets: [[1]]\n",
///     std::path::Path::new("two.yaml"),
/// )?;
/// let settings = ThermalScanSettings { temperatures: vec![0.5, 2.0], beta: 1e-3, example: 0 };
/// let scan = thermal_scan(&model, &settings, &Cancel::new(), &qep::report::no_progress)?;
/// assert!(scan.complete && scan.rows.len() == 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn thermal_scan(
    model: &Model,
    settings: &ThermalScanSettings,
    cancel: &Cancel,
    progress: OnProgress<'_>,
) -> Result<ThermalScan, Error> {
    let ex = model.training_example(settings.example)?;
    if model.params.is_empty() {
        return Err(ModelError::NoParameters {
            file: model.source.path.clone(),
            purpose: "the scan compares gradient estimators",
        }
        .into());
    }
    let (xx, zz) = (two_body(model, true), two_body(model, false));
    let all: Vec<usize> = (0..model.params.len()).collect();
    let n = model.qubits;
    GibbsDensity::check_size(n)?;
    let mut plan = MemoryPlan::new("qep thermal-scan");
    for _ in 0..3 {
        plan.extend(&gibbs_memory(n));
    }
    plan.add_n(
        "operators in the eigenbasis",
        model.params.len() + 1,
        density_bytes(n),
    );
    plan.check()?;
    let theta = model.theta();
    let total = settings.temperatures.len() as u64;
    // One item per temperature, split over the ranks and gathered in the order asked for.
    // `None`: cancelled before that temperature.
    let temps = &settings.temperatures;
    let done = crate::dist::map_ordered(crate::dist::world(), temps.len(), |i| {
        if cancel.is_cancelled() {
            return Ok::<_, Error>(None);
        }
        progress(Progress::Steps {
            what: format!("{}: thermal gradients", model.name),
            done: i as u64,
            total,
            unit: "temperatures",
        });
        let t = temps[i];
        let g = thermal_gradients(model, &theta, &ex, t, settings.beta)?;
        Ok(Some((
            t,
            rel(&g.covariance, &g.exact, &xx),
            rel(&g.covariance, &g.exact, &zz),
            [
                rel(&g.covariance, &g.exact, &all).unwrap_or(f64::NAN),
                rel(&g.clamped, &g.exact, &all).unwrap_or(f64::NAN),
                rel(&g.kubo_mori, &g.exact, &all).unwrap_or(f64::NAN),
                g.exact.iter().map(|x| x * x).sum::<f64>().sqrt(),
            ],
        )))
    })?;
    let rows: Vec<ThermalScanRow> = done
        .into_iter()
        .map_while(|row| row)
        .map(
            |(
                temperature,
                covariance_xx,
                covariance_zz,
                [covariance, clamped, kubo_mori, exact_norm],
            )| {
                ThermalScanRow {
                    temperature,
                    covariance_xx,
                    covariance_zz,
                    covariance,
                    clamped,
                    kubo_mori,
                    exact_norm,
                }
            },
        )
        .collect();
    Ok(ThermalScan {
        beta: settings.beta,
        complete: rows.len() == settings.temperatures.len(),
        rows,
        settings: settings.clone(),
    })
}

impl ThermalScan {
    /// One CSV row per temperature.
    pub fn csv(&self) -> String {
        let mut csv = String::from(
            "temperature,covariance_xx,covariance_zz,covariance,clamped,kubo_mori,exact_norm\n",
        );
        let o = |x: Option<f64>| x.map(|v| format!("{v:.6e}")).unwrap_or_default();
        for r in &self.rows {
            csv.push_str(&format!(
                "{},{},{},{:.6e},{:.6e},{:.6e},{:.6e}\n",
                r.temperature,
                o(r.covariance_xx),
                o(r.covariance_zz),
                r.covariance,
                r.clamped,
                r.kubo_mori,
                r.exact_norm
            ));
        }
        csv
    }

    /// The relative errors against T (logarithmic axes, ticks 1, 2, 5 × 10ᵏ), as an SVG
    /// chart.
    pub fn svg(&self) -> String {
        chart_svg(std::slice::from_ref(&self.chart()))
    }

    /// [`Self::svg`] as a PNG image.
    ///
    /// # Errors
    /// [`PlotError`] when drawing or encoding fails.
    pub fn png(&self) -> Result<Vec<u8>, PlotError> {
        chart_png(&[self.chart()])
    }

    /// The chart of [`Self::svg`]: every estimate's relative error against the temperature,
    /// both axes logarithmic.
    pub fn chart(&self) -> Chart {
        let pts = |f: &dyn Fn(&ThermalScanRow) -> Option<f64>| -> Vec<(f64, f64)> {
            self.rows
                .iter()
                .filter_map(|r| f(r).map(|v| (r.temperature, v)))
                .collect()
        };
        Chart {
            title: "thermal gradients: relative error vs exact".into(),
            x_label: "temperature T".into(),
            y_label: "‖estimate − exact‖ / ‖exact‖".into(),
            log_x: true,
            log_y: true,
            y_range: None,
            curves: vec![
                Curve::new("covariance XX", pts(&|r| r.covariance_xx)),
                Curve::new("covariance ZZ", pts(&|r| r.covariance_zz)),
                Curve::new("clamped", pts(&|r| Some(r.clamped))),
                Curve::new("Kubo–Mori", pts(&|r| Some(r.kubo_mori))),
            ],
        }
    }
}
