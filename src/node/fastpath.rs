//! The lean call path for signatures of numbers and booleans: the same plan and the same thunk
//! as every call, but each argument's conversion and destination are precomputed into a flat
//! table when the function is declared, so that a call is a loop of "read a number, store it in
//! a slot" and no conversion context is built.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use smallvec::SmallVec;

use napi::sys;

use super::convert::{self, bool_value, pointer_arg, Ctx, ScalarConv};
use super::func::{in_argument, run, Callable, KeepErrno, ParamConv};
use super::instance::Instance;
use super::napi::{error, Env, JsResult, Value};
use super::tagged::{int_bits, number, smi_of, Tagged};
use crate::abi::{ArgLoc, CallPlan, Ext, Move, RetLoc, RetReg, Slot};
use crate::call::frame::extend;
use crate::call::{CallFrame, CallMemory, Mark};
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
    /// A struct passed by value in registers or stack slots: encoded by the general record
    /// conversion into a small buffer, then moved by the plan (`FastPlan::records[i]`).
    Record(u16),
}

/// Where an argument's bits go: a byte offset from the call frame's address, resolved from the
/// plan's [`Slot`] when the table is built. Register images lie inside the frame; the outgoing
/// stack area lies just below it (`CallMemory::top_frame` puts it there, 16-byte aligned), so
/// every destination is one store at one offset.
fn frame_offset(slot: Slot, stack_size: u32) -> Option<i32> {
    let stack_area = crate::call::stack_area(stack_size as usize) as i64;
    let off = match slot {
        Slot::Gpr(i) if (i as usize) < crate::call::frame::NGPR => {
            (std::mem::offset_of!(CallFrame, gpr) + 8 * i as usize) as i64
        }
        Slot::Fpr(i) if (i as usize) < crate::call::frame::NFPR => {
            (std::mem::offset_of!(CallFrame, fpr) + 8 * i as usize) as i64
        }
        Slot::Stack(off) => off as i64 - stack_area,
        _ => return None,
    };
    i32::try_from(off).ok()
}

/// The plan's moves of a struct argument (see [`Conv::Record`]).
#[derive(Debug)]
struct RecordArg {
    info: Arc<TypeInfo>,
    moves: SmallVec<[Move; 2]>,
}

/// Largest struct the lean path passes by value (its bytes are built in a stack buffer).
const MAX_RECORD: usize = 32;

/// One argument: its conversion and its single destination (from the plan; unused for
/// [`Conv::Record`], which has several).
#[derive(Clone, Copy, Debug)]
struct FastArg {
    conv: Conv,
    /// See [`frame_offset`].
    dst: i32,
    len: u32,
    ext: Ext,
    /// Whether the converted bits still need widening to the slot (see `FastPlan::new`).
    widen: bool,
    /// The parameter's index, for the general conversion when the quick one does not apply.
    param: u16,
}

/// How the result comes back. (`repr(u8)`: a plain tag is one compare-and-jump per call,
/// where the default niche layout needs decoding first.)
#[derive(Clone, Copy, Debug)]
#[repr(u8)]
enum FastRet {
    Void,
    /// The most common results, read from the first integer or vector result register with
    /// one Node-API call each (checked against the plan when the table is built).
    Int32,
    Uint32,
    Double,
    /// Any other number or boolean in one register.
    Scalar(RetReg, ScalarConv),
    /// Anything else in registers (pointers, strings): the general conversion.
    General,
}

/// The precomputed table of a lean-path function.
#[derive(Debug)]
pub struct FastPlan {
    args: Box<[FastArg]>,
    records: Box<[RecordArg]>,
    ret: FastRet,
    /// The plan's stack arguments, rounded up to 16 bytes (`call::stack_area`).
    stack_area: u32,
    fpr_count: u8,
    /// Whether every call takes something from the call memory (stack arguments, strings in
    /// the heap block, a result's general conversion): the memory is marked and the frame
    /// reserved up front. Otherwise that happens only if a general conversion is needed.
    reserves: bool,
    /// The hidden result pointer of a struct returned through memory.
    sret: Option<SretArg>,
}

