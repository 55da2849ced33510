//! The one EP engine: what computes the states of a model (an eigensolver, an adiabatic
//! sweep, the Gibbs state, the classical relaxed network), chosen once per model, and the one
//! gradient entry point every command, the trainer and scripts go through.

use std::time::Instant;

use serde::Serialize;

use super::classical::{ClassicalGradient, ClassicalNet, ClassicalParams, ImplicitGradient};
use super::params::EpError;
use super::params::EpParams;
use super::quantum::free_phase_with;
use super::quantum::prepared::{ep_gradient_prepared, prepared_free_phase, PreparedGradient};
use super::quantum::{ep_gradient_in, exact_gradient, EpGradient, EpWorkspace, ExactGradient};
use super::thermal::{
    thermal_gradient, thermal_prediction, ThermalMethod, ThermalParams, ThermalStep,
};
use crate::hamiltonian::{Adiabatic, Example, Model, ModelKind, ThermalGradient};

/// What computes the free and clamped states of a model.
#[derive(Clone, Debug)]
pub enum Engine {
    /// Eigenstates of `H(β, θ, u, d)` by Lanczos (Eq. 16–29), `kind: quantum`.
    Eigen,
    /// Eigenstates prepared by adiabatic sweeps (`preparation: adiabatic`).
    Prepared(Adiabatic),
    /// The Gibbs state at a temperature (Section IV), `temperature:` on a quantum model.
    Thermal(ThermalParams),
    /// The classical relaxed network of Section II (`kind: classical`).
    Classical(Box<ClassicalNet>),
}

/// Engine-specific evidence of one gradient.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GradientDetails {
    /// Energies, gap, overlaps of the eigenstates; the MINRES oracle when asked.
    Eigen {
        /// The EP estimate with its states' evidence.
        ep: EpGradient,
        /// The oracle (first-order perturbation theory, one MINRES solve).
        oracle: Option<ExactGradient>,
    },
    /// Fidelities and energy errors of the prepared states.
    Prepared {
        /// The estimate from the prepared states.
        ep: PreparedGradient,
        /// The oracle of the exact eigenstate the sweeps prepare.
        oracle: Option<ExactGradient>,
    },
    /// The thermal estimate: estimator, method, jackknife errors with typicality.
    Thermal {
        /// The estimate the settings' estimator names.
        ep: ThermalStep,
        /// The dense Kubo–Mori gradient (exact) when asked.
        oracle: Option<ThermalStep>,
    },
    /// The free and clamped relaxed states; implicit differentiation (Eq. 49) when asked.
    Classical {
        /// The EP estimate (Eq. 14).
        ep: ClassicalGradient,
        /// The exact gradient at the free minimum (Eq. 49).
        oracle: Option<ImplicitGradient>,
    },
}

/// One example's EP gradient from any engine, with its oracle when asked for.
#[derive(Clone, Debug, Serialize)]
pub struct Gradient {
    /// The engine's name ([`Engine::name`]).
    pub engine: &'static str,
    /// Parameter labels, in model order.
    pub params: Vec<String>,
    /// The EP estimate of `d⟨C⟩/dθ_k`.
    pub ep: Vec<f64>,
    /// The exact gradient ([`EpParams::exact`]).
    pub exact: Option<Vec<f64>>,
    /// Standard errors of `ep` when it was sampled (shots, typicality).
    pub ep_std: Option<Vec<f64>>,
    /// Shots spent on the estimate (with shots).
    pub shots_total: Option<u64>,
    /// Operator applications (quantum engines; 0 otherwise).
    pub matvecs: usize,
    /// Residuals of the states used (eigensolver residuals; empty where not defined).
    pub residuals: Vec<f64>,
    /// Wall time, seconds.
    pub seconds: f64,
    /// The engine's own evidence.
    pub details: GradientDetails,
}

