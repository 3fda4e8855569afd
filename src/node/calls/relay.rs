//! The relay: what runs when C calls a JS callback through its trampoline (spec §11).
//!
//! On the JS thread inside a Koffi call, the handler switches back to the thread's own stack
//! (C runs on the call memory's stack) and calls the function directly. On any other thread it
//! queues the call to the JS thread through the environment's broker and blocks until JS has
//! run and the result is stored (CB-09). An exception thrown by the function makes C receive
//! zeros and is rethrown by the Koffi call that is running when C returns (CB-08).
//!
//! What a callback's result points into ([`Kept`]) lives until the C call that invoked the
//! callback returns (relays during a call), or until the next callback relayed for the same
//! thread (relays from other threads or from the event loop). The callbacks themselves, and
//! their lifetimes, are `instance::callbacks`.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex};
use std::thread::ThreadId;

use napi::sys;

use crate::call::CallFrame;
use crate::callback::{self as pool, Handler};
use crate::node::convert::{self, int_store_bits, Ctx};
use crate::node::instance::callbacks::{
    release_transients, set_pending, transient, BrokerJob, JsHandler, RelayScope, Temps, Transient,
};
use crate::node::instance::Instance;
use crate::node::js::read::{bool_value, int_bits, number};
use crate::node::js::scalar::smi_of;
use crate::node::js::{error_value, Env, JsError, JsResult, JsType, Value};
use crate::types::Primitive;

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

/// The JS-thread side of a call queued by [`JsHandler::invoke_remote`] (a [`BrokerJob`]).
///
/// # Safety
/// `data` is the Remote of a thread blocked in invoke_remote until `finish`.
unsafe fn run_remote(data: *const c_void, env: Option<Env>) {
    // SAFETY: forwarded from the caller.
    let remote = unsafe { &*(data as *const Remote) };
    // A call queued before the environment ended may be drained after: Node passes a NULL env
    // then, but the lifeline is checked too, in case the instance went first.
    // SAFETY: the handler is kept alive by the blocked thread's Arc.
    if let Some(env) = env.filter(|_| unsafe { (*remote.handler).link.is_alive() }) {
        // SAFETY: the handler is kept alive by the blocked thread's Arc; the frame by its stack.
        // The calling thread's C stack is not the call memory's: nothing to keep below.
        unsafe { (*remote.handler).run(env, &mut *remote.frame, usize::MAX, Some(remote)) };
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
        let job = BrokerJob { run: run_remote, data: &remote as *const Remote as *const c_void };
        // `job` and `remote` outlive their use: the JS thread (or Node draining the queue at
        // teardown) calls `finish` before this thread returns.
        if !self.link.post(&job as *const BrokerJob as *mut c_void) {
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
    fn failed(&self, env: Env, inst: &Instance, frame: &mut CallFrame, e: JsError) {
        // C receives zeros (a zeroed struct for hidden-pointer results too).
        let zeros = vec![0u8; self.proto.ret.size.max(8)];
        // SAFETY: the frame belongs to a call of this prototype.
        unsafe { frame.store_result(&self.proto.plan.ret, zeros.as_ptr(), self.proto.ret.size) };
        let exception = if e.is_pending() {
            let mut v = std::ptr::null_mut();
            // SAFETY: JS thread, an exception is pending.
            unsafe { sys::napi_get_and_clear_last_exception(env.0, &mut v) };
            v
        } else {
            error_value(env, e)
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
                Primitive::Bool => [bool_value(env, result)? as u64],
                _ => [int_store_bits(p, int_bits(env, tagged, result, ret.size)?)],
            };
            // One register: set it directly (widened as callers may expect); else the plan.
            if let Some(m) = self.proto.scalar_ret {
                frame.set_ret(m.reg, crate::call::frame::extend(bits[0], m.len, m.ext));
                return Ok(None);
            }
            // SAFETY: the frame belongs to a call of this prototype; `bits` holds the value.
            unsafe { frame.store_result(&self.proto.plan.ret, bits.as_ptr() as *const u8, ret.size) };
            return Ok(None);
        }
        // Temporaries of the result (strings, struct copies) and transient callbacks it holds
        // must outlive this relay (spec CB-07): the caller keeps them (see `keep`).
        let mut keep = Ctx::persistent(env, inst);
        let buf = keep.alloc_zeroed(ret.size.max(8), 16)?;
        let mut returned = None;
        if ret.primitive == Primitive::Callback && env.type_of(result)? == JsType::Function {
            // A new transient callback (CB-07).
            let (handler, addr) = transient(env, inst, result, ret.target().unwrap_or(crate::types::VOID))?;
            returned = Some(handler);
            // SAFETY: buf holds at least 8 bytes.
            unsafe { convert::write_addr(buf, addr, ret.size) };
        } else if let Err(e) = convert::encode(&mut keep, result, ret, buf) {
            release_transients(keep.into_parts().1);
            return Err(e);
        }
        // SAFETY: the frame belongs to a call of this prototype; buf holds ret.size bytes.
        unsafe { frame.store_result(&self.proto.plan.ret, buf, ret.size) };
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
