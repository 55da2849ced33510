//! Training by EP: mini-batches of gradients from the model's [`super::Engine`], SGD or Adam,
//! metrics, checkpoints that resume bit for bit.

mod checkpoint;
mod optimizer;
mod trainer;

pub use checkpoint::*;
pub use optimizer::*;
pub use trainer::*;
