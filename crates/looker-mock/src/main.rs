//! `looker-mock`: runs the mock Looker API 4.0 server standalone.

fn main() {}
