//! Algorithmic cooling by collisions with thermal ancillas (heat-bath algorithmic cooling as a
//! collision model; docs/DESIGN.md, "How states are prepared: algorithmic cooling"; paper Section IV
//! needs the Gibbs state `e^{−H/T}/Z` of the network as the computation).
//!
//! The `N` network qubits (indices `0..N`, Hamiltonian `H_S`) are joined by `k` ancilla qubits
//! (indices `N..N+k`). Ancilla `a` has its own field, `H_a = (ω_a/2) Z_a`, so with
//! `Z|0⟩ = +|0⟩` (docs/DESIGN.md) **`|1⟩` is its ground state and `|0⟩` its excited state**, and
//! docs/DESIGN.md's `σ⁻ = |1⟩⟨0|` is its decay. Its thermal state at temperature `T` is
//! `τ_a = p₀|0⟩⟨0| + p₁|1⟩⟨1|` with `p₀/p₁ = e^{−ω_a/T}`.
//!
//! One *collision*: prepare `ρ_S ⊗ τ_1 ⊗ … ⊗ τ_k`, evolve for a time `τ` under
//!
//! `H_tot = H_S + Σ_a (ω_a/2) Z_a + g Σ_a A_{i(a)} ⊗ X_a`,
//!
//! then trace the ancillas out (the explicit reset). `A_i` is a system operator on one qubit
//! `i` (default `(X_i + Y_i + Z_i)/√3`), and the coupled qubit moves on by one at every
//! collision so that no spatial symmetry of `H_S` blocks the relaxation. One *round* cycles the
//! ancilla frequencies over a set covering the network's Bohr frequencies `E_m − E_n > 0`
//! (by default all of them, merged within `resolution`), `k` at a time (the list is cycled to
//! fill the last group).
//!
//! Why it thermalises, and how well: to second order in `g`, a collision of duration `τ`
//! drives the system transition of Bohr frequency `ω` with weight
//! `sinc²((ω − ω_a)τ/2)` and ratio (down : up) `= p₁ : p₀ = e^{ω_a/T}`: detailed balance holds
//! exactly on resonance (`ω = ω_a`), hence the ancilla frequencies sit on the Bohr frequencies
//! and `τ` must resolve them (`τ ≫ 1/spacing`). The fixed point is only approximately Gibbs:
//! off-resonant leakage (`O(1/(τ Δω))`), counter-rotating terms and the switching of the
//! interaction (`O(g²)`) shift it. Weak `g` gets closer but slower (rate per collision ∝ g²τ²).

use std::collections::hash_map::{Entry, HashMap};

use faer::Mat;

use super::density::{self, check_density_alloc, DensityMatrix};
use super::gibbs::{check_temperature, dense_eigen, GibbsDensity, Relaxation};
use super::lindblad::{evolve_lindblad, Options};
use super::EvolveError;
use crate::pauli::{Letter, PauliString, PauliSum};
use crate::state::StateError;
use crate::C64;

/// Largest total number of qubits (network + ancillas) of the cooling simulation (dense
/// propagator and trace distances).
pub const COOLING_MAX_QUBITS: usize = 10;

/// Bytes of dense collision propagators [`cool`] keeps between rounds (one per frequency group
/// and coupled operator, `16·4^{N+k}` bytes each); further ones are rebuilt when needed.
pub const COOLING_CACHE_BYTES: usize = 256 << 20;

/// How a collision is propagated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagator {
    /// The exact unitary `U = e^{−iH_tot τ}` from a dense eigensolve, built once per set of
    /// ancilla frequencies and applied as `UρU†` (fast for `N + k ≤ 10`).
    Dense,
    /// The matrix-free Lindblad integrator ([`evolve_lindblad`], no jumps) on `N + k` qubits:
    /// slower, the cross-check of `Dense`.
    Lindblad,
}

