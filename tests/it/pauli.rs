//! Tests for `pauli`.
