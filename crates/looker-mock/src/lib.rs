//! A mock Looker API 4.0 server for tests, benchmarks and `--demo`.
