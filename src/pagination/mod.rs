//! Everything about positions in a list, and nothing about HTTP or GraphQL: opaque cursors
//! ([`cursor`]), Relay arguments to windows ([`window`]), the planner that turns windows
//! into upstream page requests ([`planner`]), and finding a cursor's item again after the
//! list moved ([`anchor`]).

pub mod anchor;
pub mod cursor;
pub mod planner;
pub mod window;

pub use cursor::{CursorError, Scope};
pub use planner::{PageRequest, Window};
pub use window::{Anchored, ArgsError, Ask, Limits, RelayArgs, WindowSpec};
