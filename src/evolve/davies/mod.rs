//! The Davies (weak-coupling, detailed-balance) generator: the exact thermalisation oracle for
//! small networks (docs/DESIGN.md, "How states are prepared: algorithmic cooling"; paper Section IV,
//! where the thermal state `e^{−H/T}/Z` is the computation).
//!
//! With `H = Σ_n E_n |n⟩⟨n|`, degenerate levels grouped into blocks with projectors `Π_ε`, and
//! coupling operators `A_α` (default `X_i, Y_i, Z_i` on every qubit), the Bohr components are
//! `A_α(ω) = Σ_{ε' − ε = ω} Π_ε A_α Π_ε'` (`ω > 0` lowers the energy by `ω`) and
//!
//! `L(ρ) = −i[H, ρ] + Σ_α Σ_ω γ(ω) (A_α(ω) ρ A_α(ω)† − ½{A_α(ω)† A_α(ω), ρ})`
//!
//! (no Lamb shift; docs/DESIGN.md rate convention). The rates obey detailed balance
//! `γ(−ω) = e^{−ω/T} γ(ω)`; qep uses the Glauber (logistic) form
//! `γ(ω) = 2γ₀ / (1 + e^{−ω/T})`: smooth, bounded by `2γ₀` (no stiffness at large `ω`),
//! `γ(0) = γ₀`. Hence `ρ_G A(ω) = e^{ω/T} A(ω) ρ_G` and `L(ρ_G) = 0`; the fixed point is unique
//! when `{A_α}` generate the full algebra (Spohn–Frigerio), as single-qubit Paulis do.
//!
//! Everything is dense in the eigenbasis (faer eigensolve, `N ≤ 7`). `L` preserves the Bohr
//! sectors `{|n⟩⟨m| : E_n − E_m = ν}`; the fixed point lives in the `ν = 0` sector (block-diagonal
//! matrices, dimension `Σ_ε d_ε²`), where it is found as the null vector of a small dense
//! matrix ([`Davies::fixed_point`]).

use faer::Mat;

use super::density::{check_density_alloc, DensityMatrix};
use super::gibbs::{boltzmann, check_temperature, dense_eigen};
use super::{check_hermitian_operators, EvolveError};
use crate::operator::XMaskOperator;
use crate::pauli::{Letter, PauliString, PauliSum};
use crate::state::StateError;
use crate::C64;

mod dynamics;

pub use dynamics::FixedPoint;

/// Largest number of qubits the dense Davies generator accepts.
pub const DAVIES_MAX_QUBITS: usize = 7;

/// Checks, before any work, that the dense Davies generator of `n` qubits fits its limit
/// [`DAVIES_MAX_QUBITS`].
///
/// # Errors
/// [`StateError::TooManyQubits`] naming `n` and the limit.
pub fn check_davies_size(n: usize) -> Result<(), EvolveError> {
    if n > DAVIES_MAX_QUBITS {
        return Err(StateError::TooManyQubits {
            method: "Davies generator",
            qubits: n,
            max: DAVIES_MAX_QUBITS,
        }
        .into());
    }
    Ok(())
}

/// Settings of the Davies generator.
#[derive(Clone, Debug, PartialEq)]
pub struct DaviesParams {
    /// Overall rate `γ₀` of `γ(ω) = 2γ₀/(1 + e^{−ω/T})` (default 1).
    pub rate: f64,
    /// Coupling operators `A_α` (Hermitian Pauli sums); empty means `X_i, Y_i, Z_i` on every
    /// qubit (the default).
    pub couplings: Vec<PauliSum>,
    /// Levels whose energies differ by at most `tol · max(1, max|E|)` form one degenerate
    /// block; the same tolerance merges equal Bohr frequencies (default 1e-9).
    pub degeneracy_tol: f64,
}

impl Default for DaviesParams {
    fn default() -> Self {
        Self {
            rate: 1.0,
            couplings: Vec::new(),
            degeneracy_tol: 1e-9,
        }
    }
}

/// The Davies rate `γ(ω) = 2γ₀ / (1 + e^{−ω/T})` for a transition lowering the energy by `ω`
/// (raising it if `ω < 0`): detailed balance `γ(−ω) = e^{−ω/T} γ(ω)` holds exactly, `γ(0) = γ₀`,
/// `γ(ω) → 2γ₀` for `ω ≫ T`. Evaluated without overflow for any `ω/T`.
pub fn davies_rate(omega: f64, temperature: f64, gamma0: f64) -> f64 {
    let x = omega / temperature;
    let logistic = if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    };
    2.0 * gamma0 * logistic
}

