//! The classical network at a temperature: the replica potential of the free and nudged
//! phases and the thermal EP gradient (Eq. 33) from Langevin samples.

use serde::Serialize;

use super::*;
use crate::ep::classical::{Activation, ClassicalError, ClassicalNet, ClassicalParams, Relaxed};
use crate::hamiltonian::{Example, Model};

/// Where a term's coefficient comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TermCoef {
    Fixed(f64),
    Param(usize),
}

/// One term `c Π_{i∈sites} ρ(z_i)` of `E_H(ρ(z))`.
#[derive(Clone, Debug)]
pub(crate) struct NetTerm {
    pub(crate) sites: Vec<usize>,
    pub(crate) coef: TermCoef,
}

impl NetTerm {
    pub(crate) fn coef(&self, theta: &[f64]) -> f64 {
        match self.coef {
            TermCoef::Fixed(c) => c,
            TermCoef::Param(k) => theta[k],
        }
    }
}

/// A classical EP network (Eq. 1, [`ClassicalNet`]) prepared for sampling: the same energy,
/// evaluated without allocation, at any number of clamping strengths at once.
#[derive(Clone, Debug)]
pub struct ThermalNet {
    net: ClassicalNet,
    pub(crate) units: usize,
    pub(crate) inputs: Vec<usize>,
    pub(crate) outputs: Vec<usize>,
    pub(crate) activation: Activation,
    pub(crate) alpha: f64,
    pub(crate) terms: Vec<NetTerm>,
    /// Index in `terms` of parameter `k`'s term.
    pub(crate) param_terms: Vec<usize>,
}

/// Which observable of a [`ThermalNet::sample`] row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetObservable {
    /// `A_k = ∂f/∂θ_k = Π_{i∈P_k} ρ(z_i)`.
    Derivative(usize),
    /// The cost `C(z) = ½ Σ_out (z_i − d_i)²`.
    Cost,
    /// The unit `z_i`.
    Unit(usize),
}

/// Thermal EP gradients of one example from one sampling run (Eq. 42, 43).
#[derive(Clone, Debug, Serialize)]
pub struct ThermalGradient {
    /// Parameter labels, in model order.
    pub params: Vec<String>,
    /// Temperature `T`.
    pub temperature: f64,
    /// Clamping strength `β` of the clamped estimate.
    pub beta: f64,
    /// Eq. 42: `(⟨A_k⟩_{T,+β} − ⟨A_k⟩_{T,−β})/2β`, from the paired `±β` replicas.
    pub clamped: Vec<Estimate>,
    /// Eq. 43: `−(1/T) Cov_T[A_k, C]` in the free (`β = 0`) replica.
    pub covariance: Vec<Estimate>,
    /// `clamped − covariance`, per sample (paired, so its error bar is that of the difference).
    pub difference: Vec<Estimate>,
    /// `⟨C⟩_T` in the free replica.
    pub cost: Estimate,
    /// `⟨z_i⟩_T` in the free replica.
    pub z_mean: Vec<Estimate>,
    /// The free minimum `z̄` every replica started from (after relaxing to its own `β`).
    pub minimum: Relaxed,
}

impl ThermalNet {
    /// Compiles `model` as [`ClassicalNet::new`] does (and keeps that network for relaxation
    /// and the Hessian).
    ///
    /// # Errors
    /// Those of [`ClassicalNet::new`].
    pub fn new(model: &Model, params: ClassicalParams) -> Result<Self, LangevinError> {
        let net = ClassicalNet::new(model, params.clone())?;
        let ones = |mut mask: u64| {
            let mut v = Vec::new();
            while mask != 0 {
                v.push(mask.trailing_zeros() as usize);
                mask &= mask - 1;
            }
            v
        };
        let mut terms: Vec<NetTerm> = model
            .fixed
            .terms()
            .iter()
            .map(|&(p, c)| NetTerm {
                sites: ones(p.z()),
                coef: TermCoef::Fixed(c.re),
            })
            .collect();
        let mut param_terms = Vec::with_capacity(model.params.len());
        for (k, p) in model.params.iter().enumerate() {
            param_terms.push(terms.len());
            terms.push(NetTerm {
                sites: ones(p.pauli.z()),
                coef: TermCoef::Param(k),
            });
        }
        Ok(Self {
            net,
            units: model.qubits,
            inputs: model.inputs.clone(),
            outputs: model.outputs.clone(),
            activation: params.activation,
            alpha: params.alpha,
            terms,
            param_terms,
        })
    }

    /// The underlying [`ClassicalNet`] (relaxation, Hessian, implicit gradient).
    pub fn net(&self) -> &ClassicalNet {
        &self.net
    }

    /// Number of parameters `θ_k`.
    pub fn n_params(&self) -> usize {
        self.param_terms.len()
    }

