//! JS values written as C: [`encode`] writes a value of any type at an address, and
//! [`pointer_arg`] turns a pointer-like argument (a string, an array, an object, a function,
//! a pointer value) into an address, making temporaries in the call memory and registering
//! output parameters (spec §8, J2C-02..J2C-11, ARR-08..11, OUT-*). The two recurse into each other (a struct member that is a pointer, a
//! pointer to a struct), so they share this file.

use super::bytes::{int_store_bits, store_le};
use super::ctx::{Ctx, OutArg};
use super::handles::{exact_pointer_address, external_name, pointer_address, read_cast, read_type_value};
use super::strings;
use crate::node::instance::callbacks::{transient, MAX_TRANSIENT};
use crate::node::js::read::{self, any_int_bits, bool_value};
use crate::node::js::{error, range_error, type_error, Env, JsResult, JsType, Value};
use crate::types::{Detail, Direction, Primitive, TypeId, TypeInfo, VOID};

/// Writes `v` as a value of type `info` at `dst` (`info.size` bytes; spec §8).
pub fn encode(ctx: &mut Ctx<'_>, v: Value, info: &TypeInfo, dst: *mut u8) -> JsResult<()> {
    let env = ctx.env;
    let p = info.primitive;
    // Values handed to the conversion are live values of this environment.
    let probed = ctx.inst.tagged.get();
    // SAFETY: (whole function) the caller provides `info.size` writable bytes at `dst`.
    unsafe {
        match p {
            _ if p.is_integer() => {
                store_le(dst, int_store_bits(p, read::int_bits(env, probed, v, info.size)?), info.size);
            }
            Primitive::Float32 => (dst as *mut f32).write_unaligned(read::number(env, probed, v)? as f32),
            Primitive::Float64 => (dst as *mut f64).write_unaligned(read::number(env, probed, v)?),
            Primitive::Bool => *dst = bool_value(env, v)? as u8,
            Primitive::String
            | Primitive::String16
            | Primitive::String32
            | Primitive::Pointer
            | Primitive::Callback => {
                let addr = pointer_arg(ctx, v, info, Direction::In)?;
                write_addr(dst, addr, info.size);
            }
            Primitive::Record => ctx.nested(|ctx| encode_record(ctx, v, info, dst))?,
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

pub(crate) fn is_plain_object(env: Env, v: Value) -> JsResult<bool> {
    Ok(env.type_of(v)? == JsType::Object && !env.is_array(v)?)
}

pub(crate) fn encode_record(ctx: &mut Ctx<'_>, v: Value, info: &TypeInfo, dst: *mut u8) -> JsResult<()> {
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
        let value = env.get_prop(v, ctx.inst.member_keys.key(env, m)?)?;
        let member = &m.info;
        // SAFETY: the member lies inside the record.
        let at = unsafe { dst.add(m.offset) };
        let result = match &m.counted_by {
            Some(counter) => encode_counted(ctx, v, value, member, counter, at),
            None => encode(ctx, value, member, at),
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
pub(crate) fn encode_counted(
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
        JsType::Number | JsType::BigInt => any_int_bits(env, count_value)? as usize,
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
                // Bounded by max_type_size, like every temporary array (a sparse JS Array can
                // claim 2^32 - 1 elements).
                let bytes = array_temp_size(ctx, elem.size, count)?;
                let tmp = ctx.alloc_zeroed(bytes, elem.align.max(1))?;
                fill_array(ctx, value, &elem, count, tmp)?;
                tmp as u64
            };
            // SAFETY: the member is pointer-sized inside the record.
            unsafe { write_addr(dst, addr, member.size) };
            Ok(())
        }
    }
}

pub(crate) fn encode_union(ctx: &mut Ctx<'_>, v: Value, info: &TypeInfo, dst: *mut u8) -> JsResult<()> {
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

pub(crate) fn encode_union_member(
    ctx: &mut Ctx<'_>,
    info: &TypeInfo,
    name: &str,
    value: Value,
    dst: *mut u8,
) -> JsResult<()> {
    let Some(m) = info.members().iter().find(|m| m.exposed() && *m.name == *name) else {
        return Err(error(format!("Unknown member {name} in union type {}", info.name)));
    };
    let member = &m.info;
    encode(ctx, value, member, dst)
}

/// The state object of a union instance made by index.js, if `v` is one.
pub(crate) fn union_state(ctx: &Ctx<'_>, v: Value) -> JsResult<Option<Value>> {
    let env = ctx.env;
    let Some(sym) = ctx.inst.helpers.borrow().union_state else {
        return Ok(None);
    };
    let key = env.deref(sym)?;
    let state = env.get_prop(v, key)?;
    Ok((env.type_of(state)? == JsType::Object).then_some(state))
}

pub(crate) fn encode_array(ctx: &mut Ctx<'_>, v: Value, info: &TypeInfo, dst: *mut u8) -> JsResult<()> {
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
pub(crate) fn fill_array(ctx: &mut Ctx<'_>, v: Value, elem: &TypeInfo, len: usize, dst: *mut u8) -> JsResult<()> {
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
        let n = bytes.min(len.saturating_mul(elem.size));
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
pub(crate) fn encode_string_array(
    ctx: &mut Ctx<'_>,
    v: Value,
    elem: &TypeInfo,
    len: usize,
    dst: *mut u8,
) -> JsResult<()> {
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

// Pointer, string and callback arguments: addresses, temporaries and output parameters.

/// Width in bytes of the characters of a string kind.
pub fn string_width(p: Primitive) -> usize {
    match p {
        Primitive::String16 => 2,
        Primitive::String32 => 4,
        _ => 1,
    }
}

/// For pointees that a JS string may be passed to (J2C-05/07): the character width.
pub(crate) fn char_width_of_pointee(pointee: &TypeInfo, id: TypeId) -> Option<usize> {
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

/// An integer given as an address, if the target's pointers can hold it: any value on 64-bit
/// targets; on 32-bit ones a value of 32 bits, unsigned or negative (-1 is 0xffffffff, as C's
/// conversion makes it). Anything wider names memory this process cannot have: a RangeError,
/// not a silently truncated address.
fn address_in_range(bits: u64) -> JsResult<u64> {
    let negative_word = (i64::from(i32::MIN)..0).contains(&(bits as i64));
    if cfg!(target_pointer_width = "64") || bits <= u64::from(u32::MAX) || negative_word {
        return Ok(bits);
    }
    Err(range_error(format!("Address {bits:#x} does not fit a 32-bit pointer")))
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
            return match pointer_address(env, v, pointee)? {
                Some(a) => Ok(a),
                None => {
                    let name = external_name(env, ctx.inst, v)?;
                    Err(type_error(format!("Unexpected {name} value, expected {}", expected())))
                }
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
            return address_in_range(d as i64 as u64);
        }
        JsType::BigInt => return address_in_range(env.get_bigint_bits(v)?),
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
pub(crate) fn callback_arg(ctx: &mut Ctx<'_>, v: Value, t: JsType, info: &TypeInfo) -> JsResult<u64> {
    let env = ctx.env;
    let proto = info.target().unwrap_or(VOID);
    match t {
        JsType::Null | JsType::Undefined => Ok(0),
        JsType::Function => {
            if ctx.mem.is_null() {
                return Err(error("Cannot encode non-registered callback"));
            }
            if ctx.transients.len() >= MAX_TRANSIENT {
                return Err(error(format!("This call uses too many temporary callbacks (max = {MAX_TRANSIENT})")));
            }
            let (handler, addr) = transient(env, ctx.inst, v, proto)?;
            ctx.transients.push(handler);
            Ok(addr)
        }
        JsType::External => match exact_pointer_address(env, v, proto)? {
            Some(a) => Ok(a),
            None => {
                let name = external_name(env, ctx.inst, v)?;
                Err(type_error(format!("Unexpected {name} value, expected {}", info.name)))
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
                    return pointer_address(env, value, None)?
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
pub(crate) fn string_arg(ctx: &mut Ctx<'_>, v: Value, t: JsType, info: &TypeInfo, dir: Direction) -> JsResult<u64> {
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
pub(crate) fn array_temp_size(ctx: &Ctx<'_>, elem_size: usize, len: usize) -> JsResult<usize> {
    let max = ctx.inst.config.get().max_type_size;
    match elem_size.checked_mul(len) {
        Some(size) if size <= max => Ok(size),
        _ => Err(error(format!("Array length is too high (max = {})", max / elem_size.max(1)))),
    }
}

/// `[s]`: a buffer holding `s` with its NUL, exactly that long (spec OUT-06).
pub(crate) fn string_buffer(ctx: &mut Ctx<'_>, arr: Value, s: Value, width: usize, dir: Direction) -> JsResult<u64> {
    // Koffi 2.16.3 fills the buffer from the string whatever the direction: `_Out_` only means
    // that it is copied back.
    let (ptr, units) = strings::encode_temp(ctx, s, width)?;
    if dir != Direction::In {
        ctx.outs.push(OutArg::StringBuf { arr, ptr, width, cap: units + 1 });
    }
    Ok(ptr as u64)
}
