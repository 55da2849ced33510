//! The settings of an EP gradient, resolved once from a model file and the caller's
//! overrides (CLI flags, a script), and validated in one place: [`EpParams::from_model`].

use serde::Serialize;

use super::classical::ClassicalError;
use super::thermal::{ThermalError, ThermalParams};
use crate::adiabatic::AdiabaticError;
use crate::hamiltonian::{Adiabatic, Model, ModelError, Preparation, StateChoice, ThermalGradient};
use crate::linalg::{LanczosParams, MinresParams, SolverError};
use crate::measure::MeasureError;
use crate::operator::OperatorError;
use crate::state::MemoryError;

/// Errors of EP: its settings, the quantities every engine needs (targets, a gap), and what
/// the engines' own steps raise (model, operator, solver, memory, shots, preparation, the
/// thermal and classical engines), so that every EP function returns this one type.
#[derive(Debug, thiserror::Error)]
pub enum EpError {
    /// `β` must be a positive finite number.
    #[error("beta = {beta} is not a clamping strength; expected a finite number > 0")]
    BetaNotPositive {
        /// The value given.
        beta: f64,
    },
    /// The temperature must be a positive finite number.
    #[error("temperature T = {temperature} is not valid; expected a finite number > 0")]
    TemperatureNotPositive {
        /// The value given.
        temperature: f64,
    },
    /// A thermal setting (estimator, random vectors) was given without a temperature.
    #[error("{setting} needs a temperature (--temperature T or `temperature:` in the model)")]
    ThermalWithoutTemperature {
        /// The setting given.
        setting: &'static str,
    },
    /// A computation on quantum eigenstates was asked of a `kind: classical` model.
    #[error("{what} measures eigenstates of a quantum network; a `kind: classical` model has none (`qep grad` and `qep run` differentiate it with the classical network)")]
    NoEigenstates {
        /// The computation asked for.
        what: &'static str,
    },
    /// The example has no targets: there is no cost to differentiate.
    #[error("the example has no targets; EP needs targets d_i on the outputs")]
    NoTargets,
    /// The chosen eigenstate is degenerate: its derivative is not defined.
    #[error("level {level} is degenerate (gap {gap:.2e} < {threshold:.2e}); EP and its oracle are ill-defined at a degeneracy")]
    Degenerate {
        /// The level.
        level: usize,
        /// The gap to its nearest neighbour.
        gap: f64,
        /// The threshold.
        threshold: f64,
    },
    /// Building `H(β, θ, u, d)` failed: `θ` or the example do not fit the model (boxed: model
    /// errors carry a file position).
    #[error(transparent)]
    Model(Box<ModelError>),
    /// The operator of a Hamiltonian or an observable does not fit in memory.
    #[error(transparent)]
    Operator(#[from] OperatorError),
    /// An eigensolver or MINRES failed.
    #[error(transparent)]
    Solver(#[from] SolverError),
    /// A state vector does not fit in memory.
    #[error(transparent)]
    Memory(#[from] MemoryError),
    /// Shot estimation failed.
    #[error(transparent)]
    Measure(#[from] MeasureError),
    /// An adiabatic preparation failed (the prepared engine; boxed, it is large).
    #[error(transparent)]
    Adiabatic(Box<AdiabaticError>),
    /// The thermal engine failed.
    #[error(transparent)]
    Thermal(#[from] ThermalError),
    /// The classical engine failed.
    #[error(transparent)]
    Classical(#[from] ClassicalError),
}

impl From<ModelError> for EpError {
    fn from(e: ModelError) -> Self {
        Self::Model(Box::new(e))
    }
}

impl From<AdiabaticError> for EpError {
    fn from(e: AdiabaticError) -> Self {
        Self::Adiabatic(Box::new(e))
    }
}

/// Everything an EP gradient needs besides the model, `θ` and the example: the clamping
/// strength and variant (Eq. 28), the computing level, shots, the thermal and preparation
/// settings, solver tolerances. Build it with [`EpParams::from_model`]; the engines read it.
#[derive(Clone, Debug, Serialize)]
pub struct EpParams {
    /// Clamping strength β > 0.
    pub beta: f64,
    /// One-sided estimate `(⟨P⟩_β − ⟨P⟩_0)/β` (bias O(β)) instead of the symmetric one
    /// `(⟨P⟩_{+β} − ⟨P⟩_{−β})/2β` (bias O(β²), Eq. 28).
    pub one_sided: bool,
    /// Which eigenstate computes (0 = ground state).
    pub level: usize,
    /// Gaps below this are reported as degeneracies (an error for the oracle).
    pub gap_threshold: f64,
    /// Start each clamped ground-state search from the free state (off only to measure what
    /// the warm start saves).
    pub warm_start: bool,
    /// Also find the level above the free one, to report the free level's gap (one more
    /// eigensolve of the free Hamiltonian). The oracle turns it on for its degeneracy check;
    /// training, which reads no gap, turns it off.
    pub gap: bool,
    /// Measure every `⟨P_k⟩` from this many shots per commuting group and state (the X-type
    /// and Z-type strings of an EP network share one group each), instead of reading it from
    /// the state vector; `None` = exact expectations.
    pub shots: Option<u64>,
    /// Seed of the shots (state `j` of the estimate uses a stream derived from it).
    pub shot_seed: u64,
    /// Eigensolver settings (`k` and `gap` are set per call).
    pub lanczos: LanczosParams,
    /// Linear-solver settings of the oracle.
    pub minres: MinresParams,
    /// The Gibbs state at a temperature replaces the eigenstate (Section IV): temperature,
    /// estimator, dense or typicality. Not serialised here: a training run records it in
    /// [`super::TrainParams::thermal`].
    #[serde(skip)]
    pub thermal: Option<ThermalParams>,
    /// The states are prepared by this adiabatic sweep instead of an eigensolver (the
    /// model's `preparation: adiabatic`). Not serialised: runs record the model's section.
    #[serde(skip)]
    pub preparation: Option<Adiabatic>,
    /// Also compute the engine's exact gradient (the oracle) beside the EP estimate.
    #[serde(skip)]
    pub exact: bool,
    /// Where `beta` came from. Serialised (as `beta_source`) only when it is `shot-aware`, so
    /// that the settings of runs with a given, model or default β read as before.
    #[serde(skip_serializing_if = "BetaSource::is_not_shot_aware")]
    pub beta_source: BetaSource,
    /// The error-model fit that chose β, when `beta_source` is `shot-aware`
    /// ([`EpParams::apply_shot_aware_beta`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shot_aware: Option<super::shot_beta::ShotAwareBeta>,
}

/// Where the clamping strength β of an [`EpParams`] came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BetaSource {
    /// The caller gave it (`--beta`, `beta=` in Python, [`EpOverrides::beta`]).
    Given,
    /// The model file's `beta`.
    Model,
    /// [`EpParams::DEFAULT_BETA`]: nobody chose one.
    #[default]
    Default,
    /// Chosen for the shot budget from the bias–noise error model
    /// ([`super::shot_beta`]).
    ShotAware,
}

impl BetaSource {
    /// `false` only for [`BetaSource::ShotAware`] (serde's skip test).
    pub fn is_not_shot_aware(&self) -> bool {
        *self != BetaSource::ShotAware
    }

    /// The name as written in JSON (`"given"`, `"model"`, `"default"`, `"shot-aware"`).
    pub fn name(self) -> &'static str {
        match self {
            BetaSource::Given => "given",
            BetaSource::Model => "model",
            BetaSource::Default => "default",
            BetaSource::ShotAware => "shot-aware",
        }
    }
}

impl Default for EpParams {
    fn default() -> Self {
        Self {
            beta: Self::DEFAULT_BETA,
            one_sided: false,
            level: 0,
            gap_threshold: 1e-8,
            warm_start: true,
            gap: true,
            shots: None,
            shot_seed: 0,
            lanczos: LanczosParams {
                tol: 1e-10,
                ..LanczosParams::default()
            },
            minres: MinresParams::default(),
            thermal: None,
            preparation: None,
            exact: false,
            beta_source: BetaSource::Default,
            shot_aware: None,
        }
    }
}

/// What a caller may set over a model's own EP settings; `None`/`false` keeps the model's
/// value (or the default when the model has none).
#[derive(Clone, Debug, Default)]
pub struct EpOverrides {
    /// Clamping strength β (the model's `beta` otherwise, else [`EpParams::DEFAULT_BETA`];
    /// with shots, the shot-aware choice of [`EpParams::apply_shot_aware_beta`] when the
    /// caller applies it).
    pub beta: Option<f64>,
    /// Use the one-sided estimate.
    pub one_sided: bool,
    /// The computing level (the model's `state` otherwise).
    pub level: Option<usize>,
    /// Shots per commuting group and state (the model's `shots` otherwise).
    pub shots: Option<u64>,
    /// Seed of shots and typicality vectors (the model's `seed` otherwise).
    pub seed: Option<u64>,
    /// Temperature of the Gibbs state (the model's `temperature` otherwise).
    pub temperature: Option<f64>,
    /// Thermal gradient estimator (the model's `thermal_gradient` otherwise, else clamped).
    pub thermal_gradient: Option<ThermalGradient>,
    /// Random vectors of the typicality estimates.
    pub samples: Option<usize>,
    /// Start the clamped searches from random vectors, not from the free state.
    pub no_warm_start: bool,
    /// Compute the oracle beside the EP estimate.
    pub exact: bool,
    /// Eigensolver settings (the defaults of [`EpParams`] otherwise).
    pub lanczos: Option<LanczosParams>,
}

impl EpParams {
    /// The clamping strength when neither the model nor the caller gives one.
    pub const DEFAULT_BETA: f64 = 0.01;

    /// The settings of `model` with the caller's overrides `o`, validated: β, the
    /// temperature, and thermal settings only with a temperature.
    ///
    /// # Errors
    /// [`EpError::BetaNotPositive`], [`EpError::TemperatureNotPositive`],
    /// [`EpError::ThermalWithoutTemperature`].
    ///
    /// # Examples
    /// ```
    /// use qep::ep::{EpOverrides, EpParams};
    /// let model = qep::hamiltonian::load(std::path::Path::new("hamiltonians/xor_classical.yaml"))
    ///     .unwrap();
    /// let p = EpParams::from_model(&model, &EpOverrides::default()).unwrap();
    /// assert_eq!(p.beta, 0.05);
    /// let o = EpOverrides { beta: Some(-1.0), ..EpOverrides::default() };
    /// assert!(EpParams::from_model(&model, &o).is_err());
    /// ```
    pub fn from_model(model: &Model, o: &EpOverrides) -> Result<Self, EpError> {
        let p = Self::resolve(model, o);
        p.validate()?;
        if p.thermal.is_none() {
            if o.thermal_gradient.is_some() {
                return Err(EpError::ThermalWithoutTemperature {
                    setting: "a thermal gradient estimator",
                });
            }
            if o.samples.is_some() {
                return Err(EpError::ThermalWithoutTemperature {
                    setting: "a number of typicality samples",
                });
            }
        }
        Ok(p)
    }

    /// The settings of `model` with `o`, not validated (a model's own values are validated
    /// when it is loaded).
    pub(crate) fn resolve(model: &Model, o: &EpOverrides) -> Self {
        let level = o.level.unwrap_or(match model.settings.state {
            StateChoice::Ground => 0,
            StateChoice::Eigen(k) => k,
        });
        let seed = o.seed.unwrap_or(model.seed);
        let defaults = Self::default();
        let thermal = o.temperature.or(model.settings.temperature).map(|t| {
            let estimator = o
                .thermal_gradient
                .or(model.settings.thermal_gradient)
                .unwrap_or(ThermalGradient::Clamped);
            let mut th = ThermalParams::new(t, estimator, seed);
            if let Some(r) = o.samples {
                th.typicality.samples = r;
            }
            th
        });
        let (beta, beta_source) = match (o.beta, model.settings.beta) {
            (Some(b), _) => (b, BetaSource::Given),
            (None, Some(b)) => (b, BetaSource::Model),
            (None, None) => (Self::DEFAULT_BETA, BetaSource::Default),
        };
        Self {
            beta,
            beta_source,
            one_sided: o.one_sided,
            level,
            warm_start: !o.no_warm_start,
            shots: o.shots.or(model.settings.shots),
            shot_seed: seed,
            lanczos: o.lanczos.clone().unwrap_or(defaults.lanczos),
            thermal,
            preparation: match &model.settings.preparation {
                Preparation::Adiabatic(ad) => Some(ad.clone()),
                _ => None,
            },
            exact: o.exact,
            ..defaults
        }
    }

    /// Checks β and the temperature: the one place their ranges are enforced.
    ///
    /// # Errors
    /// [`EpError::BetaNotPositive`], [`EpError::TemperatureNotPositive`].
    pub fn validate(&self) -> Result<(), EpError> {
        check_beta(self.beta)?;
        if let Some(t) = &self.thermal {
            check_temperature(t.temperature)?;
        }
        Ok(())
    }
}

/// `β` must be finite and positive: every EP estimate divides by it.
///
/// # Errors
/// [`EpError::BetaNotPositive`].
pub fn check_beta(beta: f64) -> Result<(), EpError> {
    if beta > 0.0 && beta.is_finite() {
        Ok(())
    } else {
        Err(EpError::BetaNotPositive { beta })
    }
}

/// `T` must be finite and positive: the Gibbs weights are `e^{−E/T}`.
///
/// # Errors
/// [`EpError::TemperatureNotPositive`].
pub fn check_temperature(temperature: f64) -> Result<(), EpError> {
    if temperature > 0.0 && temperature.is_finite() {
        Ok(())
    } else {
        Err(EpError::TemperatureNotPositive { temperature })
    }
}