/// Settings of the cooling protocol ([`cool`]).
#[derive(Clone, Debug, PartialEq)]
pub struct CoolingParams {
    /// Coupling strength `g` (default 0.02).
    pub coupling: f64,
    /// Duration `τ` of one collision (default 100: resolves Bohr frequencies ~0.06 apart).
    pub duration: f64,
    /// Number `k` of ancillas coupled at once, each with its own frequency (default 2).
    pub ancillas: usize,
    /// Ancilla frequencies `ω_a > 0` cycled in each round; empty means the positive Bohr
    /// frequencies of `H_S` merged within [`CoolingParams::resolution`] (default).
    pub frequencies: Vec<f64>,
    /// Bohr frequencies closer than this are merged into one ancilla frequency (their mean;
    /// default 0.02).
    pub resolution: f64,
    /// Rounds over all frequencies (default 30).
    pub rounds: usize,
    /// System operators `A_i` the ancilla couples to, one used per collision in turn; empty
    /// means `(X_i + Y_i + Z_i)/√3` for every qubit `i` (default).
    pub system_operators: Vec<PauliSum>,
    /// How each collision is propagated (default [`Propagator::Dense`]).
    pub propagator: Propagator,
    /// Integrator settings for [`Propagator::Lindblad`].
    pub options: Options,
}

impl Default for CoolingParams {
    fn default() -> Self {
        Self {
            coupling: 0.02,
            duration: 100.0,
            ancillas: 2,
            frequencies: Vec::new(),
            resolution: 0.02,
            rounds: 30,
            system_operators: Vec::new(),
            propagator: Propagator::Dense,
            options: Options {
                positivity: false,
                ..Options::default()
            },
        }
    }
}

/// Result of [`cool`].
#[derive(Clone, Debug)]
pub struct Cooling {
    /// Per round (step 0 = the initial state): trace distance to the Gibbs state, `⟨H_S⟩`,
    /// observables, and the final system state.
    pub relaxation: Relaxation,
    /// The ancilla frequencies cycled in each round.
    pub frequencies: Vec<f64>,
    /// Collisions performed.
    pub collisions: usize,
}

/// The thermal state of one ancilla with `H_a = (ω/2) Z` at temperature `T`:
/// `diag(p₀, p₁)` with `p₀ = 1/(1 + e^{ω/T})` (excited `|0⟩`), `p₁ = 1/(1 + e^{−ω/T})`
/// (ground `|1⟩`), so `p₀/p₁ = e^{−ω/T}`. Evaluated without overflow.
///
/// # Errors
/// [`StateError::TemperatureNotPositive`]; [`EvolveError::BadParameter`] if `ω` is not finite.
pub fn thermal_qubit(omega: f64, temperature: f64) -> Result<DensityMatrix, EvolveError> {
    check_temperature(temperature)?;
    if !omega.is_finite() {
        return Err(EvolveError::BadParameter {
            name: "ancilla frequency ω",
            value: omega,
            expected: "a finite number",
        });
    }
    let x = omega / temperature;
    let p0 = if x >= 0.0 {
        let e = (-x).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + x.exp())
    };
    let z = C64::new(0.0, 0.0);
    Ok(DensityMatrix::from_entries(
        1,
        vec![C64::new(p0, 0.0), z, z, C64::new(1.0 - p0, 0.0)],
    ))
}

/// `a ⊗ b` with `a` on the low qubits `0..n_a` and `b` on `n_a..n_a + n_b` (qubit `i` = bit `i`):
/// `ρ[r_a + 2^{n_a} r_b][c_a + 2^{n_a} c_b] = a[r_a][c_a] · b[r_b][c_b]`.
///
/// # Errors
/// [`StateError::Memory`] if the product does not fit.
pub fn tensor_product(a: &DensityMatrix, b: &DensityMatrix) -> Result<DensityMatrix, EvolveError> {
    let (na, nb) = (a.qubits(), b.qubits());
    let mut out = DensityMatrix::zeros(na + nb)?;
    let (da, db) = (a.dim(), b.dim());
    let d = da * db;
    let o = out.as_mut_slice();
    for rb in 0..db {
        for cb in 0..db {
            let x = b.get(rb, cb);
            if x.norm_sqr() == 0.0 {
                continue;
            }
            for ra in 0..da {
                let row = (ra + da * rb) * d + da * cb;
                for ca in 0..da {
                    o[row + ca] = a.get(ra, ca) * x;
                }
            }
        }
    }
    Ok(out)
}

