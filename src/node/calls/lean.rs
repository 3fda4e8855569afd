//! The lean call path for signatures of numbers and booleans: the same plan and the same thunk
//! as every call, but each argument's conversion and destination are precomputed into a flat
//! table when the function is declared, so that a call is a loop of "read a number, store it in
//! a slot" and no conversion context is built.

//!
//! The table is built in `plan`; the Node-API entries that call [`execute`] are in `entry`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::callable::Callable;
use super::general::{general_ret, in_argument};
use super::plan::{Conv, FastArg, FastPlan, FastRet, SretArg, MAX_RECORD};
use super::run::{run, KeepErrno};
use crate::abi::RetReg;
use crate::call::frame::{extend, Word};
use crate::call::{CallFrame, CallMemory, Mark};
use crate::node::convert::{self, pointer_arg, Ctx};
use crate::node::instance::callbacks::release_transients;
use crate::node::instance::Instance;
use crate::node::js::read::{bool_value, int_bits, number};
use crate::node::js::scalar::{smi_of, ScalarConv};
use crate::node::js::tagged::Tagged;
use crate::node::js::{error, internal_error, Env, JsResult, Value};

/// Calls `c` through its lean-path table. Conversions run under `catch_unwind` (a panic there
/// would be a bug, reported as an Error); the call itself and scalar results cannot panic.
/// `reserves` is `fast.reserves` (a constant in each lean entry); `mark` is the caller's mark
/// of the call memory, if it took one; when a general conversion
/// needs the memory and there is none, one is taken here, for the caller to release.
#[allow(clippy::too_many_arguments, reason = "the pieces of one call, kept in registers")]
#[inline(always)]
pub fn execute(
    env: Env,
    inst: &Instance,
    c: &Callable,
    fast: &FastPlan,
    args: &[Value],
    mem: *mut CallMemory,
    reserves: bool,
    mark: &mut Option<Mark>,
) -> JsResult<Value> {
    // The frame lives at the top of the call memory's stack, above the stack arguments: no
    // zeroing and no copy. Only a call whose conversions may run JS (and so nested calls)
    // reserves it: up front, or when a general conversion is needed (`general_ctx`).
    // SAFETY: the call memory outlives the call (see `entry::execute`).
    let (frame, stack) = match unsafe { (*mem).top_frame(fast.stack_area as usize, reserves) } {
        Ok(at) => at,
        Err(e) => return Err(error(e.to_string())),
    };
    // SAFETY: `top_frame` returned frame-sized, aligned memory of the stack block, whose bytes
    // are all initialised (mapped zeroed, then only written with plain data); nothing else
    // uses it during this call.
    let frame = unsafe { &mut *frame };
    // `frame_offset` relies on this layout.
    debug_assert_eq!(frame as *mut CallFrame as usize - stack as usize, fast.stack_area as usize);
    frame.stack = stack;
    frame.fpr_count = fast.fpr_count as usize;
    // A conversion context only when a string or pointer needs the general conversion.
    let mut ctx: Option<Ctx<'_>> = None;
    // `args` has the function's parameter count: a constant in each lean entry.
    let filled = if args.is_empty() {
        Ok(())
    } else {
        fill(env, inst, c, fast, args, mem, frame, &mut ctx, mark).and_then(|()| match ctx {
            // The general conversion may have run JS (getters), which may have unloaded the library.
            Some(_) => c.ensure_loaded(),
            None => Ok(()),
        })
    };
    let result = match filled.and_then(|()| result_memory(fast, frame, mem)) {
        Ok(sret) => call(env, inst, c, fast, frame, mem, sret),
        Err(e) => Err(e),
    };
    if let Some(ctx) = ctx.as_mut() {
        if !ctx.transients.is_empty() {
            release_transients(ctx.transients.drain(..));
        }
    }
    result
}

/// The memory of a struct returned through caller memory, its address put where the plan
/// says (NULL for every other result).
#[inline(always)]
fn result_memory(fast: &FastPlan, frame: &mut CallFrame, mem: *mut CallMemory) -> JsResult<*mut u8> {
    let Some(arg) = fast.sret else { return Ok(std::ptr::null_mut()) };
    result_memory_for(arg, frame, mem)
}

