//! Declared functions and the synchronous call path (spec FN-15, CALL-01..CALL-05, CALL-11,
//! CALL-13).
//!
//! A [`Callable`] is built once per declaration: its parameters' types and the
//! [`CallPlan`](crate::abi::CallPlan) from the native ABI module. A call converts each JS argument
//! straight into its frame slots, runs the thunk, converts the result and copies output
//! parameters back. Variadic functions are classified per call shape.

use std::ffi::c_void;
use std::sync::Arc;

use smallvec::SmallVec;

use super::convert::{self, bool_value, fast_f64, fast_int_bits, int_store_bits, pointer_arg, Ctx, ScalarConv};
use super::handles::type_value;
use super::instance::Instance;
use super::library::LibHandle;
use super::napi::{error, type_error, Env, JsError, JsResult, Value};
use crate::abi::{self, ArgLoc, CallPlan, RetLoc, Signature};
use crate::call::{frame::extend, invoke, CallFrame};
use crate::types::{Direction, FuncSig, Param, Primitive, TypeInfo};

/// One parameter, resolved at declaration.
pub struct ParamConv {
    /// The parameter type.
    pub info: Arc<TypeInfo>,
    /// Its direction.
    pub dir: Direction,
}

/// A C function ready to be called: the thing behind every function object.
pub struct Callable {
    /// The C name (for messages and `fn.name`).
    pub name: String,
    /// The function's address.
    pub ptr: *const c_void,
    /// Keeps the library mapped while the function is reachable (spec LIB-09).
    pub lib: Option<Arc<LibHandle>>,
    /// The declared signature.
    pub sig: FuncSig,
    /// Fixed parameters.
    pub params: Vec<ParamConv>,
    /// Result type.
    pub ret: Arc<TypeInfo>,
    /// The classification, for non-variadic functions.
    pub plan: Option<CallPlan>,
    /// The environment's instance (a function belongs to the environment that declared it),
    /// kept here so that a call does not have to ask Node for it.
    pub inst: *const Instance,
    /// The lean path's table, for signatures of numbers and booleans.
    pub fast: Option<super::fastpath::FastPlan>,
    /// The instance's synchronous call memory if it was mapped when the function was declared
    /// (it never moves once mapped), so that the lean path reaches it in one step; NULL sends
    /// calls through the instance.
    pub mem: *mut crate::call::CallMemory,
}

// SAFETY: `ptr` is only an address, called by whichever thread runs the call (async calls run
// on libuv workers); `inst` and `mem` are only followed on the JS thread that declared the
// function; everything else is immutable after construction (types are `Arc`s of immutable
// data, the library handle is Sync).
unsafe impl Send for Callable {}
// SAFETY: as above.
unsafe impl Sync for Callable {}

/// Most parameters a function may have, fixed and variadic together (spec FN-12).
pub const MAX_PARAMS: usize = 64;

fn lower_sig(inst: &Instance, ret: &Param, params: &[Param], fixed: usize, variadic: bool) -> Signature {
    let reg = inst.reg.borrow();
    Signature {
        ret: abi::lower(&reg, ret.ty),
        params: params.iter().map(|p| abi::lower(&reg, p.ty)).collect(),
        fixed,
        variadic,
    }
}

fn classify(sig: &Signature) -> JsResult<CallPlan> {
    if !crate::call::invoke::SUPPORTED {
        return Err(error("koffi-rs cannot call C functions on this platform yet"));
    }
    abi::native::classify(sig).map_err(|e| error(e.to_string()))
}

impl Callable {
    /// Prepares a function: checks the signature and classifies it (once).
    pub fn new(inst: &Instance, sig: FuncSig, ptr: *const c_void, lib: Option<Arc<LibHandle>>) -> JsResult<Callable> {
        if sig.params.len() > MAX_PARAMS {
            return Err(type_error("Functions cannot have more than 64 parameters"));
        }
        let params: Vec<ParamConv> =
            sig.params.iter().map(|p| ParamConv { info: inst.type_info(p.ty), dir: p.dir }).collect();
        let ret = inst.type_info(sig.ret);
        let plan = if sig.variadic {
            None
        } else {
            let lowered =
                lower_sig(inst, &Param { ty: sig.ret, dir: Direction::In }, &sig.params, sig.params.len(), false);
            Some(classify(&lowered)?)
        };
        let fast = plan.as_ref().and_then(|p| super::fastpath::FastPlan::new(&params, &ret, p));
        let mem = inst.memory_if_mapped().unwrap_or(std::ptr::null_mut());
        Ok(Callable {
            name: sig.name.clone(),
            ptr,
            lib,
            sig,
            params,
            ret,
            plan,
            inst: inst as *const Instance,
            fast,
            mem,
        })
    }

    /// An Error if the function's library was unloaded (spec LIB-10: koffi-rs throws where
    /// upstream crashes).
    #[inline]
    pub fn ensure_loaded(&self) -> JsResult<()> {
        match &self.lib {
            Some(lib) if !lib.is_loaded() => Err(self.unloaded()),
            _ => Ok(()),
        }
    }