/// One `(A_α, Bohr frequency)` channel: rate and the block pairs `(a, b)` (`ε_b − ε_a = ω`)
/// where `Π_a A_α Π_b ≠ 0`.
#[derive(Clone, Debug)]
struct Channel {
    alpha: usize,
    rate: f64,
    pairs: Vec<(usize, usize)>,
}

/// The Davies generator of a Hermitian Pauli sum at temperature `T`, in its eigenbasis.
#[derive(Clone, Debug)]
pub struct Davies {
    n: usize,
    dim: usize,
    temperature: f64,
    energies: Vec<f64>,
    /// Eigenvectors as columns, row-major `dim × dim`.
    v: Vec<C64>,
    /// Degenerate blocks `(start, len)` in ascending energy.
    blocks: Vec<(usize, usize)>,
    block_energy: Vec<f64>,
    /// `A_α` in the eigenbasis, row-major.
    a: Vec<Vec<C64>>,
    channels: Vec<Channel>,
    /// `K = Σ_α Σ_ω γ(ω) A_α(ω)† A_α(ω)` (block-diagonal), row-major.
    k: Vec<C64>,
    /// `γ(ε_b − ε_a)` for block pairs, row-major `blocks × blocks`.
    gamma: Vec<f64>,
    weights: Vec<f64>,
}

