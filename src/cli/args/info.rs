//! Flags of `qep info`.

use clap::Args;

use super::ModelArg;

/// `qep info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub model: ModelArg,
}
