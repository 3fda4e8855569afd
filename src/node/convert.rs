//! Conversion of values between JS and C memory, for every kind of type (spec §8, §9, §10).
//!
//! [`encode`] writes a JS value as the C representation of a type at an address; [`decode`]
//! reads one back. Pointer-like arguments go through [`pointer_arg`], which may create
//! temporaries (strings, arrays, struct copies) in the call memory and register output
//! parameters to copy back after the call ([`copy_back`]).

use std::sync::Arc;

use smallvec::SmallVec;

use super::handles::{exact_pointer_address, pointer_address, pointer_value, read_cast, read_type_value};
use super::instance::Instance;
use super::napi::{error, type_error, Env, JsResult, JsType, Value};
use super::strings;
use crate::call::memory::spill_block;
use crate::call::CallMemory;
use crate::types::{ArrayHint, Detail, Direction, Disposer, Primitive, TypeId, TypeInfo, VOID};

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
}

impl<'a> Ctx<'a> {
    /// A context whose temporaries live in the call memory `mem`.
    #[inline(always)]
    pub fn for_call(env: Env, inst: &'a Instance, mem: *mut CallMemory) -> Self {
        Ctx { env, inst, mem, kept: Vec::new(), outs: SmallVec::new(), dispose: true, transients: SmallVec::new() }
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
        }
    }

    /// Temporaries made by a persistent context.
    pub fn into_kept(self) -> Vec<Box<[u64]>> {
        self.kept
    }

    /// Temporary memory for the duration of the job (not zeroed).
    #[inline]
    pub fn alloc(&mut self, size: usize, align: usize) -> JsResult<*mut u8> {
        let ptr = if self.mem.is_null() {
            match spill_block(size) {
                Some(mut block) => {
                    let ptr = block.as_mut_ptr() as *mut u8;
                    self.kept.push(block);
                    ptr
                }
                None => std::ptr::null_mut(),
            }
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

/// Reads an integer of kind `p` from `src` as a sign- or zero-extended i128-free pair.
///
/// # Safety
/// `src` must be readable for the kind's width.
#[inline]
pub unsafe fn read_int(src: *const u8, p: Primitive) -> (u64, bool) {
    let Some((w, signed, swapped)) = p.int_width() else {
        return (0, false);
    };
    let mut bits = 0u64;
    // SAFETY: forwarded from the caller.
    unsafe { std::ptr::copy_nonoverlapping(src, &mut bits as *mut u64 as *mut u8, w) };
    let bits = u64::from_le(bits);
    let bits = if swapped { int_store_bits(p, bits) } else { bits };
    (
        crate::call::frame::extend(bits, w as u32, if signed { crate::abi::Ext::Sign } else { crate::abi::Ext::Zero }),
        signed,
    )
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

/// Writes `v` as a value of type `info` at `dst` (`info.size` bytes; spec §8).
pub fn encode(ctx: &mut Ctx<'_>, v: Value, info: &TypeInfo, dst: *mut u8) -> JsResult<()> {
    let env = ctx.env;
    let p = info.primitive;
    // SAFETY: (whole function) the caller provides `info.size` writable bytes at `dst`.
    unsafe {
        match p {
            _ if p.is_integer() => {
                let bits = int_store_bits(p, fast_int_bits(env, v, info.size)?).to_le_bytes();
                std::ptr::copy_nonoverlapping(bits.as_ptr(), dst, info.size);
            }
            Primitive::Float32 => (dst as *mut f32).write_unaligned(fast_f64(env, v)? as f32),
            Primitive::Float64 => (dst as *mut f64).write_unaligned(fast_f64(env, v)?),
            Primitive::Bool => *dst = bool_value(env, v)? as u8,
            Primitive::String
            | Primitive::String16
            | Primitive::String32
            | Primitive::Pointer
            | Primitive::Callback => {
                let addr = pointer_arg(ctx, v, info, Direction::In)?;
                write_addr(dst, addr, info.size);
            }
            Primitive::Record => encode_record(ctx, v, info, dst)?,
            Primitive::Union => encode_union(ctx, v, info, dst)?,
            Primitive::Array => encode_array(ctx, v, info, dst)?,
            _ => return Err(type_error(format!("Cannot convert value to type {}", info.name))),
        }
    }
    Ok(())
}

/// Stores an address of `size` bytes.
///
/// # Safety
/// `dst` must be writable for `size` bytes.
#[inline]
pub unsafe fn write_addr(dst: *mut u8, addr: u64, size: usize) {
    // SAFETY: forwarded from the caller.
    unsafe {
        if size == 4 {
            (dst as *mut u32).write_unaligned(addr as u32)
        } else {
            (dst as *mut u64).write_unaligned(addr)
        }
    }
}

fn is_plain_object(env: Env, v: Value) -> JsResult<bool> {
    Ok(env.type_of(v)? == JsType::Object && !env.is_array(v)?)
}

fn encode_record(ctx: &mut Ctx<'_>, v: Value, info: &TypeInfo, dst: *mut u8) -> JsResult<()> {
    let env = ctx.env;
    if !is_plain_object(env, v)? {
        return Err(type_error(format!("Unexpected {} value, expected object", env.type_name(v))));
    }
    // SAFETY: the caller provides info.size writable bytes.
    unsafe { std::ptr::write_bytes(dst, 0, info.size) };
    for m in info.members() {
        if !m.exposed() {
            continue;
        }
        let value = env.get_named(v, &m.cname)?;
        let member = ctx.inst.type_info(m.ty);
        // SAFETY: the member lies inside the record.
        let at = unsafe { dst.add(m.offset) };
        let result = match &m.counted_by {
            Some(counter) => encode_counted(ctx, v, value, &member, counter, at),
            None => encode(ctx, value, &member, at),
        };
        // A missing member stays zero (spec J2C-11). Checked only when conversion failed, so
        // that the common case costs no extra Node-API call; nothing was written then.
        if let Err(e) = result {
            if env.type_of(value)? != JsType::Undefined {
                return Err(e);
            }
            // SAFETY: as above.
            unsafe { std::ptr::write_bytes(at, 0, member.size) };
        }
    }
    Ok(())
}

/// Flexible arrays and counted pointers (spec FLEX-03, PTR-04): the counter property must
/// match the element count of the JS value.
fn encode_counted(
    ctx: &mut Ctx<'_>,
    obj: Value,
    value: Value,
    member: &TypeInfo,
    counter: &str,
    dst: *mut u8,
) -> JsResult<()> {
    let env = ctx.env;
    let count_value = env.get(obj, counter)?;
    let count = match env.type_of(count_value)? {
        JsType::Number | JsType::BigInt => int_bits(env, count_value)? as usize,
        t => {
            return Err(error(format!(
                "Unexpected {} value for dynamic length, expected number",
                if t == JsType::Undefined { "Undefined" } else { env.type_name(count_value) }
            )))
        }
    };
    let elem = ctx.inst.type_info(member.target().unwrap_or(VOID));
    let actual = if env.is_array(value)? {
        env.array_length(value)? as usize
    } else if let Some((_, len)) = env.buffer_data(value)? {
        len / elem.size.max(1)
    } else if matches!(env.type_of(value)?, JsType::Null | JsType::Undefined) {
        0
    } else {
        return Err(type_error(format!("Unexpected {} value, expected array", env.type_name(value))));
    };
    if actual != count {
        return Err(error(format!("Mismatched dynamic length between '{counter}' and actual array")));
    }
    match member.detail {
        Detail::Array { len, .. } => {
            if count > len {
                return Err(error(format!("Mismatched dynamic length between '{counter}' and actual array")));
            }
            encode_array(ctx, value, member, dst)
        }
        _ => {
            let addr = if count == 0 {
                0
            } else {
                let tmp = ctx.alloc_zeroed(count * elem.size, elem.align.max(1))?;
                fill_array(ctx, value, &elem, count, tmp)?;
                tmp as u64
            };
            // SAFETY: the member is pointer-sized inside the record.
            unsafe { write_addr(dst, addr, member.size) };
            Ok(())
        }
    }
}

fn encode_union(ctx: &mut Ctx<'_>, v: Value, info: &TypeInfo, dst: *mut u8) -> JsResult<()> {
    let env = ctx.env;
    if !is_plain_object(env, v)? {
        return Err(type_error(format!("Unexpected {} value, expected object", env.type_name(v))));
    }
    // SAFETY: the caller provides info.size writable bytes.
    unsafe { std::ptr::write_bytes(dst, 0, info.size) };
    if let Some(state) = union_state(ctx, v)? {
        let ty = env.get(state, "type")?;
        let same =
            read_type_value(env, ctx.inst, ty)?.map(|(id, _)| ctx.inst.type_info(id)).is_some_and(|t| *t == *info);
        if !same {
            return Err(type_error(format!(
                "Expected union type {}, got {}",
                info.name,
                read_type_value(env, ctx.inst, ty)?
                    .map(|(id, _)| ctx.inst.type_info(id).name.clone())
                    .unwrap_or_default()
            )));
        }
        let raw = env.get(state, "raw")?;
        if let Some((data, len)) = env.buffer_data(raw)? {
            // SAFETY: copying at most info.size bytes from the instance's buffer.
            unsafe { std::ptr::copy_nonoverlapping(data, dst, len.min(info.size)) };
            return Ok(());
        }
        let active = env.get(state, "active")?;
        if env.type_of(active)? != JsType::String {
            return Err(error("Cannot use ambiguous empty union"));
        }
        let name = env.get_string(active)?;
        let value = env.get(state, "value")?;
        return encode_union_member(ctx, info, &name, value, dst);
    }
    let keys = env.own_keys(v)?;
    if keys.len() != 1 {
        return Err(error("Expected object with single property name for union"));
    }
    let name = env.get_string(keys[0])?;
    let value = env.get_prop(v, keys[0])?;
    encode_union_member(ctx, info, &name, value, dst)
}

fn encode_union_member(ctx: &mut Ctx<'_>, info: &TypeInfo, name: &str, value: Value, dst: *mut u8) -> JsResult<()> {
    let Some(m) = info.members().iter().find(|m| m.exposed() && m.name == name) else {
        return Err(error(format!("Unknown member {name} in union type {}", info.name)));
    };
    let member = ctx.inst.type_info(m.ty);
    encode(ctx, value, &member, dst)
}

/// The state object of a union instance made by index.js, if `v` is one.
fn union_state(ctx: &Ctx<'_>, v: Value) -> JsResult<Option<Value>> {
    let env = ctx.env;
    let Some(sym) = ctx.inst.helpers.borrow().union_state else {
        return Ok(None);
    };
    let key = env.deref(sym)?;
    let state = env.get_prop(v, key)?;
    Ok((env.type_of(state)? == JsType::Object).then_some(state))
}

fn encode_array(ctx: &mut Ctx<'_>, v: Value, info: &TypeInfo, dst: *mut u8) -> JsResult<()> {
    let env = ctx.env;
    let Detail::Array { elem, len, .. } = info.detail else {
        return Ok(());
    };
    let elem = ctx.inst.type_info(elem);
    // SAFETY: the caller provides info.size writable bytes.
    unsafe { std::ptr::write_bytes(dst, 0, info.size) };
    match env.type_of(v)? {
        JsType::String => encode_string_array(ctx, v, &elem, len, dst),
        JsType::Object => fill_array(ctx, v, &elem, len, dst),
        _ => Err(type_error(format!("Unexpected {} value, expected array", env.type_name(v)))),
    }
}

/// Fills `len` elements at `dst` (zeroed by the caller) from a JS Array (element-wise, surplus
/// ignored, missing left zero: ARR-08) or a TypedArray/ArrayBuffer (raw bytes: ARR-09).
fn fill_array(ctx: &mut Ctx<'_>, v: Value, elem: &TypeInfo, len: usize, dst: *mut u8) -> JsResult<()> {
    let env = ctx.env;
    if env.is_array(v)? {
        let n = (env.array_length(v)? as usize).min(len);
        for i in 0..n {
            let item = env.get_element(v, i as u32)?;
            // SAFETY: i < len elements fit in the destination.
            encode(ctx, item, elem, unsafe { dst.add(i * elem.size) })?;
        }
        return Ok(());
    }
    if let Some((data, bytes)) = env.buffer_data(v)? {
        let n = bytes.min(len * elem.size);
        // SAFETY: n bytes fit in both buffers.
        unsafe { std::ptr::copy_nonoverlapping(data, dst, n) };
        if let Some((w, _, true)) = elem.primitive.int_width() {
            for i in 0..(n / w) {
                // SAFETY: within the n copied bytes.
                unsafe { std::slice::from_raw_parts_mut(dst.add(i * w), w).reverse() };
            }
        }
        return Ok(());
    }
    Err(type_error(format!("Unexpected {} value, expected array", env.type_name(v))))
}

/// A JS string into a char array, cut so that a NUL always fits (spec ARR-10, §18-Q6).
fn encode_string_array(ctx: &mut Ctx<'_>, v: Value, elem: &TypeInfo, len: usize, dst: *mut u8) -> JsResult<()> {
    let env = ctx.env;
    match (elem.primitive, elem.size) {
        (Primitive::Int8, 1) => {
            let text = env.get_string(v)?;
            let mut cut = text.len().min(len.saturating_sub(1));
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            // SAFETY: cut < len bytes fit.
            unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), dst, cut) };
        }
        (Primitive::Int16, 2) => {
            let units = strings::utf16_of(env, v)?;
            let n = units.len().min(len.saturating_sub(1));
            // SAFETY: n < len units fit.
            unsafe { std::ptr::copy_nonoverlapping(units.as_ptr() as *const u8, dst, 2 * n) };
        }
        (Primitive::Int32, 4) if elem.char_like => {
            let chars = strings::utf16_to_utf32(&strings::utf16_of(env, v)?);
            let n = chars.len().min(len.saturating_sub(1));
            // SAFETY: n < len units fit.
            unsafe { std::ptr::copy_nonoverlapping(chars.as_ptr() as *const u8, dst, 4 * n) };
        }
        _ => return Err(type_error(format!("Strings cannot be converted to {} array", elem.name))),
    }
    Ok(())
}