/// Where a hidden result pointer goes (see [`frame_offset`]) and the memory it points to.
#[derive(Clone, Copy, Debug)]
struct SretArg {
    dst: i32,
    size: u32,
    align: u32,
}

impl FastPlan {
    /// Whether every call marks the call memory and reserves its frame up front.
    pub fn reserves(&self) -> bool {
        self.reserves
    }

    /// The table for a signature, or `None` if it cannot take the lean path: every parameter a
    /// number, boolean, input string or data pointer in one slot, or a small struct passed by
    /// value; a result without hidden pointer or disposer.
    pub fn new(params: &[ParamConv], ret: &TypeInfo, plan: &CallPlan) -> Option<FastPlan> {
        let mut args = Vec::with_capacity(params.len());
        let mut records = Vec::new();
        for (i, (p, loc)) in params.iter().zip(&plan.args).enumerate() {
            let info = &p.info;
            let ArgLoc::Moves(moves) = loc else { return None };
            if info.primitive == Primitive::Record && p.dir == Direction::In && info.size <= MAX_RECORD {
                let conv = Conv::Record(u16::try_from(records.len()).ok()?);
                records.push(RecordArg { info: info.clone(), moves: moves.clone() });
                let param = u16::try_from(i).ok()?;
                args.push(FastArg { conv, dst: 0, len: 8, ext: Ext::None, widen: false, param });
                continue;
            }
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
            let dst = frame_offset(m.dst, plan.stack_size)?;
            // Conversions that already give the slot's bits need no widening: doubles and
            // 8-byte values fill the slot, floats and booleans come zero-extended, a 32-bit
            // integer comes sign-extended (what a signed 4-byte slot wants).
            let widen = m.len < 8
                && match conv {
                    Conv::Float32 | Conv::Bool => false,
                    Conv::Int32 => !(m.len == 4 && m.ext == Ext::Sign),
                    _ => true,
                };
            args.push(FastArg { conv, dst, len: m.len, ext: m.ext, widen, param: u16::try_from(i).ok()? });
        }
        if ret.disposer.is_some() {
            return None;
        }
        let mut sret = None;
        let ret = match (&plan.ret, ret.primitive) {
            (RetLoc::Void, _) => FastRet::Void,
            // A struct returned through memory the caller provides (System V AMD64 psABI
            // §3.2.3 class MEMORY, AAPCS64 §6.9 x8): that memory comes from the heap block, its
            // address goes where the plan says, the general conversion decodes it.
            (RetLoc::Sret { ptr }, Primitive::Record | Primitive::Union) => {
                let size = u32::try_from(ret.size.max(1)).ok()?;
                let align = u32::try_from(ret.align.max(16)).ok()?;
                sret = Some(SretArg { dst: frame_offset(*ptr, plan.stack_size)?, size, align });
                FastRet::General
            }
            (RetLoc::Sret { .. }, _) => return None,
            (RetLoc::Regs(moves), p) => match (moves.as_slice(), ScalarConv::of(p)) {
                ([m], Some(conv)) => match (m.reg, conv) {
                    (RetReg::Gpr(0), ScalarConv::Int { width: 4, signed: true }) => FastRet::Int32,
                    (RetReg::Gpr(0), ScalarConv::Int { width: 4, signed: false }) => FastRet::Uint32,
                    (RetReg::Fpr(0), ScalarConv::Float64) => FastRet::Double,
                    (reg, conv) => FastRet::Scalar(reg, conv),
                },
                // Struct results too: the general conversion decodes them.
                _ if p.is_pointer_like() || p == Primitive::Record => FastRet::General,
                _ => return None,
            },
        };
        // (A struct returned through memory is a General result.)
        let reserves =
            plan.stack_size > 0 || matches!(ret, FastRet::General) || args.iter().any(|a| a.conv == Conv::Utf8);
        Some(FastPlan {
            args: args.into_boxed_slice(),
            records: records.into_boxed_slice(),
            ret,
            stack_area: u32::try_from(crate::call::stack_area(plan.stack_size as usize)).ok()?,
            fpr_count: plan.fpr_count,
            reserves,
            sret,
        })
    }
}

