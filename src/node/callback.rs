//! JS functions called from C (spec §11): `koffi.register`/`unregister`, transient callbacks for
//! one call, and the handler that relays a trampoline call into JS.
//!
//! On the JS thread inside a Koffi call, the handler switches back to the thread's own stack
//! (C runs on the call memory's stack) and calls the function directly. On any other thread it
//! queues the call to the JS thread through the environment's thread-safe function (the
//! *broker*) and blocks until JS has run and the result is stored (CB-09). An exception thrown
//! by the function makes C receive zeros and is rethrown by the Koffi call that is running when
//! C returns (CB-08).
//!
//! Lifetimes: every handler holds its environment's [`Lifeline`] and touches the
//! environment only while the lifeline says it lives and the caller is on its JS thread; any
//! other late call returns zeros. What a callback's result points into ([`Kept`]) lives until
//! the C call that invoked the callback returns (relays during a call), or until the next
//! callback relayed for the same thread (relays from other threads or from the event loop).

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;

use napi::sys;

use super::convert::{self, Ctx, ScalarConv};
use super::handles::{pointer_address, pointer_value};
use super::instance::Instance;
use super::lifeline::{broker_finalized, Lifeline};
use super::napi::{error, type_error, Env, JsResult, JsType, Value};
use super::tagged::{int_bits, number, smi_of};
use super::types::resolve_spec;
use super::Args;
use crate::abi::{self, AbiType, ArgLoc, CallPlan, Ext, RetLoc, RetReg, Signature, Slot};
use crate::call::CallFrame;
use crate::callback::{self as pool, Handler};
use crate::types::{Detail, Primitive, TypeId, TypeInfo};

/// Most transient callbacks one call may create (spec CB-01).
pub const MAX_TRANSIENT: usize = 16;

/// A prototype ready for relaying: its parameter and result types and its plan.
pub struct Proto {
    /// The prototype's type id (pointer values of callbacks are tagged with it).
    pub id: TypeId,
    params: Vec<Arc<TypeInfo>>,
    ret: Arc<TypeInfo>,
    ret_ext: Ext,
    plan: CallPlan,
    /// Per parameter: how a number or boolean that C passes in one register or stack slot
    /// becomes JS, and that slot (decided here once, not per call).
    scalar_params: Vec<Option<(ScalarConv, Slot)>>,
    /// A number or boolean result that goes back in one register: that register and its
    /// byte length.
    scalar_ret: Option<(RetReg, u32)>,
}

/// Where a parameter of `info` placed by `loc` is read from when it is a scalar in one slot.
fn scalar_param(info: &TypeInfo, loc: &ArgLoc) -> Option<(ScalarConv, Slot)> {
    let ArgLoc::Moves(moves) = loc else { return None };
    let [m] = moves.as_slice() else { return None };
    let conv = ScalarConv::of(info.primitive)?;
    (m.len as usize == info.size).then_some((conv, m.dst))
}

/// Builds (or fetches) the relay description of prototype `id`.
pub fn proto(inst: &Instance, id: TypeId) -> JsResult<Arc<Proto>> {
    if let Some(p) = inst.protos.borrow().get(&id) {
        return Ok(p.clone());
    }
    let info = inst.type_info(id);
    let Some(sig) = info.proto() else {
        return Err(type_error(format!("Type {} is not a prototype", info.name)));
    };
    let reg = inst.reg.borrow();
    let ret_ext = match abi::lower(&reg, sig.ret) {
        AbiType::Scalar(s) => s.ext(),
        _ => Ext::None,
    };
    let lowered = Signature {
        ret: abi::lower(&reg, sig.ret),
        params: sig.params.iter().map(|p| abi::lower(&reg, p.ty)).collect(),
        fixed: sig.params.len(),
        variadic: false,
    };
    drop(reg);
    if sig.variadic {
        return Err(type_error("Variadic prototypes cannot be used for callbacks"));
    }
    let plan = abi::native::classify(&lowered).map_err(|e| error(e.to_string()))?;
    let params: Vec<Arc<TypeInfo>> = sig.params.iter().map(|p| inst.type_info(p.ty)).collect();
    let ret = inst.type_info(sig.ret);
    let scalar_params = params.iter().zip(&plan.args).map(|(info, loc)| scalar_param(info, loc)).collect();
    let scalar_ret = match &plan.ret {
        RetLoc::Regs(moves) if ScalarConv::of(ret.primitive).is_some() => match moves.as_slice() {
            [m] => Some((m.reg, m.len)),
            _ => None,
        },
        _ => None,
    };
    let p = Arc::new(Proto { id, params, ret, ret_ext, plan, scalar_params, scalar_ret });
    inst.protos.borrow_mut().insert(id, p.clone());
    Ok(p)
}

