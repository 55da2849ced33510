//! Timing of `H·ψ`: how users size their models (`qep bench`) and how the performance section
//! of the README is measured.

use std::time::Instant;

use serde::Serialize;

use crate::scalar::{Scalar, SingleScalar, C32, C64};
use crate::state::StateVector;

use super::{OperatorError, XMaskOperator};

/// Settings of [`XMaskOperator::time_apply`].
#[derive(Clone, Debug, Serialize)]
pub struct ApplyTimingParams {
    /// Timed applications (after `warmup` untimed ones).
    pub reps: usize,
    /// Untimed applications first: they fault in the output pages (slow on this kind of VM,
    /// see `shared/peers/README.md`) and warm the caches.
    pub warmup: usize,
    /// Seed of the random state.
    pub seed: u64,
    /// Time the real (`f64`) path instead of the complex one (needs a real operator).
    pub real: bool,
}

impl Default for ApplyTimingParams {
    fn default() -> Self {
        Self {
            reps: 10,
            warmup: 2,
            seed: 7,
            real: false,
        }
    }
}

/// Measured speed of one `H·ψ`.
#[derive(Clone, Debug, Serialize)]
pub struct ApplyTiming {
    /// Number of qubits.
    pub qubits: usize,
    /// `"complex"` or `"real"`.
    pub arithmetic: &'static str,
    /// `"double"` (`f64` / complex128 amplitudes) or `"single"` (`f32` / complex64, see
    /// [`XMaskOperator::apply_single`]).
    pub precision: &'static str,
    /// Timed repetitions.
    pub reps: usize,
    /// Median seconds per application.
    pub apply_seconds: f64,
    /// Fastest application, seconds.
    pub min_seconds: f64,
    /// Every timed application, seconds.
    pub times: Vec<f64>,
    /// Minimal bytes one application moves: read ψ and the diagonal, write the output once.
    pub bytes_per_apply: usize,
    /// `bytes_per_apply / apply_seconds / 10⁹`.
    pub effective_gbps: f64,
    /// Streaming passes one application makes over the state.
    pub passes: usize,
    /// X-mask groups (including the diagonal).
    pub groups: usize,
    /// rayon threads.
    pub threads: usize,
    /// `⟨ψ|H|ψ⟩` of the random state (a check value: it must not depend on threads).
    pub check_value: f64,
    /// CPU seconds (user + system, all threads of the process) per timed application: the
    /// mean over the timed repetitions; on a machine other work shares, the figure that wall
    /// times (waiting for a core included) do not give. `None` where it is not measured
    /// (split over MPI ranks, or no process clock).
    pub apply_cpu_seconds: Option<f64>,
}

/// Measured cost of the inner product a Lanczos step takes with its `H·ψ`
/// ([`XMaskOperator::time_apply_dot`]): the fused [`XMaskOperator::apply_dot_into`] against
/// `apply_into` followed by a separate `state::dot` pass, alternated rep by rep.
#[derive(Clone, Debug, Serialize)]
pub struct DotTiming {
    /// Median seconds of one fused `apply_dot_into`.
    pub apply_dot_seconds: f64,
    /// CPU seconds (user + system, all threads) per fused call, mean.
    pub apply_dot_cpu_seconds: Option<f64>,
    /// Median seconds of `apply_into` then `state::dot` (the provided `apply_dot`).
    pub apply_then_dot_seconds: f64,
    /// CPU seconds per `apply_into` + `state::dot`, mean.
    pub apply_then_dot_cpu_seconds: Option<f64>,
    /// `⟨ψ|H|ψ⟩` from the fused call (real part).
    pub fused_dot_value: f64,
    /// `⟨ψ|H|ψ⟩` from the separate pass (real part): equal to rounding.
    pub separate_dot_value: f64,
}

/// User + system CPU seconds of this process so far (all its threads), from `getrusage`.
fn process_cpu_seconds() -> Option<f64> {
    // SAFETY: `getrusage` writes a `rusage` it is given a valid pointer to; zeroed is a valid
    // `rusage` (plain integers).
    let u = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut u) != 0 {
            return None;
        }
        u
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    Some(secs(u.ru_utime) + secs(u.ru_stime))
}