/// A Node-API callback.
type Entry = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// The entry point of a lean-path function of `params` parameters, if there is one for that
/// count (larger ones take the general entry, which reaches the same lean path).
pub fn entry(params: usize, fast: &FastPlan) -> Option<Entry> {
    /// The entry for `N` parameters, with `fast.reserves` made a constant.
    fn pick<const N: usize, const DIRECT: bool>(fast: &FastPlan) -> Entry {
        if fast.reserves {
            lean_entry::<N, DIRECT, true>
        } else {
            lean_entry::<N, DIRECT, false>
        }
    }
    Some(match params {
        // Decided when the function is declared: the probe runs when the module loads.
        0 if DIRECT_DATA.load(Ordering::Relaxed) => pick::<0, true>(fast),
        0 => pick::<0, false>(fast),
        1 => pick::<1, false>(fast),
        2 => pick::<2, false>(fast),
        3 => pick::<3, false>(fast),
        4 => pick::<4, false>(fast),
        5 => pick::<5, false>(fast),
        6 => pick::<6, false>(fast),
        7 => pick::<7, false>(fast),
        8 => pick::<8, false>(fast),
        _ => return None,
    })
}

/// The Node-API entry of a lean-path function of exactly `N` parameters: the whole call in one
/// function, without the general entry's layers. Whatever the lean path does not handle
/// (missing arguments, an unloaded library, call memory not mapped yet) goes to the general
/// entry before anything has happened, so that it reports the error in the one usual way.
/// `DIRECT` (only with no parameters): read the function's data with [`direct_data`];
/// `RESERVES`: the function's `FastPlan::reserves`, as a constant.
unsafe extern "C" fn lean_entry<const N: usize, const DIRECT: bool, const RESERVES: bool>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // Not zeroed: Node-API fills all N slots (with `undefined` past the arguments passed).
    let mut slots = std::mem::MaybeUninit::<[Value; N]>::uninit();
    let data = if N == 0 && DIRECT {
        // SAFETY: checked by `probe_direct_data` for this process's Node-API.
        unsafe { direct_data(info) }
    } else {
        let mut argc = N;
        let mut data = std::ptr::null_mut();
        let argv = slots.as_mut_ptr() as *mut Value;
        // SAFETY: called by Node with a valid env and callback info; `slots` holds N values.
        let status = unsafe { sys::napi_get_cb_info(env, info, &mut argc, argv, std::ptr::null_mut(), &mut data) };
        if status != sys::Status::napi_ok || argc < N {
            // SAFETY: forwarded.
            return unsafe { general_entry(env, info) };
        }
        data
    };
    // SAFETY: written by napi_get_cb_info above (nothing to write when N is 0). Borrowed in
    // place: a copy would reload what Node just stored, in wider loads that stall.
    let argv: &[Value; N] = unsafe { slots.assume_init_ref() };
    // SAFETY: the function's data is its Callable, kept alive by the function's wrap.
    let c: &Callable = unsafe { &*(data as *const Callable) };
    // SAFETY: the callable's instance lives as long as its environment, which is calling.
    let inst = unsafe { &*c.inst };
    let (Some(fast), false) = (&c.fast, c.mem.is_null()) else {
        // SAFETY: forwarded.
        return unsafe { general_entry(env, info) };
    };
    let mem = c.mem;
    if c.lib.as_ref().is_some_and(|lib| !lib.is_loaded()) {
        // SAFETY: forwarded.
        return unsafe { general_entry(env, info) };
    }
    let e = Env(env);
    // A function that takes nothing from the call memory (no stack arguments, no temporaries)
    // has nothing to release: nested calls made by callbacks release their own.
    // SAFETY: the instance's call memory; nested calls mark and release in LIFO order.
    let mut mark = if RESERVES { Some(unsafe { (*mem).mark() }) } else { None };
    let result = execute(e, inst, c, fast, argv, mem, RESERVES, &mut mark);
    if let Some(mark) = mark {
        // SAFETY: as above.
        unsafe { (*mem).release(mark) };
    }
    match result {
        Ok(v) => v,
        Err(err) => {
            e.throw(err);
            std::ptr::null_mut()
        }
    }
}

