//! The type API: specifiers, constructors (`struct`, `pack`, `union`, `array`, `pointer`,
//! `opaque`, `alias`, `proto`, `disposable`, `in`/`out`/`inout`, `as`) and introspection
//! (`sizeof`, `alignof`, `offsetof`, `resolve`, `introspect`, `types`), spec §5–§7.

use crate::node::convert::handles::{cast_marker, type_value};
use crate::node::convert::spec::{resolve_param_spec, resolve_spec};
use crate::node::instance::Instance;
use crate::node::js::read::with_string;
use crate::node::js::{error, type_error, Args, Env, JsResult, JsType, Value};
use crate::types::{
    parse_prototype, parse_type, ArrayHint, Convention, Detail, Direction, Disposer, FuncSig, MemberSpec, Param,
    Primitive, TypeId,
};
use smallvec::SmallVec;

fn resolve(env: Env, inst: &Instance, v: Value) -> JsResult<TypeId> {
    Ok(resolve_spec(env, inst, v)?.0)
}

fn optional_name(env: Env, v: Value, what: &str) -> JsResult<Option<String>> {
    match env.type_of(v)? {
        JsType::String => Ok(Some(env.get_string(v)?)),
        JsType::Null | JsType::Undefined => Ok(None),
        _ => Err(type_error(format!("Unexpected {} value for {what}, expected string", env.type_name(v)))),
    }
}

/// `koffi.struct`, `koffi.pack` and `koffi.union` (spec REC-01..REC-12, UNI-01..UNI-03).
pub fn record(env: Env, args: &Args, packed: bool, union: bool) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let (name_value, members) = match args.len() {
        0 => return Err(type_error("Expected 1 or 2 arguments, got 0")),
        1 => (None, args.at(0)),
        _ => (Some(args.at(0)), args.at(1)),
    };
    let mut name = None;
    let mut redefine = None;
    if let Some(v) = name_value {
        match env.type_of(v)? {
            JsType::String => name = Some(env.get_string(v)?),
            JsType::Null | JsType::Undefined => {}
            JsType::External => redefine = Some(resolve(env, inst, v)?),
            _ => return Err(type_error(format!("Unexpected {} value for name, expected string", env.type_name(v)))),
        }
    }
    if env.type_of(members)? != JsType::Object || env.is_array(members)? {
        return Err(type_error(format!("Unexpected {} value for members, expected object", env.type_name(members))));
    }
    if let Some(id) = redefine {
        let reg = inst.reg.borrow();
        if !reg.get(id).is_opaque() {
            return Err(type_error(format!("Cannot redefine non-opaque type {}", reg.get(id).name)));
        }
    }
    let id =
        define_record(inst, name.as_deref(), redefine, union, |id| define_members(env, inst, id, members, packed))?;
    type_value(env, id, Direction::In)
}

/// Defines a record named `name` (or redefines the opaque type `redefine`) with the members
/// `define` gives it; undone if that fails (spec REC-11).
fn define_record(
    inst: &Instance,
    name: Option<&str>,
    redefine: Option<TypeId>,
    union: bool,
    define: impl FnOnce(TypeId) -> JsResult<()>,
) -> JsResult<TypeId> {
    let (id, checkpoint) = inst.reg.borrow_mut().begin_record(name, redefine, union)?;
    if let Err(e) = define(id) {
        inst.reg.borrow_mut().rollback(checkpoint);
        return Err(e);
    }
    // A redefined opaque type changes its introspection (spec REC-10).
    inst.introspected.borrow_mut().remove(&id);
    Ok(id)
}