/// Width in bytes of the characters of a string kind.
pub fn string_width(p: Primitive) -> usize {
    match p {
        Primitive::String16 => 2,
        Primitive::String32 => 4,
        _ => 1,
    }
}

/// For pointees that a JS string may be passed to (J2C-05/07): the character width.
fn char_width_of_pointee(pointee: &TypeInfo, id: TypeId) -> Option<usize> {
    if id == VOID {
        return Some(1);
    }
    match pointee.primitive {
        Primitive::Int8 => Some(1),
        Primitive::Int16 => Some(2),
        Primitive::Int32 => Some(4),
        _ => None,
    }
}

/// Converts an argument (or member) of a pointer, string or callback type `info` to an address
/// (spec J2C-03..J2C-10, OUT-*). Temporaries go to the context's memory; output parameters are
/// registered for [`copy_back`].
pub fn pointer_arg(ctx: &mut Ctx<'_>, v: Value, info: &TypeInfo, dir: Direction) -> JsResult<u64> {
    let env = ctx.env;
    let expected = || info.name.clone();
    let t = env.type_of(v)?;
    if info.primitive == Primitive::Callback {
        return callback_arg(ctx, v, t, info);
    }
    match t {
        JsType::Null | JsType::Undefined => return Ok(0),
        JsType::External => {
            let pointee = match info.primitive {
                Primitive::String | Primitive::String16 | Primitive::String32 => {
                    Some(ctx.inst.chars[string_width(info.primitive) / 2])
                }
                _ => info.target(),
            };
            return match pointer_address(env, ctx.inst, v, pointee)? {
                Some(a) => Ok(a),
                None => Err(type_error(format!("Unexpected External value, expected {}", expected()))),
            };
        }
        JsType::Number => {
            let d = env.get_f64(v)?;
            // Spec §18-Q3: the full safe-integer value, never a truncated one.
            if d.fract() != 0.0 || !d.is_finite() || d.abs() > 9007199254740991.0 {
                return Err(type_error(format!(
                    "Unexpected Number value, expected {} (an integer address)",
                    expected()
                )));
            }
            return Ok(d as i64 as u64);
        }
        JsType::BigInt => return env.get_bigint_bits(v),
        JsType::Function => return Err(type_error(format!("Cannot pass function to type {}", expected()))),
        JsType::Boolean | JsType::Symbol => {
            return Err(type_error(format!("Unexpected {} value, expected {}", env.type_name(v), expected())));
        }
        JsType::String | JsType::Object => {}
    }
    if t == JsType::Object {
        // Buffers and TypedArrays first: they are the common case, and cheaper to recognise
        // than a cast marker's tag.
        if let Some((data, _)) = env.buffer_data(v)? {
            return Ok(data as u64);
        }
        if let Some((value, ty)) = read_cast(env, v)? {
            let Some((id, _)) = read_type_value(env, ctx.inst, ty)? else {
                return Err(type_error("Invalid cast marker"));
            };
            let cast = ctx.inst.type_info(id);
            return pointer_arg(ctx, value, &cast, dir);
        }
        if env.is_dataview(v)? {
            return Err(type_error(format!("Unexpected Buffer value, expected {}", expected())));
        }
    }
    if info.primitive.is_string() {
        return string_arg(ctx, v, t, info, dir);
    }
    let pointee_id = info.target().unwrap_or(VOID);
    let pointee = ctx.inst.type_info(pointee_id);
    if t == JsType::String {
        return match char_width_of_pointee(&pointee, pointee_id) {
            Some(w) if dir == Direction::In => Ok(strings::encode_temp(ctx, v, w)?.0 as u64),
            _ => Err(type_error(format!("Unexpected String value, expected {}", expected()))),
        };
    }
    if env.is_array(v)? {
        let len = env.array_length(v)?;
        if len == 1 {
            let first = env.get_element(v, 0)?;
            if env.type_of(first)? == JsType::String {
                if let Some(w) = char_width_of_pointee(&pointee, pointee_id) {
                    return string_buffer(ctx, v, first, w, dir);
                }
            }
        }
        if pointee_id == VOID {
            return Err(type_error("Cannot pass ambiguous value to void *, use koffi.as()"));
        }
        if pointee.is_opaque() {
            return Err(type_error(format!("Cannot pass opaque value to {}, use koffi.as()", expected())));
        }
        let size = array_temp_size(ctx, pointee.size, len as usize)?;
        let tmp = ctx.alloc_zeroed(size.max(1), pointee.align.max(1))?;
        if dir != Direction::Out {
            fill_array(ctx, v, &pointee, len as usize, tmp)?;
        }
        if dir != Direction::In {
            ctx.outs.push(OutArg::Array { arr: v, ptr: tmp, elem: pointee, len });
        }
        return Ok(tmp as u64);
    }
    // A plain object: a temporary copy of a struct or union (J2C-05, OUT-09, UNI-09).
    match pointee.primitive {
        Primitive::Record | Primitive::Union if !pointee.is_opaque() => {
            let tmp = ctx.alloc_zeroed(pointee.size.max(1), pointee.align.max(1))?;
            let is_union = pointee.primitive == Primitive::Union;
            if is_union && dir != Direction::In && union_state(ctx, v)?.is_none() {
                return Err(type_error(format!("Unexpected Object value for {}, expected union value", expected())));
            }
            if dir != Direction::Out {
                encode(ctx, v, &pointee, tmp)?;
            }
            if dir != Direction::In {
                ctx.outs.push(if is_union {
                    OutArg::Union { obj: v, ptr: tmp, info: pointee }
                } else {
                    OutArg::Object { obj: v, ptr: tmp, info: pointee }
                });
            }
            Ok(tmp as u64)
        }
        _ => Err(type_error(format!("Unexpected Object value, expected {}", expected()))),
    }
}

