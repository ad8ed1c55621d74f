//! The integration suite: one binary, every test against the real service and the embedded
//! simulator on random loopback ports, over real HTTP.

mod binary;
mod calls;
mod deploy;
mod errors;
mod helpers;
mod hostile;
mod media;
mod ops;
mod pagination;
mod resilience;
mod schema;
mod simulator;
