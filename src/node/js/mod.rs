//! Layer 1 of the binding: JS values. Everything that asks Node-API (or, where a probe proved
//! it, reads V8's values in place) for a value, and nothing that knows about C types beyond
//! numbers. Uses nothing else of the binding.
//!
//! - [`napi`] — [`Env`] and [`Value`], checked wrappers over the raw Node-API functions;
//!   [`error`], the errors they return.
//! - [`read`] — a JS value as f64, integer bits, bool or UTF-8 in place, the one place that
//!   chooses between a tagged read ([`tagged`]) and Node-API; [`scalar`]: the way back.
//! - [`export`] — how an exported function runs (arguments in, exception out); [`callinfo`]: the
//!   lean entry's read of the function's data.
//! - [`limits`] and [`typed`]: lengths and TypedArray kinds checked before V8 sees them;
//!   [`keys`]: property keys made once; [`tsfn`]: a thread-safe function that can be cleared.

pub mod callinfo;
pub mod error;
pub mod export;
pub mod keys;
pub mod limits;
pub mod napi;
pub mod read;
pub mod scalar;
pub mod tagged;
pub mod tsfn;
pub mod typed;

pub(crate) use self::napi::call;
pub use error::{error, range_error, type_error, ErrorKind, JsError, JsResult};
pub use export::{entry, internal_error, settle, Args};
pub use napi::{drop_boxed, error_value, Env, JsType, Value};
