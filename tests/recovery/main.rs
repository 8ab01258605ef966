//! What ykmfa leaves when a run is cut short, on the bench: the fault matrix of one enrollment
//! (every step times every fault) with its random kills, two ykmfa processes at once, and a
//! killed enrollment settled by the next command that touches its user or token.
//!
//! One test binary, each former binary a module.

mod concurrency;
mod fault_matrix;
mod settle_after_kill;
