//! koffi-rs: a Node.js C FFI with the Koffi 2.x API.
//!
//! The engine (`types`, `abi`, `call`) builds and tests without Node; the `node` feature adds the
//! N-API binding in `node`. See `../shared/design/ARCHITECTURE.md` for the layers.

pub mod abi;
pub mod call;
pub mod callback;
#[cfg(feature = "node")]
mod node;
pub mod types;
