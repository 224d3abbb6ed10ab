//! End-to-end tests of the real binaries (and, later, the server), kept in their own crate so
//! that they see only what users see: commands, files and HTTP.
//!
//! Run with `cargo test --workspace`; each test builds the binaries it needs once
//! ([`support::bin`]).

#[cfg(test)]
mod support;

#[cfg(test)]
mod demo;
#[cfg(test)]
mod fixtures_cli;
#[cfg(test)]
mod hostile_input;
#[cfg(test)]
mod ingest_cli;
#[cfg(test)]
mod ingest_crash;
#[cfg(test)]
mod loadbench;
#[cfg(test)]
mod moderation_api;
#[cfg(test)]
mod moderation_page;
#[cfg(test)]
mod review_queue;
#[cfg(test)]
mod safety;
#[cfg(test)]
mod search_api;
#[cfg(test)]
mod server;
#[cfg(test)]
mod server_crash;
#[cfg(test)]
mod webdriver;