    /// The potential `Σ_r f_{β_r}(z_r)` of `betas.len()` replicas with common noise (see the
    /// module docs), each `f_β` the energy of Eq. 1 at `θ`, `example` and `β`.
    ///
    /// # Errors
    /// Those of [`ClassicalNet::check`] for every `β`; [`LangevinError::BadParam`] for no `β`.
    pub fn potential(
        &self,
        theta: &[f64],
        example: &Example,
        betas: &[f64],
    ) -> Result<NetPotential, LangevinError> {
        if betas.is_empty() {
            return Err(LangevinError::BadParam {
                name: "betas",
                value: 0.0,
                expected: "at least one clamping strength",
            });
        }
        let n = self.units;
        let mut w = vec![0.0; n * betas.len()];
        let mut c = vec![0.0; n * betas.len()];
        for (r, &beta) in betas.iter().enumerate() {
            self.net.check(theta, example, beta)?;
            for (&q, &u) in self.inputs.iter().zip(&example.inputs) {
                w[r * n + q] = self.alpha;
                c[r * n + q] = u;
            }
            if beta != 0.0 {
                for (&q, &d) in self.outputs.iter().zip(&example.targets) {
                    w[r * n + q] = beta;
                    c[r * n + q] = d;
                }
            }
        }
        let mut sites = Vec::new();
        let mut starts = vec![0];
        let mut coef = Vec::with_capacity(self.terms.len());
        for t in &self.terms {
            sites.extend_from_slice(&t.sites);
            starts.push(sites.len());
            coef.push(t.coef(theta));
        }
        Ok(NetPotential {
            units: n,
            replicas: betas.len(),
            activation: self.activation,
            sites,
            starts,
            coef,
            w,
            c,
        })
    }

    /// Index in a [`ThermalNet::sample`] row of observable `obs` of replica `replica`: each
    /// replica contributes `n_params + 1 + units` values, `[A_0 … A_{K−1}, C, z_0 … z_{n−1}]`.
    ///
    /// # Panics
    /// If a parameter or unit index is out of range.
    #[track_caller]
    pub fn observable(&self, replica: usize, obs: NetObservable) -> usize {
        let k = self.n_params();
        let base = replica * (k + 1 + self.units);
        match obs {
            NetObservable::Derivative(j) => {
                assert!(j < k, "parameter {j} out of range");
                base + j
            }
            NetObservable::Cost => base + k,
            NetObservable::Unit(i) => {
                assert!(i < self.units, "unit {i} out of range");
                base + k + 1 + i
            }
        }
    }

    /// Samples the replicas `betas` of the network with common noise (Eq. 33), every replica
    /// starting at its own relaxed minimum (relaxed from the free one), and records
    /// `[A_k, C, z]` for each (layout: [`ThermalNet::observable`]). Returns the samples and the
    /// free minimum.
    ///
    /// # Errors
    /// [`ClassicalError::NoTargets`] without targets; those of [`ThermalNet::potential`],
    /// [`ClassicalNet::relax`] and [`sample`].
    pub fn sample(
        &self,
        theta: &[f64],
        example: &Example,
        betas: &[f64],
        params: &LangevinParams,
    ) -> Result<(Samples, Relaxed), LangevinError> {
        if example.targets.is_empty() {
            return Err(ClassicalError::NoTargets.into());
        }
        params.validate()?;
        let pot = self.potential(theta, example, betas)?;
        let free = self.net.relax(theta, example, 0.0, None)?;
        let mut z0 = Vec::with_capacity(self.units * betas.len());
        for &beta in betas {
            if beta == 0.0 {
                z0.extend_from_slice(&free.z);
            } else {
                z0.extend(self.net.relax(theta, example, beta, Some(&free.z))?.z);
            }
        }
        let (n, k) = (self.units, self.n_params());
        let m = betas.len() * (k + 1 + n);
        let act = self.activation;
        let observe = |z: &[f64], out: &mut [f64]| {
            for (zr, o) in z.chunks_exact(n).zip(out.chunks_exact_mut(k + 1 + n)) {
                for (j, &t) in self.param_terms.iter().enumerate() {
                    o[j] = self.terms[t]
                        .sites
                        .iter()
                        .map(|&i| act.rho(zr[i]))
                        .product();
                }
                o[k] = self
                    .outputs
                    .iter()
                    .zip(&example.targets)
                    .map(|(&q, &d)| 0.5 * (zr[q] - d) * (zr[q] - d))
                    .sum();
                o[k + 1..].copy_from_slice(zr);
            }
        };
        let samples = sample(&pot, m, observe, &z0, params)?;
        Ok((samples, free))
    }