/// `_recordFlat(kind, name, members, count)`: `koffi.struct`, `pack` or `union` (kind 0, 1, 2)
/// as lib/api.js passes them when every member is a type string: `members` is
/// `'name\0type\0name\0type…'` for `count` members, one string read where the general entry
/// makes three Node-API calls per member. Returns `undefined` when the string does not split
/// into `count` pairs (a name or type holding NUL): the general entry then decides.
pub fn record_flat(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let kind = env.get_f64(args.at(0))?;
    let (packed, union) = (kind == 1.0, kind == 2.0);
    let name = optional_name(env, args.at(1), "name")?;
    let count = env.get_f64(args.at(3))?;
    // The whole definition runs on the text in place: nothing in it runs JS.
    let defined = with_string(env, inst.tagged.get(), args.at(2), |flat| {
        let fields = nul_fields(flat);
        if fields.len() as f64 != 2.0 * count {
            return None;
        }
        Some(define_record(inst, name.as_deref(), None, union, |id| {
            let mut members = Vec::with_capacity(fields.len() / 2);
            for pair in fields.chunks_exact(2) {
                let (name, text) = (&flat[pair[0].clone()], &flat[pair[1].clone()]);
                let ty = parse_type(&mut inst.reg.borrow_mut(), text)?;
                let name = inst.reg.borrow_mut().member_name(name);
                members.push(MemberSpec { name, ty, align: None });
            }
            inst.reg.borrow_mut().finish_record(id, members, packed)?;
            Ok(())
        }))
    })?
    .flatten();
    match defined {
        Some(id) => type_value(env, id?, Direction::In),
        None => env.undefined(),
    }
}

fn define_members(env: Env, inst: &Instance, id: TypeId, members: Value, packed: bool) -> JsResult<()> {
    let keys = env.own_keys(members)?;
    let mut specs = Vec::with_capacity(keys.len());
    let tagged = inst.tagged.get();
    for key in keys {
        let name = with_string(env, tagged, key, |name| inst.reg.borrow_mut().member_name(name))?
            .ok_or_else(|| type_error("Member names must be strings"))?;
        let v = env.get_prop(members, key)?;
        // Type strings are by far the most common specifier: parsed without asking the kind.
        let parsed = with_string(env, tagged, v, |text| parse_type(&mut inst.reg.borrow_mut(), text))?;
        let (ty, align) = if let Some(parsed) = parsed {
            (parsed?, None)
        } else if env.is_array(v)? {
            let bad = || error("Member specifier array must contain alignement value and type");
            if env.array_length(v)? != 2 {
                return Err(bad());
            }
            let a = env.get_element(v, 0)?;
            if env.type_of(a)? != JsType::Number {
                return Err(bad());
            }
            let align = env.get_f64(a)?;
            if ![1.0, 2.0, 4.0, 8.0].contains(&align) {
                return Err(error(format!("Alignment of member '{name}' must be 1, 2, 4 or 8")));
            }
            (resolve(env, inst, env.get_element(v, 1)?)?, Some(align as usize))
        } else {
            (resolve(env, inst, v)?, None)
        };
        specs.push(MemberSpec { name, ty, align });
    }
    inst.reg.borrow_mut().finish_record(id, specs, packed)?;
    Ok(())
}

/// The byte ranges of the NUL-separated fields of `flat`, in one pass over short text.
fn nul_fields(flat: &str) -> SmallVec<[std::ops::Range<usize>; 32]> {
    let mut fields = SmallVec::new();
    let mut start = 0;
    for (i, b) in flat.bytes().enumerate() {
        if b == 0 {
            fields.push(start..i);
            start = i + 1;
        }
    }
    fields.push(start..flat.len());
    fields
}

/// `koffi.opaque(name?)` (spec OPQ-01).
pub fn opaque(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let name = if args.len() > 0 { optional_name(env, args.at(0), "name")? } else { None };
    let id = inst.reg.borrow_mut().opaque(name.as_deref())?;
    type_value(env, id, Direction::In)
}