/// The engine-independent part of a [`Gradient`], filled by each engine from its own result
/// (zero, empty or `None` where the engine has no such figure).
#[derive(Default)]
struct Estimate {
    ep: Vec<f64>,
    exact: Option<Vec<f64>>,
    ep_std: Option<Vec<f64>>,
    shots_total: Option<u64>,
    matvecs: usize,
    residuals: Vec<f64>,
}

/// The prediction of one example: `⟨Z_i⟩` (or `z̄_i`) on the outputs and the cost (NaN
/// without targets).
#[derive(Clone, Debug, Serialize)]
pub struct Prediction {
    /// The outputs, in `model.outputs` order.
    pub z_outputs: Vec<f64>,
    /// The cost `⟨C⟩` of the example (Eq. 18; Eq. 3 for classical networks).
    pub cost: f64,
}

impl Engine {
    /// The engine of `model` with settings `p`: classical for `kind: classical`; for a quantum
    /// model, thermal with a temperature, prepared with `preparation: adiabatic`, else eigen.
    ///
    /// # Errors
    /// A classical model the network cannot represent (X or Y terms).
    ///
    /// # Examples
    /// ```
    /// use qep::ep::{Engine, EpOverrides, EpParams};
    /// let model = qep::hamiltonian::load(std::path::Path::new("hamiltonians/xor_classical.yaml"))
    ///     .unwrap();
    /// let p = EpParams::from_model(&model, &EpOverrides { exact: true, ..Default::default() })
    ///     .unwrap();
    /// let engine = Engine::for_model(&model, &p).unwrap();
    /// assert_eq!(engine.name(), "classical");
    /// let ex = &model.dataset.as_ref().unwrap().train[0];
    /// let g = engine.gradient(&model, &model.theta(), ex, &p).unwrap();
    /// assert_eq!(g.ep.len(), model.params.len());
    /// assert!(g.exact.is_some());
    /// ```
    pub fn for_model(model: &Model, p: &EpParams) -> Result<Self, EpError> {
        Ok(match (model.kind, &p.thermal) {
            (ModelKind::Classical, _) => Engine::Classical(Box::new(ClassicalNet::new(
                model,
                ClassicalParams::default(),
            )?)),
            (ModelKind::Quantum, Some(t)) => Engine::Thermal(t.clone()),
            (ModelKind::Quantum, None) => match &p.preparation {
                Some(ad) => Engine::Prepared(ad.clone()),
                None => Engine::Eigen,
            },
        })
    }

