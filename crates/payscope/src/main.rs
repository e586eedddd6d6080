//! The `payscope` binary.

fn main() {}