/// The general entry, for the cases the lean entry leaves to it.
#[cold]
unsafe fn general_entry(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: forwarded; the general entry reads the arguments itself.
    unsafe { super::library::general_entry(env, info) }
}

/// Whether a function's data pointer may be read straight from its `napi_callback_info`
/// (set by [`probe_direct_data`] when this process's Node-API lays it out as expected).
static DIRECT_DATA: AtomicBool = AtomicBool::new(false);

/// The data pointer of the function being called, read from Node's callback info without a
/// `napi_get_cb_info` call: in Node.js the info is a wrapper whose second word is the
/// function's callback bundle `{ napi_env env; void *cb_data; ... }`. A function without
/// parameters needs nothing else from the info, and this saves a third of its call overhead.
///
/// # Safety
/// Only after [`probe_direct_data`] found that layout.
#[inline(always)]
unsafe fn direct_data(info: sys::napi_callback_info) -> *mut c_void {
    // SAFETY: forwarded from the caller.
    unsafe {
        let bundle = *(info as *const *const *mut c_void).add(1);
        *bundle.add(1)
    }
}

/// Checks, once per process, whether [`direct_data`] reads what `napi_get_cb_info` reports: it
/// calls a probe function whose data and environment are known, and compares. Only called on
/// Node.js itself (other runtimes implementing Node-API lay out their info differently).
pub fn probe_direct_data(env: Env) -> JsResult<()> {
    static PROBED: std::sync::Once = std::sync::Once::new();
    let mut outcome = Ok(());
    PROBED.call_once(|| outcome = run_probe(env));
    outcome
}

/// A marker whose address is the probe function's data.
static PROBE_MARKER: u8 = 0;

fn run_probe(env: Env) -> JsResult<()> {
    unsafe extern "C" fn probe(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
        // SAFETY: called by Node with a valid env and callback info.
        let data = unsafe { super::napi::callback_data(env, info) };
        let expected = &PROBE_MARKER as *const u8 as *mut c_void;
        if data == expected && !info.is_null() {
            // SAFETY: Node.js's callback info holds at least two words; the second one is
            // checked to be a bundle starting with this env before its data word is trusted.
            let matches = unsafe {
                let bundle = *(info as *const *const *mut c_void).add(1);
                !bundle.is_null() && *bundle == env as *mut c_void && *bundle.add(1) == expected
            };
            DIRECT_DATA.store(matches, Ordering::Relaxed);
        }
        std::ptr::null_mut()
    }
    let f = env.function("probe", Some(probe), &PROBE_MARKER as *const u8 as *mut c_void)?;
    env.call_function(env.undefined()?, f, &[])?;
    Ok(())
}

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
    // SAFETY: the call memory outlives the call (see func::execute).
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
    frame.fpr_count = fast.fpr_count as u64;
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
            super::callback::release_transients(ctx.transients.drain(..));
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
    unsafe { (frame as *mut CallFrame as *mut u8).offset(arg.dst as isize).cast::<u64>().write_unaligned(sret as u64) };
    Ok(sret)
}

/// Runs a conversion step, turning a panic (a bug) into an Error rather than an abort.
#[inline(always)]
fn caught<T>(f: impl FnOnce() -> JsResult<T>) -> JsResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(super::internal_error()))
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
        unsafe { (frame as *mut CallFrame as *mut u8).offset(a.dst as isize).cast::<u64>().write_unaligned(bits) };
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
        FastRet::Double => Some((ScalarConv::Float64, frame.ret_fpr[0])),
        FastRet::Uint32 => Some((ScalarConv::Int { width: 4, signed: false }, frame.ret_gpr[0])),
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
        FastRet::Uint32 => env.uint32(frame.ret_gpr[0] as u32),
        FastRet::Double => env.double(f64::from_bits(frame.ret_fpr[0])),
        FastRet::Scalar(reg, conv) => conv.to_js(env, frame.ret(reg)),
        FastRet::General => caught(|| super::func::general_ret(env, inst, c, frame, mem, sret)),
    }
}