/// A transient callback: its trampoline slot and handler.
pub type Transient = (u32, Arc<JsHandler>);

/// Memory a callback's result points into (strings, struct copies).
pub type Temps = Vec<Box<[u64]>>;

/// A JS function behind a trampoline.
pub struct JsHandler {
    env: sys::napi_env,
    inst: *const Instance,
    func: sys::napi_ref,
    this: Option<sys::napi_ref>,
    proto: Arc<Proto>,
    /// The environment's lifeline: whether it lives, its JS thread, its broker.
    link: Arc<Lifeline>,
    /// False once unregistered or released (the environment may still live).
    alive: AtomicBool,
}

// SAFETY: the napi handles are only used on the JS thread while the environment lives (checked
// through `link`); other threads only read `alive` and `link`.
unsafe impl Send for JsHandler {}
// SAFETY: as above.
unsafe impl Sync for JsHandler {}

/// Answers calls to a trampoline whose callback is gone (spec CB-02, CB-04): C gets zeros and,
/// when this happens on the JS thread during a Koffi call, that call throws an Error.
struct Tombstone {
    message: &'static str,
    env: sys::napi_env,
    inst: *const Instance,
    link: Arc<Lifeline>,
}

// SAFETY: the napi handles are used only on the JS thread while the environment lives (checked
// through `link`).
unsafe impl Send for Tombstone {}
// SAFETY: as above.
unsafe impl Sync for Tombstone {}

impl Tombstone {
    fn for_instance(message: &'static str, env: sys::napi_env, inst: &Instance) -> Arc<dyn Handler> {
        Arc::new(Tombstone { message, env, inst, link: inst.link.clone() })
    }
}

impl Handler for Tombstone {
    fn invoke(&self, _frame: &mut CallFrame) {
        if self.link.on_js_thread() {
            // SAFETY: the environment lives, and we are on its JS thread.
            let inst = unsafe { &*self.inst };
            if !inst.current_frame.get().is_null() && inst.pending_exception.borrow().is_none() {
                let env = Env(self.env);
                let exception = super::napi::error_value(env, error(self.message));
                set_pending(env, inst, exception);
                return;
            }
        }
        // Nothing can be thrown into C here: the caller gets zeros, and the mistake is reported
        // (silently after the environment is gone: that is the documented answer then).
        if self.link.is_alive() {
            eprintln!("koffi-rs: {}", self.message);
        }
    }
}

/// Keeps `exception` to rethrow when C returns (spec CB-08). Primitives are thrown too, and a
/// reference can only hold objects: the value is kept inside a one-element array.
/// A handle scope shared by the callbacks relayed during one synchronous call.
///
/// Opening and closing a Node-API handle scope costs about as much as the rest of a relay
/// (Node allocates a wrapper for each), yet C code such as `qsort` may call back millions of
/// times during one call. Callbacks relayed while a C call is in progress therefore share a
/// scope tagged with that call's frame, replaced every [`RELAY_SCOPE_USES`] callbacks so that
/// the handles they make cannot pile up, and closed as soon as C returns (`func::run`), before
/// the call makes its result. Scopes stay properly nested: between two callbacks of the same
/// call, every scope opened by the JS code in between has been closed again.
pub struct RelayScope {
    /// The frame of the C call during which the scope was opened.
    call: *const CallFrame,
    scope: sys::napi_handle_scope,
    uses: u32,
    /// The handler relayed last in this scope and its `this` and function values, which live
    /// as long as the scope: C calling the same callback over and over (a comparator, a
    /// visitor) needs them only once per scope.
    handler: *const JsHandler,
    this: Value,
    func: Value,
}