/// Callback parameters (spec J2C-10): a JS function (a transient trampoline for this call), a
/// pointer value tagged with the same prototype (registered callbacks, function pointers from C),
/// a `koffi.as()` cast of any pointer value, or NULL. Nothing else: a stray number or an untyped
/// pointer would make C jump anywhere.
fn callback_arg(ctx: &mut Ctx<'_>, v: Value, t: JsType, info: &TypeInfo) -> JsResult<u64> {
    let env = ctx.env;
    let proto = info.target().unwrap_or(VOID);
    match t {
        JsType::Null | JsType::Undefined => Ok(0),
        JsType::Function => {
            if ctx.mem.is_null() {
                return Err(error("Cannot encode non-registered callback"));
            }
            super::callback::transient(ctx, v, proto)
        }
        JsType::External => match exact_pointer_address(env, ctx.inst, v, proto)? {
            Some(a) => Ok(a),
            None => {
                let tag = super::handles::pointer_tag_name(env, ctx.inst, v)?.unwrap_or_else(|| "External".into());
                Err(type_error(format!("Unexpected {tag} value, expected {}", info.name)))
            }
        },
        JsType::Object => match read_cast(env, v)? {
            Some((value, ty)) => {
                let Some((id, _)) = read_type_value(env, ctx.inst, ty)? else {
                    return Err(type_error("Invalid cast marker"));
                };
                let cast = ctx.inst.type_info(id);
                if env.type_of(value)? == JsType::External && cast.primitive == Primitive::Callback {
                    // An explicit cast: any pointer value becomes this function pointer.
                    return pointer_address(env, ctx.inst, value, None)?
                        .ok_or_else(|| type_error(format!("Unexpected Type value, expected {}", info.name)));
                }
                pointer_arg(ctx, value, &cast, Direction::In)
            }
            None => Err(type_error(format!("Unexpected {} value, expected {}", env.type_name(v), info.name))),
        },
        _ => Err(type_error(format!("Unexpected {} value, expected {}", env.type_name(v), info.name))),
    }
}