    /// `"eigen"`, `"prepared"`, `"thermal"` or `"classical"`.
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Eigen => "eigen",
            Engine::Prepared(_) => "prepared",
            Engine::Thermal(_) => "thermal",
            Engine::Classical(_) => "classical",
        }
    }

    /// The EP estimate of `d⟨C⟩/dθ` for one example, and with `p.exact` the engine's exact
    /// gradient: the MINRES oracle of the eigenstate (eigen, and prepared, whose sweeps aim at
    /// that eigenstate), the dense Kubo–Mori gradient (thermal), implicit differentiation
    /// (Eq. 49, classical). The thermal engine takes its settings (temperature, estimator,
    /// random-vector seed) from `p.thermal` when given, from the engine's own otherwise.
    ///
    /// # Errors
    /// β, targets, model, memory, solver, preparation, thermal and classical errors of the
    /// engine.
    pub fn gradient(
        &self,
        model: &Model,
        theta: &[f64],
        example: &Example,
        p: &EpParams,
    ) -> Result<Gradient, EpError> {
        self.gradient_in(model, theta, example, p, &mut EpWorkspace::default())
    }

    /// As [`Engine::gradient`], with the eigen engine's solves (free, clamped, the oracle's
    /// MINRES from the same free state) working in the caller's `workspace`, which a loop over
    /// examples and epochs keeps (see [`EpWorkspace`]). The other engines do not use it.
    ///
    /// # Errors
    /// As [`Engine::gradient`].
    pub fn gradient_in(
        &self,
        model: &Model,
        theta: &[f64],
        example: &Example,
        p: &EpParams,
        workspace: &mut EpWorkspace,
    ) -> Result<Gradient, EpError> {
        let t0 = Instant::now();
        let params: Vec<String> = model.params.iter().map(|q| q.label.clone()).collect();
        let (e, details) = match self {
            Engine::Eigen => {
                let (ep, oracle) = ep_gradient_in(model, theta, example, p, workspace)?;
                let e = Estimate {
                    ep: ep.ep.clone(),
                    exact: oracle.as_ref().map(|o| o.exact.clone()),
                    ep_std: ep.ep_std.clone(),
                    shots_total: ep.shots_total,
                    matvecs: ep.matvecs,
                    residuals: ep.residuals.clone(),
                };
                (e, GradientDetails::Eigen { ep, oracle })
            }
            Engine::Prepared(ad) => {
                let ep = ep_gradient_prepared(model, theta, example, p, ad, false)?;
                let oracle = self.eigen_oracle(model, theta, example, p)?;
                let groups =
                    crate::measure::best_grouping(&model.param_strings()).n_groups() as u64;
                let e = Estimate {
                    ep: ep.ep.clone(),
                    exact: oracle.as_ref().map(|o| o.exact.clone()),
                    ep_std: ep.ep_std.clone(),
                    // Two clamped sweeps, each measured group by group.
                    shots_total: p.shots.map(|s| 2 * s * groups),
                    matvecs: ep.matvecs,
                    residuals: Vec::new(),
                };
                (e, GradientDetails::Prepared { ep, oracle })
            }
            Engine::Thermal(own) => {
                let t = p.thermal.as_ref().unwrap_or(own);
                let ep = thermal_gradient(model, theta, example, t, p.beta)?;
                let oracle = p
                    .exact
                    .then(|| kubo_mori(model, theta, example, t, p.beta))
                    .transpose()?;
                let e = Estimate {
                    ep: ep.gradient.clone(),
                    exact: oracle.as_ref().map(|o| o.gradient.clone()),
                    ep_std: ep.std_err.clone(),
                    ..Estimate::default()
                };
                (e, GradientDetails::Thermal { ep, oracle })
            }
            Engine::Classical(net) => {
                let ep = net.ep_gradient(theta, example, p.beta, p.one_sided)?;
                let oracle = if p.exact {
                    Some(net.implicit_gradient(theta, example)?)
                } else {
                    None
                };
                let mut residuals = vec![ep.free.grad_norm];
                residuals.extend(ep.clamped.iter().map(|c| c.grad_norm));
                let e = Estimate {
                    ep: ep.gradient.clone(),
                    exact: oracle.as_ref().map(|o| o.gradient.clone()),
                    residuals,
                    ..Estimate::default()
                };
                (e, GradientDetails::Classical { ep, oracle })
            }
        };
        Ok(Gradient {
            engine: self.name(),
            params,
            ep: e.ep,
            exact: e.exact,
            ep_std: e.ep_std,
            shots_total: e.shots_total,
            matvecs: e.matvecs,
            residuals: e.residuals,
            seconds: t0.elapsed().as_secs_f64(),
            details,
        })
    }

    /// The exact gradient alone (what [`Engine::gradient`] reports as `exact` with
    /// [`EpParams::exact`]), for callers that need no EP estimate: the trainer's cosine, the
    /// plateau study's variance of exact gradients.
    ///
    /// # Errors
    /// As [`Engine::gradient`]; [`super::EpError::Degenerate`] at a degenerate level.
    pub fn exact(
        &self,
        model: &Model,
        theta: &[f64],
        example: &Example,
        p: &EpParams,
    ) -> Result<Vec<f64>, EpError> {
        Ok(match self {
            Engine::Eigen | Engine::Prepared(_) => exact_gradient(model, theta, example, p)?.exact,
            Engine::Thermal(own) => {
                let t = p.thermal.as_ref().unwrap_or(own);
                kubo_mori(model, theta, example, t, p.beta)?.gradient
            }
            Engine::Classical(net) => net.implicit_gradient(theta, example)?.gradient,
        })
    }

    /// The MINRES oracle of the eigenstate when `p.exact`.
    fn eigen_oracle(
        &self,
        model: &Model,
        theta: &[f64],
        example: &Example,
        p: &EpParams,
    ) -> Result<Option<ExactGradient>, EpError> {
        p.exact
            .then(|| exact_gradient(model, theta, example, p))
            .transpose()
    }

    /// The prediction on the outputs and the cost of one example in the free state the
    /// engine computes with (the prepared engine: the state its sweep prepares). The thermal
    /// engine reads `p.thermal` like [`Engine::gradient`].
    ///
    /// # Errors
    /// Model, memory, solver, preparation, thermal and classical errors.
    pub fn predict(
        &self,
        model: &Model,
        theta: &[f64],
        example: &Example,
        p: &EpParams,
    ) -> Result<Prediction, EpError> {
        let (z_outputs, cost) = match self {
            Engine::Eigen => {
                // A prediction reads no gap: the level above is not solved for.
                let f = free_phase_with(model, theta, Some(example), &p.lanczos, false)?;
                (f.z_outputs, f.cost.unwrap_or(f64::NAN))
            }
            Engine::Prepared(ad) => {
                let f = prepared_free_phase(model, theta, example, p.level, ad)?;
                (f.z_outputs, f.cost)
            }
            Engine::Thermal(own) => {
                thermal_prediction(model, theta, example, p.thermal.as_ref().unwrap_or(own))?
            }
            Engine::Classical(net) => {
                let f = net.predict(theta, example)?;
                (f.z_outputs, f.cost.unwrap_or(f64::NAN))
            }
        };
        Ok(Prediction { z_outputs, cost })
    }
}

