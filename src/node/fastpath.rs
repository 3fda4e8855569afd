//! The lean call path for signatures of numbers and booleans: the same plan and the same thunk
//! as every call, but each argument's conversion and destination are precomputed into a flat
//! table when the function is declared, so that a call is a loop of "read a number, store it in
//! a slot" and no conversion context is built.

use super::convert::{bool_value, fast_f64, fast_int_bits, int_to_js};
use super::func::{errno_slot, in_argument, run, Callable};
use super::instance::Instance;
use super::napi::{error, Env, JsResult, Value};
use crate::abi::{ArgLoc, CallPlan, Ext, RetLoc, RetReg, Slot};
use crate::call::frame::extend;
use crate::call::{CallFrame, CallMemory};
use crate::types::{Primitive, TypeInfo};

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
}

/// One argument: its conversion and its single destination (from the plan).
#[derive(Clone, Copy, Debug)]
struct FastArg {
    conv: Conv,
    dst: Slot,
    len: u32,
    ext: Ext,
}

/// How the result comes back.
#[derive(Clone, Copy, Debug)]
enum FastRet {
    Void,
    Int {
        reg: RetReg,
        width: u8,
        signed: bool,
    },
    Float32(RetReg),
    Float64(RetReg),
    Bool(RetReg),
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
    pub fn new(params: &[std::sync::Arc<TypeInfo>], ret: &TypeInfo, plan: &CallPlan) -> Option<FastPlan> {
        let mut args = Vec::with_capacity(params.len());
        for (info, loc) in params.iter().zip(&plan.args) {
            let ArgLoc::Moves(moves) = loc else { return None };
            let [m] = moves.as_slice() else { return None };
            let conv = match (info.primitive, info.primitive.int_width()) {
                (Primitive::Float32, _) => Conv::Float32,
                (Primitive::Float64, _) => Conv::Float64,
                (Primitive::Bool, _) => Conv::Bool,
                (_, Some((w, _, true))) => Conv::Swapped(w as u8),
                (_, Some((8, _, false))) => Conv::Int64,
                (_, Some(_)) => Conv::Int32,
                _ => return None,
            };
            args.push(FastArg { conv, dst: m.dst, len: m.len, ext: m.ext });
        }
        if ret.disposer.is_some() {
            return None;
        }
        let ret = match (&plan.ret, ret.primitive) {
            (RetLoc::Void, _) => FastRet::Void,
            (RetLoc::Sret { .. }, _) => return None,
            (RetLoc::Regs(moves), p) => match (moves.as_slice(), p, p.int_width()) {
                ([m], Primitive::Float32, _) => FastRet::Float32(m.reg),
                ([m], Primitive::Float64, _) => FastRet::Float64(m.reg),
                ([m], Primitive::Bool, _) => FastRet::Bool(m.reg),
                ([m], _, Some((w, signed, false))) => FastRet::Int { reg: m.reg, width: w as u8, signed },
                (_, p, _) if p.is_pointer_like() => FastRet::General,
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
        }
        .map_err(|e| in_argument(e, i, &c.name))?;
        // SAFETY: the slot lies in the frame or the reserved stack area.
        unsafe { frame.put(a.dst, extend(bits, a.len, a.ext)) };
    }
    let errno = errno_slot();
    // SAFETY: the thread's errno slot.
    let saved_errno = run(env, inst, c, &mut frame, errno)?;
    let result = match fast.ret {
        // A NULL result from a Node-API callback is `undefined`: no call needed.
        FastRet::Void => Ok(std::ptr::null_mut()),
        // Only the low byte of a returned bool is defined, and only its low bit counts (spec
        // ABI-01, PRIM-09).
        FastRet::Bool(reg) => env.boolean(frame.ret(reg) & 1 != 0),
        FastRet::Float64(reg) => env.double(f64::from_bits(frame.ret(reg))),
        FastRet::Float32(reg) => env.double(f32::from_bits(frame.ret(reg) as u32) as f64),
        FastRet::Int { reg, width, signed } => {
            let ext = if signed { Ext::Sign } else { Ext::Zero };
            int_to_js(env, extend(frame.ret(reg), width as u32, ext), width as usize, signed)
        }
        FastRet::General => super::func::general_ret(env, inst, c, &frame, mem),
    };
    // Nothing between the C return and the next JS statement may change errno (CALL-11).
    // SAFETY: as above.
    unsafe { *errno = saved_errno };
    result
}
