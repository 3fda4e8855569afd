//! Conversion of values between JS and C memory, for every kind of type (spec §8, §9, §10).
//!
//! [`encode`] writes a JS value as the C representation of a type at an address; [`decode`]
//! reads one back. Pointer-like arguments go through [`pointer_arg`], which may create
//! temporaries (strings, arrays, struct copies) in the call memory and register output
//! parameters to copy back after the call ([`copy_back`]).

mod decode;
mod encode;
pub mod keys;
mod pointer;

use std::sync::Arc;

use smallvec::SmallVec;

pub use decode::*;
pub use encode::*;
pub use pointer::*;

use super::instance::Instance;
use super::napi::{error, type_error, Env, JsResult, JsType, Value};
use crate::call::memory::spill_into;
use crate::call::CallMemory;
use crate::types::{Primitive, TypeInfo};

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
    pub(super) mem: *mut CallMemory,
    kept: Vec<Box<[u64]>>,
    /// Output parameters to copy back.
    pub outs: SmallVec<[OutArg; 2]>,
    /// Whether disposable values are disposed after decoding (not for `koffi.decode`, DISP-06).
    pub dispose: bool,
    /// Transient callbacks made for this call, released when it returns (spec CB-01).
    pub transients: SmallVec<[(u32, Arc<super::callback::JsHandler>); 2]>,
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
    pub fn into_parts(self) -> (super::callback::Temps, SmallVec<[super::callback::Transient; 2]>) {
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

/// Number → integer bits: truncation toward zero, then wrapping modulo 2^64; NaN and ±∞ give 0
/// (spec PRIM-03, §18-Q1). The caller keeps the low bits it needs.
#[inline]
pub fn f64_to_bits(d: f64) -> u64 {
    if !d.is_finite() {
        return 0;
    }
    let t = d.trunc();
    if t.abs() < 9.2e18 {
        t as i64 as u64
    } else {
        t.rem_euclid(18446744073709551616.0) as u64
    }
}

/// A JS Number or BigInt as integer bits (spec PRIM-03, PRIM-04).
#[inline]
pub fn int_bits(env: Env, v: Value) -> JsResult<u64> {
    match env.type_of(v)? {
        JsType::Number => Ok(f64_to_bits(env.get_f64(v)?)),
        JsType::BigInt => env.get_bigint_bits(v),
        _ => Err(type_error(format!("Unexpected {} value, expected number", env.type_name(v)))),
    }
}

/// A JS Number or BigInt as a double (spec PRIM-05).
#[inline]
pub fn float_value(env: Env, v: Value) -> JsResult<f64> {
    match env.type_of(v)? {
        JsType::Number => env.get_f64(v),
        JsType::BigInt => env.get_bigint_f64(v),
        _ => Err(type_error(format!("Unexpected {} value, expected number", env.type_name(v)))),
    }
}

/// A JS Number as integer bits in one Node-API call when it is one (the common case); BigInts
/// and errors take the general path. ≤ 32-bit kinds: `napi_get_value_int32` truncates and
/// wraps modulo 2^32 and gives 0 for NaN/±∞, as spec §18-Q1 asks. 64-bit kinds: exact below
/// 2^63 in magnitude; the saturated ends go through the double path, which wraps.
#[inline(always)]
pub fn fast_int_bits(env: Env, v: Value, size: usize) -> JsResult<u64> {
    if size <= 4 {
        let mut i = 0i32;
        // SAFETY: JS thread, valid env and value.
        if unsafe { napi::sys::napi_get_value_int32(env.0, v, &mut i) } == napi::sys::Status::napi_ok {
            return Ok(i as i64 as u64);
        }
    } else {
        let mut i = 0i64;
        // SAFETY: as above.
        if unsafe { napi::sys::napi_get_value_int64(env.0, v, &mut i) } == napi::sys::Status::napi_ok
            && i != i64::MAX
            && i != i64::MIN
        {
            return Ok(i as u64);
        }
    }
    int_bits(env, v)
}

/// A JS Number as a double in one call; BigInts and errors take the general path.
#[inline(always)]
pub fn fast_f64(env: Env, v: Value) -> JsResult<f64> {
    let mut d = 0.0;
    // SAFETY: JS thread, valid env and value.
    if unsafe { napi::sys::napi_get_value_double(env.0, v, &mut d) } == napi::sys::Status::napi_ok {
        return Ok(d);
    }
    float_value(env, v)
}

/// A JS boolean (spec PRIM-08: nothing else is accepted).
#[inline]
pub fn bool_value(env: Env, v: Value) -> JsResult<bool> {
    if env.type_of(v)? != JsType::Boolean {
        return Err(type_error(format!("Unexpected {} value, expected boolean", env.type_name(v))));
    }
    env.get_bool(v)
}

/// The in-memory bits of an integer value of kind `p` (byte-swapped kinds swapped).
#[inline]
pub fn int_store_bits(p: Primitive, bits: u64) -> u64 {
    match p.int_width() {
        Some((2, _, true)) => (bits as u16).swap_bytes() as u64,
        Some((4, _, true)) => (bits as u32).swap_bytes() as u64,
        Some((8, _, true)) => bits.swap_bytes(),
        _ => bits,
    }
}

/// The `width` (1, 2, 4 or 8) little-endian bytes at `src`, zero-extended. Fixed-size loads:
/// a copy of variable length would be a `memcpy` call per integer.
///
/// # Safety
/// `src` must be readable for `width` bytes.
#[inline(always)]
pub unsafe fn load_le(src: *const u8, width: usize) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe {
        match width {
            1 => *src as u64,
            2 => u16::from_le((src as *const u16).read_unaligned()) as u64,
            4 => u32::from_le((src as *const u32).read_unaligned()) as u64,
            _ => u64::from_le((src as *const u64).read_unaligned()),
        }
    }
}