/// The Kubo–Mori covariance: the exact thermal gradient (dense Gibbs state).
fn kubo_mori(
    model: &Model,
    theta: &[f64],
    example: &Example,
    t: &ThermalParams,
    beta: f64,
) -> Result<ThermalStep, EpError> {
    let exact = ThermalParams {
        estimator: ThermalGradient::KuboMori,
        method: ThermalMethod::Dense,
        ..t.clone()
    };
    Ok(thermal_gradient(model, theta, example, &exact, beta)?)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::linalg::{LanczosParams, Method, MinresParams};

    /// The oracle the eigen engine takes from its EP gradient's free state, in a workspace
    /// already used by other examples, is the separate oracle (its own free solve, fresh
    /// buffers), down to the MINRES iterations.
    #[test]
    fn eigen_oracle_from_the_free_state_is_the_separate_oracle() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("hamiltonians/xor.yaml");
        let m = crate::hamiltonian::load(&file).unwrap();
        let p = EpParams {
            beta: 0.1,
            exact: true,
            lanczos: LanczosParams {
                tol: 5e-12,
                method: Method::Lanczos,
                ..LanczosParams::default()
            },
            minres: MinresParams {
                tol: 1e-12,
                ..MinresParams::default()
            },
            ..EpParams::default()
        };
        let mut ws = EpWorkspace::default();
        let train = &m.dataset.as_ref().unwrap().train;
        assert!(train.len() > 1, "premise: the workspace is reused");
        for ex in train {
            let g = Engine::Eigen
                .gradient_in(&m, &m.theta(), ex, &p, &mut ws)
                .unwrap();
            let GradientDetails::Eigen {
                oracle: Some(oracle),
                ..
            } = g.details
            else {
                panic!("no oracle: {:?}", g.details);
            };
            let before = exact_gradient(&m, &m.theta(), ex, &p).unwrap();
            let norm = before.exact.iter().map(|x| x * x).sum::<f64>().sqrt();
            assert!(norm > 1e-3, "premise: a non-zero gradient");
            let d = oracle
                .exact
                .iter()
                .zip(&before.exact)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(d < 1e-9, "oracle differs from the separate oracle by {d:e}");
            assert_eq!(oracle.iterations, before.iterations);
        }
    }
}
