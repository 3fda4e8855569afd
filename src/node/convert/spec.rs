//! Type specifiers: a JS value naming a type, either a type string (parsed into the registry)
//! or a type value (spec TS-01, FN-05).

use super::handles::read_type_value;
use crate::node::instance::Instance;
use crate::node::js::read::with_string;
use crate::node::js::{type_error, Env, JsError, JsResult, JsType, Value};
use crate::types::{parse_type, Direction, TypeId};

/// Resolves a type specifier: a type string or a type value (spec TS-01).
pub fn resolve_spec(env: Env, inst: &Instance, v: Value) -> JsResult<(TypeId, Direction)> {
    if let Some(parsed) = with_string(env, inst.tagged.get(), v, |text| parse_type(&mut inst.reg.borrow_mut(), text))? {
        return Ok((parsed?, Direction::In));
    }
    match env.type_of(v)? {
        JsType::External => read_type_value(env, inst, v)?.ok_or_else(|| bad_spec(env, v)),
        _ => Err(bad_spec(env, v)),
    }
}

fn bad_spec(env: Env, v: Value) -> JsError {
    type_error(format!("Unexpected {} value as type specifier, expected string or type", env.type_name(v)))
}

/// Resolves a parameter specifier: like [`resolve_spec`], and a string may start with a
/// direction qualifier (`'_Out_ int *'`, spec FN-05).
pub fn resolve_param_spec(env: Env, inst: &Instance, v: Value) -> JsResult<(TypeId, Direction)> {
    if env.type_of(v)? == JsType::String {
        let text = env.get_string(v)?;
        let trimmed = text.trim_start();
        for (prefix, dir) in [("_In_", Direction::In), ("_Out_", Direction::Out), ("_Inout_", Direction::InOut)] {
            if let Some(rest) = trimmed.strip_prefix(prefix) {
                if rest.starts_with(char::is_whitespace) {
                    return Ok((parse_type(&mut inst.reg.borrow_mut(), rest)?, dir));
                }
            }
        }
    }
    resolve_spec(env, inst, v)
}
