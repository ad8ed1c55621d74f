//! The integration suite: one binary, every test against the real service and the embedded
//! simulator on random loopback ports, over real HTTP.

mod amplification;
mod apq;
mod auth;
mod binary;
mod browser;
mod budget;
mod cache;
mod calls;
mod cors;
mod errors;
mod exposure;
mod helpers;
mod hostile;
mod images;
mod lookups;
mod media;
mod nodes;
pub mod ops;
mod pagination;
mod redis;
mod relay;
mod resilience;
mod schema;
mod security;
mod simulator;
mod stable;
mod tokens;
