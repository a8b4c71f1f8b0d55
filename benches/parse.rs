//! Benchmark of the Intacct response parser (filled in by the protocol work).

fn main() {}
