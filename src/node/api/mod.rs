//! Layer 5 of the binding: the exported API, grouped as the spec groups it. Each file turns the
//! arguments of `koffi.*` functions into calls on the layers below; `node/mod.rs` lists them in
//! the exports object.
//!
//! - [`library`] — `koffi.load` and the library object (`func`, `symbol`, `unload`).
//! - [`types`] — type constructors, specifiers and introspection.
//! - [`memory`] — `alloc`, `free`, `decode`, `encode`, `address`, `view`, `call`.
//! - [`callbacks`] — `register`, `unregister`.
//! - [`settings`] — `config`, `stats`, `errno`, `reset`, and the setup hook of index.js.
//! - [`poll`] — `koffi.node.poll`.
//! - [`alloc_count`] — the allocator behind `koffi.implementation.heapAllocations()`.

pub mod alloc_count;
pub mod callbacks;
pub mod library;
pub mod memory;
pub mod poll;
pub mod settings;
pub mod types;