/// `koffi.pointer(...)` in its forms (spec PTR-01..PTR-07).
pub fn pointer(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    if args.len() < 1 {
        return Err(type_error("Expected 1 to 3 arguments, got 0"));
    }
    let named = args.len() >= 2 && env.type_of(args.at(1))? != JsType::Number;
    let (name, target, rest) = if named {
        (optional_name(env, args.at(0), "name")?, args.at(1), if args.len() >= 3 { Some(args.at(2)) } else { None })
    } else {
        (None, args.at(0), if args.len() >= 2 { Some(args.at(1)) } else { None })
    };
    let mut to = resolve(env, inst, target)?;
    let mut count = 1;
    let mut counted_by = None;
    if let Some(v) = rest {
        match env.type_of(v)? {
            JsType::Number => {
                let c = env.get_f64(v)?;
                if !(1.0..=4.0).contains(&c) || c.fract() != 0.0 {
                    return Err(type_error("Value of count must be between 1 and 4"));
                }
                count = c as usize;
            }
            JsType::String if named => counted_by = Some(env.get_string(v)?),
            JsType::Undefined => {}
            _ => return Err(type_error(format!("Unexpected {} value for count, expected number", env.type_name(v)))),
        }
    }
    let mut reg = inst.reg.borrow_mut();
    for _ in 1..count {
        to = reg.pointer_to(to);
    }
    let id = if named || counted_by.is_some() {
        reg.named_pointer(name.as_deref(), to, counted_by)?
    } else {
        reg.pointer_to(to)
    };
    drop(reg);
    type_value(env, id, Direction::In)
}

fn parse_hint(env: Env, v: Value) -> JsResult<Option<ArrayHint>> {
    match env.type_of(v)? {
        JsType::Null | JsType::Undefined => Ok(None),
        JsType::String => match env.get_string(v)?.as_str() {
            "Typed" | "typed" => Ok(Some(ArrayHint::Typed)),
            "Array" | "array" => Ok(Some(ArrayHint::Array)),
            "String" | "string" => Ok(Some(ArrayHint::String)),
            _ => Err(error("Array conversion hint must be 'Typed', 'Array' or 'String'")),
        },
        _ => Err(type_error(format!("Unexpected {} value for hint, expected string", env.type_name(v)))),
    }
}

fn positive_length(env: Env, v: Value) -> JsResult<usize> {
    if env.type_of(v)? != JsType::Number {
        return Err(type_error(format!("Unexpected {} value for length, expected number", env.type_name(v))));
    }
    let len = env.get_f64(v)?;
    if len.is_nan() || len < 1.0 {
        return Err(type_error("Array length must be positive and non-zero"));
    }
    Ok(len.min(usize::MAX as f64) as usize)
}

/// `koffi.array(type, length, hint?)` and the flexible form (spec ARR-01..ARR-05, FLEX-01).
pub fn array(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    if args.len() < 2 {
        return Err(type_error(format!("Expected 2 to 4 arguments, got {}", args.len())));
    }
    let elem = resolve(env, inst, args.at(0))?;
    let (len, counted_by, hint_at) = if env.type_of(args.at(1))? == JsType::String {
        if args.len() < 3 {
            return Err(type_error("Missing maxLen argument"));
        }
        (positive_length(env, args.at(2))?, Some(env.get_string(args.at(1))?), 3)
    } else {
        (positive_length(env, args.at(1))?, None, 2)
    };
    let hint = if args.len() > hint_at { parse_hint(env, args.at(hint_at))? } else { None };
    let id = inst.reg.borrow_mut().array_of(elem, len, hint, counted_by)?;
    type_value(env, id, Direction::In)
}

/// `koffi.alias(name, type)` (spec TS-14).
pub fn alias(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    if args.len() < 2 {
        return Err(type_error(format!("Expected 2 arguments, got {}", args.len())));
    }
    if env.type_of(args.at(0))? != JsType::String {
        return Err(type_error(format!("Unexpected {} value for name, expected string", env.type_name(args.at(0)))));
    }
    let name = env.get_string(args.at(0))?;
    let (id, dir) = resolve_spec(env, inst, args.at(1))?;
    inst.reg.borrow_mut().alias(&name, id)?;
    type_value(env, id, dir)
}

