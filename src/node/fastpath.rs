//! The lean call path for signatures of numbers and booleans: the same plan and the same thunk
//! as every call, but each argument's conversion and destination are precomputed into a flat
//! table when the function is declared, so that a call is a loop of "read a number, store it in
//! a slot" and no conversion context is built.

use super::convert::{bool_value, fast_f64, fast_int_bits, pointer_arg, Ctx, ScalarConv};
use super::func::{errno_slot, in_argument, run, Callable, ParamConv};
use super::instance::Instance;
use super::napi::{error, Env, JsResult, Value};
use crate::abi::{ArgLoc, CallPlan, Ext, RetLoc, RetReg, Slot};
use crate::call::frame::extend;
use crate::call::{CallFrame, CallMemory};
use crate::types::{Direction, Primitive, TypeInfo};

/// How one argument's JS value becomes bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conv {
    /// An integer of at most 32 bits (wrapped modulo 2^32, spec §18-Q1).
    Int32,
    /// A 64-bit integer.
    Int64,
    /// A byte-swapped integer of this many bytes (spec PRIM-11).
    Swapped(u8),
    Float32,
    Float64,
    Bool,
    /// A `char *` input: the string written straight into the heap block when it fits.
    Utf8,
    /// A data pointer input: TypedArray/ArrayBuffer data in one call when it is one.
    Pointer,
}

/// One argument: its conversion and its single destination (from the plan).
#[derive(Clone, Copy, Debug)]
struct FastArg {
    conv: Conv,
    dst: Slot,
    len: u32,
    ext: Ext,
    /// The parameter's index, for the general conversion when the quick one does not apply.
    param: u16,
}

/// How the result comes back.
#[derive(Clone, Copy, Debug)]
enum FastRet {
    Void,
    /// A number or boolean in one register.
    Scalar(RetReg, ScalarConv),
    /// Anything else in registers (pointers, strings): the general conversion.
    General,
}

/// The precomputed table of a lean-path function.
#[derive(Debug)]
pub struct FastPlan {
    args: Box<[FastArg]>,
    ret: FastRet,
    stack_size: u32,
    fpr_count: u8,
}

impl FastPlan {
    /// The table for a signature, or `None` if it cannot take the lean path: every parameter a
    /// number or boolean in one slot, and a result without hidden pointer or disposer.
    pub fn new(params: &[ParamConv], ret: &TypeInfo, plan: &CallPlan) -> Option<FastPlan> {
        let mut args = Vec::with_capacity(params.len());
        for (i, (p, loc)) in params.iter().zip(&plan.args).enumerate() {
            let info = &p.info;
            let ArgLoc::Moves(moves) = loc else { return None };
            let [m] = moves.as_slice() else { return None };
            let conv = match (info.primitive, info.primitive.int_width()) {
                (Primitive::Float32, _) => Conv::Float32,
                (Primitive::Float64, _) => Conv::Float64,
                (Primitive::Bool, _) => Conv::Bool,
                // Inputs only: outputs need copying back, which the general path does.
                (Primitive::String, _) if p.dir == Direction::In => Conv::Utf8,
                (Primitive::Pointer, _) if p.dir == Direction::In => Conv::Pointer,
                (_, Some((w, _, true))) => Conv::Swapped(w as u8),
                (_, Some((8, _, false))) => Conv::Int64,
                (_, Some(_)) => Conv::Int32,
                _ => return None,
            };
            args.push(FastArg { conv, dst: m.dst, len: m.len, ext: m.ext, param: u16::try_from(i).ok()? });
        }
        if ret.disposer.is_some() {
            return None;
        }
        let ret = match (&plan.ret, ret.primitive) {
            (RetLoc::Void, _) => FastRet::Void,
            (RetLoc::Sret { .. }, _) => return None,
            (RetLoc::Regs(moves), p) => match (moves.as_slice(), ScalarConv::of(p)) {
                ([m], Some(conv)) => FastRet::Scalar(m.reg, conv),
                _ if p.is_pointer_like() => FastRet::General,
                _ => return None,
            },
        };
        Some(FastPlan { args: args.into_boxed_slice(), ret, stack_size: plan.stack_size, fpr_count: plan.fpr_count })
    }
}

