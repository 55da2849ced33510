//! Studies built on the EP machinery: the barren-plateau scan ([`plateau`]) and the shot-noise
//! against clamping-bias scan ([`shots`]); the state-preparation benchmark ([`prepare`]) and
//! the thermal-gradient scan ([`thermal_scan`]); the dynamical Lie algebra of a network's
//! terms ([`lie`]); the 8×8 digits reduced by principal components ([`digits`]).

pub mod digits;
pub mod lie;
pub mod plateau;
pub mod prepare;
pub mod reproduce;
pub mod shots;
pub mod thermal_scan;