/// `koffi.proto(...)` (spec PROTO-01..PROTO-03).
pub fn proto(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let sig = match args.len() {
        0 => return Err(type_error("Expected 1 to 4 arguments, got 0")),
        1 => {
            if env.type_of(args.at(0))? != JsType::String {
                return Err(type_error(format!(
                    "Unexpected {} value for prototype, expected string",
                    env.type_name(args.at(0))
                )));
            }
            let text = env.get_string(args.at(0))?;
            let d = parse_prototype(&mut inst.reg.borrow_mut(), &text, false)?;
            FuncSig { name: d.name, ret: d.ret, params: d.params, variadic: d.variadic, convention: d.convention }
        }
        n => {
            let list: Vec<Value> = args.argv.to_vec();
            let mut i = 0;
            let mut convention = Convention::Cdecl;
            if n >= 3 && env.type_of(list[0])? == JsType::String {
                if let Some(c) = Convention::from_keyword(&env.get_string(list[0])?) {
                    convention = c;
                    i = 1;
                }
            }
            let name = if n - i >= 3 {
                i += 1;
                optional_name(env, list[i - 1], "name")?.unwrap_or_default()
            } else {
                String::new()
            };
            if n - i != 2 {
                return Err(type_error(format!("Expected 1 to 4 arguments, got {n}")));
            }
            let ret = resolve(env, inst, list[i])?;
            inst.reg.borrow().check_return(ret)?;
            let params_value = list[i + 1];
            if !env.is_array(params_value)? {
                return Err(type_error(format!(
                    "Unexpected {} value for parameters, expected an array",
                    env.type_name(params_value)
                )));
            }
            let mut params = Vec::new();
            let mut variadic = false;
            let count = env.array_length(params_value)?;
            for k in 0..count {
                let item = env.get_element(params_value, k)?;
                if k + 1 == count && env.type_of(item)? == JsType::String && env.get_string(item)? == "..." {
                    variadic = true;
                    break;
                }
                let (ty, dir) = resolve_param_spec(env, inst, item)?;
                inst.reg.borrow().check_param(ty, dir)?;
                params.push(Param { ty, dir });
            }
            FuncSig { name, ret, params, variadic, convention }
        }
    };
    let id = inst.reg.borrow_mut().proto(sig)?;
    type_value(env, id, Direction::In)
}

/// `koffi.disposable(...)` (spec DISP-01, DISP-02).
pub fn disposable(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let (name, ty, f) = match args.len() {
        0 => return Err(type_error("Expected 1 to 3 arguments, got 0")),
        1 => (None, args.at(0), None),
        2 if env.type_of(args.at(1))? == JsType::Function => (None, args.at(0), Some(args.at(1))),
        2 => (optional_name(env, args.at(0), "name")?, args.at(1), None),
        _ => (optional_name(env, args.at(0), "name")?, args.at(1), Some(args.at(2))),
    };
    let base = resolve(env, inst, ty)?;
    let disposer = match f {
        None => Disposer::Free,
        Some(f) => match env.type_of(f)? {
            JsType::Function => {
                let r = env.reference(f)?;
                let mut list = inst.disposers.borrow_mut();
                list.push(r);
                Disposer::Js((list.len() - 1) as u32)
            }
            JsType::Null | JsType::Undefined => Disposer::Free,
            _ => return Err(type_error(format!("Unexpected {} value for func, expected function", env.type_name(f)))),
        },
    };
    let id = inst.reg.borrow_mut().disposable(name.as_deref(), base, disposer)?;
    type_value(env, id, Direction::In)
}

/// `koffi.in/out/inout(type)` (spec OUT-01).
pub fn direction(env: Env, args: &Args, dir: Direction) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    if args.len() < 1 {
        return Err(type_error("Expected 1 argument, got 0"));
    }
    let id = resolve(env, inst, args.at(0))?;
    let info = inst.type_info(id);
    if !info.primitive.is_pointer_like() {
        return Err(type_error(format!("Unexpected {} type, expected pointer or string type", info.name)));
    }
    type_value(env, id, dir)
}

/// `koffi.as(value, type)` (spec J2C-12).
pub fn cast(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    if args.len() < 2 {
        return Err(type_error(format!("Expected 2 arguments, got {}", args.len())));
    }
    let id = resolve(env, inst, args.at(1))?;
    if !inst.type_info(id).primitive.is_pointer_like() {
        return Err(type_error("Only pointer or string types can be used for casting"));
    }
    // Upstream keeps the value inside a JS object, which primitives cannot be.
    let value = args.at(0);
    if !matches!(env.type_of(value)?, JsType::Object | JsType::Function | JsType::External) {
        return Err(type_error(format!("Unexpected {} value for value, expected object", env.type_name(value))));
    }
    let ty = type_value(env, id, Direction::In)?;
    cast_marker(env, value, ty)
}