/// Callbacks sharing one relay scope before it is replaced (each makes a few handles).
const RELAY_SCOPE_USES: u32 = 64;

/// Makes sure a relay scope for the C call in progress is open.
#[inline]
fn relay_scope(env: Env, inst: &Instance) {
    let call = inst.current_frame.get();
    let mut scopes = inst.relay_scopes.borrow_mut();
    if let Some(top) = scopes.last_mut() {
        if top.call == call && top.uses < RELAY_SCOPE_USES {
            top.uses += 1;
            return;
        }
    }
    drop(scopes);
    new_relay_scope(env, inst, call);
}

#[cold]
fn new_relay_scope(env: Env, inst: &Instance, call: *const CallFrame) {
    // A full scope of this call is replaced; a scope of an outer call stays below the new one.
    close_relay_scopes(env, inst, call);
    let mut scope = std::ptr::null_mut();
    // SAFETY: JS thread, valid env.
    if unsafe { sys::napi_open_handle_scope(env.0, &mut scope) } == sys::Status::napi_ok {
        inst.relay_scopes.borrow_mut().push(RelayScope {
            call,
            scope,
            uses: 1,
            handler: std::ptr::null(),
            this: std::ptr::null_mut(),
            func: std::ptr::null_mut(),
        });
    }
}

/// Closes the relay scopes of the C call whose frame is `call` (it returned, or its scope is
/// full). Nested calls closed theirs when they returned, so these are the innermost ones.
pub fn close_relay_scopes(env: Env, inst: &Instance, call: *const CallFrame) {
    loop {
        let top = {
            let mut scopes = inst.relay_scopes.borrow_mut();
            match scopes.last() {
                Some(s) if s.call == call => scopes.pop(),
                _ => None,
            }
        };
        let Some(top) = top else { break };
        // SAFETY: JS thread; the innermost open scope (see RelayScope).
        unsafe { sys::napi_close_handle_scope(env.0, top.scope) };
    }
}

fn set_pending(env: Env, inst: &Instance, exception: Value) {
    let Ok(holder) = env.array(1) else { return };
    if env.set_element(holder, 0, exception).is_ok() {
        if let Ok(r) = env.reference(holder) {
            *inst.pending_exception.borrow_mut() = Some(r);
            inst.relayed.set(true);
        }
    }
}

impl Handler for JsHandler {
    fn invoke(&self, frame: &mut CallFrame) {
        // Another thread, or an environment that is gone (its thread id may have been reused).
        if !self.link.on_js_thread() {
            return self.invoke_remote(frame);
        }
        // SAFETY: the environment lives and this is its JS thread.
        let current = unsafe { (*self.inst).current_frame.get() };
        let sp = if self.alive.load(Ordering::Acquire) {
            // SAFETY: the current frame is a call in progress on this thread (or NULL).
            unsafe { pool::js_stack(current) }
        } else {
            None
        };
        match sp {
            // C runs on the call memory's stack: JS must run on the thread's own.
            // SAFETY: the stack below the recorded point is unused while C runs.
            Some(sp) => unsafe { pool::run_on_stack(sp, &mut |low| self.run(Env(self.env), frame, low, None)) },
            // C runs on the thread's stack: nested calls' stack arguments go in the call
            // memory as usual (the address is outside it, so nothing is lowered).
            None => {
                let at = frame as *mut CallFrame as usize;
                self.run(Env(self.env), frame, at, None)
            }
        }
    }
}

thread_local! {
    /// The temporaries of the last callback relayed for this thread outside a synchronous call
    /// (from another thread, or from the event loop): C may use the result until it calls
    /// again. Freed at the next such callback, or when the thread ends.
    static THREAD_KEPT: RefCell<Temps> = const { RefCell::new(Vec::new()) };
}