impl Davies {
    /// Builds the generator: dense eigensolve of `h`, degenerate blocks, the coupling
    /// operators in the eigenbasis, Bohr-frequency channels and `K`. Cost: `O(8^N)` per coupling
    /// operator (two dense products), memory `(3 + #couplings) · 16 · 4^N` bytes (checked).
    ///
    /// # Errors
    /// [`StateError::TemperatureNotPositive`]; [`StateError::TooManyQubits`] above
    /// [`DAVIES_MAX_QUBITS`]; [`EvolveError::BadParameter`] for `rate ≤ 0` or a tolerance
    /// outside `(0, 1e-3]`; [`StateError::NonHermitianHamiltonian`],
    /// [`EvolveError::NonHermitianObservable`] (a complex coupling, indexed),
    /// [`StateError::QubitMismatch`]; memory, operator and eigensolver errors.
    pub fn new(h: &PauliSum, temperature: f64, params: &DaviesParams) -> Result<Self, EvolveError> {
        check_temperature(temperature)?;
        if !(params.rate > 0.0 && params.rate.is_finite()) {
            return Err(EvolveError::BadParameter {
                name: "Davies rate γ₀",
                value: params.rate,
                expected: "a finite number > 0",
            });
        }
        if !(params.degeneracy_tol > 0.0 && params.degeneracy_tol <= 1e-3) {
            return Err(EvolveError::BadParameter {
                name: "degeneracy tolerance",
                value: params.degeneracy_tol,
                expected: "a number in (0, 1e-3]",
            });
        }
        let n = h.qubits();
        check_davies_size(n)?;
        let couplings = if params.couplings.is_empty() {
            default_couplings(n)
        } else {
            params.couplings.clone()
        };
        check_hermitian_operators(&couplings, n, "coupling operator")?;
        let (energies, v) = dense_eigen(h, DAVIES_MAX_QUBITS, "Davies generator")?;
        check_density_alloc(n, 3 + couplings.len(), "Davies generator")?;
        let dim = energies.len();
        let scale = energies.iter().fold(1.0f64, |m, e| m.max(e.abs()));
        let tol = params.degeneracy_tol * scale;

        // Degenerate blocks (energies ascending).
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        for (i, &e) in energies.iter().enumerate() {
            match blocks.last_mut() {
                Some((s, len)) if e - energies[*s + *len - 1] <= tol => *len += 1,
                _ => blocks.push((i, 1)),
            }
        }
        let block_energy: Vec<f64> = blocks
            .iter()
            .map(|&(s, l)| energies[s..s + l].iter().sum::<f64>() / l as f64)
            .collect();
        let nb = blocks.len();

        // Couplings in the eigenbasis: V† A V.
        let vm = Mat::<C64>::from_fn(dim, dim, |i, j| v[i * dim + j]);
        let mut a = Vec::with_capacity(couplings.len());
        for c in &couplings {
            let wide = super::cooling::widen(c, n);
            let dense = XMaskOperator::new(&wide)?.to_dense()?;
            let am = Mat::<C64>::from_fn(dim, dim, |i, j| dense[i * dim + j]);
            let ae = vm.adjoint() * &am * &vm;
            a.push(
                (0..dim * dim)
                    .map(|i| ae[(i / dim, i % dim)])
                    .collect::<Vec<C64>>(),
            );
        }

        // Block pairs sorted by Bohr frequency, chained into clusters.
        let mut pairs: Vec<(f64, usize, usize)> = Vec::with_capacity(nb * nb);
        for ai in 0..nb {
            for bi in 0..nb {
                pairs.push((block_energy[bi] - block_energy[ai], ai, bi));
            }
        }
        pairs.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut clusters: Vec<(f64, Vec<(usize, usize)>)> = Vec::new();
        let mut last = f64::NEG_INFINITY;
        for &(w, ai, bi) in &pairs {
            if w - last > tol || clusters.is_empty() {
                clusters.push((w, Vec::new()));
            }
            last = w;
            if let Some(c) = clusters.last_mut() {
                c.1.push((ai, bi));
            }
        }
        let mut gamma = vec![0.0; nb * nb];
        for (ai, &ea) in block_energy.iter().enumerate() {
            for (bi, &eb) in block_energy.iter().enumerate() {
                gamma[ai * nb + bi] = davies_rate(eb - ea, temperature, params.rate);
            }
        }
        let nonzero = |al: usize, ai: usize, bi: usize| -> bool {
            let (sa, la) = blocks[ai];
            let (sb, lb) = blocks[bi];
            (sa..sa + la).any(|r| (sb..sb + lb).any(|c| a[al][r * dim + c].norm() > 1e-13))
        };
        let mut channels = Vec::new();
        for (w, members) in &clusters {
            let mean = members
                .iter()
                .map(|&(ai, bi)| block_energy[bi] - block_energy[ai])
                .sum::<f64>()
                / members.len() as f64;
            let rate = davies_rate(if *w == 0.0 { 0.0 } else { mean }, temperature, params.rate);
            for al in 0..a.len() {
                let live: Vec<(usize, usize)> = members
                    .iter()
                    .copied()
                    .filter(|&(ai, bi)| nonzero(al, ai, bi))
                    .collect();
                if !live.is_empty() {
                    channels.push(Channel {
                        alpha: al,
                        rate,
                        pairs: live,
                    });
                }
            }
        }

        // K = Σ_α Σ_{a,b} γ(ε_b − ε_a) (Π_a A Π_b)† (Π_a A Π_b), block-diagonal on b.
        let mut k = vec![C64::new(0.0, 0.0); dim * dim];
        for am in &a {
            for (bi, &(sb, lb)) in blocks.iter().enumerate() {
                for (ai, &(sa, la)) in blocks.iter().enumerate() {
                    let g = gamma[ai * nb + bi];
                    for r in sb..sb + lb {
                        for c in sb..sb + lb {
                            let s: C64 = (sa..sa + la)
                                .map(|x| am[x * dim + r].conj() * am[x * dim + c])
                                .sum();
                            k[r * dim + c] += s * g;
                        }
                    }
                }
            }
        }
        let weights = boltzmann(&energies, temperature);
        Ok(Self {
            n,
            dim,
            temperature,
            energies,
            v,
            blocks,
            block_energy,
            a,
            channels,
            k,
            gamma,
            weights,
        })
    }

    /// Number of qubits.
    pub fn qubits(&self) -> usize {
        self.n
    }

    /// Temperature `T`.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// Energies `E_n`, ascending.
    pub fn energies(&self) -> &[f64] {
        &self.energies
    }

    /// Multiplicities of the degenerate levels, in ascending energy.
    pub fn degeneracies(&self) -> Vec<usize> {
        self.blocks.iter().map(|b| b.1).collect()
    }

    /// Gibbs weights `p_n = e^{−E_n/T}/Z` of the eigenstates.
    pub fn gibbs_weights(&self) -> &[f64] {
        &self.weights
    }

    /// `ρ` (computational basis) → `V†ρV` (eigenbasis), row-major.
    ///
    /// # Panics
    /// If `rho` acts on a different number of qubits.
    #[track_caller]
    pub fn to_eigenbasis(&self, rho: &DensityMatrix) -> Vec<C64> {
        assert_eq!(
            rho.qubits(),
            self.n,
            "state on a different number of qubits"
        );
        let d = self.dim;
        let vm = Mat::<C64>::from_fn(d, d, |i, j| self.v[i * d + j]);
        let r = Mat::<C64>::from_fn(d, d, |i, j| rho.get(i, j));
        let e = vm.adjoint() * &r * &vm;
        (0..d * d).map(|i| e[(i / d, i % d)]).collect()
    }

