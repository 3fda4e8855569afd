//! The callbacks an environment has made: JS functions behind trampolines of the static pool
//! (spec §11), registered with `koffi.register` or transient for one call, and the broker that
//! brings calls from other threads to the JS thread.
//!
//! This file owns their lifetimes; what runs when C calls one (converting its arguments,
//! calling JS, storing the result) is the relay, in `calls::relay`. Every handler holds its
//! environment's [`Lifeline`] and touches the environment only while the lifeline says it lives
//! and the caller is on its JS thread; any other late call returns zeros. A callback that is
//! gone (released, unregistered, or its environment ended) leaves a [`Tombstone`] in its slot.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::sys;

use super::lifeline::{broker_finalized, Lifeline};
use super::Instance;
use crate::abi::{self, ArgLoc, CallPlan, RetLoc, RetMove, Signature, Slot};
use crate::call::frame::single_word;
use crate::call::CallFrame;
use crate::callback::{self as pool, Handler};
use crate::node::js::scalar::ScalarConv;
use crate::node::js::tsfn;
use crate::node::js::{error, error_value, type_error, Env, JsResult, Value};
use crate::types::{Detail, Primitive, TypeId, TypeInfo};

/// Most transient callbacks one call may create (spec CB-01).
pub const MAX_TRANSIENT: usize = 16;

/// A prototype ready for relaying: its parameter and result types and its plan.
pub struct Proto {
    /// The prototype's type id (pointer values of callbacks are tagged with it).
    pub id: TypeId,
    /// Parameter types.
    pub params: Vec<Arc<TypeInfo>>,
    /// Result type.
    pub ret: Arc<TypeInfo>,
    /// Where C puts each parameter and expects the result.
    pub plan: CallPlan,
    /// Per parameter: how a number or boolean that C passes in one register or stack slot
    /// becomes JS, and that slot (decided here once, not per call).
    pub scalar_params: Vec<Option<(ScalarConv, Slot)>>,
    /// A number or boolean result that goes back in one register: the plan's one move.
    pub scalar_ret: Option<RetMove>,
}

/// Where a parameter of `info` placed by `loc` is read from when it is a scalar in one slot.
fn scalar_param(info: &TypeInfo, loc: &ArgLoc) -> Option<(ScalarConv, Slot)> {
    let ArgLoc::Moves(moves) = loc else { return None };
    let m = single_word(moves)?;
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
            [m] => Some(*m),
            _ => None,
        },
        _ => None,
    };
    let p = Arc::new(Proto { id, params, ret, plan, scalar_params, scalar_ret });
    inst.protos.borrow_mut().insert(id, p.clone());
    Ok(p)
}

/// A transient callback: its trampoline slot and handler.
pub type Transient = (u32, Arc<JsHandler>);

/// Memory a callback's result points into (strings, struct copies).
pub type Temps = Vec<Box<[u64]>>;

/// A JS function behind a trampoline.
///
/// What happens when C calls it (the relay into JS) is in `calls::relay`, which implements
/// [`Handler`] for it: relaying converts values, and conversions make handlers.
pub struct JsHandler {
    /// The environment's handle.
    pub env: sys::napi_env,
    /// Its instance (followed only while `link` says it lives, on its JS thread).
    pub inst: *const Instance,
    /// The JS function.
    pub func: sys::napi_ref,
    /// The `this` of `koffi.register(this, fn, type)`.
    pub this: Option<sys::napi_ref>,
    /// The prototype's relay description.
    pub proto: Arc<Proto>,
    /// The environment's lifeline: whether it lives, its JS thread, its broker.
    pub link: Arc<Lifeline>,
    /// False once unregistered or released (the environment may still live).
    pub alive: AtomicBool,
}

// SAFETY: the napi handles are only used on the JS thread while the environment lives (checked
// through `link`); other threads only read `alive` and `link`.
unsafe impl Send for JsHandler {}
// SAFETY: as above.
unsafe impl Sync for JsHandler {}