#[cold]
fn result_memory_for(arg: SretArg, frame: &mut CallFrame, mem: *mut CallMemory) -> JsResult<*mut u8> {
    // SAFETY: the call memory outlives the call (the caller marked it: `reserves`).
    let sret = unsafe { (*mem).alloc_zeroed(arg.size as usize, arg.align as usize) };
    if sret.is_null() {
        return Err(error(crate::call::CallError::OutOfMemory.to_string()));
    }
    // SAFETY: `frame_offset` made the offset from the plan's register slot.
    unsafe {
        (frame as *mut CallFrame as *mut u8)
            .offset(arg.dst as isize)
            .cast::<Word>()
            .write_unaligned(sret as usize as Word)
    };
    Ok(sret)
}

/// Runs a conversion step, turning a panic (a bug) into an Error rather than an abort.
#[inline(always)]
fn caught<T>(f: impl FnOnce() -> JsResult<T>) -> JsResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(internal_error()))
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
    mark: &mut Option<Mark>,
) -> JsResult<()> {
    let stack = frame.stack;
    let tagged = inst.tagged.get();
    for (i, (a, &v)) in fast.args.iter().zip(args).enumerate() {
        // The two commonest kinds are tested first: conditional branches predict mixed
        // signatures (int, double, int, ...) better than one indirect jump per argument.
        let bits = if a.conv == Conv::Int32 {
            int_bits(env, tagged, v, 4)
        } else if a.conv == Conv::Float64 {
            number(env, tagged, v).map(f64::to_bits)
        } else {
            match a.conv {
                Conv::Int32 => int_bits(env, tagged, v, 4),
                Conv::Int64 => int_bits(env, tagged, v, 8),
                Conv::Float64 => number(env, tagged, v).map(f64::to_bits),
                Conv::Float32 => number(env, tagged, v).map(|d| (d as f32).to_bits() as u64),
                // SAFETY: `v` is an argument of the call in progress.
                Conv::Bool => match tagged.and_then(|t| unsafe { t.boolean(v) }) {
                    Some(b) => Ok(b as u64),
                    None => bool_value(env, v).map(u64::from),
                },
                Conv::Swapped(2) => int_bits(env, tagged, v, 2).map(|b| (b as u16).swap_bytes() as u64),
                Conv::Swapped(4) => int_bits(env, tagged, v, 4).map(|b| (b as u32).swap_bytes() as u64),
                Conv::Swapped(_) => int_bits(env, tagged, v, 8).map(u64::swap_bytes),
                // SAFETY: the call memory outlives the call; nothing else uses it meanwhile.
                Conv::Utf8 => match unsafe { utf8_in_place(env, tagged, &mut *mem, v) } {
                    Some(addr) => Ok(addr),
                    None => caught(|| general(general_ctx(ctx, env, inst, mem, stack, mark), c, a, v)),
                },
                Conv::Pointer => match env.typedarray_data(v) {
                    Some(addr) => Ok(addr as u64),
                    None => caught(|| general(general_ctx(ctx, env, inst, mem, stack, mark), c, a, v)),
                },
                Conv::Record(r) => {
                    let rec = &fast.records[r as usize];
                    let mut buf = [0u64; MAX_RECORD / 8];
                    let bytes = buf.as_mut_ptr() as *mut u8;
                    caught(|| convert::encode(general_ctx(ctx, env, inst, mem, stack, mark), v, &rec.info, bytes))
                        .map_err(|e| in_argument(e, i, &c.name))?;
                    for m in &rec.moves {
                        // SAFETY: the moves stay within the struct (at most MAX_RECORD bytes) and
                        // the frame or the reserved stack area.
                        unsafe { frame.apply(m, bytes) };
                    }
                    continue;
                }
            }
        }
        .map_err(|e| in_argument(e, i, &c.name))?;
        let bits = if a.widen { extend(bits, a.len, a.ext) } else { bits };
        // SAFETY: `frame_offset` made the offset from an in-bounds register slot or from the
        // plan's stack offset, which lies in the stack area reserved just below the frame.
        unsafe {
            (frame as *mut CallFrame as *mut u8).offset(a.dst as isize).cast::<Word>().write_unaligned(bits as Word)
        };
    }
    Ok(())
}

