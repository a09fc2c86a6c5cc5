//! Configuration, state and orchestration of extract, normalize and load.

pub mod config;