/// Answers calls to a trampoline whose callback is gone (spec CB-02, CB-04): C gets zeros and,
/// when this happens on the JS thread during a Koffi call, that call throws an Error.
pub struct Tombstone {
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
    /// A tombstone for a callback of `inst` that is gone, saying `message` when called.
    pub fn for_instance(message: &'static str, env: sys::napi_env, inst: &Instance) -> Arc<dyn Handler> {
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
                let exception = error_value(env, error(self.message));
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
/// the handles they make cannot pile up, and closed as soon as C returns (`calls::run`), before
/// the call makes its result. Scopes stay properly nested: between two callbacks of the same
/// call, every scope opened by the JS code in between has been closed again.
pub struct RelayScope {
    /// The frame of the C call during which the scope was opened.
    pub call: *const CallFrame,
    /// The Node-API scope.
    pub scope: sys::napi_handle_scope,
    /// Callbacks relayed in it so far.
    pub uses: u32,
    /// The handler relayed last in this scope and its `this` and function values, which live
    /// as long as the scope: C calling the same callback over and over (a comparator, a
    /// visitor) needs them only once per scope.
    pub handler: *const JsHandler,
    /// `this` of that handler, in this scope.
    pub this: Value,
    /// Its function, in this scope.
    pub func: Value,
}

pub fn set_pending(env: Env, inst: &Instance, exception: Value) {
    let Ok(holder) = env.array(1) else { return };
    if env.set_element(holder, 0, exception).is_ok() {
        if let Ok(r) = env.reference(holder) {
            *inst.pending_exception.borrow_mut() = Some(r);
            inst.relayed.set(true);
        }
    }
}

/// A call queued to the JS thread through the broker ([`Lifeline::post`] of its address): `run`
/// runs there with `data` and the environment, or `None` when the environment is gone or its
/// broker is being torn down; either way it must release whoever waits for it.
pub struct BrokerJob {
    /// What runs on the JS thread.
    pub run: unsafe fn(data: *const c_void, env: Option<Env>),
    /// Its argument.
    pub data: *const c_void,
}

/// The broker's JS-thread side: runs a queued job. `env` is NULL when the broker is being torn
/// down.
unsafe extern "C" fn broker_call(env: sys::napi_env, _f: sys::napi_value, _ctx: *mut c_void, data: *mut c_void) {
    // SAFETY: `data` is a BrokerJob whose thread keeps it alive until the job released it.
    let job = unsafe { &*(data as *const BrokerJob) };
    // SAFETY: the job's own contract.
    unsafe { (job.run)(job.data, (!env.is_null()).then_some(Env(env))) };
}

/// Makes the environment's broker if it has none: a thread-safe function that runs queued calls
/// on the JS thread, kept in the lifeline. Created on first use, unref'd so that it never keeps
/// the process alive (spec CB-11).
pub fn ensure_broker(env: Env, inst: &Instance) -> JsResult<()> {
    if inst.link.has_broker() {
        return Ok(());
    }
    let tag = Box::into_raw(inst.link.tag());
    // `tag` goes to `broker_finalized` when Node finalizes the function.
    let tsfn =
        match tsfn::create(env, "koffi-rs callback", tag as *mut c_void, Some(broker_finalized), Some(broker_call)) {
            Ok(tsfn) => tsfn,
            Err(e) => {
                // SAFETY: not handed over.
                drop(unsafe { Box::from_raw(tag) });
                return Err(e);
            }
        };
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

pub fn make_handler(
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
    pub fn retire(&self) {
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
pub fn callback_proto(inst: &Instance, id: TypeId) -> JsResult<Arc<Proto>> {
    let info = inst.type_info(id);
    match (&info.detail, info.primitive) {
        (Detail::Pointer { to, .. }, Primitive::Callback) => proto(inst, *to),
        (Detail::Proto(_), _) => {
            Err(type_error(format!("Unexpected {} type, expected {} * type", info.name, info.name)))
        }
        _ => Err(type_error(format!("Unexpected {} type, expected callback type", info.name))),
    }
}

/// A transient callback for one call (spec CB-01): `func` behind a trampoline of prototype
/// `proto_id`, to be freed by [`release_transients`] when the call is over.
pub fn transient(env: Env, inst: &Instance, func: Value, proto_id: TypeId) -> JsResult<(Transient, u64)> {
    let p = proto(inst, proto_id)?;
    let handler = make_handler(env, inst, func, None, p)?;
    let (index, addr) = pool::register(handler.clone()).map_err(|e| error(e.to_string()))?;
    Ok(((index, handler), addr as u64))
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
