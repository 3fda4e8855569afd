//! The general call path (spec CALL-01..CALL-05, CALL-13): every argument converted through a
//! conversion context straight into its frame slots, the thunk run, the result converted and
//! output parameters copied back. Any signature; the lean path covers the common ones faster.

use super::callable::Callable;
use super::plan::ParamConv;
use super::run::{run, KeepErrno};
use crate::abi::{self, ArgLoc, CallPlan, RetLoc, RetReg};
use crate::call::frame::{extend, single_word};
use crate::call::CallFrame;
use crate::node::convert::{self, int_store_bits, pointer_arg, Ctx};
use crate::node::instance::Instance;
use crate::node::js::read::{bool_value, fast_f64, fast_int_bits};
use crate::node::js::scalar::ScalarConv;
use crate::node::js::{error, Env, JsError, JsResult, Value};
use crate::types::{Direction, Primitive, TypeInfo};

/// Adds the argument position and function name to a conversion error, keeping upstream's
/// message intact in front (spec ERR-03).
pub(super) fn in_argument(e: JsError, i: usize, name: &str) -> JsError {
    e.map_message(|m| format!("{m} (argument {} of '{name}')", i + 1))
}

/// A result that needs the general conversion (pointers, strings), for the lean path.
#[cold]
pub fn general_ret(
    env: Env,
    inst: &Instance,
    c: &Callable,
    frame: &CallFrame,
    mem: *mut crate::call::CallMemory,
    sret: *mut u8,
) -> JsResult<Value> {
    let Some(plan) = &c.plan else { return Err(error("internal: lean path without a plan")) };
    let mut ctx = Ctx::for_call(env, inst, mem);
    convert_ret(&mut ctx, frame, plan, &c.ret, sret)
}

pub fn execute_in(
    ctx: &mut Ctx<'_>,
    c: &Callable,
    params: &[ParamConv],
    plan: &CallPlan,
    args: &[Value],
) -> JsResult<Value> {
    let mut frame = CallFrame::default();
    let sret = prepare(ctx, &mut frame, c, params, plan, args)?;
    run(ctx.env, ctx.inst, c, &mut frame)?;
    let _errno = KeepErrno::new(ctx.inst.errno);
    finish(ctx, c, plan, &frame, sret)
}

/// Converts the arguments into a new frame whose stack arguments and temporaries live in the
/// context's call memory; returns it with the result memory of a hidden-pointer result.
#[inline(always)]
pub fn prepare(
    ctx: &mut Ctx<'_>,
    frame: &mut CallFrame,
    c: &Callable,
    params: &[ParamConv],
    plan: &CallPlan,
    args: &[Value],
) -> JsResult<*mut u8> {
    // SAFETY: the context's call memory outlives the call.
    frame.stack = unsafe { (*ctx.mem).stack_args(plan.stack_size as usize) }.map_err(|e| error(e.to_string()))?;
    frame.fpr_count = plan.fpr_count as usize;
    let mut sret = std::ptr::null_mut();
    if let RetLoc::Sret { ptr } = plan.ret {
        sret = ctx.alloc_zeroed(c.ret.size.max(1), c.ret.align.max(16))?;
        // SAFETY: the plan's slots lie in the frame and the reserved stack area.
        unsafe { frame.put(ptr, sret as u64) };
    }
    for (i, ((p, loc), &v)) in params.iter().zip(&plan.args).zip(args).enumerate() {
        push_arg(ctx, frame, p, loc, v).map_err(|e| in_argument(e, i, &c.name))?;
    }
    // Converting the arguments may have run JS (getters), which may have unloaded the library.
    c.ensure_loaded()?;
    Ok(sret)
}

/// After C returned: converts the result, copies outputs back, then runs the result's disposer
/// (spec CALL-03; a disposable result is a pointer, so it comes back in the first register).
pub fn finish(ctx: &mut Ctx<'_>, c: &Callable, plan: &CallPlan, frame: &CallFrame, sret: *mut u8) -> JsResult<Value> {
    ctx.dispose = c.ret.disposer.is_none();
    let result = convert_ret(ctx, frame, plan, &c.ret, sret);
    ctx.dispose = true;
    let result = result.and_then(|r| convert::copy_back(ctx).map(|_| r));
    match (result, c.ret.disposer.is_some()) {
        (Ok(r), true) => convert::dispose(ctx, &c.ret, frame.ret(RetReg::Gpr(0))).map(|_| r),
        (result, _) => result,
    }
}