/// Keeps `temps` for the calling thread in place of the previous callback's.
fn keep_for_thread(temps: Temps) {
    // The old ones are dropped outside the borrow; during thread exit there is nothing to keep.
    let _old = THREAD_KEPT.try_with(|k| std::mem::replace(&mut *k.borrow_mut(), temps));
}

/// A call queued from another thread, completed by the JS thread.
struct Remote {
    handler: *const JsHandler,
    frame: *mut CallFrame,
    /// The calling thread (what the result is kept for).
    thread: ThreadId,
    /// The result's temporaries, handed back to the calling thread.
    temps: Mutex<Temps>,
    done: Mutex<bool>,
    wake: Condvar,
}

impl Remote {
    fn finish(&self) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        *done = true;
        self.wake.notify_all();
    }
}

/// The broker's JS-thread side: runs a queued call. `env` is NULL when the broker is being torn
/// down: the caller is released with zeros.
unsafe extern "C" fn broker_call(env: sys::napi_env, _f: sys::napi_value, _ctx: *mut c_void, data: *mut c_void) {
    // SAFETY: `data` is the Remote of a thread blocked in invoke_remote until `finish`.
    let remote = unsafe { &*(data as *const Remote) };
    // A call queued before the environment ended may be drained after: Node passes a NULL env
    // then, but the lifeline is checked too, in case the instance went first.
    // SAFETY: the handler is kept alive by the blocked thread's Arc.
    if !env.is_null() && unsafe { (*remote.handler).link.is_alive() } {
        // SAFETY: the handler is kept alive by the blocked thread's Arc; the frame by its stack.
        // The calling thread's C stack is not the call memory's: nothing to keep below.
        unsafe { (*remote.handler).run(Env(env), &mut *remote.frame, usize::MAX, Some(remote)) };
    }
    remote.finish();
}

impl JsHandler {
    /// From another thread (or for an environment that is gone): queues the call to the JS
    /// thread and waits for it; C gets zeros when it cannot be queued.
    fn invoke_remote(&self, frame: &mut CallFrame) {
        if !self.alive.load(Ordering::Acquire) {
            return;
        }
        let remote = Remote {
            handler: self,
            frame,
            thread: std::thread::current().id(),
            temps: Mutex::new(Vec::new()),
            done: Mutex::new(false),
            wake: Condvar::new(),
        };
        // `remote` outlives its use: the JS thread (or Node draining the queue at teardown)
        // calls `finish` before this thread returns.
        if !self.link.post(&remote as *const Remote as *mut c_void) {
            return;
        }
        let mut done = remote.done.lock().unwrap_or_else(|e| e.into_inner());
        while !*done {
            done = remote.wake.wait(done).unwrap_or_else(|e| e.into_inner());
        }
        drop(done);
        keep_for_thread(std::mem::take(&mut *remote.temps.lock().unwrap_or_else(|e| e.into_inner())));
    }

    /// Runs the JS function for one C call, on the JS thread.
    /// `low`: the lowest address of the C side's stack in use (nested calls go below it).
    /// `remote`: the queued call when C called from another thread (None: from this one).
    /// The environment must be alive (the caller checked its lifeline).
    fn run(&self, env: Env, frame: &mut CallFrame, low: usize, remote: Option<&Remote>) {
        if !self.alive.load(Ordering::Acquire) {
            eprintln!("koffi-rs: a callback was called after koffi.unregister()");
            return;
        }
        // SAFETY: alive, so the environment (and its instance) still exists.
        let inst = unsafe { &*self.inst };
        inst.relayed.set(true);
        // While an exception is pending, further calls return zeros without running JS (CB-08).
        if inst.pending_exception.borrow().is_some() {
            return;
        }
        // During a synchronous call, callbacks share a handle scope (see `relay_scope`);
        // otherwise each one gets its own.
        let mut scope = std::ptr::null_mut();
        let shared = !inst.current_frame.get().is_null();
        if shared {
            relay_scope(env, inst);
        } else {
            // SAFETY: JS thread, valid env.
            unsafe { sys::napi_open_handle_scope(env.0, &mut scope) };
        }
        match self.call_js(env, inst, frame, shared, low) {
            Ok(None) => {}
            Ok(Some(kept)) => keep(inst, *kept, remote),
            Err(e) => self.failed(env, inst, frame, e),
        }
        if !scope.is_null() {
            // SAFETY: the scope opened above.
            unsafe { sys::napi_close_handle_scope(env.0, scope) };
        }
    }

