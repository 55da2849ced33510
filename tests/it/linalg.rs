//! Tests for `linalg`.