    /// Thermal EP gradients `d⟨C⟩_T/dθ_k` at temperature `params.temperature` from one run of
    /// the replicas `β = 0, +β, −β` with common noise: the clamped estimate (Eq. 42), the
    /// covariance estimate (Eq. 43) from the free replica, their paired difference, `⟨C⟩_T`
    /// and `⟨z⟩_T`, all with error bars.
    ///
    /// # Errors
    /// [`ClassicalError::BetaNotPositive`] for `β ≤ 0`, [`ClassicalError::BetaUnbounded`] for
    /// `β ≥ 1`; those of [`ThermalNet::sample`] and [`estimate`].
    pub fn thermal_gradient(
        &self,
        theta: &[f64],
        example: &Example,
        beta: f64,
        params: &LangevinParams,
    ) -> Result<ThermalGradient, LangevinError> {
        crate::ep::classical::check_beta(beta)?;
        let (s, minimum) = self.sample(theta, example, &[0.0, beta, -beta], params)?;
        let t = params.temperature;
        let cost_ix = self.observable(0, NetObservable::Cost);
        let mc = s.plain_mean(cost_ix);
        let mut clamped = Vec::new();
        let mut covariance = Vec::new();
        let mut difference = Vec::new();
        for k in 0..self.n_params() {
            let a0 = self.observable(0, NetObservable::Derivative(k));
            let ap = self.observable(1, NetObservable::Derivative(k));
            let am = self.observable(2, NetObservable::Derivative(k));
            let ma = s.plain_mean(a0);
            let cl = move |r: &[f64]| (r[ap] - r[am]) / (2.0 * beta);
            let cv = move |r: &[f64]| -(r[a0] - ma) * (r[cost_ix] - mc) / t;
            clamped.push(s.estimate_of(cl)?);
            covariance.push(s.estimate_of(cv)?);
            difference.push(s.estimate_of(|r| cl(r) - cv(r))?);
        }
        let z_mean = (0..self.units)
            .map(|i| s.mean(self.observable(0, NetObservable::Unit(i))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ThermalGradient {
            params: self.net.labels().to_vec(),
            temperature: t,
            beta,
            clamped,
            covariance,
            difference,
            cost: s.mean(cost_ix)?,
            z_mean,
            minimum,
        })
    }
}

/// The energy of a [`ThermalNet`] at fixed `θ`, example and `β` per replica, as a
/// [`Potential`]: `f = Σ_r [Σ_i z_i²/2 + Σ_i (w_i/2)(z_i − c_i)² + Σ_t c_t Π_{i∈t} ρ(z_i)]`.
/// The gradient allocates nothing (up to 64 units on the stack).
#[derive(Clone, Debug)]
pub struct NetPotential {
    units: usize,
    replicas: usize,
    activation: Activation,
    sites: Vec<usize>,
    starts: Vec<usize>,
    coef: Vec<f64>,
    /// Clamp weights per replica (`α` on inputs, `β` on outputs).
    w: Vec<f64>,
    /// Clamp centres per replica (`u`, `d`).
    c: Vec<f64>,
}

impl Potential for NetPotential {
    fn dim(&self) -> usize {
        self.units * self.replicas
    }

    fn replicas(&self) -> usize {
        self.replicas
    }

    fn energy_gradient(&self, z: &[f64], grad: &mut [f64]) -> f64 {
        let n = self.units;
        debug_assert!(n <= MAX_UNITS);
        let mut s = [0.0f64; MAX_UNITS];
        let mut dr = [0.0f64; MAX_UNITS];
        let mut field = [0.0f64; MAX_UNITS];
        let mut f = 0.0;
        for r in 0..self.replicas {
            let zr = &z[r * n..(r + 1) * n];
            let (w, c) = (&self.w[r * n..(r + 1) * n], &self.c[r * n..(r + 1) * n]);
            for i in 0..n {
                match self.activation {
                    Activation::Tanh => {
                        let t = zr[i].tanh();
                        s[i] = t;
                        dr[i] = 1.0 - t * t;
                    }
                    act => {
                        s[i] = act.rho(zr[i]);
                        dr[i] = act.rho_prime(zr[i]);
                    }
                }
                field[i] = 0.0;
            }
            for (t, &coef) in self.coef.iter().enumerate() {
                let sites = &self.sites[self.starts[t]..self.starts[t + 1]];
                let mut prod = coef;
                for &i in sites {
                    prod *= s[i];
                }
                f += prod;
                for (p, &i) in sites.iter().enumerate() {
                    let mut o = coef;
                    for (q, &j) in sites.iter().enumerate() {
                        if q != p {
                            o *= s[j];
                        }
                    }
                    field[i] += o;
                }
            }
            for i in 0..n {
                let dz = zr[i] - c[i];
                f += 0.5 * zr[i] * zr[i] + 0.5 * w[i] * dz * dz;
                grad[r * n + i] = zr[i] + w[i] * dz + dr[i] * field[i];
            }
        }
        f
    }
}