/// The conversion context of the general conversion, made on first need. That conversion
/// may run JS (getters) and so nested calls: the call's frame and stack arguments (from
/// `stack` up) are reserved first, after marking the memory if the caller has no mark.
fn general_ctx<'a, 'c>(
    ctx: &'c mut Option<Ctx<'a>>,
    env: Env,
    inst: &'a Instance,
    mem: *mut CallMemory,
    stack: *mut u8,
    mark: &mut Option<Mark>,
) -> &'c mut Ctx<'a> {
    ctx.get_or_insert_with(|| {
        // SAFETY: the call memory outlives the call; nothing else uses it meanwhile.
        unsafe {
            if mark.is_none() {
                *mark = Some((*mem).mark());
            }
            (*mem).lower_stack_pointer(stack as usize);
        }
        Ctx::for_call(env, inst, mem)
    })
}

/// A JS string written as UTF-8 straight into the heap block, in one Node-API call; `None`
/// when `v` is not a string or may not have fit (the general conversion then decides).
#[inline(always)]
fn utf8_in_place(env: Env, tagged: Option<Tagged>, mem: &mut CallMemory, v: Value) -> Option<u64> {
    let cap = mem.heap_remaining().saturating_sub(8);
    if cap < 64 {
        return None;
    }
    let cursor = mem.heap_cursor();
    // SAFETY: `v` is an argument of the call in progress; `cursor` has `cap` writable bytes;
    // nothing runs JS during the copy.
    if let Some(len) = tagged.and_then(|t| unsafe { t.copy_ascii(v, cursor, cap) }) {
        mem.commit(len + 1);
        return Some(cursor as u64);
    }
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
    sret: *mut u8,
) -> JsResult<Value> {
    run(env, inst, c, frame)?;
    // The commonest results first, as plain branches; the ones made without a Node-API call
    // leave errno as C left it, the others keep it through their calls (spec CALL-11).
    let tagged = inst.tagged.get();
    if let FastRet::Void = fast.ret {
        // A NULL result from a Node-API callback is `undefined`: no call needed.
        return Ok(std::ptr::null_mut());
    }
    if let (FastRet::Int32, Some(t)) = (fast.ret, tagged) {
        return Ok(t.smi_result(&inst.result_slot, frame.ret_gpr[0] as i32));
    }
    // The other scalars become Smis when V8 would make them one (`smi_of`).
    let scalar = match fast.ret {
        FastRet::Double => Some((ScalarConv::Float64, frame.ret(RetReg::Fpr(0)))),
        FastRet::Uint32 => Some((ScalarConv::Int { width: 4, signed: false }, frame.ret(RetReg::Gpr(0)))),
        FastRet::Scalar(reg, conv) => Some((conv, frame.ret(reg))),
        _ => None,
    };
    if let (Some(t), Some((conv, bits))) = (tagged, scalar) {
        if let Some(i) = smi_of(conv, bits) {
            return Ok(t.smi_result(&inst.result_slot, i));
        }
    }
    let _errno = KeepErrno::new(inst.errno);
    match fast.ret {
        FastRet::Void => Ok(std::ptr::null_mut()),
        FastRet::Int32 => env.int32(frame.ret_gpr[0] as i32),
        FastRet::Uint32 => env.uint32(frame.ret(RetReg::Gpr(0)) as u32),
        FastRet::Double => env.double(f64::from_bits(frame.ret(RetReg::Fpr(0)))),
        FastRet::Scalar(reg, conv) => conv.to_js(env, frame.ret(reg)),
        FastRet::General => caught(|| general_ret(env, inst, c, frame, mem, sret)),
    }
}
