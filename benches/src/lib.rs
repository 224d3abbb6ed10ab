//! benches (in progress)
