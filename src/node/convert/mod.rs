//! Layer 3 of the binding: conversions of values between JS and C memory, for every kind of
//! type (spec §8, §9, §10). Uses the JS values (`js`) and the environment's state
//! (`instance`: its registry, and the callbacks a JS function becomes); nothing above.
//!
//! [`encode`] writes a JS value as the C representation of a type at an address; [`decode`]
//! reads one back. Pointer-like arguments go through [`pointer_arg`] (in `encode`), which may create
//! temporaries (strings, arrays, struct copies) in the call memory and register output
//! parameters to copy back after the call ([`copy_back`]). Every job carries a [`Ctx`].
//! [`handles`] are the JS values that stand for types and pointers, [`spec`] resolves type
//! specifiers, [`strings`] encodes and decodes text.

pub mod bytes;
pub mod ctx;
pub mod decode;
pub mod encode;
pub mod handles;
pub mod spec;
pub mod strings;

pub use bytes::int_store_bits;
pub use ctx::{Ctx, OutArg};
pub use decode::{copy_back, decode, decode_elements, dispose, read_addr};
pub use encode::{encode, pointer_arg, string_width, write_addr};
