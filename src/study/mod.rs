//! Studies built on the EP machinery: the barren-plateau scan ([`plateau`]).

pub mod plateau;
