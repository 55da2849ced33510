//! Studies built on the EP machinery: the barren-plateau scan ([`plateau`]) and the shot-noise
//! against clamping-bias scan ([`shots`]).

pub mod plateau;
pub mod shots;