/// String kinds (J2C-02..J2C-04): a JS string becomes a temporary; `[s]` an in/out buffer;
/// another Array a temporary array of characters.
fn string_arg(ctx: &mut Ctx<'_>, v: Value, t: JsType, info: &TypeInfo, dir: Direction) -> JsResult<u64> {
    let env = ctx.env;
    let width = string_width(info.primitive);
    if t == JsType::String {
        if dir != Direction::In {
            return Err(type_error("Unexpected String value, expected [string]"));
        }
        return Ok(strings::encode_temp(ctx, v, width)?.0 as u64);
    }
    if env.is_array(v)? {
        let len = env.array_length(v)?;
        if len == 1 {
            let first = env.get_element(v, 0)?;
            if env.type_of(first)? == JsType::String {
                return string_buffer(ctx, v, first, width, dir);
            }
        }
        let elem = ctx.inst.type_info(ctx.inst.chars[width / 2]);
        let tmp = ctx.alloc_zeroed(array_temp_size(ctx, width, len as usize + 1)?, width)?;
        fill_array(ctx, v, &elem, len as usize, tmp)?;
        if dir != Direction::In {
            ctx.outs.push(OutArg::Array { arr: v, ptr: tmp, elem, len });
        }
        return Ok(tmp as u64);
    }
    Err(type_error(format!("Unexpected {} value, expected {}", env.type_name(v), info.name)))
}