/// The reduced state `Tr_{rest} ρ` on the qubits `keep` (strictly increasing, `< n`); kept
/// qubit `keep[j]` becomes qubit `j`:
/// `ρ_S[r][c] = Σ_t ρ[s(r) | u(t)][s(c) | u(t)]`, `s` scattering the bits of `r` onto `keep` and
/// `u` those of `t` onto the traced qubits. Cost `O(4^{|keep|} · 2^{n − |keep|})`.
///
/// # Errors
/// [`StateError::QubitMismatch`] if `keep` is not strictly increasing or names a qubit `≥ n`;
/// [`StateError::Memory`].
pub fn partial_trace(rho: &DensityMatrix, keep: &[usize]) -> Result<DensityMatrix, EvolveError> {
    let n = rho.qubits();
    if keep.windows(2).any(|w| w[0] >= w[1]) || keep.last().is_some_and(|&q| q >= n) {
        return Err(StateError::QubitMismatch {
            what: format!("partial trace keeping qubits {keep:?} (strictly increasing)"),
            expected: n,
            found: keep.last().map_or(0, |q| q + 1),
        }
        .into());
    }
    let traced: Vec<usize> = (0..n).filter(|q| !keep.contains(q)).collect();
    let scatter = |bits: usize, onto: &[usize]| -> usize {
        onto.iter()
            .enumerate()
            .filter(|(j, _)| bits >> j & 1 == 1)
            .fold(0usize, |acc, (_, &q)| acc | 1 << q)
    };
    let s: Vec<usize> = (0..1usize << keep.len())
        .map(|r| scatter(r, keep))
        .collect();
    let u: Vec<usize> = (0..1usize << traced.len())
        .map(|t| scatter(t, &traced))
        .collect();
    let mut out = DensityMatrix::zeros(keep.len())?;
    let ds = s.len();
    let d = rho.dim();
    let src = rho.as_slice();
    let o = out.as_mut_slice();
    for (r, &sr) in s.iter().enumerate() {
        for (c, &sc) in s.iter().enumerate() {
            o[r * ds + c] = u.iter().map(|&ut| src[(sr | ut) * d + (sc | ut)]).sum();
        }
    }
    Ok(out)
}

