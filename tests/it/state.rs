//! Tests for `state`.
