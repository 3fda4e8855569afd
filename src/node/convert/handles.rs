//! The JS values that stand for native things: type values, pointer values and cast markers.
//!
//! All three are tagged with `napi_type_tag_object`, so that a type value is never taken for a
//! pointer and the reverse (spec TS-16). A type value is an External whose data packs the type
//! id and a direction (for `koffi.out()` and friends) into one pointer-sized word, so the same
//! packing works on 32-bit targets (see [`DIR_BITS`]); type ids are never reused, even across
//! `koffi.reset()` (see `Registry::reset`), so a value made before a reset keeps meaning the
//! type it was made for (spec RESET-01 leaves that undefined; upstream reads freed memory).
//! A pointer value is an External whose data is the address,
//! tagged with its pointee type (spec J2C-06, C2J-04).

use napi::sys::napi_type_tag;

use crate::node::instance::Instance;
use crate::node::js::{type_error, Env, JsResult, JsType, Value};
use crate::types::{Direction, TypeId, VOID};

const TYPE_TAG: napi_type_tag = napi_type_tag { lower: 0x6b6f_6666_6972_7354, upper: 0x7970_6556_616c_7565 };
const CAST_TAG: napi_type_tag = napi_type_tag { lower: 0x6b6f_6666_6972_7343, upper: 0x6173_744d_6172_6b72 };
const PTR_MAGIC: u64 = 0x6b6f_6666_6972_7350;

/// Low bits of a type value's data that hold its direction; the type id sits above them. On a
/// 32-bit target that leaves 30 bits of id: a registry would need a billion types to run out.
const DIR_BITS: u32 = 2;

/// Creates the type value for `id` (with a direction for parameter types).
pub fn type_value(env: Env, id: TypeId, dir: Direction) -> JsResult<Value> {
    let dir_bits = match dir {
        Direction::In => 0usize,
        Direction::Out => 1,
        Direction::InOut => 2,
    };
    let id_bits = (id.0 as usize)
        .checked_mul(1 << DIR_BITS)
        .ok_or_else(|| crate::node::js::error("Too many types were declared in this process"))?;
    let data = id_bits | dir_bits;
    let v = env.external(data as *mut _)?;
    env.tag(v, &TYPE_TAG)?;
    Ok(v)
}

/// Reads a type value; `Ok(None)` when `v` is not one.
pub fn read_type_value(env: Env, inst: &Instance, v: Value) -> JsResult<Option<(TypeId, Direction)>> {
    if env.type_of(v)? != JsType::External || !env.has_tag(v, &TYPE_TAG)? {
        return Ok(None);
    }
    let data = env.external_data(v)? as usize;
    let id = TypeId((data >> DIR_BITS) as u32);
    let dir = match data & ((1 << DIR_BITS) - 1) {
        1 => Direction::Out,
        2 => Direction::InOut,
        _ => Direction::In,
    };
    // Built-in ids are valid everywhere (and the common case: no registry borrow for them).
    if id.0 >= inst.builtin_count && inst.reg.borrow().try_get(id).is_none() {
        return Err(type_error("Type value belongs to another environment"));
    }
    Ok(Some((id, dir)))
}

fn pointer_tag(pointee: TypeId) -> napi_type_tag {
    napi_type_tag { lower: PTR_MAGIC, upper: pointee.0 as u64 }
}

/// A pointer value for `addr`, tagged with its pointee type.
#[inline]
pub fn pointer_value(env: Env, addr: u64, pointee: TypeId) -> JsResult<Value> {
    let v = env.external(addr as usize as *mut _)?;
    env.tag(v, &pointer_tag(pointee))?;
    Ok(v)
}

/// The address of a pointer value (an External that is not a type value), checking its tag
/// against `expected` by the rules of spec J2C-06: same pointee, or either side `void`.
/// `Ok(None)` means the tag does not fit.
#[inline]
pub fn pointer_address(env: Env, v: Value, expected: Option<TypeId>) -> JsResult<Option<u64>> {
    let fits = match expected {
        None => !env.has_tag(v, &TYPE_TAG)?,
        Some(t) if t == VOID => !env.has_tag(v, &TYPE_TAG)?,
        Some(t) => env.has_tag(v, &pointer_tag(t))? || env.has_tag(v, &pointer_tag(VOID))?,
    };
    if !fits {
        return Ok(None);
    }
    Ok(Some(env.external_data(v)? as usize as u64))
}

/// The address of a pointer value tagged with exactly `pointee` (callback parameters accept
/// nothing looser: spec J2C-10).
#[inline]
pub fn exact_pointer_address(env: Env, v: Value, pointee: TypeId) -> JsResult<Option<u64>> {
    if !env.has_tag(v, &pointer_tag(pointee))? {
        return Ok(None);
    }
    Ok(Some(env.external_data(v)? as usize as u64))
}

/// For error messages: how upstream names the External `v` (spec §14, J2C-06): `Type` for a
/// type value, the pointer type a pointer value is tagged with (`int *`; the prototype's own
/// name for a function pointer, as upstream), else `External`. Tags can only be tested, not
/// read, so every type is tried: slow, and only used on error paths.
pub fn external_name(env: Env, inst: &Instance, v: Value) -> JsResult<String> {
    if env.has_tag(v, &TYPE_TAG)? {
        return Ok("Type".into());
    }
    let candidates: Vec<(TypeId, String)> = {
        let reg = inst.reg.borrow();
        (0..u32::MAX)
            .map(TypeId)
            .map_while(|id| reg.try_get(id).map(|t| (id, t)))
            .map(|(id, t)| (id, if t.proto().is_some() { t.name.clone() } else { crate::types::pointer_name(&t.name) }))
            .collect()
    };
    for (id, name) in candidates {
        if env.has_tag(v, &pointer_tag(id))? {
            return Ok(name);
        }
    }
    Ok("External".into())
}

/// `koffi.as(value, type)`: a marker object holding both (spec J2C-12).
pub fn cast_marker(env: Env, value: Value, ty: Value) -> JsResult<Value> {
    let obj = env.object()?;
    env.set(obj, "value", value)?;
    env.set(obj, "type", ty)?;
    env.tag(obj, &CAST_TAG)?;
    env.freeze(obj)?;
    Ok(obj)
}

/// If `v` is a cast marker, its (value, type value).
#[inline]
pub fn read_cast(env: Env, v: Value) -> JsResult<Option<(Value, Value)>> {
    if !env.has_tag(v, &CAST_TAG)? {
        return Ok(None);
    }
    Ok(Some((env.get(v, "value")?, env.get(v, "type")?)))
}