/// Size of a temporary C array made from a JS Array: bounded by `max_type_size`, so that a sparse
/// `new Array(2 ** 32 - 1)` gives an error instead of a 16 GiB allocation.
fn array_temp_size(ctx: &Ctx<'_>, elem_size: usize, len: usize) -> JsResult<usize> {
    let max = ctx.inst.config.get().max_type_size;
    match elem_size.checked_mul(len) {
        Some(size) if size <= max => Ok(size),
        _ => Err(error(format!("Array length is too high (max = {})", max / elem_size.max(1)))),
    }
}

/// `[s]`: a buffer holding `s` with its NUL, exactly that long (spec OUT-06).
fn string_buffer(ctx: &mut Ctx<'_>, arr: Value, s: Value, width: usize, dir: Direction) -> JsResult<u64> {
    // Koffi 2.16.3 fills the buffer from the string whatever the direction: `_Out_` only means
    // that it is copied back.
    let (ptr, units) = strings::encode_temp(ctx, s, width)?;
    if dir != Direction::In {
        ctx.outs.push(OutArg::StringBuf { arr, ptr, width, cap: units + 1 });
    }
    Ok(ptr as u64)
}

/// Reads a value of type `info` at `src` (spec §9).
///
/// # Safety
/// `src` must be readable for `info.size` bytes, and hold a valid value (pointers inside are
/// dereferenced for strings and nested data).
pub unsafe fn decode(ctx: &mut Ctx<'_>, src: *const u8, info: &TypeInfo) -> JsResult<Value> {
    let env = ctx.env;
    let p = info.primitive;
    // SAFETY: (whole function) forwarded from the caller.
    unsafe {
        let value = match p {
            _ if p.is_integer() => {
                let (bits, signed) = read_int(src, p);
                int_to_js(env, bits, info.size, signed)?
            }
            Primitive::Float32 => env.double((src as *const f32).read_unaligned() as f64)?,
            Primitive::Float64 => env.double((src as *const f64).read_unaligned())?,
            Primitive::Bool => env.boolean(*src != 0)?,
            Primitive::Void => env.undefined()?,
            Primitive::String | Primitive::String16 | Primitive::String32 => {
                let addr = read_addr(src, info.size);
                let v = strings::decode(env, addr as usize as *const u8, string_width(p), None)?;
                dispose(ctx, info, addr)?;
                v
            }
            Primitive::Pointer | Primitive::Callback => {
                let addr = read_addr(src, info.size);
                let v = if addr == 0 {
                    env.null()?
                } else {
                    pointer_value(env, ctx.inst, addr, info.target().unwrap_or(VOID))?
                };
                dispose(ctx, info, addr)?;
                v
            }
            Primitive::Record => decode_record(ctx, src, info)?,
            Primitive::Union => decode_union(ctx, src, info)?,
            Primitive::Array => decode_array(ctx, src, info, None)?,
            _ => return Err(type_error(format!("Cannot decode value of type {}", info.name))),
        };
        Ok(value)
    }
}