    /// The function threw or its result could not be converted (spec CB-08).
    #[cold]
    fn failed(&self, env: Env, inst: &Instance, frame: &mut CallFrame, e: super::napi::JsError) {
        // C receives zeros (a zeroed struct for hidden-pointer results too).
        let zeros = vec![0u8; self.proto.ret.size.max(8)];
        // SAFETY: the frame belongs to a call of this prototype.
        unsafe { frame.store_result(&self.proto.plan.ret, zeros.as_ptr(), self.proto.ret.size, Ext::None) };
        let exception = if e.is_pending() {
            let mut v = std::ptr::null_mut();
            // SAFETY: JS thread, an exception is pending.
            unsafe { sys::napi_get_and_clear_last_exception(env.0, &mut v) };
            v
        } else {
            super::napi::error_value(env, e)
        };
        if !exception.is_null() {
            if !inst.current_frame.get().is_null() {
                set_pending(env, inst, exception);
            } else {
                // No Koffi call to rethrow it: report it as Node reports uncaught exceptions.
                // SAFETY: JS thread, valid env and value.
                unsafe { sys::napi_fatal_exception(env.0, exception) };
            }
        }
    }

    fn call_js(
        &self,
        env: Env,
        inst: &Instance,
        frame: &mut CallFrame,
        shared: bool,
        low: usize,
    ) -> JsResult<Option<Box<Kept>>> {
        let mem = inst.memory()?;
        // Nested calls made by the JS function must put their stack arguments and frames below
        // the C code that called us and the relay's own frames, when those run on the call
        // memory's stack (`low`, from the stack switch).
        // SAFETY: JS thread; the call memory is only touched through this pointer, in turn.
        let mark = unsafe { (*mem).mark() };
        // SAFETY: as above.
        unsafe { (*mem).lower_stack_pointer(low.min((frame as *mut CallFrame as usize).saturating_sub(256))) };
        let result = self.convert_and_call(env, inst, frame, mem, shared);
        // SAFETY: as above.
        unsafe { (*mem).release(mark) };
        result
    }

    /// The `this` and function values to call.
    fn callee(&self, env: Env) -> JsResult<(Value, Value)> {
        let this = match self.this {
            Some(r) => env.deref(r)?,
            None => env.undefined()?,
        };
        Ok((this, env.deref(self.func)?))
    }

    /// [`JsHandler::callee`] for a callback in the relay scope of the C call in progress:
    /// made once per scope (see [`RelayScope`]).
    fn scoped_callee(&self, env: Env, inst: &Instance) -> JsResult<(Value, Value)> {
        if let Some(top) = inst.relay_scopes.borrow().last() {
            if std::ptr::eq(top.handler, self) {
                return Ok((top.this, top.func));
            }
        }
        let (this, func) = self.callee(env)?;
        if let Some(top) = inst.relay_scopes.borrow_mut().last_mut() {
            (top.handler, top.this, top.func) = (self as *const JsHandler, this, func);
        }
        Ok((this, func))
    }