    /// `ρ_eig` (eigenbasis, row-major) → `V ρ_eig V†` as a density matrix.
    ///
    /// # Panics
    /// If `rho_eig.len() != 4^N`.
    #[track_caller]
    pub fn from_eigenbasis(&self, rho_eig: &[C64]) -> DensityMatrix {
        let d = self.dim;
        assert_eq!(rho_eig.len(), d * d, "need 4^N entries");
        let vm = Mat::<C64>::from_fn(d, d, |i, j| self.v[i * d + j]);
        let r = Mat::<C64>::from_fn(d, d, |i, j| rho_eig[i * d + j]);
        let e = &vm * &r * vm.adjoint();
        DensityMatrix::from_entries(self.n, (0..d * d).map(|i| e[(i / d, i % d)]).collect())
    }

    /// `out = L(ρ)` in the eigenbasis (row-major `dim × dim`): the Hamiltonian part
    /// `−i(E_r − E_c)ρ_rc`, `−½{K, ρ}` block by block, and `Σ γ A(ω) ρ A(ω)†` channel by
    /// channel over the pairs of blocks with equal Bohr frequency. Allocates a small scratch.
    ///
    /// # Panics
    /// If the slices are not `4^N` long.
    #[track_caller]
    pub fn apply(&self, rho: &[C64], out: &mut [C64]) {
        let d = self.dim;
        assert!(rho.len() == d * d && out.len() == d * d, "need 4^N entries");
        for r in 0..d {
            for c in 0..d {
                out[r * d + c] =
                    C64::new(0.0, -(self.energies[r] - self.energies[c])) * rho[r * d + c];
            }
        }
        // −½ (Kρ + ρK), K block-diagonal.
        for &(s, l) in &self.blocks {
            for r in s..s + l {
                for c in 0..d {
                    let mut acc = C64::new(0.0, 0.0);
                    for x in s..s + l {
                        acc += self.k[r * d + x] * rho[x * d + c];
                    }
                    out[r * d + c] -= acc * 0.5;
                }
            }
            for r in 0..d {
                for c in s..s + l {
                    let mut acc = C64::new(0.0, 0.0);
                    for x in s..s + l {
                        acc += rho[r * d + x] * self.k[x * d + c];
                    }
                    out[r * d + c] -= acc * 0.5;
                }
            }
        }
        // Σ γ A(ω) ρ A(ω)†.
        let mut tmp: Vec<C64> = Vec::new();
        for ch in &self.channels {
            let am = &self.a[ch.alpha];
            for &(ap, bp) in &ch.pairs {
                let (sap, lap) = self.blocks[ap];
                let (sbp, lbp) = self.blocks[bp];
                for &(aq, bq) in &ch.pairs {
                    let (saq, laq) = self.blocks[aq];
                    let (sbq, lbq) = self.blocks[bq];
                    // tmp = A[ap, bp] ρ[bp, bq]  (lap × lbq)
                    tmp.clear();
                    tmp.resize(lap * lbq, C64::new(0.0, 0.0));
                    for i in 0..lap {
                        for j in 0..lbq {
                            let mut acc = C64::new(0.0, 0.0);
                            for x in 0..lbp {
                                acc += am[(sap + i) * d + sbp + x] * rho[(sbp + x) * d + sbq + j];
                            }
                            tmp[i * lbq + j] = acc;
                        }
                    }
                    // out[ap, aq] += γ tmp A[aq, bq]†
                    for i in 0..lap {
                        for j in 0..laq {
                            let mut acc = C64::new(0.0, 0.0);
                            for x in 0..lbq {
                                acc += tmp[i * lbq + x] * am[(saq + j) * d + sbq + x].conj();
                            }
                            out[(sap + i) * d + saq + j] += acc * ch.rate;
                        }
                    }
                }
            }
        }
    }
    /// Energies of the degenerate blocks, ascending.
    pub fn level_energies(&self) -> &[f64] {
        &self.block_energy
    }
}

/// `X_i, Y_i, Z_i` on every qubit.
fn default_couplings(n: usize) -> Vec<PauliSum> {
    let mut v = Vec::with_capacity(3 * n);
    for q in 0..n {
        for l in [Letter::X, Letter::Y, Letter::Z] {
            let mut s = PauliSum::new(n);
            s.add(PauliString::single(l, q), 1.0);
            v.push(s);
        }
    }
    v
}
