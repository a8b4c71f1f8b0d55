<<<<<<< HEAD
=======
//! Benchmark of the Intacct response parser (filled in by the protocol work).

>>>>>>> main
fn main() {}