/// Cools the network `h` (on `N` qubits) towards its Gibbs state at `temperature` with the
/// collision protocol of the [module docs](self), starting from `rho0`, for `params.rounds`
/// rounds; after every round it records the trace distance of `ρ_S` to the exact Gibbs state
/// (dense), `⟨H⟩` and `Tr ρ_S A_j` for the Hermitian `observables`. `on_round(r, rounds)` is
/// called after each round (progress reporting).
///
/// Cost: per distinct set of `k` frequencies one dense eigensolve of `2^{N+k}` (Dense) and per
/// collision two `2^{N+k}` matrix products, or one Lindblad integration over `τ`.
///
/// # Errors
/// [`StateError::TemperatureNotPositive`]; [`EvolveError::BadParameter`] for `g`, `τ`,
/// `resolution` not finite and `> 0` (`g ≥ 0`), `k ∉ 1..=3`, a frequency `≤ 0`, or
/// `rounds = 0`; [`StateError::TooManyQubits`] if `N + k > 10`;
/// [`StateError::QubitMismatch`] for `rho0`, observables or system operators on the wrong
/// qubits; [`StateError::NonHermitianHamiltonian`], [`EvolveError::NonHermitianObservable`];
/// memory, eigensolver and integrator errors.
pub fn cool(
    h: &PauliSum,
    temperature: f64,
    rho0: &DensityMatrix,
    observables: &[PauliSum],
    params: &CoolingParams,
    mut on_round: impl FnMut(usize, usize),
) -> Result<Cooling, EvolveError> {
    check_temperature(temperature)?;
    check_params(params)?;
    let n = h.qubits();
    let k = params.ancillas;
    let total = n + k;
    check_cooling_size(n, k)?;
    if rho0.qubits() != n {
        return Err(StateError::QubitMismatch {
            what: "initial state".into(),
            expected: n,
            found: rho0.qubits(),
        }
        .into());
    }
    super::check_observables(observables, n)?;
    let ops = system_operators(params, n)?;
    check_density_alloc(total, 6, "cooling (network + ancillas)")?;
    let gibbs = GibbsDensity::new(h, temperature)?;
    let frequencies = if params.frequencies.is_empty() {
        bohr_frequencies(&gibbs.energies, params.resolution)
    } else {
        params.frequencies.clone()
    };
    let energy_op = h.clone();

    let groups = frequency_groups(&frequencies, k);
    let thermal: Vec<Vec<DensityMatrix>> = groups
        .iter()
        .map(|g| g.iter().map(|&w| thermal_qubit(w, temperature)).collect())
        .collect::<Result<_, _>>()?;
    // Dense propagators are per (group, operator offset): the coupled operator changes each
    // collision, so cache by (group index, operator index).
    let mut cache: HashMap<(usize, usize), Mat<C64>> = HashMap::new();
    let keep: Vec<usize> = (0..n).collect();
    let mut rho = rho0.clone();
    let mut rec = Relaxation {
        steps: Vec::with_capacity(params.rounds + 1),
        trace_distance: Vec::with_capacity(params.rounds + 1),
        energy: Vec::with_capacity(params.rounds + 1),
        observables: vec![Vec::new(); observables.len()],
        final_state: rho0.clone(),
        gibbs_energy: gibbs.energy,
    };
    let mut record = |step: usize, rho: &DensityMatrix| -> Result<(), EvolveError> {
        rec.steps.push(step as f64);
        rec.trace_distance.push(gibbs.distance(rho)?);
        rec.energy.push(rho.expectation(&energy_op).re);
        for (j, a) in observables.iter().enumerate() {
            rec.observables[j].push(rho.expectation(a).re);
        }
        Ok(())
    };
    record(0, &rho)?;
    let mut collisions = 0usize;
    for round in 0..params.rounds {
        for (gi, group) in groups.iter().enumerate() {
            // Ancilla a couples to operator (collision + a) mod #ops.
            let op0 = collisions % ops.len();
            let h_tot = || collision_hamiltonian(h, group, &ops, op0, params.coupling);
            let mut full = rho.clone();
            for t in &thermal[gi] {
                full = tensor_product(&full, t)?;
            }
            let evolved = match params.propagator {
                Propagator::Dense => {
                    let key = (gi, op0);
                    // The cache holds at most `COOLING_CACHE_BYTES` of propagators (the memory
                    // plan counts that much); beyond it a propagator is used once and dropped.
                    let room = (cache.len() + 1)
                        .saturating_mul(density::density_bytes(total) as usize)
                        <= COOLING_CACHE_BYTES;
                    match cache.entry(key) {
                        Entry::Occupied(e) => conjugate(e.into_mut(), &full),
                        Entry::Vacant(e) if room => {
                            conjugate(e.insert(unitary(&h_tot(), params.duration)?), &full)
                        }
                        Entry::Vacant(_) => conjugate(&unitary(&h_tot(), params.duration)?, &full),
                    }
                }
                Propagator::Lindblad => {
                    evolve_lindblad(
                        &h_tot(),
                        &[],
                        &full,
                        &[params.duration],
                        &[],
                        &params.options,
                    )?
                    .final_state
                }
            };
            rho = partial_trace(&evolved, &keep)?;
            collisions += 1;
        }
        record(round + 1, &rho)?;
        on_round(round + 1, params.rounds);
    }
    rec.final_state = rho;
    Ok(Cooling {
        relaxation: rec,
        frequencies,
        collisions,
    })
}

