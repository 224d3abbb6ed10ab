//! tests (in progress)
