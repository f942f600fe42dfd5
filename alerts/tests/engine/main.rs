//! Integration tests of the alert reducer through its public API: the SPEC §10 contract, every
//! rule family, every notification policy, and properties over random signal sequences.

mod common;
mod contract;
mod footprint;
mod policies;
mod properties;
mod rules;
