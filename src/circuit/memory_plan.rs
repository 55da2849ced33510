//! The memory plan of a circuit command: every buffer it holds at its peak, named and summed,
//! checked before anything is allocated.

use super::fast::ExecParams;
use super::ir::{Circuit, Op};
use super::precision::Precision;
use super::CircuitError;
use crate::state::memory::{check_alloc_u128, human_bytes, state_bytes};

/// The buffers a circuit command holds at its peak, named, summed and checked against the
/// memory available before anything is allocated (the same check and message as models:
/// [`crate::state::memory::check_alloc_u128`]).
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryPlan {
    /// What the plan is for, e.g. `circuit (20 qubits, 1024 shots)`.
    pub what: String,
    /// `(buffer, bytes)`.
    pub items: Vec<(String, u128)>,
}

/// Bytes per distinct outcome held in the counts map besides its key (map node, `String`
/// header, count) and in the sampler's index map.
const COUNT_ENTRY_BYTES: u128 = 96;

/// Bytes of the sampler's tables ([`super::branch::sample_indices`]): the mass of every chunk
/// of 2^12 amplitudes and the running sums before each, and one sorted draw per shot.
fn sampling_table_bytes(n: usize, shots: u64) -> u128 {
    let chunks = (1u128 << n).div_ceil(1 << 12);
    (2 * chunks + 1 + u128::from(shots)).saturating_mul(8)
}

impl MemoryPlan {
    /// One state vector of the circuit's qubits.
    pub fn one_state(circuit: &Circuit) -> Self {
        Self::one_state_in(circuit, Precision::Double)
    }

    /// One state vector of the circuit's qubits in `precision`, and the fast executor's
    /// cache-block buffers (one per worker thread).
    pub fn one_state_in(circuit: &Circuit, precision: Precision) -> Self {
        MemoryPlan {
            what: format!("circuit ({} qubits)", circuit.qubits),
            items: vec![
                (
                    "state vector".into(),
                    state_bytes(circuit.qubits, precision.amp_bytes()),
                ),
                Self::block_buffers(circuit, precision),
            ],
        }
    }

    /// The fast executor's cache-block buffers: one per worker thread.
    fn block_buffers(circuit: &Circuit, precision: Precision) -> (String, u128) {
        let block = state_bytes(circuit.qubits, precision.amp_bytes())
            .min(ExecParams::default().block_bytes as u128);
        (
            "block buffers".into(),
            block.saturating_mul(rayon::current_num_threads() as u128),
        )
    }

    /// The peak of [`super::sample_counts`] on `circuit` with `shots` shots: one state vector
    /// (more are kept only while they fit, see [`super::branch`]), the sampling table, the
    /// counts (one key of every register's bits per distinct outcome, at most `shots` of
    /// them), the classical bits and measurement records of the pending branches.
    pub fn sampling(circuit: &Circuit, shots: u64) -> Self {
        Self::sampling_in(circuit, shots, Precision::Double)
    }

    /// [`MemoryPlan::sampling`] with the state in `precision`.
    pub fn sampling_in(circuit: &Circuit, shots: u64, precision: Precision) -> Self {
        let n = circuit.qubits;
        let mut plan = Self::one_state_in(circuit, precision);
        let blocks = plan.items.pop().expect("two items");
        plan.what = format!("circuit ({n} qubits, {shots} shots)");
        plan.items
            .push(("sampling table".into(), sampling_table_bytes(n, shots)));
        let measured = circuit.has_measurements();
        let (key_bits, regs) = if measured {
            (
                circuit.clbits as u128,
                circuit.creg_layout().len().max(1) as u128,
            )
        } else {
            (n as u128, 1)
        };
        let key_len = key_bits + regs - 1;
        let distinct = if key_bits < 64 {
            (shots as u128).min(1u128 << key_bits)
        } else {
            shots as u128
        }
        .min(if n < 64 { 1u128 << n } else { u128::MAX })
        .max(u128::from(shots > 0));
        plan.items.push((
            "counts".into(),
            distinct.saturating_mul(key_len + COUNT_ENTRY_BYTES),
        ));
        // Pending branches: at most one per halving of the shots (65), each with its
        // classical bits and its record of measurement outcomes.
        let records = circuit
            .ops
            .iter()
            .filter(|op| !matches!(op, Op::Gate { .. }))
            .count() as u128;
        let per_branch = (circuit.clbits as u128).div_ceil(64) * 8 + records.div_ceil(8) + 64;
        if !circuit.measurements_are_final() {
            plan.items
                .push(("branch records".into(), per_branch.saturating_mul(66)));
        }
        plan.items.push(blocks);
        plan
    }

    /// Adds a buffer.
    pub fn with(mut self, name: &str, bytes: u128) -> Self {
        self.items.push((name.into(), bytes));
        self
    }

    /// Total bytes.
    pub fn total(&self) -> u128 {
        self.items
            .iter()
            .fold(0u128, |a, (_, b)| a.saturating_add(*b))
    }

    /// Checks the total against the memory available.
    ///
    /// # Errors
    /// [`CircuitError::Memory`] naming every buffer.
    pub fn check(&self) -> Result<(), CircuitError> {
        let list: Vec<String> = self
            .items
            .iter()
            .map(|(k, b)| format!("{k} {}", human_bytes(*b)))
            .collect();
        check_alloc_u128(
            self.total(),
            &format!("{}: {}", self.what, list.join(" + ")),
        )?;
        Ok(())
    }
}