/// Reads an address of `size` bytes.
///
/// # Safety
/// `src` must be readable for `size` bytes.
#[inline]
pub unsafe fn read_addr(src: *const u8, size: usize) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe {
        if size == 4 {
            (src as *const u32).read_unaligned() as u64
        } else {
            (src as *const u64).read_unaligned()
        }
    }
}

/// Runs the disposer of a disposable type after a value was converted (spec DISP-03, DISP-04).
pub fn dispose(ctx: &mut Ctx<'_>, info: &TypeInfo, addr: u64) -> JsResult<()> {
    let Some(disposer) = info.disposer.filter(|_| ctx.dispose) else {
        return Ok(());
    };
    ctx.inst.disposed.set(ctx.inst.disposed.get() + 1);
    match disposer {
        // SAFETY: the disposable type promises memory from the C allocator (or NULL).
        Disposer::Free => unsafe { libc::free(addr as usize as *mut libc::c_void) },
        Disposer::Js(i) => {
            let env = ctx.env;
            let f = ctx.inst.disposers.borrow().get(i as usize).copied();
            if let Some(f) = f {
                let f = env.deref(f)?;
                let pointee = info.target().unwrap_or(ctx.inst.chars[string_width(info.primitive) / 2]);
                let ptr = pointer_value(env, ctx.inst, addr, pointee)?;
                let this = env.null()?;
                env.call_function(this, f, &[ptr])?;
            }
        }
    }
    Ok(())
}

