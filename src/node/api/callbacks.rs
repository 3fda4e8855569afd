//! `koffi.register` and `koffi.unregister` (spec CB-03, CB-04).

use crate::callback as pool;
use crate::node::convert::handles::{pointer_address, pointer_value};
use crate::node::convert::spec::resolve_spec;
use crate::node::instance::callbacks::{callback_proto, make_handler, Tombstone};
use crate::node::instance::Instance;
use crate::node::js::{error, type_error, Args, Env, JsResult, JsType, Value};

/// `koffi.register(fn, type)` / `koffi.register(this, fn, type)` (spec CB-03).
pub fn register(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let (this, func, ty) = if args.len() >= 3 && env.type_of(args.at(1))? == JsType::Function {
        (Some(args.at(0)), args.at(1), args.at(2))
    } else if args.len() >= 2 {
        (None, args.at(0), args.at(1))
    } else {
        return Err(type_error(format!("Expected 2 or 3 arguments, got {}", args.len())));
    };
    if env.type_of(func)? != JsType::Function {
        return Err(type_error(format!("Unexpected {} value for func, expected function", env.type_name(func))));
    }
    let (id, _) = resolve_spec(env, inst, ty)?;
    let p = callback_proto(inst, id)?;
    let proto_id = p.id;
    let handler = make_handler(env, inst, func, this, p)?;
    let (index, addr) = pool::register(handler.clone()).map_err(|e| error(e.to_string()))?;
    inst.registered.borrow_mut().insert(index, handler);
    pointer_value(env, addr as usize as u64, proto_id)
}

/// `koffi.unregister(ptr)` (spec CB-04).
pub fn unregister(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let v = args.at(0);
    if env.type_of(v)? != JsType::External {
        return Err(type_error(format!("Unexpected {} value for id, expected registered callback", env.type_name(v))));
    }
    let addr = pointer_address(env, v, None)?.unwrap_or(0);
    let index = pool::index_of(addr as usize);
    let handler = index.and_then(|i| inst.registered.borrow_mut().remove(&i));
    match (index, handler) {
        (Some(index), Some(handler)) => {
            handler.retire();
            let tomb = Tombstone::for_instance("Cannot use non-registered callback beyond FFI call", env.0, inst);
            pool::release(index, Some(tomb));
            env.undefined()
        }
        _ => Err(error("Could not find matching registered callback")),
    }
}
