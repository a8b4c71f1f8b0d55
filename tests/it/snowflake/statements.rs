//! Statements through the emulator's faults.
