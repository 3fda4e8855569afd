//! Pointer, string and callback arguments: addresses, temporaries and output parameters
//! (spec J2C-02..J2C-10, OUT-*).

use super::*;
use crate::node::handles::{exact_pointer_address, pointer_address, read_cast, read_type_value};
use crate::node::napi::{error, type_error, JsResult, JsType, Value};
use crate::node::strings;
use crate::types::{Direction, Primitive, TypeId, TypeInfo, VOID};

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
                    let name = crate::node::handles::external_name(env, ctx.inst, v)?;
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
pub(crate) fn callback_arg(ctx: &mut Ctx<'_>, v: Value, t: JsType, info: &TypeInfo) -> JsResult<u64> {
    let env = ctx.env;
    let proto = info.target().unwrap_or(VOID);
    match t {
        JsType::Null | JsType::Undefined => Ok(0),
        JsType::Function => {
            if ctx.mem.is_null() {
                return Err(error("Cannot encode non-registered callback"));
            }
            crate::node::callback::transient(ctx, v, proto)
        }
        JsType::External => match exact_pointer_address(env, v, proto)? {
            Some(a) => Ok(a),
            None => {
                let name = crate::node::handles::external_name(env, ctx.inst, v)?;
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
