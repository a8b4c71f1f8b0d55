//! Simulator tests: admin.
