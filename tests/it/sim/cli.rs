//! Simulator tests: cli.
