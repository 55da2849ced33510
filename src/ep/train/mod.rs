//! Training by EP: mini-batches of gradients from the model's [`super::Engine`], SGD or Adam,
//! metrics, checkpoints that resume bit for bit.

mod trainer;

pub use trainer::*;
