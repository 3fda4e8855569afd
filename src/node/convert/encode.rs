//! JS values into C memory: numbers, records, unions, fixed arrays (spec §8, J2C-11, ARR-08..11).

use super::*;
use crate::node::handles::read_type_value;
use crate::node::napi::{error, type_error, Env, JsResult, JsType, Value};
use crate::node::strings;
use crate::node::tagged;
use crate::types::{Detail, Direction, Primitive, TypeInfo, VOID};

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
                store_le(dst, int_store_bits(p, tagged::int_bits(env, probed, v, info.size)?), info.size);
            }
            Primitive::Float32 => (dst as *mut f32).write_unaligned(tagged::number(env, probed, v)? as f32),
            Primitive::Float64 => (dst as *mut f64).write_unaligned(tagged::number(env, probed, v)?),
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
        let value = env.get_prop(v, super::keys::key(env, ctx.inst, m)?)?;
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
                // Bounded by max_type_size, like every temporary array (a sparse JS Array can
                // claim 2^32 - 1 elements).
                let bytes = super::pointer::array_temp_size(ctx, elem.size, count)?;
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
