//! JS functions called from C (spec §11): `koffi.register`/`unregister`, transient callbacks for
//! one call, and the handler that relays a trampoline call into JS.
//!
//! On the JS thread inside a Koffi call, the handler switches back to the thread's own stack
//! (C runs on the call memory's stack) and calls the function directly. On any other thread it
//! queues the call to the JS thread through the environment's thread-safe function (the
//! *broker*) and blocks until JS has run and the result is stored (CB-09). An exception thrown
//! by the function makes C receive zeros and is rethrown by the Koffi call that is running when
//! C returns (CB-08).

use std::cell::Cell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;

use napi::sys;

use super::convert::{self, Ctx, ScalarConv};
use super::handles::{pointer_address, pointer_value};
use super::instance::Instance;
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

/// A JS function behind a trampoline.
pub struct JsHandler {
    env: sys::napi_env,
    inst: *const Instance,
    func: sys::napi_ref,
    this: Option<sys::napi_ref>,
    proto: Arc<Proto>,
    /// The JS thread, as `pthread_self()` sees it (a cheap check on the hot path).
    js_pthread: libc::pthread_t,
    broker: sys::napi_threadsafe_function,
    alive: AtomicBool,
}

// SAFETY: the napi handles are only used on the JS thread (`js_pthread`); other threads only
// read `alive`, `js_pthread` and `broker`, and thread-safe functions may be called from any thread.
unsafe impl Send for JsHandler {}
// SAFETY: as above.
unsafe impl Sync for JsHandler {}

/// Answers calls to a trampoline whose callback is gone (spec CB-02, CB-04): C gets zeros and,
/// when this happens on the JS thread during a Koffi call, that call throws an Error.
struct Tombstone {
    message: &'static str,
    env: sys::napi_env,
    inst: *const Instance,
    js_thread: ThreadId,
}

// SAFETY: the napi handles are used only on `js_thread`, and only while the instance is alive
// (checked through the live-instance registry).
unsafe impl Send for Tombstone {}
// SAFETY: as above.
unsafe impl Sync for Tombstone {}

impl Tombstone {
    fn for_instance(message: &'static str, env: sys::napi_env, inst: &Instance) -> Arc<dyn Handler> {
        Arc::new(Tombstone { message, env, inst, js_thread: inst.js_thread })
    }
}

impl Handler for Tombstone {
    fn invoke(&self, _frame: &mut CallFrame) {
        let on_js_thread = std::thread::current().id() == self.js_thread;
        if on_js_thread && super::instance::is_live(self.inst) {
            // SAFETY: live, and we are on its JS thread.
            let inst = unsafe { &*self.inst };
            if !inst.current_frame.get().is_null() && inst.pending_exception.borrow().is_none() {
                let env = Env(self.env);
                let exception = super::napi::error_value(env, error(self.message));
                set_pending(env, inst, exception);
                return;
            }
        }
        // Nothing can be thrown into C here: the caller gets zeros, and the mistake is reported.
        eprintln!("koffi-rs: {}", self.message);
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
        // SAFETY: pthread_self has no preconditions.
        if unsafe { libc::pthread_self() } != self.js_pthread {
            return self.invoke_remote(frame);
        }
        let sp = if self.alive.load(Ordering::Acquire) {
            // SAFETY: on the JS thread the instance lives while C can reach this live handler;
            // its current frame is a call in progress on this thread.
            unsafe { pool::js_stack((*self.inst).current_frame.get()) }
        } else {
            None
        };
        match sp {
            // C runs on the call memory's stack: JS must run on the thread's own.
            // SAFETY: the stack below the recorded point is unused while C runs.
            Some(sp) => unsafe { pool::run_on_stack(sp, &mut |low| self.run(Env(self.env), frame, low)) },
            // C runs on the thread's stack: nested calls' stack arguments go in the call
            // memory as usual (the address is outside it, so nothing is lowered).
            None => {
                let at = frame as *mut CallFrame as usize;
                self.run(Env(self.env), frame, at)
            }
        }
    }
}

/// A call queued from another thread, completed by the JS thread.
struct Remote {
    handler: *const JsHandler,
    frame: *mut CallFrame,
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
    if !env.is_null() {
        // SAFETY: the handler is kept alive by the blocked thread's Arc; the frame by its stack.
        // The calling thread's C stack is not the call memory's: nothing to keep below.
        unsafe { (*remote.handler).run(Env(env), &mut *remote.frame, usize::MAX) };
    }
    remote.finish();
}

