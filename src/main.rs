//! The `looker-load` command line.
fn main() {}
