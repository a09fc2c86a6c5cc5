//! Configuration, state and orchestration of extract, normalize and load: the layer the `looker-load`
//! binary calls. Each command resolves its settings once ([`config`]), then drives the stages.

pub mod config;
pub mod crash;
pub mod demo;
mod error;
pub mod extract;
pub mod hints;
pub mod inspect;
pub mod load;
pub mod memory;
pub mod normalize;
pub mod progress;
pub mod run;
pub mod show;

pub use error::PipelineError;