/// Checks, before any work, that the dense cooling simulation of `n` network qubits with `k`
/// ancillas fits its limit `n + k ≤` [`COOLING_MAX_QUBITS`].
///
/// # Errors
/// [`StateError::TooManyQubits`] naming the total and the limit.
pub fn check_cooling_size(n: usize, k: usize) -> Result<(), EvolveError> {
    if n + k > COOLING_MAX_QUBITS {
        return Err(StateError::TooManyQubits {
            method: "cooling (network + ancillas)",
            qubits: n + k,
            max: COOLING_MAX_QUBITS,
        }
        .into());
    }
    Ok(())
}

/// Checks the settings shared by [`cool`] and the trajectory unravelling
/// ([`super::cooling_trajectories::cool_trajectories`]): `g ≥ 0`, `τ > 0`, `resolution > 0`,
/// frequencies `> 0` (all finite), `k ∈ 1..=3`, `rounds ≥ 1`.
pub(crate) fn check_params(params: &CoolingParams) -> Result<(), EvolveError> {
    let positive = |name: &'static str, v: f64, allow_zero: bool| -> Result<(), EvolveError> {
        if v.is_finite() && (v > 0.0 || (allow_zero && v == 0.0)) {
            Ok(())
        } else {
            Err(EvolveError::BadParameter {
                name,
                value: v,
                expected: if allow_zero {
                    "a finite number ≥ 0"
                } else {
                    "a finite number > 0"
                },
            })
        }
    };
    positive("coupling g", params.coupling, true)?;
    positive("collision duration τ", params.duration, false)?;
    positive("frequency resolution", params.resolution, false)?;
    for &w in &params.frequencies {
        positive("ancilla frequency ω", w, false)?;
    }
    if !(1..=3).contains(&params.ancillas) {
        return Err(EvolveError::BadParameter {
            name: "ancillas k",
            value: params.ancillas as f64,
            expected: "1, 2 or 3",
        });
    }
    if params.rounds == 0 {
        return Err(EvolveError::BadParameter {
            name: "rounds",
            value: 0.0,
            expected: "at least 1",
        });
    }
    Ok(())
}

/// The system operators `A_i` of the protocol on `n` qubits: `params.system_operators`, or
/// `(X_i + Y_i + Z_i)/√3` for every qubit if that list is empty.
///
/// # Errors
/// [`StateError::QubitMismatch`] if an operator acts on a qubit `≥ n`.
pub fn system_operators(params: &CoolingParams, n: usize) -> Result<Vec<PauliSum>, EvolveError> {
    let ops = if params.system_operators.is_empty() {
        default_system_operators(n)
    } else {
        params.system_operators.clone()
    };
    for (j, a) in ops.iter().enumerate() {
        super::check_width(a, n, "system operator", j)?;
    }
    Ok(ops)
}

/// The collisions of one round: consecutive groups of `k` ancilla frequencies, the list
/// cycled so that every collision has `k` ancillas (`⌈len/k⌉` groups). Group `g`, ancilla `a`
/// has frequency `frequencies[(g·k + a) mod len]`.
pub fn frequency_groups(frequencies: &[f64], k: usize) -> Vec<Vec<f64>> {
    if frequencies.is_empty() || k == 0 {
        return Vec::new();
    }
    (0..frequencies.len().div_ceil(k))
        .map(|gi| {
            (0..k)
                .map(|a| frequencies[(gi * k + a) % frequencies.len()])
                .collect()
        })
        .collect()
}