impl XMaskOperator {
    /// Times `out = H·ψ` on a seeded random state: `warmup` untimed applications, then `reps`
    /// timed ones; reports the median. Allocates two state vectors (checked first).
    ///
    /// # Errors
    /// [`OperatorError::TooLarge`] if the two vectors do not fit in memory;
    /// [`OperatorError::NotReal`] for `real` on an operator that is complex in the Z basis.
    pub fn time_apply(&self, p: &ApplyTimingParams) -> Result<ApplyTiming, OperatorError> {
        if self.real_requested(p)? {
            self.time_typed::<f64>(p, "real")
        } else {
            self.time_typed::<C64>(p, "complex")
        }
    }

    /// As [`XMaskOperator::time_apply`] in single precision
    /// ([`XMaskOperator::apply_single`]): the same seeded random state rounded to `f32` /
    /// complex64; `bytes_per_apply` counts 4 B (real) or 8 B (complex) per amplitude of ψ and
    /// of the output, and the diagonal's 8 B (it stays double).
    ///
    /// # Errors
    /// As [`XMaskOperator::time_apply`].
    pub fn time_apply_single(&self, p: &ApplyTimingParams) -> Result<ApplyTiming, OperatorError> {
        if self.real_requested(p)? {
            self.time_single::<f32>(p, "real")
        } else {
            self.time_single::<C32>(p, "complex")
        }
    }

    /// Times the fused [`XMaskOperator::apply_dot_into`] and `apply_into` followed by a
    /// separate `state::dot` on the seeded random state of [`XMaskOperator::time_apply`]
    /// (`p.real` selects the path): `warmup` untimed calls of each, then `reps` timed pairs,
    /// the two alternated so that both see the same load.
    ///
    /// # Errors
    /// As [`XMaskOperator::time_apply`].
    pub fn time_apply_dot(&self, p: &ApplyTimingParams) -> Result<DotTiming, OperatorError> {
        if self.real_requested(p)? {
            self.time_dot_typed::<f64>(p)
        } else {
            self.time_dot_typed::<C64>(p)
        }
    }

    fn time_dot_typed<T: Scalar>(&self, p: &ApplyTimingParams) -> Result<DotTiming, OperatorError> {
        let elem = std::mem::size_of::<T>();
        crate::state::memory::check_alloc(2 * elem * self.dim(), "two state vectors")?;
        let psi = StateVector::<T>::random(self.n, p.seed)?;
        let x = psi.as_slice();
        let mut out: Vec<T> = crate::state::memory::zeroed(self.dim());
        let fused = |out: &mut [T]| self.apply_dot_into(x, out);
        let separate = |out: &mut [T]| {
            self.apply_into(x, out);
            crate::state::dot(x, out)
        };
        let (mut fused_value, mut separate_value) = (T::zero(), T::zero());
        for _ in 0..p.warmup {
            fused_value = fused(&mut out);
            separate_value = separate(&mut out);
        }
        let reps = p.reps.max(1);
        let (mut tf, mut ts) = (Vec::with_capacity(reps), Vec::with_capacity(reps));
        let (mut cf, mut cs) = (Some(0.0), Some(0.0));
        let add = |acc: &mut Option<f64>, c0: Option<f64>| {
            *acc = acc
                .zip(c0.zip(process_cpu_seconds()))
                .map(|(a, (s, e))| a + e - s);
        };
        for _ in 0..reps {
            let (c0, t0) = (process_cpu_seconds(), Instant::now());
            fused_value = fused(&mut out);
            tf.push(t0.elapsed().as_secs_f64());
            add(&mut cf, c0);
            let (c0, t0) = (process_cpu_seconds(), Instant::now());
            separate_value = separate(&mut out);
            ts.push(t0.elapsed().as_secs_f64());
            add(&mut cs, c0);
        }
        let per = |c: Option<f64>| c.map(|c| c / reps as f64);
        Ok(DotTiming {
            apply_dot_seconds: crate::report::median(&tf),
            apply_dot_cpu_seconds: per(cf),
            apply_then_dot_seconds: crate::report::median(&ts),
            apply_then_dot_cpu_seconds: per(cs),
            fused_dot_value: fused_value.re(),
            separate_dot_value: separate_value.re(),
        })
    }

    /// Whether `p` asks for the real path, refused for an operator complex in the Z basis.
    fn real_requested(&self, p: &ApplyTimingParams) -> Result<bool, OperatorError> {
        if p.real && !self.is_real() {
            return Err(OperatorError::NotReal);
        }
        Ok(p.real)
    }