unsafe fn decode_record(ctx: &mut Ctx<'_>, src: *const u8, info: &TypeInfo) -> JsResult<Value> {
    let env = ctx.env;
    let obj = env.object()?;
    // Every member is decoded first, then all are defined in one Node-API call: one property
    // at a time costs far more.
    let mut props: SmallVec<[napi::sys::napi_property_descriptor; 8]> = SmallVec::new();
    for m in info.members() {
        if !m.exposed() {
            continue;
        }
        let member = ctx.inst.type_info(m.ty);
        // SAFETY: members lie inside the record.
        let at = unsafe { src.add(m.offset) };
        let value = match &m.counted_by {
            Some(counter) => {
                let count = match info.members().iter().find(|c| &c.name == counter) {
                    // SAFETY: the counter member lies inside the record.
                    Some(c) => unsafe { read_int(src.add(c.offset), ctx.inst.type_info(c.ty).primitive).0 as usize },
                    None => 0,
                };
                // SAFETY: forwarded; counted data is as valid as the record.
                unsafe { decode_counted(ctx, at, &member, count)? }
            }
            // SAFETY: forwarded.
            None => unsafe { decode(ctx, at, &member)? },
        };
        props.push(napi::sys::napi_property_descriptor {
            utf8name: m.cname.as_ptr(),
            name: std::ptr::null_mut(),
            method: None,
            getter: None,
            setter: None,
            value,
            attributes: napi::sys::PropertyAttributes::writable
                | napi::sys::PropertyAttributes::enumerable
                | napi::sys::PropertyAttributes::configurable,
            data: std::ptr::null_mut(),
        });
    }
    super::napi::call!(env, napi_define_properties(env.0, obj, props.len(), props.as_ptr()));
    Ok(obj)
}

unsafe fn decode_counted(ctx: &mut Ctx<'_>, src: *const u8, member: &TypeInfo, count: usize) -> JsResult<Value> {
    let env = ctx.env;
    match member.detail {
        // SAFETY: forwarded; FLEX-04 truncates to the maximum length.
        Detail::Array { len, .. } => unsafe { decode_array(ctx, src, member, Some(count.min(len))) },
        _ => {
            // SAFETY: the member is pointer-sized.
            let addr = unsafe { read_addr(src, member.size) };
            if addr == 0 {
                return if count == 0 { env.array(0) } else { env.null() };
            }
            let elem_id = member.target().unwrap_or(VOID);
            let elem = ctx.inst.type_info(elem_id);
            let hint = ctx.inst.reg.borrow().default_hint(elem_id);
            // SAFETY: C promised `count` elements at addr.
            unsafe { decode_elements(ctx, addr as usize as *const u8, &elem, count, hint) }
        }
    }
}

unsafe fn decode_union(ctx: &mut Ctx<'_>, src: *const u8, info: &TypeInfo) -> JsResult<Value> {
    let env = ctx.env;
    let id = find_type_id(ctx, info);
    let (buffer, data) = env.arraybuffer(info.size)?;
    // SAFETY: both hold info.size bytes.
    unsafe { std::ptr::copy_nonoverlapping(src, data, info.size) };
    let make = ctx.inst.helper(env, |h| h.make_union)?;
    let ty = super::handles::type_value(env, ctx.inst, id, Direction::In)?;
    let undefined = env.undefined()?;
    env.call_function(undefined, make, &[ty, buffer])
}