    #[cold]
    fn unloaded(&self) -> JsError {
        error(format!("Cannot call '{}': its library was unloaded", self.name))
    }

    /// Calls the function with JS arguments.
    pub fn call(&self, env: Env, inst: &Instance, args: &[Value]) -> JsResult<Value> {
        self.ensure_loaded()?;
        let n = self.params.len();
        match &self.plan {
            Some(plan) => {
                if args.len() < n {
                    return Err(type_error(format!("Expected {n} arguments, got {}", args.len())));
                }
                execute(env, inst, self, &self.params, plan, &args[..n])
            }
            None => self.call_variadic(env, inst, args),
        }
    }

    /// Variadic calls: (type, value) pairs after the fixed arguments (spec CALL-04, CALL-05).
    fn call_variadic(&self, env: Env, inst: &Instance, args: &[Value]) -> JsResult<Value> {
        let n = self.params.len();
        if args.len() < n {
            return Err(type_error(format!("Expected {n} arguments or more, got {}", args.len())));
        }
        let extra = &args[n..];
        if extra.len() % 2 != 0 {
            return Err(error("Missing value argument for variadic call"));
        }
        if n + extra.len() / 2 > MAX_PARAMS {
            return Err(type_error("Functions cannot have more than 64 parameters"));
        }
        let mut params: Vec<Param> = self.sig.params.clone();
        let mut values: SmallVec<[Value; 16]> = args[..n].iter().copied().collect();
        for pair in extra.chunks(2) {
            let (ty, dir) = super::types::resolve_param_spec(env, inst, pair[0])?;
            inst.reg.borrow().check_param(ty, dir)?;
            params.push(Param { ty, dir });
            values.push(pair[1]);
        }
        let ret = Param { ty: self.sig.ret, dir: Direction::In };
        let plan = classify(&lower_sig(inst, &ret, &params, n, true))?;
        let convs: Vec<ParamConv> =
            params.iter().map(|p| ParamConv { info: inst.type_info(p.ty), dir: p.dir }).collect();
        execute(env, inst, self, &convs, &plan, &values)
    }

    /// The `info` property: `{ name, arguments, result }` (spec FN-15).
    pub fn info_object(&self, env: Env) -> JsResult<Value> {
        let obj = env.object()?;
        env.set(obj, "name", env.string(&self.name)?)?;
        let args = env.array(self.sig.params.len())?;
        for (i, p) in self.sig.params.iter().enumerate() {
            env.set_element(args, i as u32, type_value(env, p.ty, p.dir)?)?;
        }
        env.set(obj, "arguments", args)?;
        env.set(obj, "result", type_value(env, self.sig.ret, Direction::In)?)?;
        Ok(obj)
    }
}

/// Adds the argument position and function name to a conversion error, keeping upstream's
/// message intact in front (spec ERR-03).
pub(super) fn in_argument(e: JsError, i: usize, name: &str) -> JsError {
    e.map_message(|m| format!("{m} (argument {} of '{name}')", i + 1))
}

fn execute(
    env: Env,
    inst: &Instance,
    c: &Callable,
    params: &[ParamConv],
    plan: &CallPlan,
    args: &[Value],
) -> JsResult<Value> {
    let mem = inst.memory()?;
    // SAFETY: the call memory outlives the call; nested calls mark and release in LIFO order.
    let mark = unsafe { (*mem).mark() };
    let result = if let Some(fast) = &c.fast {
        super::fastpath::execute(env, inst, c, fast, args, mem, fast.reserves(), &mut Some(mark))
    } else {
        let mut ctx = Ctx::for_call(env, inst, mem);
        let result = execute_in(&mut ctx, c, params, plan, args);
        if !ctx.transients.is_empty() {
            super::callback::release_transients(ctx.transients.drain(..));
        }
        result
    };
    // SAFETY: as above.
    unsafe { (*mem).release(mark) };
    result
}

/// Runs C with `frame`, recording it as the current call so that callbacks can find the
/// thread's stack, and rethrows an exception a callback left pending (spec CB-08). Returns the
/// errno C left (read through `errno`, the thread's errno slot).
#[inline(always)]
pub(super) fn run(env: Env, inst: &Instance, c: &Callable, frame: &mut CallFrame) -> JsResult<()> {
    let previous = inst.current_frame.replace(frame);
    // SAFETY: the frame was filled by the plan classified from the declared signature, and the
    // stack pointer points into the call memory's stack block.
    unsafe { invoke::invoke(c.ptr, frame) };
    inst.current_frame.set(previous);
    if inst.relayed.get() {
        return after_relays(env, inst, frame, previous.is_null());
    }
    Ok(())
}

