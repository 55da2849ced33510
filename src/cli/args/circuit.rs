//! Flags of `qep circuit`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `qep circuit`.
#[derive(Debug, Args)]
pub struct CircuitArgs {
    /// The circuit subcommand.
    #[command(subcommand)]
    pub command: CircuitCommand,
}

/// The subcommands of `qep circuit`.
#[derive(Debug, Subcommand)]
pub enum CircuitCommand {
    /// Execute an OpenQASM 2.0 or 3.0 file and print the shot counts, bitstrings written as
    /// Qiskit writes them (qubit/clbit 0 rightmost, registers separated by a space, the last
    /// register leftmost).
    #[command(
        after_help = "Examples:\n  qep circuit run bell.qasm --shots 1000 --seed 7\n  qep circuit run ghz.qasm --statevector --json\n  qep circuit run vqe.qasm3 --param theta=0.25\n\nCounts are over the classical bits if the circuit measures, else over all qubits;\nonly outcomes that occurred are listed. --statevector prints the state before the final\nmeasurements (or after one seeded run if measurements are mid-circuit). Circuits with\nmid-circuit measurement, reset or `if` branch the shots at each measurement (one state per\ndistinct measurement record), so many shots cost a few state vectors."
    )]
    Run(CircuitRunArgs),
}

/// `qep circuit run`.
#[derive(Debug, Args)]
pub struct CircuitRunArgs {
    /// The circuit (OpenQASM 2.0, or 3.0 if its header says so).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Number of shots.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub shots: u64,
    /// Seed of the measurement draws.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub seed: u64,
    /// Also print the amplitudes (at most 12 qubits).
    #[arg(long)]
    pub statevector: bool,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Value of an OpenQASM 3 `input float` parameter (repeatable), e.g. `--param theta=0.5`.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Amplitudes in complex128 (`double`) or complex64 (`single`: half the memory and
    /// traffic; probabilities agree with double to about 1e-6).
    #[arg(long, default_value = "double", value_parser = ["double", "single"])]
    pub precision: String,
}