/// `H_tot = H_S + Σ_a (ω_a/2) Z_a + g Σ_a A_{(op0 + a) mod |ops|} ⊗ X_a` on `N + k` qubits
/// (`N = h.qubits()`, ancilla `a` = qubit `N + a`, `k = group.len()`): the Hamiltonian of one
/// collision. In [`cool`], collision number `c` (counted from 0 over all rounds) uses
/// `op0 = c mod |ops|`.
///
/// # Panics
/// If `ops` is empty while `group` is not (a caller bug; [`system_operators`] is never empty
/// for `N ≥ 1`).
pub fn collision_hamiltonian(
    h: &PauliSum,
    group: &[f64],
    ops: &[PauliSum],
    op0: usize,
    coupling: f64,
) -> PauliSum {
    let n = h.qubits();
    let total = n + group.len();
    let mut ht = widen(h, total);
    for (a, &w) in group.iter().enumerate() {
        ht.add(PauliString::single(Letter::Z, n + a), 0.5 * w);
        let sys = widen(&ops[(op0 + a) % ops.len()], total);
        let mut xa = PauliSum::new(total);
        xa.add(PauliString::single(Letter::X, n + a), coupling);
        ht.add_sum(&sys.product(&xa), C64::new(1.0, 0.0));
    }
    ht.simplify(1e-15);
    ht
}

/// `s` as a Pauli sum on `n ≥ s.qubits()` qubits.
pub(crate) fn widen(s: &PauliSum, n: usize) -> PauliSum {
    let mut w = PauliSum::new(n);
    for &(p, c) in s.terms() {
        w.add(p, c);
    }
    w
}

/// `(X_i + Y_i + Z_i)/√3` for every qubit `i`.
pub(crate) fn default_system_operators(n: usize) -> Vec<PauliSum> {
    let s = 1.0 / 3f64.sqrt();
    (0..n)
        .map(|q| {
            let mut a = PauliSum::new(n);
            for l in [Letter::X, Letter::Y, Letter::Z] {
                a.add(PauliString::single(l, q), s);
            }
            a
        })
        .collect()
}

/// The positive Bohr frequencies `E_m − E_n` of a spectrum, sorted, with values closer than
/// `resolution` merged into their mean (chained: a run of close values becomes one).
pub fn bohr_frequencies(energies: &[f64], resolution: f64) -> Vec<f64> {
    let floor = 1e-9 * energies.iter().fold(1.0f64, |m, e| m.max(e.abs()));
    let mut w: Vec<f64> = Vec::new();
    for (i, &a) in energies.iter().enumerate() {
        for &b in &energies[i + 1..] {
            let d = (b - a).abs();
            if d > floor {
                w.push(d);
            }
        }
    }
    w.sort_by(f64::total_cmp);
    let mut out: Vec<f64> = Vec::new();
    let mut run: Vec<f64> = Vec::new();
    for x in w {
        if let Some(&last) = run.last() {
            if x - last > resolution {
                out.push(run.iter().sum::<f64>() / run.len() as f64);
                run.clear();
            }
        }
        run.push(x);
    }
    if !run.is_empty() {
        out.push(run.iter().sum::<f64>() / run.len() as f64);
    }
    out
}

/// `e^{−iHτ}` by a dense eigensolve, as a faer matrix.
pub(crate) fn unitary(h: &PauliSum, tau: f64) -> Result<Mat<C64>, EvolveError> {
    let (e, v) = dense_eigen(h, COOLING_MAX_QUBITS, "cooling propagator")?;
    let d = e.len();
    let vm = Mat::<C64>::from_fn(d, d, |i, j| v[i * d + j]);
    let ph = Mat::<C64>::from_fn(d, d, |i, j| vm[(i, j)] * C64::from_polar(1.0, -e[j] * tau));
    Ok(&ph * vm.adjoint())
}

/// `UρU†` as a density matrix.
fn conjugate(u: &Mat<C64>, rho: &DensityMatrix) -> DensityMatrix {
    let d = rho.dim();
    let r = Mat::<C64>::from_fn(d, d, |i, j| rho.get(i, j));
    let out = u * &r * u.adjoint();
    DensityMatrix::from_entries(
        rho.qubits(),
        (0..d * d).map(|i| out[(i / d, i % d)]).collect(),
    )
}