    fn convert_and_call(
        &self,
        env: Env,
        inst: &Instance,
        frame: &mut CallFrame,
        mem: *mut crate::call::CallMemory,
        shared: bool,
    ) -> JsResult<Option<Box<Kept>>> {
        // A conversion context only for arguments that need one (numbers do not).
        let mut ctx: Option<Ctx<'_>> = None;
        let mut args = smallvec::SmallVec::<[Value; 8]>::new();
        let tagged = inst.tagged.get();
        // The handles of small integer arguments (`Tagged::smi_result`): V8 reads them when
        // the call starts; they must not move before, hence a fixed array.
        let smis = [const { Cell::new(0usize) }; 8];
        let p = &*self.proto;
        for (i, ((info, loc), scalar)) in p.params.iter().zip(&p.plan.args).zip(&p.scalar_params).enumerate() {
            // Numbers in one slot are read straight from it; the rest through C bytes.
            if let Some((conv, slot)) = *scalar {
                // SAFETY: the frame was spilled by a trampoline for this prototype.
                let bits = unsafe { frame.slot(slot) };
                let v = match (tagged, smis.get(i), smi_of(conv, bits)) {
                    (Some(t), Some(cell), Some(int)) => t.smi_result(cell, int),
                    _ => conv.to_js(env, bits)?,
                };
                args.push(v);
                continue;
            }
            let ctx = ctx.get_or_insert_with(|| Ctx::for_call(env, inst, mem));
            let buf = ctx.alloc_zeroed(info.size.max(8), 16)?;
            // SAFETY: as above.
            unsafe { frame.load_arg(loc, buf, info.size) };
            // SAFETY: C passed a value of this type.
            args.push(unsafe { convert::decode(ctx, buf, info)? });
        }
        drop(ctx);
        let (this, f) = if shared { self.scoped_callee(env, inst)? } else { self.callee(env)? };
        let result = env.call_function(this, f, &args)?;
        let ret = &self.proto.ret;
        if ret.primitive == Primitive::Void {
            return Ok(None);
        }
        let p = ret.primitive;
        if p.is_integer() || p.is_float() || p == Primitive::Bool {
            // Numbers need no temporaries: straight from JS into the result registers.
            let bits = match p {
                Primitive::Float64 => [number(env, tagged, result)?.to_bits()],
                Primitive::Float32 => [(number(env, tagged, result)? as f32).to_bits() as u64],
                Primitive::Bool => [convert::bool_value(env, result)? as u64],
                _ => [convert::int_store_bits(p, int_bits(env, tagged, result, ret.size)?)],
            };
            // One register: set it directly (widened as callers may expect); else the plan.
            if let Some((reg, len)) = self.proto.scalar_ret {
                let v = crate::call::frame::extend(bits[0], len, self.proto.ret_ext);
                match reg {
                    RetReg::Gpr(i) => frame.ret_gpr[i as usize] = v,
                    RetReg::Fpr(i) => frame.ret_fpr[i as usize] = v,
                }
                return Ok(None);
            }
            // SAFETY: the frame belongs to a call of this prototype; `bits` holds the value.
            unsafe {
                frame.store_result(&self.proto.plan.ret, bits.as_ptr() as *const u8, ret.size, self.proto.ret_ext)
            };
            return Ok(None);
        }
        // Temporaries of the result (strings, struct copies) and transient callbacks it holds
        // must outlive this relay (spec CB-07): the caller keeps them (see `keep`).
        let mut keep = Ctx::persistent(env, inst);
        let buf = keep.alloc_zeroed(ret.size.max(8), 16)?;
        let mut returned = None;
        if ret.primitive == Primitive::Callback && env.type_of(result)? == JsType::Function {
            // A new transient callback (CB-07).
            let p = proto(inst, ret.target().unwrap_or(crate::types::VOID))?;
            let handler = make_handler(env, inst, result, None, p)?;
            let (index, addr) = pool::register(handler.clone()).map_err(|e| error(e.to_string()))?;
            returned = Some((index, handler));
            // SAFETY: buf holds at least 8 bytes.
            unsafe { convert::write_addr(buf, addr as u64, ret.size) };
        } else if let Err(e) = convert::encode(&mut keep, result, ret, buf) {
            release_transients(keep.into_parts().1);
            return Err(e);
        }
        // SAFETY: the frame belongs to a call of this prototype; buf holds ret.size bytes.
        unsafe { frame.store_result(&self.proto.plan.ret, buf, ret.size, self.proto.ret_ext) };
        let (temps, transients) = keep.into_parts();
        Ok(Some(Box::new(Kept { temps, transients: transients.into_iter().chain(returned).collect() })))
    }
}