/// After a call during which callbacks ran: closes the handle scopes they shared and, after
/// the outermost call, releases what they left; rethrows an exception one of them kept. The
/// errno C left is kept through it all.
#[cold]
fn after_relays(env: Env, inst: &Instance, frame: &CallFrame, outermost: bool) -> JsResult<()> {
    // SAFETY: the thread's errno slot.
    let _errno = KeepErrno::new(inst.errno);
    // The handle scopes callbacks shared during this call close before anything else is
    // made: the result must not live in one of them.
    super::callback::close_relay_scopes(env, inst, frame as *const CallFrame);
    // What callbacks relayed during this call returned lived as long as C needed it: until now.
    super::callback::release_kept(inst, frame as *const CallFrame);
    if outermost {
        inst.relayed.set(false);
        // Libraries unloaded by callbacks: no C code of theirs runs on this thread any more.
        let unloads = std::mem::take(&mut *inst.deferred_unloads.borrow_mut());
        for lib in unloads {
            lib.close_if_idle();
        }
    }
    let pending = inst.pending_exception.borrow_mut().take();
    if let Some(r) = pending {
        rethrow(env, r);
        return Err(JsError::PENDING);
    }
    Ok(())
}

/// Keeps the thread's `errno` through a scope: what runs in it (Node-API calls converting a
/// result, say) may change errno, and nothing between C's return and the next JS statement may
/// (spec CALL-11).
pub(super) struct KeepErrno {
    slot: *mut i32,
    value: i32,
}

impl KeepErrno {
    /// Remembers the value in `slot`, the thread's errno slot.
    #[inline(always)]
    pub(super) fn new(slot: *mut i32) -> KeepErrno {
        // SAFETY: the caller passes the thread's errno slot (Instance::errno on the JS thread).
        KeepErrno { slot, value: unsafe { *slot } }
    }
}

impl Drop for KeepErrno {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: as in `new`.
        unsafe { *self.slot = self.value };
    }
}

/// A result that needs the general conversion (pointers, strings), for the lean path.
#[cold]
pub(super) fn general_ret(
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

/// Throws the exception kept by a callback (element 0 of the referenced array).
#[cold]
fn rethrow(env: Env, r: napi::sys::napi_ref) {
    let exception = env.deref(r).and_then(|holder| env.get_element(holder, 0));
    // SAFETY: JS thread; a reference we created.
    unsafe { napi::sys::napi_delete_reference(env.0, r) };
    if let Ok(v) = exception {
        // SAFETY: JS thread, valid value.
        unsafe { napi::sys::napi_throw(env.0, v) };
    }
}

fn execute_in(
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
pub(super) fn prepare(
    ctx: &mut Ctx<'_>,
    frame: &mut CallFrame,
    c: &Callable,
    params: &[ParamConv],
    plan: &CallPlan,
    args: &[Value],
) -> JsResult<*mut u8> {
    // SAFETY: the context's call memory outlives the call.
    frame.stack = unsafe { (*ctx.mem).stack_args(plan.stack_size as usize) }.map_err(|e| error(e.to_string()))?;
    frame.fpr_count = plan.fpr_count as u64;
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
pub(super) fn finish(
    ctx: &mut Ctx<'_>,
    c: &Callable,
    plan: &CallPlan,
    frame: &CallFrame,
    sret: *mut u8,
) -> JsResult<Value> {
    ctx.dispose = c.ret.disposer.is_none();
    let result = convert_ret(ctx, frame, plan, &c.ret, sret);
    ctx.dispose = true;
    let result = result.and_then(|r| convert::copy_back(ctx).map(|_| r));
    match (result, c.ret.disposer.is_some()) {
        (Ok(r), true) => convert::dispose(ctx, &c.ret, frame.ret_gpr[0]).map(|_| r),
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
fn push_arg(ctx: &mut Ctx<'_>, frame: &mut CallFrame, p: &ParamConv, loc: &ArgLoc, v: Value) -> JsResult<()> {
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
    match (scalar_bits, loc) {
        (Some(bits), ArgLoc::Moves(moves)) if moves.len() == 1 => {
            let m = &moves[0];
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

/// The calling thread's errno slot.
#[inline(always)]
pub fn errno_slot() -> *mut i32 {
    // SAFETY: errno_location has no preconditions.
    unsafe { errno_location() }
}

/// The calling thread's `errno`.
pub fn errno() -> i32 {
    // SAFETY: errno_location returns the thread's errno slot.
    unsafe { *errno_location() }
}

/// Sets the calling thread's `errno`.
pub fn set_errno(v: i32) {
    // SAFETY: as above.
    unsafe { *errno_location() = v }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
unsafe fn errno_location() -> *mut i32 {
    // SAFETY: no preconditions.
    unsafe { libc::__errno_location() }
}

#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
unsafe fn errno_location() -> *mut i32 {
    // SAFETY: no preconditions.
    unsafe { libc::__error() }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd"
)))]
unsafe fn errno_location() -> *mut i32 {
    // SAFETY: no preconditions.
    unsafe { libc::__errno() }
}
