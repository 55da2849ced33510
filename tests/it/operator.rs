//! Tests for `operator`.
