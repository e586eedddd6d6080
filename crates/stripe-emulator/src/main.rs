//! The `stripe-emulator` binary.

fn main() {}