    fn time_single<T: SingleScalar>(
        &self,
        p: &ApplyTimingParams,
        arithmetic: &'static str,
    ) -> Result<ApplyTiming, OperatorError> {
        let elem = std::mem::size_of::<T>();
        crate::state::memory::check_alloc((2 * elem + 16) * self.dim(), "state vectors")?;
        // The state the double-precision timing uses (same seed), rounded.
        let mut psi: Vec<T> = crate::state::memory::zeroed(self.dim());
        if T::IS_COMPLEX {
            let wide = StateVector::<C64>::random(self.n, p.seed)?;
            for (a, &c) in psi.iter_mut().zip(wide.as_slice()) {
                *a = T::round_c64(c);
            }
        } else {
            let wide = StateVector::<f64>::random(self.n, p.seed)?;
            for (a, &c) in psi.iter_mut().zip(wide.as_slice()) {
                *a = T::round_c64(C64::new(c, 0.0));
            }
        }
        let mut out: Vec<T> = crate::state::memory::zeroed(self.dim());
        for _ in 0..p.warmup {
            self.apply_single(&psi, &mut out);
        }
        let reps = p.reps.max(1);
        let mut times = Vec::with_capacity(reps);
        let cpu0 = process_cpu_seconds();
        for _ in 0..reps {
            let t0 = Instant::now();
            self.apply_single(&psi, &mut out);
            times.push(t0.elapsed().as_secs_f64());
        }
        let cpu = cpu0
            .zip(process_cpu_seconds())
            .map(|(a, b)| (b - a) / reps as f64);
        let check_value = psi
            .iter()
            .zip(&out)
            .map(|(a, b)| (a.to_c64().conj() * b.to_c64()).re)
            .sum();
        let mut t = ApplyTiming::from_times(
            (self.n, arithmetic),
            times,
            self.bytes_per_apply(elem),
            (self.n_passes(), self.n_groups()),
            check_value,
        );
        t.precision = "single";
        t.apply_cpu_seconds = cpu;
        Ok(t)
    }

    fn time_typed<T: Scalar>(
        &self,
        p: &ApplyTimingParams,
        arithmetic: &'static str,
    ) -> Result<ApplyTiming, OperatorError> {
        let elem = std::mem::size_of::<T>();
        crate::state::memory::check_alloc(2 * elem * self.dim(), "two state vectors")?;
        let psi = StateVector::<T>::random(self.n, p.seed)?;
        let mut out: Vec<T> = crate::state::memory::zeroed(self.dim());
        for _ in 0..p.warmup {
            self.apply_into(psi.as_slice(), &mut out);
        }
        let reps = p.reps.max(1);
        let mut times = Vec::with_capacity(reps);
        let cpu0 = process_cpu_seconds();
        for _ in 0..reps {
            let t0 = Instant::now();
            self.apply_into(psi.as_slice(), &mut out);
            times.push(t0.elapsed().as_secs_f64());
        }
        let cpu = cpu0
            .zip(process_cpu_seconds())
            .map(|(a, b)| (b - a) / reps as f64);
        let check_value = crate::state::dot(psi.as_slice(), &out).re();
        let mut t = ApplyTiming::from_times(
            (self.n, arithmetic),
            times,
            self.bytes_per_apply(elem),
            (self.n_passes(), self.n_groups()),
            check_value,
        );
        t.apply_cpu_seconds = cpu;
        Ok(t)
    }
}

impl ApplyTiming {
    /// The summary of timed applications `times` (seconds each, at least one) of an operator on
    /// `qubits` qubits in `arithmetic`, moving `bytes` per application in `passes` streaming
    /// passes over `groups` X-mask groups: median, minimum, effective bandwidth.
    pub(crate) fn from_times(
        (qubits, arithmetic): (usize, &'static str),
        times: Vec<f64>,
        bytes: usize,
        (passes, groups): (usize, usize),
        check_value: f64,
    ) -> Self {
        let median = crate::report::median(&times);
        Self {
            qubits,
            arithmetic,
            precision: "double",
            reps: times.len(),
            apply_seconds: median,
            min_seconds: times.iter().copied().fold(f64::INFINITY, f64::min),
            times,
            bytes_per_apply: bytes,
            effective_gbps: bytes as f64 / median / 1e9,
            passes,
            groups,
            threads: rayon::current_num_threads(),
            check_value,
            apply_cpu_seconds: None,
        }
    }
}
