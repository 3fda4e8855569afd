//! The state of one conversion job (a call, an `encode`, a `decode`, a callback's arguments):
//! where its temporaries live, what must be copied back, the transient callbacks it made, and
//! how deeply its records nest.

use std::sync::Arc;

use smallvec::SmallVec;

use crate::call::memory::spill_into;
use crate::call::CallMemory;
use crate::node::instance::callbacks::{Temps, Transient};
use crate::node::instance::Instance;
use crate::node::js::{error, Env, JsError, JsResult, Value};
use crate::types::TypeInfo;

/// An output parameter to copy back after the call (spec OUT-04).
pub enum OutArg {
    /// A JS array whose elements receive the temporary C array.
    Array { arr: Value, ptr: *mut u8, elem: Arc<TypeInfo>, len: u32 },
    /// A plain object whose exposed members receive the temporary struct.
    Object { obj: Value, ptr: *mut u8, info: Arc<TypeInfo> },
    /// A union instance that receives the bytes (spec UNI-09).
    Union { obj: Value, ptr: *mut u8, info: Arc<TypeInfo> },
    /// A `[string]` buffer whose element 0 becomes the decoded string (spec OUT-06).
    StringBuf { arr: Value, ptr: *mut u8, width: usize, cap: usize },
}

impl OutArg {
    /// The JS value that receives the output.
    pub fn value(&self) -> Value {
        match self {
            OutArg::Array { arr, .. } | OutArg::StringBuf { arr, .. } => *arr,
            OutArg::Object { obj, .. } | OutArg::Union { obj, .. } => *obj,
        }
    }

    /// The same, to replace it (async calls re-resolve it from a reference).
    pub fn value_mut(&mut self) -> &mut Value {
        match self {
            OutArg::Array { arr, .. } | OutArg::StringBuf { arr, .. } => arr,
            OutArg::Object { obj, .. } | OutArg::Union { obj, .. } => obj,
        }
    }
}

/// State of one conversion job: a call, or an `encode`/`decode`.
pub struct Ctx<'a> {
    /// The JS environment.
    pub env: Env,
    /// Its instance.
    pub inst: &'a Instance,
    /// The call memory the temporaries go in (NULL: kept by the context, see [`Ctx::persistent`]).
    pub mem: *mut CallMemory,
    kept: Vec<Box<[u64]>>,
    /// Output parameters to copy back.
    pub outs: SmallVec<[OutArg; 2]>,
    /// Whether disposable values are disposed after decoding (not for `koffi.decode`, DISP-06).
    pub dispose: bool,
    /// Transient callbacks made for this call, released when it returns (spec CB-01).
    pub transients: SmallVec<[Transient; 2]>,
    /// Records being converted, one inside the other (see [`MAX_CONVERSION_DEPTH`]).
    depth: u32,
}

/// How many records a conversion may nest, one inside the other. Types alone cannot nest
/// deeper than [`crate::types::MAX_NESTING`], but counted pointers
/// (`koffi.pointer(T, 'count')`) nest as deep as the data goes: a C list whose elements
/// point back at it, or a JS object graph with a cycle, would recurse until the stack
/// overflows. Each level takes well under 2 KiB of stack, so this is at most a few hundred
/// KiB, far from the stack of any JS thread.
pub const MAX_CONVERSION_DEPTH: u32 = 4 * crate::types::MAX_NESTING as u32;

impl<'a> Ctx<'a> {
    /// A context whose temporaries live in the call memory `mem`.
    #[inline(always)]
    pub fn for_call(env: Env, inst: &'a Instance, mem: *mut CallMemory) -> Self {
        Ctx {
            env,
            inst,
            mem,
            kept: Vec::new(),
            outs: SmallVec::new(),
            dispose: true,
            transients: SmallVec::new(),
            depth: 0,
        }
    }

    /// A context whose temporaries are kept until the caller drops them (for `koffi.encode`,
    /// whose temporaries outlive the call: spec MEM-10).
    pub fn persistent(env: Env, inst: &'a Instance) -> Self {
        Ctx {
            env,
            inst,
            mem: std::ptr::null_mut(),
            kept: Vec::new(),
            outs: SmallVec::new(),
            dispose: true,
            transients: SmallVec::new(),
            depth: 0,
        }
    }

    /// Runs `f` one record deeper, or refuses when records nest past
    /// [`MAX_CONVERSION_DEPTH`].
    #[inline]
    pub(crate) fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> JsResult<T>) -> JsResult<T> {
        if self.depth >= MAX_CONVERSION_DEPTH {
            return Err(too_deep());
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// Temporaries made by a persistent context.
    pub fn into_kept(self) -> Vec<Box<[u64]>> {
        self.kept
    }

    /// Temporaries and transient callbacks made by a persistent context.
    pub fn into_parts(self) -> (Temps, SmallVec<[Transient; 2]>) {
        (self.kept, self.transients)
    }

    /// Temporary memory for the duration of the job (not zeroed).
    #[inline]
    pub fn alloc(&mut self, size: usize, align: usize) -> JsResult<*mut u8> {
        let ptr = if self.mem.is_null() {
            spill_into(&mut self.kept, size)
        } else {
            // SAFETY: `mem` is the instance's call memory; no other reference to it is live
            // while this short call runs (nested calls go through the same raw pointer).
            unsafe { (*self.mem).alloc(size, align) }
        };
        if ptr.is_null() {
            return Err(error(format!("Failed to allocate {size} bytes for a temporary value")));
        }
        Ok(ptr)
    }

    /// Zeroed temporary memory.
    #[inline]
    pub fn alloc_zeroed(&mut self, size: usize, align: usize) -> JsResult<*mut u8> {
        let ptr = self.alloc(size, align)?;
        // SAFETY: alloc returned `size` writable bytes.
        unsafe { std::ptr::write_bytes(ptr, 0, size) };
        Ok(ptr)
    }

    /// Room to encode in place at the heap cursor: (address, capacity), if worth trying.
    #[inline]
    pub fn in_place(&mut self, _width: usize) -> Option<(*mut u8, usize)> {
        if self.mem.is_null() {
            return None;
        }
        // SAFETY: as in `alloc`.
        let mem = unsafe { &mut *self.mem };
        let cap = mem.heap_remaining().saturating_sub(8);
        (cap >= 64).then(|| (mem.heap_cursor(), cap))
    }

    /// Takes `n` bytes at the heap cursor after an in-place encoding.
    #[inline]
    pub fn commit(&mut self, n: usize) {
        // SAFETY: as in `alloc`.
        unsafe { (*self.mem).commit(n) }
    }
}

#[cold]
fn too_deep() -> JsError {
    error(format!(
        "Data nests too deeply to convert (more than {MAX_CONVERSION_DEPTH} levels of structs, through counted pointers)"
    ))
}
