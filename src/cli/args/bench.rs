//! Flags of `qep bench`.

use clap::Args;

use super::ModelArg;

/// `qep bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Timed applications (the median is reported).
    #[arg(long, default_value_t = 10, value_name = "R")]
    pub reps: usize,
    /// Untimed applications before timing.
    #[arg(long, default_value_t = 2, value_name = "W")]
    pub warmup: usize,
    /// Time the real-arithmetic path (8 B amplitudes; needs a real operator).
    #[arg(long)]
    pub real: bool,
    /// Also time sampling this many shots from a random state of the model's size (adds
    /// `sample_seconds` to the JSON), e.g. --shots 1000000.
    #[arg(long, value_name = "S")]
    pub shots: Option<u64>,
    /// Amplitudes in `double` (f64 / complex128) or `single` precision (f32 / complex64: half
    /// the bytes of ψ and H·ψ; reported as `precision` in the JSON).
    #[arg(long, default_value = "double", value_parser = ["double", "single"])]
    pub precision: String,
    /// Also time `apply_dot` (H·ψ with ⟨ψ|Hψ⟩ taken in the same pass, as a Lanczos step
    /// uses it) against H·ψ followed by a separate inner product, alternated (adds
    /// `apply_dot_seconds` and `apply_then_dot_seconds` to the JSON; double precision).
    #[arg(long)]
    pub dot: bool,
    /// Seed of the random state.
    #[arg(long, default_value_t = 7, value_name = "S")]
    pub seed: u64,
}
