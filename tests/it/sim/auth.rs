//! Simulator tests: auth.
