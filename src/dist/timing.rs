//! Timing of the distributed `H·ψ` (`qep bench` on several ranks).

use std::time::Instant;

use serde::Serialize;

use crate::operator::{ApplyTiming, ApplyTimingParams, OperatorError};
use crate::pauli::PauliSum;
use crate::scalar::{Scalar, C64};
use crate::state::memory::{self, state_bytes, MemoryPlan};

use super::{Comm, DistError, DistOperator, Layout};

/// [`ApplyTiming`] of the distributed `H·ψ`, with the communication it costs.
#[derive(Clone, Debug, Serialize)]
pub struct DistTiming {
    /// The timing as on one process: `qubits` of the whole state, seconds per application
    /// (each repetition's time is the slowest rank's, ranks starting together), memory
    /// traffic, passes and X-mask groups of this rank's local operators.
    #[serde(flatten)]
    pub apply: ApplyTiming,
    /// Bytes each rank sends per application ([`DistOperator::bytes_per_apply`]; 0 on one
    /// rank).
    pub mpi_bytes_per_apply: usize,
    /// Block exchanges per application.
    pub exchanges: usize,
}

/// Times `H·ψ` with the state split over the ranks of `comm` on a seeded random state (the
/// same state for any rank count: amplitudes drawn per global index): `warmup` untimed
/// applications, then `reps` timed ones, each started by a barrier and lasting until the
/// slowest rank is done. Every rank must call it; every rank returns the same numbers.
///
/// # Errors
/// [`DistError`] for a rank count that cannot split `h`'s qubits, the per-rank memory check
/// (two blocks and the exchange buffers), and [`OperatorError::NotReal`] for `real` on a
/// complex operator.
pub fn time_apply(
    h: &PauliSum,
    comm: &dyn Comm,
    p: &ApplyTimingParams,
) -> Result<DistTiming, DistError> {
    let layout = Layout::of(comm, h.qubits())?;
    let l = layout.local_qubits();
    let elem = if p.real { 8 } else { 16 };
    let mut plan = MemoryPlan::new(format!(
        "distributed H·ψ of {} qubits, per rank of {}",
        h.qubits(),
        comm.size()
    ));
    plan.add_n("ψ and H·ψ blocks", 2, state_bytes(l, elem))
        .add_n("exchange buffers", 2, state_bytes(l, 16));
    plan.check()?;
    let op = DistOperator::new(h, comm)?;
    if p.real {
        if !op.is_real() {
            return Err(OperatorError::NotReal.into());
        }
        Ok(time_typed::<f64>(&op, comm, p, "real"))
    } else {
        Ok(time_typed::<C64>(&op, comm, p, "complex"))
    }
}

fn time_typed<T: Scalar>(
    op: &DistOperator<'_>,
    comm: &dyn Comm,
    p: &ApplyTimingParams,
    arithmetic: &'static str,
) -> DistTiming {
    let layout = op.layout();
    let elem = std::mem::size_of::<T>();
    let psi: Vec<T> = random_block(op, p.seed);
    let mut out: Vec<T> = memory::zeroed(layout.local_dim());
    for _ in 0..p.warmup {
        op.apply(&psi, &mut out);
    }
    let reps = p.reps.max(1);
    let mut mine = Vec::with_capacity(reps);
    for _ in 0..reps {
        comm.barrier();
        let t0 = Instant::now();
        op.apply(&psi, &mut out);
        mine.push(t0.elapsed().as_secs_f64());
    }
    // Each repetition lasts as long as its slowest rank.
    let mut all = vec![0.0; reps * comm.size()];
    comm.allgather(&mine, &mut all);
    let times: Vec<f64> = (0..reps)
        .map(|i| {
            (0..comm.size())
                .map(|r| all[r * reps + i])
                .fold(0.0, f64::max)
        })
        .collect();
    let check_value = op.dot(&psi, &out).re;
    DistTiming {
        apply: ApplyTiming::from_times(
            (layout.qubits(), arithmetic),
            times,
            op.local_bytes_per_apply(elem),
            (op.local_passes(), op.local_groups()),
            check_value,
        ),
        mpi_bytes_per_apply: op.bytes_per_apply(elem),
        exchanges: op.exchanges(),
    }
}

/// This rank's block of a normalised random state whose amplitude at global index `i` is a
/// complex Gaussian drawn from `(seed, i)` alone (real Gaussian for `T = f64`): the whole
/// vector is the same for every rank count.
pub fn random_block<T: Scalar>(op: &DistOperator<'_>, seed: u64) -> Vec<T> {
    let layout = op.layout();
    let offset = layout.offset() as u64;
    let mut v: Vec<T> = (0..layout.local_dim() as u64)
        .map(|i| {
            let (re, im) = gaussian_at(seed, offset + i);
            T::from_c64(C64::new(re, im)).unwrap_or_else(|| T::from_f64(re))
        })
        .collect();
    let n2 = op.dot(&v, &v).re;
    let s = T::from_f64(1.0 / n2.sqrt());
    for x in &mut v {
        *x *= s;
    }
    v
}

/// Two standard normal deviates from the counter `(seed, i)` (SplitMix64 then Box–Muller).
fn gaussian_at(seed: u64, i: u64) -> (f64, f64) {
    let mut s = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    };
    let u1 = 1.0 - next(); // (0, 1]
    let u2 = next();
    let r = (-2.0 * u1.ln()).sqrt();
    let (sn, cs) = (std::f64::consts::TAU * u2).sin_cos();
    (r * cs, r * sn)
}