/// Calls `c` through its lean-path table.
#[inline(always)]
pub fn execute(
    env: Env,
    inst: &Instance,
    c: &Callable,
    fast: &FastPlan,
    args: &[Value],
    mem: *mut CallMemory,
) -> JsResult<Value> {
    // SAFETY: the call memory outlives the call (see func::execute).
    let stack = unsafe { (*mem).stack_args(fast.stack_size as usize) }.map_err(|e| error(e.to_string()))?;
    let mut frame = CallFrame { stack, fpr_count: fast.fpr_count as u64, ..CallFrame::default() };
    // A conversion context only when a string or pointer needs the general conversion.
    let mut ctx: Option<Ctx<'_>> = None;
    let result = fill(env, inst, c, fast, args, mem, &mut frame, &mut ctx);
    let result = result.and_then(|_| call(env, inst, c, fast, &mut frame, mem));
    if let Some(ctx) = ctx.as_mut() {
        if !ctx.transients.is_empty() {
            super::callback::release_transients(ctx.transients.drain(..));
        }
    }
    result
}

/// Converts the arguments into the frame.
#[allow(clippy::too_many_arguments, reason = "the pieces of one call, kept in registers")]
#[inline(always)]
fn fill<'a>(
    env: Env,
    inst: &'a Instance,
    c: &Callable,
    fast: &FastPlan,
    args: &[Value],
    mem: *mut CallMemory,
    frame: &mut CallFrame,
    ctx: &mut Option<Ctx<'a>>,
) -> JsResult<()> {
    for (i, (a, &v)) in fast.args.iter().zip(args).enumerate() {
        let bits = match a.conv {
            Conv::Int32 => fast_int_bits(env, v, 4),
            Conv::Int64 => fast_int_bits(env, v, 8),
            Conv::Float64 => fast_f64(env, v).map(f64::to_bits),
            Conv::Float32 => fast_f64(env, v).map(|d| (d as f32).to_bits() as u64),
            Conv::Bool => bool_value(env, v).map(u64::from),
            Conv::Swapped(2) => fast_int_bits(env, v, 2).map(|b| (b as u16).swap_bytes() as u64),
            Conv::Swapped(4) => fast_int_bits(env, v, 4).map(|b| (b as u32).swap_bytes() as u64),
            Conv::Swapped(_) => fast_int_bits(env, v, 8).map(u64::swap_bytes),
            // SAFETY: the call memory outlives the call; nothing else uses it meanwhile.
            Conv::Utf8 => match unsafe { utf8_in_place(env, &mut *mem, v) } {
                Some(addr) => Ok(addr),
                None => general(ctx.get_or_insert_with(|| Ctx::for_call(env, inst, mem)), c, a, v),
            },
            Conv::Pointer => match env.typedarray_data(v) {
                Some(addr) => Ok(addr as u64),
                None => general(ctx.get_or_insert_with(|| Ctx::for_call(env, inst, mem)), c, a, v),
            },
        }
        .map_err(|e| in_argument(e, i, &c.name))?;
        // SAFETY: the slot lies in the frame or the reserved stack area.
        unsafe { frame.put(a.dst, extend(bits, a.len, a.ext)) };
    }
    Ok(())
}

/// A JS string written as UTF-8 straight into the heap block, in one Node-API call; `None`
/// when `v` is not a string or may not have fit (the general conversion then decides).
#[inline(always)]
fn utf8_in_place(env: Env, mem: &mut CallMemory, v: Value) -> Option<u64> {
    let cap = mem.heap_remaining().saturating_sub(8);
    if cap < 64 {
        return None;
    }
    let cursor = mem.heap_cursor();
    let mut len = 0usize;
    // SAFETY: JS thread; `cursor` has `cap` writable bytes.
    let status = unsafe { napi::sys::napi_get_value_string_utf8(env.0, v, cursor as *mut _, cap, &mut len) };
    if status != napi::sys::Status::napi_ok || len + 1 >= cap {
        return None;
    }
    mem.commit(len + 1);
    Some(cursor as u64)
}

/// The general conversion of a string or pointer argument.
#[cold]
fn general(ctx: &mut Ctx<'_>, c: &Callable, a: &FastArg, v: Value) -> JsResult<u64> {
    let p = &c.params[a.param as usize];
    pointer_arg(ctx, v, &p.info, p.dir)
}

/// Calls C and converts the result.
#[inline(always)]
fn call(
    env: Env,
    inst: &Instance,
    c: &Callable,
    fast: &FastPlan,
    frame: &mut CallFrame,
    mem: *mut CallMemory,
) -> JsResult<Value> {
    let errno = errno_slot();
    // SAFETY: the thread's errno slot.
    let saved_errno = run(env, inst, c, frame, errno)?;
    let result = match fast.ret {
        // A NULL result from a Node-API callback is `undefined`: no call needed.
        FastRet::Void => Ok(std::ptr::null_mut()),
        FastRet::Scalar(reg, conv) => conv.to_js(env, frame.ret(reg)),
        FastRet::General => super::func::general_ret(env, inst, c, frame, mem),
    };
    // Nothing between the C return and the next JS statement may change errno (CALL-11).
    // SAFETY: as above.
    unsafe { *errno = saved_errno };
    result
}
