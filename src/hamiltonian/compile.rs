//! Compiling a model to the network Hamiltonian of Eq. 16:
//!
//! `H(β, θ, u, d) = H_fixed + Σ_k θ_k P_k + Σ_{i∈I_in} u_i Z_i + (β/2) Σ_{i∈I_out} (Z_i − d_i)²`
//!
//! with the clamp expanded using `Z² = I`: `(β/2) Σ_i [(1 + d_i²) I − 2 d_i Z_i]`, so that
//! `∂H/∂β = C(d)`, the cost operator of Eq. 18.

use serde::Serialize;

use super::domain::Model;
use super::error::ModelError;
use crate::pauli::{Letter, PauliString, PauliSum};
use crate::scalar::C64;

/// One training example: input fields `u_i` (one per model input, in `Model::inputs` order)
/// and targets `d_i` (one per model output, in `Model::outputs` order).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Example {
    /// `u_i`: the field `u_i Z_i` on input qubit `inputs[i]`.
    pub inputs: Vec<f64>,
    /// `d_i`: the target of `⟨Z⟩` on output qubit `outputs[i]`.
    pub targets: Vec<f64>,
}

impl Model {
    /// `H(β, θ, u, d)` of Eq. 16 as a simplified [`PauliSum`] (equal strings merged, exact
    /// zeros dropped, sorted by `(x, z)` masks):
    /// `H_fixed + Σ_k θ_k Σ_j c_kj P_kj + Σ u_i Z_i + (β/2) Σ [(1 + d_i²) I − 2 d_i Z_i]`.
    ///
    /// Without an example (`None`) there are no input fields and no clamp; `beta` must then
    /// be 0. Cost: allocates the sum, `O(terms · log terms)`.
    ///
    /// # Errors
    /// [`ModelError::ThetaLength`] if `theta.len() != params.len()`,
    /// [`ModelError::InputsLength`] / [`ModelError::TargetsLength`] if the example does not fit
    /// the model, [`ModelError::BetaWithoutExample`] for `beta ≠ 0` without an example.
    /// # Examples
    /// The XOR network of `hamiltonians/xor.yaml` with its first example clamped at `β = 0.1`:
    /// `H` gains the input fields `u_i Z_i` and the cost term `β C` (Eq. 16, 18).
    /// ```
    /// let model = qep::hamiltonian::load(std::path::Path::new("hamiltonians/xor.yaml"))?;
    /// let theta = model.theta();
    /// let free = model.hamiltonian(&theta, None, 0.0)?;
    /// let ex = model.training_example(0)?;
    /// let clamped = model.hamiltonian(&theta, Some(&ex), 0.1)?;
    /// assert_eq!(free.qubits(), 5);
    /// assert!(clamped.len() > free.len()); // input fields on qubits 0, 1 and Z4 from the clamp
    /// assert!(model.hamiltonian(&theta, None, 0.1).is_err()); // no clamp without a target
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hamiltonian(
        &self,
        theta: &[f64],
        example: Option<&Example>,
        beta: f64,
    ) -> Result<PauliSum, ModelError> {
        if theta.len() != self.params.len() {
            return Err(ModelError::ThetaLength {
                model: self.name.clone(),
                got: theta.len(),
                expected: self.params.len(),
            });
        }
        let mut h = self.fixed.clone();
        for (p, &t) in self.params.iter().zip(theta) {
            for &(s, c) in &p.strings {
                h.add(s, t * c);
            }
        }
        match example {
            Some(ex) => {
                if ex.inputs.len() != self.inputs.len() {
                    return Err(ModelError::InputsLength {
                        model: self.name.clone(),
                        got: ex.inputs.len(),
                        expected: self.inputs.len(),
                    });
                }
                if ex.targets.len() != self.outputs.len() {
                    return Err(ModelError::TargetsLength {
                        model: self.name.clone(),
                        got: ex.targets.len(),
                        expected: self.outputs.len(),
                    });
                }
                for (&q, &u) in self.inputs.iter().zip(&ex.inputs) {
                    h.add(PauliString::single(Letter::Z, q), u);
                }
                if beta != 0.0 {
                    h.add_sum(&self.cost_operator(&ex.targets), C64::new(beta, 0.0));
                }
            }
            None if beta != 0.0 => {
                return Err(ModelError::BetaWithoutExample {
                    model: self.name.clone(),
                    beta,
                })
            }
            None => {}
        }
        h.simplify(0.0);
        Ok(h)
    }

    /// The cost operator of Eq. 18, `C(d) = ½ Σ_{i∈I_out} (Z_i − d_i)²
    /// = ½ Σ_i [(1 + d_i²) I − 2 d_i Z_i]`, simplified (tolerance 0). `⟨C⟩` is the loss of
    /// an example and `∂H/∂β = C`.
    ///
    /// # Panics
    /// If `targets.len() != outputs.len()` (a caller bug: examples are checked on load).
    #[track_caller]
    pub fn cost_operator(&self, targets: &[f64]) -> PauliSum {
        assert_eq!(
            targets.len(),
            self.outputs.len(),
            "model `{}`: {} targets for {} outputs",
            self.name,
            targets.len(),
            self.outputs.len()
        );
        let mut c = PauliSum::new(self.qubits);
        for (&q, &d) in self.outputs.iter().zip(targets) {
            c.add(PauliString::IDENTITY, 0.5 * (1.0 + d * d));
            c.add(PauliString::single(Letter::Z, q), -d);
        }
        c.simplify(0.0);
        c
    }

    /// The initial parameter values `θ_k`, in `params` order.
    pub fn theta(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.value).collect()
    }

    /// The first example of the dataset (training set first, else test set), if the model
    /// has a dataset.
    pub fn first_example(&self) -> Option<Example> {
        let d = self.dataset.as_ref()?;
        d.train.first().or_else(|| d.test.first()).cloned()
    }

    /// Training example `index` of the dataset.
    ///
    /// # Errors
    /// [`ModelError::NoSuchExample`] naming the model file and the valid range.
    pub fn training_example(&self, index: usize) -> Result<Example, ModelError> {
        let train = self.dataset.as_ref().map_or(&[][..], |d| &d.train[..]);
        train
            .get(index)
            .cloned()
            .ok_or_else(|| ModelError::NoSuchExample {
                file: self.source.path.clone(),
                index,
                count: train.len(),
            })
    }
}