impl JsHandler {
    fn invoke_remote(&self, frame: &mut CallFrame) {
        if !self.alive.load(Ordering::Acquire) || self.broker.is_null() {
            return;
        }
        let remote = Remote { handler: self, frame, done: Mutex::new(false), wake: Condvar::new() };
        // SAFETY: the broker may be called from any thread; `remote` outlives the call below.
        let status = unsafe {
            sys::napi_call_threadsafe_function(
                self.broker,
                &remote as *const Remote as *mut c_void,
                sys::ThreadsafeFunctionCallMode::blocking,
            )
        };
        if status != sys::Status::napi_ok {
            return;
        }
        let mut done = remote.done.lock().unwrap_or_else(|e| e.into_inner());
        while !*done {
            done = remote.wake.wait(done).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Runs the JS function for one C call, on the JS thread.
    /// `low`: the lowest address of the C side's stack in use (nested calls go below it).
    fn run(&self, env: Env, frame: &mut CallFrame, low: usize) {
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
        if let Err(e) = self.call_js(env, inst, frame, shared, low) {
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
        if !scope.is_null() {
            // SAFETY: the scope opened above.
            unsafe { sys::napi_close_handle_scope(env.0, scope) };
        }
    }

    fn call_js(&self, env: Env, inst: &Instance, frame: &mut CallFrame, shared: bool, low: usize) -> JsResult<()> {
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
    ) -> JsResult<()> {
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
            return Ok(());
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
                return Ok(());
            }
            // SAFETY: the frame belongs to a call of this prototype; `bits` holds the value.
            unsafe {
                frame.store_result(&self.proto.plan.ret, bits.as_ptr() as *const u8, ret.size, self.proto.ret_ext)
            };
            return Ok(());
        }
        // Temporaries of the result (strings, struct copies) must outlive this relay: they are
        // kept until the outermost Koffi call returns (spec CB-07, §18-Q13).
        let mut keep = Ctx::persistent(env, inst);
        let buf = keep.alloc_zeroed(ret.size.max(8), 16)?;
        if ret.primitive == Primitive::Callback && env.type_of(result)? == JsType::Function {
            // A new transient callback, alive until the outermost Koffi call returns (CB-07).
            let p = proto(inst, ret.target().unwrap_or(crate::types::VOID))?;
            let handler = make_handler(env, inst, result, None, p)?;
            let (index, addr) = pool::register(handler.clone()).map_err(|e| error(e.to_string()))?;
            inst.callback_transients.borrow_mut().push((index, handler));
            // SAFETY: buf holds at least 8 bytes.
            unsafe { convert::write_addr(buf, addr as u64, ret.size) };
        } else {
            convert::encode(&mut keep, result, ret, buf)?;
        }
        // SAFETY: the frame belongs to a call of this prototype; buf holds ret.size bytes.
        unsafe { frame.store_result(&self.proto.plan.ret, buf, ret.size, self.proto.ret_ext) };
        inst.callback_temps.borrow_mut().extend(keep.into_kept());
        Ok(())
    }
}

/// The environment's broker: a thread-safe function that runs queued calls on the JS thread.
/// Created on first use, unref'd so that it never keeps the process alive (spec CB-11).
fn broker(env: Env, inst: &Instance) -> JsResult<sys::napi_threadsafe_function> {
    let current = inst.broker.get();
    if !current.is_null() {
        return Ok(current);
    }
    let name = env.string("koffi-rs callback")?;
    let mut tsfn = std::ptr::null_mut();
    super::napi::call!(
        env,
        napi_create_threadsafe_function(
            env.0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            name,
            0,
            1,
            std::ptr::null_mut(),
            None,
            std::ptr::null_mut(),
            Some(broker_call),
            &mut tsfn
        )
    );
    super::napi::call!(env, napi_unref_threadsafe_function(env.0, tsfn));
    inst.broker.set(tsfn);
    Ok(tsfn)
}

/// Releases the broker (at `koffi.reset()` and environment teardown); queued calls are answered
/// with zeros.
pub fn release_broker(inst: &Instance) {
    let tsfn = inst.broker.replace(std::ptr::null_mut());
    if !tsfn.is_null() {
        // SAFETY: a thread-safe function we created and still hold.
        unsafe { sys::napi_release_threadsafe_function(tsfn, sys::ThreadsafeFunctionReleaseMode::abort) };
    }
}

fn make_handler(
    env: Env,
    inst: &Instance,
    func: Value,
    this: Option<Value>,
    proto: Arc<Proto>,
) -> JsResult<Arc<JsHandler>> {
    Ok(Arc::new(JsHandler {
        env: env.0,
        inst,
        func: env.reference(func)?,
        this: this.map(|t| env.reference(t)).transpose()?,
        proto,
        js_pthread: inst.js_pthread,
        broker: broker(env, inst)?,
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
    pointer_value(env, inst, addr as usize as u64, proto_id)
}

/// `koffi.unregister(ptr)` (spec CB-04).
pub fn unregister(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let v = args.at(0);
    if env.type_of(v)? != JsType::External {
        return Err(type_error(format!(
            "Unexpected {} value for callback, expected registered callback",
            env.type_name(v)
        )));
    }
    let addr = pointer_address(env, inst, v, None)?.unwrap_or(0);
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

/// Retires every callback of an environment being torn down.
pub fn retire_all(inst: &Instance) {
    for (index, handler) in inst.registered.borrow_mut().drain() {
        handler.alive.store(false, Ordering::Release);
        pool::release(index, None);
    }
}
