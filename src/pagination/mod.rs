//! Everything about positions in a list, and nothing about HTTP or GraphQL: opaque cursors
//! ([`cursor`]), Relay arguments to windows ([`window`]), and the planner that turns windows
//! into upstream page requests ([`planner`]).

pub mod cursor;
pub mod planner;
pub mod window;

pub use cursor::{CursorError, Scope};
pub use planner::PageRequest;
pub use window::{ArgsError, Limits, RelayArgs, Window, WindowSpec};