/// The registry id of a union type from its info (unions are few: a scan is fine).
fn find_type_id(ctx: &Ctx<'_>, info: &TypeInfo) -> TypeId {
    let reg = ctx.inst.reg.borrow();
    let mut i = 0u32;
    while let Some(t) = reg.try_get(TypeId(i)) {
        if std::ptr::eq(t, info) || *t == *info {
            return TypeId(i);
        }
        i += 1;
    }
    VOID
}

/// Decodes a fixed array by its hint (spec ARR-07); `count` overrides the length (FLEX-04).
unsafe fn decode_array(ctx: &mut Ctx<'_>, src: *const u8, info: &TypeInfo, count: Option<usize>) -> JsResult<Value> {
    let Detail::Array { elem, len, hint, .. } = info.detail else {
        return ctx.env.undefined();
    };
    let elem = ctx.inst.type_info(elem);
    // SAFETY: forwarded.
    unsafe { decode_elements(ctx, src, &elem, count.unwrap_or(len), hint) }
}

/// Decodes `len` elements at `src` as a string, TypedArray or Array.
///
/// # Safety
/// `src` must be readable for `len` elements.
pub unsafe fn decode_elements(
    ctx: &mut Ctx<'_>,
    src: *const u8,
    elem: &TypeInfo,
    len: usize,
    hint: ArrayHint,
) -> JsResult<Value> {
    let env = ctx.env;
    let p = elem.primitive;
    match hint {
        // SAFETY: forwarded; the string stops at the NUL or the array's end.
        ArrayHint::String => unsafe { strings::decode(env, src, elem.size, Some(len)) },
        ArrayHint::Typed if (p.is_integer() && elem.size < 8) || p.is_float() => {
            use napi::sys::TypedarrayType as T;
            let kind = match (p, elem.size) {
                (Primitive::Float32, _) => T::float32_array,
                (Primitive::Float64, _) => T::float64_array,
                (_, 1) if p.int_width().is_some_and(|w| w.1) => T::int8_array,
                (_, 1) => T::uint8_array,
                (_, 2) if p.int_width().is_some_and(|w| w.1) => T::int16_array,
                (_, 2) => T::uint16_array,
                (_, _) if p.int_width().is_some_and(|w| w.1) => T::int32_array,
                _ => T::uint32_array,
            };
            // SAFETY: forwarded.
            let bytes = unsafe { std::slice::from_raw_parts(src, len * elem.size) };
            let arr = env.typedarray_copy(kind, bytes)?;
            if let Some((w, _, true)) = p.int_width() {
                if let Some((data, n)) = env.buffer_data(arr)? {
                    for i in 0..n / w {
                        // SAFETY: inside the new TypedArray.
                        unsafe { std::slice::from_raw_parts_mut(data.add(i * w), w).reverse() };
                    }
                }
            }
            Ok(arr)
        }
        _ => {
            let arr = env.array(len)?;
            for i in 0..len {
                // SAFETY: forwarded.
                let v = unsafe { decode(ctx, src.add(i * elem.size), elem)? };
                env.set_element(arr, i as u32, v)?;
            }
            Ok(arr)
        }
    }
}

/// Copies output parameters back into their JS values, in parameter order (spec OUT-04).
pub fn copy_back(ctx: &mut Ctx<'_>) -> JsResult<()> {
    if ctx.outs.is_empty() {
        return Ok(());
    }
    let outs = std::mem::take(&mut ctx.outs);
    let env = ctx.env;
    for out in outs {
        // SAFETY: each pointer is a temporary of the right size that C filled.
        unsafe {
            match out {
                OutArg::Array { arr, ptr, elem, len } => {
                    for i in 0..len {
                        let v = decode(ctx, ptr.add(i as usize * elem.size), &elem)?;
                        env.set_element(arr, i, v)?;
                    }
                }
                OutArg::Object { obj, ptr, info } => {
                    for m in info.members() {
                        if m.exposed() {
                            let member = ctx.inst.type_info(m.ty);
                            let v = decode(ctx, ptr.add(m.offset), &member)?;
                            env.set_named(obj, &m.cname, v)?;
                        }
                    }
                }
                OutArg::Union { obj, ptr, info } => {
                    if let Some(state) = union_state(ctx, obj)? {
                        let (buffer, data) = env.arraybuffer(info.size)?;
                        std::ptr::copy_nonoverlapping(ptr, data, info.size);
                        env.set(state, "raw", buffer)?;
                        env.set(state, "active", env.null()?)?;
                    }
                }
                OutArg::StringBuf { arr, ptr, width, cap } => {
                    let v = strings::decode(env, ptr, width, Some(cap))?;
                    env.set_element(arr, 0, v)?;
                }
            }
        }
    }
    Ok(())
}