/// A JS string for a `char *` parameter, written straight into the heap block in one call when
/// it fits (`None` when `v` is not a string or may not have fit: the general path decides).
#[inline(always)]
fn fast_utf8(ctx: &mut Ctx<'_>, v: Value) -> JsResult<Option<u64>> {
    let Some((cursor, cap)) = ctx.in_place(1) else { return Ok(None) };
    let mut len = 0usize;
    // SAFETY: JS thread; `cursor` has `cap` writable bytes.
    let status = unsafe { napi::sys::napi_get_value_string_utf8(ctx.env.0, v, cursor as *mut _, cap, &mut len) };
    if status != napi::sys::Status::napi_ok || len + 1 >= cap {
        return Ok(None);
    }
    ctx.commit(len + 1);
    Ok(Some(cursor as u64))
}

/// Converts one argument straight into its frame slots.
#[inline]
pub fn push_arg(ctx: &mut Ctx<'_>, frame: &mut CallFrame, p: &ParamConv, loc: &ArgLoc, v: Value) -> JsResult<()> {
    let env = ctx.env;
    let info = &*p.info;
    let prim = info.primitive;
    let scalar_bits = match prim {
        _ if prim.is_integer() => Some(int_store_bits(prim, fast_int_bits(env, v, info.size)?)),
        Primitive::Float64 => Some(fast_f64(env, v)?.to_bits()),
        Primitive::Float32 => Some((fast_f64(env, v)? as f32).to_bits() as u64),
        Primitive::Bool => Some(bool_value(env, v)? as u64),
        Primitive::String if p.dir == Direction::In => match fast_utf8(ctx, v)? {
            Some(ptr) => Some(ptr),
            None => Some(pointer_arg(ctx, v, info, p.dir)?),
        },
        _ if prim.is_pointer_like() => Some(pointer_arg(ctx, v, info, p.dir)?),
        _ => None,
    };
    let word = match loc {
        ArgLoc::Moves(moves) => single_word(moves),
        ArgLoc::Indirect { .. } => None,
    };
    match (scalar_bits, word) {
        (Some(bits), Some(m)) => {
            // SAFETY: the slot lies in the frame or the reserved stack area.
            unsafe { frame.put(m.dst, extend(bits, m.len, m.ext)) };
            Ok(())
        }
        _ => {
            // Aggregates (and any shape the fast path does not cover): C bytes in scratch
            // memory, then the plan's moves.
            let tmp = ctx.alloc_zeroed(info.size.max(8), info.align.max(8))?;
            match scalar_bits {
                // SAFETY: tmp holds at least 8 bytes.
                Some(bits) => unsafe { (tmp as *mut u64).write_unaligned(bits.to_le()) },
                None => convert::encode(ctx, v, info, tmp)?,
            }
            match loc {
                ArgLoc::Moves(moves) => {
                    for m in moves {
                        // SAFETY: moves stay within the value and the frame/stack area.
                        unsafe { frame.apply(m, tmp) };
                    }
                }
                // SAFETY: as above.
                ArgLoc::Indirect { ptr } => unsafe { frame.put(*ptr, tmp as u64) },
            }
            Ok(())
        }
    }
}

/// A scalar result (number or boolean in one register) converted straight from the register,
/// without a conversion context; `None` for everything else.
#[inline(always)]
fn scalar_ret(env: Env, frame: &CallFrame, moves: &[abi::RetMove], ret: &TypeInfo) -> Option<JsResult<Value>> {
    if moves.len() != 1 || ret.size > 8 {
        return None;
    }
    let conv = ScalarConv::of(ret.primitive)?;
    Some(conv.to_js(env, frame.ret(moves[0].reg)))
}

/// Converts the result registers (or the sret memory) to JS.
fn convert_ret(
    ctx: &mut Ctx<'_>,
    frame: &CallFrame,
    plan: &CallPlan,
    ret: &TypeInfo,
    sret: *mut u8,
) -> JsResult<Value> {
    let env = ctx.env;
    match &plan.ret {
        RetLoc::Void => env.undefined(),
        RetLoc::Sret { .. } => {
            // SAFETY: C wrote the result there.
            unsafe { convert::decode(ctx, sret, ret) }
        }
        RetLoc::Regs(moves) => {
            if let Some(v) = scalar_ret(env, frame, moves, ret) {
                return v;
            }
            let mut buf = [0u8; 32];
            // SAFETY: register results are at most 16 bytes.
            unsafe {
                frame.store_ret(moves, buf.as_mut_ptr());
                convert::decode(ctx, buf.as_ptr(), ret)
            }
        }
    }
}
