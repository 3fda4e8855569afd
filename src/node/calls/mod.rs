//! Layer 4 of the binding: calls, both ways. Uses the conversions (`convert`), the environment
//! (`instance`) and the JS values (`js`).
//!
//! From JS to C, in the order a call runs: [`entry`] (the JS function of a declared function and
//! its Node-API entries, choosing the lean or the general path), [`lean`] (numbers and booleans,
//! from a table made at declaration in [`plan`]), [`general`] (everything), [`asynccall`] (on
//! the pool threads), and [`run`] (the thunk, and what callbacks left when C returns). The
//! function itself is a [`callable::Callable`].
//!
//! From C to JS: [`relay`], what runs when C calls a callback.

pub mod asynccall;
pub mod callable;
pub mod entry;
pub mod general;
pub mod lean;
pub mod plan;
pub mod relay;
pub mod run;