/// `koffi.sizeof(type)` (spec TS-12).
pub fn size_of(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let id = resolve(env, inst, args.at(0))?;
    env.double(inst.type_info(id).size as f64)
}

/// `koffi.alignof(type)` (spec TS-12).
pub fn align_of(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let id = resolve(env, inst, args.at(0))?;
    env.double(inst.type_info(id).align as f64)
}

/// `koffi.offsetof(type, member)` (spec TS-13).
pub fn offset_of(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    if args.len() < 2 {
        return Err(type_error(format!("Expected 2 arguments, got {}", args.len())));
    }
    let id = resolve(env, inst, args.at(0))?;
    if env.type_of(args.at(1))? != JsType::String {
        return Err(type_error(format!("Unexpected {} value for member, expected string", env.type_name(args.at(1)))));
    }
    let member = env.get_string(args.at(1))?;
    let info = inst.type_info(id);
    if info.primitive != Primitive::Record {
        return Err(type_error("The offsetof() function can only be used with record types"));
    }
    match info.members().iter().find(|m| m.exposed() && *m.name == *member) {
        Some(m) => env.double(m.offset as f64),
        None => Err(error(format!("Record type {} does not have member '{member}'", info.name))),
    }
}

/// `koffi.resolve(type)` (spec TS-10).
pub fn resolve_api(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let (id, dir) = resolve_spec(env, inst, args.at(0))?;
    type_value(env, id, dir)
}

/// `koffi.introspect(type)`: one frozen object per type (spec TS-11).
pub fn introspect(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let id = resolve(env, inst, args.at(0))?;
    introspect_id(env, inst, id)
}

/// The introspection object of a type (cached).
pub fn introspect_id(env: Env, inst: &Instance, id: TypeId) -> JsResult<Value> {
    if let Some(r) = inst.introspected.borrow().get(&id).copied() {
        return env.deref(r);
    }
    let info = inst.type_info(id);
    let obj = env.object()?;
    env.set(obj, "name", env.string(&info.name)?)?;
    env.set(obj, "primitive", env.string(info.primitive.name())?)?;
    env.set(obj, "size", env.double(info.size as f64)?)?;
    env.set(obj, "alignment", env.double(info.align as f64)?)?;
    env.set(obj, "disposable", env.boolean(info.disposer.is_some())?)?;
    match &info.detail {
        Detail::Array { elem, len, hint, .. } => {
            env.set(obj, "length", env.double(*len as f64)?)?;
            env.set(obj, "hint", env.string(hint.name())?)?;
            env.set(obj, "ref", type_value(env, *elem, Direction::In)?)?;
        }
        // Upstream describes a function pointer like the prototype itself: no `ref` (TS-11).
        Detail::Pointer { to, .. } if info.primitive != Primitive::Callback => {
            env.set(obj, "ref", type_value(env, *to, Direction::In)?)?
        }
        Detail::Record { members } | Detail::Union { members } => {
            let list = env.object()?;
            for m in members.iter().filter(|m| m.exposed()) {
                let entry = env.object()?;
                env.set(entry, "name", env.string(&m.name)?)?;
                env.set(entry, "type", type_value(env, m.ty, Direction::In)?)?;
                env.set(entry, "offset", env.double(m.offset as f64)?)?;
                if let Some(c) = &m.counted_by {
                    env.set(entry, "countedBy", env.string(c)?)?;
                }
                env.freeze(entry)?;
                env.set(list, &m.name, entry)?;
            }
            env.freeze(list)?;
            env.set(obj, "members", list)?;
        }
        _ => {}
    }
    env.freeze(obj)?;
    let r = env.reference(obj)?;
    inst.introspected.borrow_mut().insert(id, r);
    Ok(obj)
}

/// The `koffi.types` object: every built-in name without `*` (spec TS-09).
pub fn types_object(env: Env, inst: &Instance) -> JsResult<Value> {
    let obj = env.object()?;
    let names: Vec<(String, TypeId)> =
        inst.reg.borrow().builtin_type_names().map(|(n, id)| (n.to_string(), id)).collect();
    for (name, id) in names {
        env.set(obj, &name, type_value(env, id, Direction::In)?)?;
    }
    Ok(obj)
}