/// Stores the low `width` (1, 2, 4 or 8) bytes of `bits` at `dst`, little-endian.
///
/// # Safety
/// `dst` must be writable for `width` bytes.
#[inline(always)]
pub unsafe fn store_le(dst: *mut u8, bits: u64, width: usize) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match width {
            1 => *dst = bits as u8,
            2 => (dst as *mut u16).write_unaligned((bits as u16).to_le()),
            4 => (dst as *mut u32).write_unaligned((bits as u32).to_le()),
            _ => (dst as *mut u64).write_unaligned(bits.to_le()),
        }
    }
}

/// Reads an integer of kind `p` from `src` as a sign- or zero-extended i128-free pair.
///
/// # Safety
/// `src` must be readable for the kind's width.
#[inline]
pub unsafe fn read_int(src: *const u8, p: Primitive) -> (u64, bool) {
    let Some((w, signed, swapped)) = p.int_width() else {
        return (0, false);
    };
    // SAFETY: forwarded from the caller.
    let bits = unsafe { load_le(src, w) };
    let bits = if swapped { int_store_bits(p, bits) } else { bits };
    (
        crate::call::frame::extend(bits, w as u32, if signed { crate::abi::Ext::Sign } else { crate::abi::Ext::Zero }),
        signed,
    )
}

/// How a number or boolean held in one register or stack slot becomes JS: the results of both
/// call paths and the scalar arguments of callbacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarConv {
    Bool,
    Float32,
    Float64,
    /// A native-endian integer of `width` bytes.
    Int {
        width: u8,
        signed: bool,
    },
}

impl ScalarConv {
    /// The conversion for a value of primitive `p`, or `None` when it is not a number or
    /// boolean (or is a byte-swapped integer, which the general decoder handles).
    pub fn of(p: Primitive) -> Option<ScalarConv> {
        match p {
            Primitive::Bool => Some(ScalarConv::Bool),
            Primitive::Float32 => Some(ScalarConv::Float32),
            Primitive::Float64 => Some(ScalarConv::Float64),
            _ => match p.int_width() {
                Some((w, signed, false)) => Some(ScalarConv::Int { width: w as u8, signed }),
                _ => None,
            },
        }
    }

    /// The JS value of the register bits `bits`.
    #[inline(always)]
    pub fn to_js(self, env: Env, bits: u64) -> JsResult<Value> {
        match self {
            // Only the low byte of a bool is defined, and only its low bit counts (spec ABI-01,
            // PRIM-09).
            ScalarConv::Bool => env.boolean(bits & 1 != 0),
            ScalarConv::Float64 => env.double(f64::from_bits(bits)),
            ScalarConv::Float32 => env.double(f32::from_bits(bits as u32) as f64),
            // The low 32 bits of the register are the value; narrower results are widened by
            // the same rule as their type (the callee may leave the upper bits unspecified).
            ScalarConv::Int { width: 4, signed: true } => env.int32(bits as i32),
            ScalarConv::Int { width: 4, signed: false } => env.uint32(bits as u32),
            ScalarConv::Int { width, signed } => {
                let ext = if signed { crate::abi::Ext::Sign } else { crate::abi::Ext::Zero };
                int_to_js(env, crate::call::frame::extend(bits, width as u32, ext), width as usize, signed)
            }
        }
    }
}

/// An integer as a JS value: Numbers for ≤ 32 bits, Number-or-BigInt for 64 (spec PRIM-07).
#[inline]
pub fn int_to_js(env: Env, bits: u64, width: usize, signed: bool) -> JsResult<Value> {
    match (width, signed) {
        (8, true) => env.int64(bits as i64),
        (8, false) => env.uint64(bits),
        (_, true) => env.int32(bits as i64 as i32),
        (_, false) => env.uint32(bits as u32),
    }
}

#[cold]
fn too_deep() -> crate::node::napi::JsError {
    error(format!(
        "Data nests too deeply to convert (more than {MAX_CONVERSION_DEPTH} levels of structs, through counted pointers)"
    ))
}
