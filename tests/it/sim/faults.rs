//! Simulator tests: faults.