/// What a callback's result points into: temporaries (strings, struct copies) and the transient
/// callbacks it returned (spec CB-07). Boxed where it is returned: most results (numbers) have
/// none, and a one-word `None` keeps the relay's common path short.
pub struct Kept {
    temps: Temps,
    transients: Vec<Transient>,
}

/// Keeps what a callback's result points into as long as C may use it (JS thread). During a
/// synchronous call it stays with the innermost call in progress, released when that call
/// returns ([`release_kept`]); otherwise the temporaries go to the calling thread (handed back
/// through `remote`, or kept by this thread when C called from the event loop) and the transient
/// callbacks wait in the instance, both until the next such callback of that thread.
#[cold]
fn keep(inst: &Instance, kept: Kept, remote: Option<&Remote>) {
    let call = inst.current_frame.get();
    if !call.is_null() {
        if !kept.temps.is_empty() {
            inst.callback_temps.borrow_mut().push((call, kept.temps));
        }
        if !kept.transients.is_empty() {
            inst.callback_transients.borrow_mut().extend(kept.transients.into_iter().map(|t| (call, t)));
        }
        return;
    }
    let caller = match remote {
        Some(r) => r.thread,
        None => std::thread::current().id(),
    };
    let old = if kept.transients.is_empty() {
        inst.thread_transients.borrow_mut().remove(&caller)
    } else {
        inst.thread_transients.borrow_mut().insert(caller, kept.transients)
    };
    release_transients(old.into_iter().flatten());
    match remote {
        Some(r) => *r.temps.lock().unwrap_or_else(|e| e.into_inner()) = kept.temps,
        None => keep_for_thread(kept.temps),
    }
}

/// Releases what callbacks relayed during the synchronous call `call` kept (it returned). Calls
/// nest, so these are the last entries.
pub fn release_kept(inst: &Instance, call: *const CallFrame) {
    {
        let mut temps = inst.callback_temps.borrow_mut();
        while temps.last().is_some_and(|(c, _)| *c == call) {
            temps.pop();
        }
        // A C loop that called back many times must not leave its high-water mark behind.
        if temps.is_empty() && temps.capacity() > 64 {
            *temps = Vec::new();
        }
    }
    let mut released = Vec::new();
    {
        let mut list = inst.callback_transients.borrow_mut();
        while list.last().is_some_and(|(c, _)| *c == call) {
            released.extend(list.pop().map(|(_, t)| t));
        }
    }
    // Released with no borrow held: retiring may run JS finalizers.
    release_transients(released);
}

