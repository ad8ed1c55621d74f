//! The integration suite: one binary, every test against the real service and the embedded
//! simulator on random loopback ports, over real HTTP.

mod binary;
mod budget;
mod calls;
mod errors;
mod helpers;
mod hostile;
mod lookups;
mod pagination;
mod redis;
mod resilience;
mod schema;
mod simulator;
