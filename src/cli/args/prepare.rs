//! Flags of `qep prepare`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{ModelArg, StudyOut};

/// `qep prepare`.
#[derive(Debug, Args)]
#[command(mut_arg("out", |a| a.help("Output folder (default: out/<model>-prepare)")))]
pub struct PrepareArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Start Hamiltonian (a model file; its Hamiltonian at its own parameters). Default −Σ X_i.
    #[arg(long, value_name = "START.yaml")]
    pub start: Option<PathBuf>,
    /// Sweep time T (default: the model's `preparation: adiabatic: time`, else 10).
    #[arg(long, value_name = "T", conflicts_with = "times")]
    pub time: Option<f64>,
    /// Several sweep times, comma-separated: one run each, reported under "runs".
    #[arg(long, value_delimiter = ',', value_name = "T1,T2,…")]
    pub times: Option<Vec<f64>>,
    /// Schedule s(t) (default: the model's, else linear).
    #[arg(long, value_enum, value_name = "SCHEDULE")]
    pub schedule: Option<ScheduleArg>,
    /// Integrator.
    #[arg(long, value_enum, default_value_t = PrepMethodArg::Magnus)]
    pub method: PrepMethodArg,
    /// Order of the Trotter circuit (--method trotter, and --qasm).
    #[arg(long, default_value_t = 2, value_name = "1|2")]
    pub trotter_order: u8,
    /// Time steps per sweep (default: enough for the longest T at the model's time step
    /// T_model/steps, at least its step count; else max(100, 5·T)).
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,
    /// Level to follow: 0 = ground state (the start state is level K of H_start).
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub eigen: usize,
    /// Points s along the path where the spectrum is computed (0: none).
    #[arg(long, default_value_t = 21, value_name = "M")]
    pub gap_points: usize,
    /// Krylov error allowed per unit time.
    #[arg(long, default_value_t = 1e-10, value_name = "TOL")]
    pub krylov_tol: f64,
    /// Largest Krylov dimension (memory: that many state vectors).
    #[arg(long, default_value_t = 30, value_name = "M")]
    pub krylov_dim: usize,
    /// Training example I whose inputs enter H (models with a dataset).
    #[arg(long, value_name = "I")]
    pub example: Option<usize>,
    /// Also write the Trotter circuit of the sweep (at the last T) as OpenQASM 2.0.
    #[arg(long, value_name = "FILE.qasm")]
    pub qasm: Option<PathBuf>,
    #[command(flatten)]
    pub out: StudyOut,
}

/// `--schedule`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ScheduleArg {
    /// s = t/T.
    Linear,
    /// s = u³(10 − 15u + 6u²): zero slope and curvature at both ends.
    Smooth,
    /// Locally adiabatic: ds/dt ∝ g(s)², from the coupled gap along the path.
    Local,
}

/// `qep prepare --method`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PrepMethodArg {
    /// Exponential midpoint rule with Krylov exponentials (2nd order).
    Krylov,
    /// Commutator-free Magnus CF4 with Krylov exponentials (4th order).
    Magnus,
    /// Trotter–Suzuki gate circuit run by the state-vector executor.
    Trotter,
}
