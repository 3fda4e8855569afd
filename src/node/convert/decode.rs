//! C memory into JS values, disposers, and the copy-back of output parameters (spec §9, OUT-04,
//! DISP-03).

use smallvec::SmallVec;

use super::bytes::read_int;
use super::ctx::{Ctx, OutArg};
use super::encode::{string_width, union_state};
use super::handles::pointer_value;
use super::strings;
use crate::node::js::limits;
use crate::node::js::scalar::int_to_js;
use crate::node::js::{range_error, type_error, JsResult, Value};
use crate::types::{ArrayHint, Detail, Direction, Disposer, Primitive, TypeId, TypeInfo, VOID};

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
                let v = if addr == 0 { env.null()? } else { pointer_value(env, addr, info.target().unwrap_or(VOID))? };
                dispose(ctx, info, addr)?;
                v
            }
            Primitive::Record => ctx.nested(|ctx| decode_record(ctx, src, info))?,
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
                let ptr = pointer_value(env, addr, pointee)?;
                let this = env.null()?;
                env.call_function(this, f, &[ptr])?;
            }
        }
    }
    Ok(())
}

pub(crate) unsafe fn decode_record(ctx: &mut Ctx<'_>, src: *const u8, info: &TypeInfo) -> JsResult<Value> {
    let env = ctx.env;
    let obj = env.object()?;
    // Every member is decoded first, then all are defined in one Node-API call: one property
    // at a time costs far more.
    let mut props: SmallVec<[napi::sys::napi_property_descriptor; 8]> = SmallVec::new();
    for m in info.members() {
        if !m.exposed() {
            continue;
        }
        // SAFETY: forwarded.
        let value = unsafe { decode_member(ctx, src, info, m)? };
        props.push(napi::sys::napi_property_descriptor {
            utf8name: std::ptr::null(),
            name: ctx.inst.member_keys.key(env, m)?,
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
    crate::node::js::call!(env, napi_define_properties(env.0, obj, props.len(), props.as_ptr()));
    Ok(obj)
}

/// Reads member `m` of the record `info` held at `src`: counted members (flexible arrays and
/// counted pointers) by their counter (spec FLEX-04, PTR-04), the others by their type. Both
/// `koffi.decode` and the copy-back of output structs go through here.
///
/// # Safety
/// As [`decode`], for the whole record.
#[inline(always)]
pub(crate) unsafe fn decode_member(
    ctx: &mut Ctx<'_>,
    src: *const u8,
    info: &TypeInfo,
    m: &crate::types::Member,
) -> JsResult<Value> {
    // SAFETY: members lie inside the record.
    let at = unsafe { src.add(m.offset) };
    let Some(counter) = &m.counted_by else {
        // SAFETY: forwarded.
        return unsafe { decode(ctx, at, &m.info) };
    };
    let count = match m.counter.and_then(|c| info.members().get(c)) {
        // SAFETY: the counter member lies inside the record.
        Some(c) => unsafe { read_int(src.add(c.offset), c.info.primitive) },
        None => (0, false),
    };
    // SAFETY: forwarded; counted data is as valid as the record.
    unsafe { decode_counted(ctx, at, &m.info, count, counter) }
}

/// Decodes a flexible array or counted pointer member whose counter member holds `count`
/// (its bits, sign-extended when `signed`, as [`read_int`] gives them).
///
/// A count read from C memory is not trusted:
/// - a flexible array is *clamped* to its maximum length (spec FLEX-04, as Koffi 2.16.3 does:
///   it reads the counter as `uint32_t`, so a negative one becomes huge and is clamped too):
///   the elements lie inside the struct, so nothing past its end is ever read;
/// - a counted pointer's count is *refused* (`RangeError`) when negative or when its elements
///   would take more than `max_type_size` bytes: the memory behind the pointer has no known
///   end, so there is no bound to clamp to, and a garbage count would read (and allocate)
///   gigabytes, where Koffi reads past the end of the C array or aborts in V8.
///
/// # Safety
/// `src` must hold the member; a counted pointer must point at `count` elements.
pub(crate) unsafe fn decode_counted(
    ctx: &mut Ctx<'_>,
    src: *const u8,
    member: &TypeInfo,
    count: (u64, bool),
    counter: &str,
) -> JsResult<Value> {
    let env = ctx.env;
    let (bits, signed) = count;
    let negative = signed && (bits as i64) < 0;
    match member.detail {
        Detail::Array { len, .. } => {
            let count = if negative { len } else { usize::try_from(bits).unwrap_or(usize::MAX).min(len) };
            // SAFETY: forwarded; count <= len elements lie inside the record.
            unsafe { decode_array(ctx, src, member, Some(count)) }
        }
        _ => {
            if negative {
                return Err(range_error(format!(
                    "Dynamic length member '{counter}' holds a negative count ({})",
                    bits as i64
                )));
            }
            let count = usize::try_from(bits).map_err(|_| {
                range_error(format!("Dynamic length member '{counter}' holds a count too high ({bits})"))
            })?;
            // SAFETY: the member is pointer-sized.
            let addr = unsafe { read_addr(src, member.size) };
            if addr == 0 {
                return if count == 0 { env.array(0) } else { env.null() };
            }
            let elem_id = member.target().unwrap_or(VOID);
            let elem = ctx.inst.type_info(elem_id);
            let (hint, max) = {
                let reg = ctx.inst.reg.borrow();
                (reg.default_hint(elem_id), reg.max_type_size)
            };
            // The elements form a `T[count]` array, which no type may make larger than
            // max_type_size (Koffi asserts the same bound when it makes that array type).
            if count.saturating_mul(elem.size) > max {
                return Err(range_error(format!(
                    "Dynamic length member '{counter}' holds a count too high ({count} elements of {}, more than max_type_size = {max} bytes)",
                    elem.name
                )));
            }
            // SAFETY: C promised `count` elements at addr; decode_elements refuses counts that
            // no JS value can hold before reading anything.
            unsafe { decode_elements(ctx, addr as usize as *const u8, &elem, count, hint) }
        }
    }
}

pub(crate) unsafe fn decode_union(ctx: &mut Ctx<'_>, src: *const u8, info: &TypeInfo) -> JsResult<Value> {
    let env = ctx.env;
    let id = find_type_id(ctx, info);
    let (buffer, data) = env.arraybuffer(info.size)?;
    // SAFETY: both hold info.size bytes.
    unsafe { std::ptr::copy_nonoverlapping(src, data, info.size) };
    let make = ctx.inst.helper(env, |h| h.make_union)?;
    let ty = crate::node::convert::handles::type_value(env, id, Direction::In)?;
    let undefined = env.undefined()?;
    env.call_function(undefined, make, &[ty, buffer])
}

/// The registry id of a union type from its info (unions are few: a scan is fine). Member and
/// parameter infos are the registry's own `Arc`s, so the identical entry is looked for first;
/// an equal one, newest first, only if none is (types forgotten by `koffi.reset()` stay in
/// the arena and may be equal to a newer one).
pub(crate) fn find_type_id(ctx: &Ctx<'_>, info: &TypeInfo) -> TypeId {
    let reg = ctx.inst.reg.borrow();
    let ids = || (0..u32::MAX).map(TypeId).map_while(|id| reg.try_get(id).map(|t| (id, t)));
    if let Some((id, _)) = ids().find(|(_, t)| std::ptr::eq(*t, info)) {
        return id;
    }
    ids().filter(|(_, t)| **t == *info).last().map_or(VOID, |(id, _)| id)
}

/// Decodes a fixed array by its hint (spec ARR-07); `count` overrides the length (FLEX-04).
pub(crate) unsafe fn decode_array(
    ctx: &mut Ctx<'_>,
    src: *const u8,
    info: &TypeInfo,
    count: Option<usize>,
) -> JsResult<Value> {
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
            // Checked before anything is read or allocated: V8 aborts on a TypedArray longer
            // than its limit, and on an ArrayBuffer it cannot allocate.
            let size = limits::typed_array_bytes(env, len, elem.size)?;
            // SAFETY: forwarded.
            let bytes = unsafe { std::slice::from_raw_parts(src, size) };
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
            limits::check_array_length(len)?;
            // The elements' addresses below stay inside the address space.
            limits::bytes_of(len, elem.size, "Array")?;
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
                            let v = decode_member(ctx, ptr, &info, m)?;
                            env.set_prop(obj, ctx.inst.member_keys.key(env, m)?, v)?;
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
