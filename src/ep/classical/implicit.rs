//! The classical gradients: prediction (free phase), EP (Eq. 14) and implicit
//! differentiation (Eq. 49).

use super::relax::{dot, norm};
use super::*;
use crate::hamiltonian::Example;
use crate::linalg::{cholesky, solve_cholesky};

impl ClassicalNet {
    /// The free phase (β = 0) of one example: `z̄` on the outputs and, with targets, `C(z̄)`.
    ///
    /// # Errors
    /// Those of [`ClassicalNet::relax`].
    pub fn predict(&self, theta: &[f64], example: &Example) -> Result<Prediction, ClassicalError> {
        let state = self.relax(theta, example, 0.0, None)?;
        Ok(Prediction {
            z_outputs: self.outputs.iter().map(|&q| state.z[q]).collect(),
            cost: (!example.targets.is_empty()).then(|| self.cost(example, &state.z)),
            state,
        })
    }

    /// The EP estimate of `dC/dθ_k` (Eq. 13/14 in this sign convention, see the module docs):
    /// relaxes the free phase from `z = 0`, then the clamped phases `±β` from it, and returns
    /// `(Π ρ(z⁺) − Π ρ(z⁻))/2β` (bias O(β²)) or, `one_sided`, `(Π ρ(z^β) − Π ρ(z̄))/β` (O(β)).
    ///
    /// # Errors
    /// [`ClassicalError::BetaNotPositive`], [`ClassicalError::NoTargets`],
    /// [`ClassicalError::BetaUnbounded`] for `β ≥ 1` (the `−β` phase), and those of
    /// [`ClassicalNet::relax`].
    pub(crate) fn ep_gradient(
        &self,
        theta: &[f64],
        example: &Example,
        beta: f64,
        one_sided: bool,
    ) -> Result<ClassicalGradient, ClassicalError> {
        check_beta(beta)?;
        if example.targets.is_empty() {
            return Err(ClassicalError::NoTargets);
        }
        let free = self.relax(theta, example, 0.0, None)?;
        let plus = self.relax(theta, example, beta, Some(&free.z))?;
        let dp = self.theta_derivatives(&plus.z);
        let (gradient, clamped) = if one_sided {
            let d0 = self.theta_derivatives(&free.z);
            let g = dp.iter().zip(&d0).map(|(p, q)| (p - q) / beta).collect();
            (g, vec![plus])
        } else {
            let minus = self.relax(theta, example, -beta, Some(&free.z))?;
            let dm = self.theta_derivatives(&minus.z);
            let g = dp
                .iter()
                .zip(&dm)
                .map(|(p, m)| (p - m) / (2.0 * beta))
                .collect();
            (g, vec![plus, minus])
        };
        Ok(ClassicalGradient {
            params: self.labels.clone(),
            gradient,
            beta,
            one_sided,
            cost: self.cost(example, &free.z),
            z_outputs: self.outputs.iter().map(|&q| free.z[q]).collect(),
            free,
            clamped,
        })
    }

    /// The exact `dC/dθ_k` at the free minimum by implicit differentiation (Eq. 49):
    /// `dz̄/dθ_k = −H⁻¹ ∂²f/∂z∂θ_k` with `∂²f/∂z_i∂θ_k = ρ'(z_i) Π_{j∈P_k∖i} ρ(z_j)`, so
    /// `dC/dθ_k = Σ_out (z̄_i − d_i) dz̄_i/dθ_k = −λ·∂²f/∂z∂θ_k` with the adjoint `H λ = ∂C/∂z`,
    /// one Cholesky solve for every parameter.
    ///
    /// # Errors
    /// [`ClassicalError::NoTargets`], [`ClassicalError::NotMinimum`] if the Hessian at `z̄` is
    /// not positive definite, and those of [`ClassicalNet::relax`].
    pub(crate) fn implicit_gradient(
        &self,
        theta: &[f64],
        example: &Example,
    ) -> Result<ImplicitGradient, ClassicalError> {
        if example.targets.is_empty() {
            return Err(ClassicalError::NoTargets);
        }
        let free = self.relax(theta, example, 0.0, None)?;
        let n = self.qubits;
        let clamp = self.clamp(example, 0.0);
        let loc = self.local(theta, &clamp, &free.z);
        let hess = self.hessian_at(theta, &clamp, &loc);
        let l = cholesky(&hess, n).map_err(|nf| ClassicalError::NotMinimum {
            unit: nf.index,
            pivot: nf.pivot,
        })?;
        let mut dc = vec![0.0; n];
        for (&q, &d) in self.outputs.iter().zip(&example.targets) {
            dc[q] = free.z[q] - d;
        }
        let lambda = solve_cholesky(&l, n, &dc);
        let res: f64 = (0..n)
            .map(|i| {
                let r = dot(&hess[i * n..(i + 1) * n], &lambda) - dc[i];
                r * r
            })
            .sum::<f64>()
            .sqrt();
        let dcn = norm(&dc);
        let residual = if dcn > 0.0 { res / dcn } else { res };
        let gradient = self
            .param_terms
            .iter()
            .map(|&t| {
                let sites = &self.terms[t].sites;
                -sites
                    .iter()
                    .enumerate()
                    .map(|(p, &i)| {
                        let others: f64 = sites
                            .iter()
                            .enumerate()
                            .filter(|&(r, _)| r != p)
                            .map(|(_, &j)| loc.s[j])
                            .product();
                        lambda[i] * loc.dr[i] * others
                    })
                    .sum::<f64>()
            })
            .collect();
        Ok(ImplicitGradient {
            params: self.labels.clone(),
            gradient,
            cost: self.cost(example, &free.z),
            z_outputs: self.outputs.iter().map(|&q| free.z[q]).collect(),
            free,
            residual,
        })
    }
}