/// Makes the environment's broker if it has none: a thread-safe function that runs queued calls
/// on the JS thread, kept in the lifeline. Created on first use, unref'd so that it never keeps
/// the process alive (spec CB-11).
fn ensure_broker(env: Env, inst: &Instance) -> JsResult<()> {
    if inst.link.has_broker() {
        return Ok(());
    }
    let name = env.string("koffi-rs callback")?;
    let mut tsfn = std::ptr::null_mut();
    let tag = Box::into_raw(inst.link.tag());
    // SAFETY: JS thread, valid env; `tag` goes to `broker_finalized` when Node finalizes it.
    let status = unsafe {
        sys::napi_create_threadsafe_function(
            env.0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            name,
            0,
            1,
            tag as *mut c_void,
            Some(broker_finalized),
            std::ptr::null_mut(),
            Some(broker_call),
            &mut tsfn,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: not handed over.
        drop(unsafe { Box::from_raw(tag) });
        return Err(env.failure(status));
    }
    super::napi::call!(env, napi_unref_threadsafe_function(env.0, tsfn));
    inst.link.set_broker(tag, tsfn);
    Ok(())
}

/// `koffi.reset()`: releases the broker (spec RESET-01, CB-11), so that test runners see no
/// handle left. Callbacks are not touched by a reset, so while any can still be called (a
/// registered one, or one of an async call in flight), a new broker takes over at once.
pub fn reset_broker(env: Env, inst: &Instance) -> JsResult<()> {
    inst.link.release_broker();
    if !inst.registered.borrow().is_empty() || inst.async_running.get() > 0 || !inst.current_frame.get().is_null() {
        ensure_broker(env, inst)?;
    }
    Ok(())
}

fn make_handler(
    env: Env,
    inst: &Instance,
    func: Value,
    this: Option<Value>,
    proto: Arc<Proto>,
) -> JsResult<Arc<JsHandler>> {
    ensure_broker(env, inst)?;
    Ok(Arc::new(JsHandler {
        env: env.0,
        inst,
        func: env.reference(func)?,
        this: this.map(|t| env.reference(t)).transpose()?,
        proto,
        link: inst.link.clone(),
        alive: AtomicBool::new(true),
    }))
}

impl JsHandler {
    /// Marks the handler dead and drops its JS references (JS thread only).
    fn retire(&self) {
        if self.alive.swap(false, Ordering::AcqRel) {
            // SAFETY: JS thread, references we created.
            unsafe {
                sys::napi_delete_reference(self.env, self.func);
                if let Some(t) = self.this {
                    sys::napi_delete_reference(self.env, t);
                }
            }
        }
    }
}

/// The prototype of a callback type (`'P *'`, spec CB-03).
fn callback_proto(inst: &Instance, id: TypeId) -> JsResult<Arc<Proto>> {
    let info = inst.type_info(id);
    match (&info.detail, info.primitive) {
        (Detail::Pointer { to, .. }, Primitive::Callback) => proto(inst, *to),
        (Detail::Proto(_), _) => {
            Err(type_error(format!("Unexpected {} type, expected {} * type", info.name, info.name)))
        }
        _ => Err(type_error(format!("Unexpected {} type, expected callback type", info.name))),
    }
}

/// A transient callback for one call (spec CB-01): freed by [`release_transients`].
pub fn transient(ctx: &mut Ctx<'_>, func: Value, proto_id: TypeId) -> JsResult<u64> {
    if ctx.transients.len() >= MAX_TRANSIENT {
        return Err(error(format!("This call uses too many temporary callbacks (max = {MAX_TRANSIENT})")));
    }
    let p = proto(ctx.inst, proto_id)?;
    let handler = make_handler(ctx.env, ctx.inst, func, None, p)?;
    let (index, addr) = pool::register(handler.clone()).map_err(|e| error(e.to_string()))?;
    ctx.transients.push((index, handler));
    Ok(addr as u64)
}

/// Frees the transient callbacks of a call; later calls to them are reported (spec CB-02).
/// JS thread, while the environment lives.
pub fn release_transients(list: impl IntoIterator<Item = (u32, Arc<JsHandler>)>) {
    for (index, handler) in list {
        handler.retire();
        // SAFETY: transients are released on the JS thread while their instance lives.
        let inst = unsafe { &*handler.inst };
        let tomb = Tombstone::for_instance("Cannot use non-registered callback beyond FFI call", handler.env, inst);
        pool::release(index, Some(tomb));
    }
}

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

/// Retires every callback of an environment being torn down, after its lifeline ended (so no
/// handler touches it any more). Transient callbacks of async calls still in flight are
/// released by the pool thread that finishes the call (`asynccall`).
pub fn retire_all(inst: &Instance) {
    debug_assert!(!inst.link.is_alive());
    let registered = inst.registered.borrow_mut().drain().collect::<Vec<_>>();
    let returned = inst.callback_transients.borrow_mut().drain(..).map(|(_, t)| t).collect::<Vec<_>>();
    let by_thread = inst.thread_transients.borrow_mut().drain().flat_map(|(_, list)| list).collect::<Vec<_>>();
    abandon_transients(registered.into_iter().chain(returned).chain(by_thread));
    inst.callback_temps.borrow_mut().clear();
}

/// Releases callbacks whose environment is gone (any thread): nothing of the environment is
/// touched. Their references die with it; their slots go back to the pool, answering zeros
/// until reused.
pub fn abandon_transients(list: impl IntoIterator<Item = (u32, Arc<JsHandler>)>) {
    for (index, handler) in list {
        handler.alive.store(false, Ordering::Release);
        pool::release(index, None);
    }
}
