//! Layer 2 of the binding: what one environment owns (spec MOD-09). Each Node environment —
//! the main thread and every worker — gets its own [`Instance`]: registry, settings, call
//! memory and counters, stored as the environment's instance data. This room also owns the
//! lifetimes of everything C can still reach after JS is done with it: the [`lifeline`] that
//! callbacks check, the [`callbacks`] behind trampolines, loaded [`libraries`], and the libuv
//! [`loop_handles`]. Uses only the JS values (`js`).
//!
//! The one circle of imports in the binding is here: an `Instance` holds its callbacks, and
//! each callback points back at its `Instance` (an owner and what it owns). No other file of
//! this room uses `Instance`.

pub mod callbacks;
pub mod libraries;
pub mod lifeline;
pub mod loop_handles;

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::HashMap;
use std::sync::Arc;

use napi::sys::{self, napi_env, napi_ref};

use self::callbacks::{JsHandler, Proto, RelayScope, Temps, Transient};
use self::libraries::LibHandle;
use self::lifeline::Lifeline;
use self::loop_handles::LoopHandles;
use crate::call::{CallFrame, CallMemory};
use crate::node::js::keys::MemberKeys;
use crate::node::js::tagged::Tagged;
use crate::node::js::tsfn::GuardedTsfn;
use crate::node::js::{drop_boxed, error, Env, JsResult, Value};
use crate::types::{DataModel, Registry, TypeId, TypeInfo};

/// The seven settings of `koffi.config()` (spec §13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs, reason = "the fields are the settings of the spec's table")]
pub struct Config {
    pub sync_stack_size: usize,
    pub sync_heap_size: usize,
    pub async_stack_size: usize,
    pub async_heap_size: usize,
    pub resident_async_pools: usize,
    pub max_async_calls: usize,
    pub max_type_size: usize,
}

impl Default for Config {
    /// Koffi 2.16.3's defaults, as its binary reports them.
    fn default() -> Self {
        Config {
            sync_stack_size: 1 << 20,
            sync_heap_size: 2 << 20,
            async_stack_size: 128 << 10,
            async_heap_size: 128 << 10,
            resident_async_pools: 4,
            max_async_calls: 256,
            max_type_size: 64 << 20,
        }
    }
}

/// JS helpers that index.js hands to the native module at load (`_setup`).
#[derive(Default)]
pub struct Helpers {
    /// The private symbol under which union instances keep their state.
    pub union_state: Option<napi_ref>,
    /// `(typeValue, introspection, arrayBuffer) => unionInstance`.
    pub make_union: Option<napi_ref>,
    /// `(fn, variadic) => void`: defines the lazy `info`/`async` accessors of a function.
    pub decorate: Option<napi_ref>,
}

/// Everything one environment owns.
pub struct Instance {
    /// The named-type registry.
    pub reg: RefCell<Registry>,
    /// Current settings.
    pub config: Cell<Config>,
    /// The synchronous call memory, mapped by the first `koffi.load` (spec LIB-07).
    memory: UnsafeCell<Option<Box<CallMemory>>>,
    /// Disposer invocations (`stats().disposed`).
    pub disposed: Cell<u64>,
    /// JS disposer functions, indexed by `Disposer::Js`.
    pub disposers: RefCell<Vec<napi_ref>>,
    /// Property keys of record members (see `js::keys`).
    pub member_keys: MemberKeys,
    /// Introspection objects, one per type (spec TS-11).
    pub introspected: RefCell<HashMap<TypeId, napi_ref>>,
    /// Temporaries made by `koffi.encode`, kept per destination address (spec MEM-10).
    pub encoded: RefCell<HashMap<usize, Vec<Box<[u64]>>>>,
    /// JS helpers from index.js.
    pub helpers: RefCell<Helpers>,
    /// Type id count of built-ins (their values survive `reset`).
    pub builtin_count: u32,
    /// `char`, `char16_t` and `char32_t`: the pointee tags of the string kinds, by width / 2.
    pub chars: [TypeId; 3],
    /// What the environment's callbacks share with it, and what outlives it (see `lifeline`).
    pub link: Arc<Lifeline>,
    /// The JS thread's `errno` slot (looked up once: every synchronous call saves it).
    pub errno: *mut i32,
    /// Relay descriptions of prototypes used by callbacks.
    pub protos: RefCell<HashMap<TypeId, Arc<Proto>>>,
    /// Registered callbacks by trampoline slot.
    pub registered: RefCell<HashMap<u32, Arc<JsHandler>>>,
    /// An exception thrown by a callback, to rethrow when C returns (spec CB-08).
    pub pending_exception: RefCell<Option<napi_ref>>,
    /// The frame of the innermost synchronous call in progress (NULL outside calls): a callback
    /// reached during it runs JS just below that call's thunk, on the thread's own stack.
    pub current_frame: Cell<*const CallFrame>,
    /// Set by a callback relayed during a call: calls returning then release what callbacks
    /// left behind for them (result temporaries, returned transient callbacks).
    pub relayed: Cell<bool>,
    /// Temporaries of callback results relayed during synchronous calls, with the call (its
    /// frame) they were relayed in: released when that call returns. Innermost last.
    pub callback_temps: RefCell<Vec<(*const CallFrame, Temps)>>,
    /// Transient callbacks returned by callbacks during synchronous calls, likewise.
    pub callback_transients: RefCell<Vec<(*const CallFrame, Transient)>>,
    /// Transient callbacks returned by callbacks relayed outside calls (from other threads or
    /// the event loop), by calling thread: released at that thread's next such callback.
    pub thread_transients: RefCell<HashMap<std::thread::ThreadId, Vec<Transient>>>,
    /// Handle scopes that callbacks relayed during synchronous calls share (see
    /// `calls::relay`), innermost last.
    pub relay_scopes: RefCell<Vec<RelayScope>>,
    /// The environment's poll handles (see `loop_handles`), NULL until the first one.
    pub polls: Cell<*const LoopHandles>,
    /// Libraries unloaded from inside a synchronous call, closed when the outermost call returns.
    pub deferred_unloads: RefCell<Vec<Arc<LibHandle>>>,
    /// Idle resident block sets for async calls (spec CFG-05). Boxed: a call in flight points at
    /// its block set while owning it, so it must not move.
    #[allow(clippy::vec_box, reason = "the CallMemory's address must stay put while a call uses it")]
    pub async_pool: RefCell<Vec<Box<CallMemory>>>,
    /// Async calls running or queued (limited by `max_async_calls`, spec CALL-08).
    pub async_running: Cell<usize>,
    /// What brings finished async calls back to this environment (made on first use).
    pub async_done: RefCell<Option<Arc<GuardedTsfn>>>,
    /// The tagged-value layout the setup probe confirmed, if it did (see `js::tagged`).
    pub tagged: Cell<Option<Tagged>>,
    /// The handle of the lean path's small-integer results (see `Tagged::smi_result`).
    pub result_slot: Cell<usize>,
}

impl Drop for Instance {
    /// The environment's teardown (worker end, Node's exit): first nothing C calls may reach it
    /// any more, then what it owned goes.
    fn drop(&mut self) {
        self.link.end();
        // C may still hold pointers to this environment's trampolines: make them inert.
        callbacks::retire_all(self);
    }
}

impl Instance {
    /// A fresh instance with the built-in types.
    pub fn new() -> Instance {
        let reg = Registry::new(DataModel::native());
        let builtin_count = reg.builtin_count();
        let char_id = |name: &str| reg.lookup(name).unwrap_or(crate::types::VOID);
        let chars = [char_id("char"), char_id("char16_t"), char_id("char32_t")];
        Instance {
            chars,
            link: Lifeline::new(),
            errno: crate::call::errno::errno_slot(),
            member_keys: Default::default(),
            protos: RefCell::new(HashMap::new()),
            registered: RefCell::new(HashMap::new()),
            pending_exception: RefCell::new(None),
            current_frame: Cell::new(std::ptr::null()),
            relayed: Cell::new(false),
            callback_temps: RefCell::new(Vec::new()),
            callback_transients: RefCell::new(Vec::new()),
            thread_transients: RefCell::new(HashMap::new()),
            relay_scopes: RefCell::new(Vec::new()),
            polls: Cell::new(std::ptr::null()),
            deferred_unloads: RefCell::new(Vec::new()),
            async_pool: RefCell::new(Vec::new()),
            async_running: Cell::new(0),
            async_done: RefCell::new(None),
            tagged: Cell::new(None),
            result_slot: Cell::new(0),
            reg: RefCell::new(reg),
            config: Cell::new(Config::default()),
            memory: UnsafeCell::new(None),
            disposed: Cell::new(0),
            disposers: RefCell::new(Vec::new()),
            introspected: RefCell::new(HashMap::new()),
            encoded: RefCell::new(HashMap::new()),
            helpers: RefCell::new(Helpers::default()),
            builtin_count,
        }
    }

    /// The instance of `env`.
    #[inline]
    pub fn of(env: Env) -> JsResult<&'static Instance> {
        let mut data = std::ptr::null_mut();
        // SAFETY: valid env; the instance data is set at module registration.
        let status = unsafe { sys::napi_get_instance_data(env.0, &mut data) };
        if status != sys::Status::napi_ok || data.is_null() {
            return Err(error("koffi-rs is not initialised in this environment"));
        }
        // SAFETY: set by `install` to a leaked Box<Instance> that lives until the environment's
        // teardown, after which no JS (and so no call into us) runs in it.
        Ok(unsafe { &*(data as *const Instance) })
    }

    /// Stores a new instance as `env`'s instance data, freed at the environment's teardown.
    pub fn install(env: napi_env) -> JsResult<&'static Instance> {
        let inst = Box::into_raw(Box::new(Instance::new()));
        // SAFETY: valid env; ownership of `inst` passes to Node.
        let status = unsafe {
            sys::napi_set_instance_data(env, inst as *mut _, Some(drop_boxed::<Instance>), std::ptr::null_mut())
        };
        if status != sys::Status::napi_ok {
            // SAFETY: not handed over, still ours.
            drop(unsafe { Box::from_raw(inst) });
            return Err(error("Failed to set instance data"));
        }
        // SAFETY: just installed; lives until teardown.
        Ok(unsafe { &*inst })
    }

    /// A shared handle on a type.
    #[inline]
    pub fn type_info(&self, id: TypeId) -> Arc<TypeInfo> {
        self.reg.borrow().get_arc(id)
    }

    /// Whether the synchronous call memory exists (a library was loaded: spec CFG-03).
    pub fn memory_ready(&self) -> bool {
        // SAFETY: a shared read of the Option's discriminant; no &mut is live (JS thread only,
        // and `memory()` hands out raw pointers, never references).
        unsafe { (*self.memory.get()).is_some() }
    }

    /// Maps the synchronous call memory if it is not yet mapped.
    pub fn ensure_memory(&self) -> JsResult<()> {
        if !self.memory_ready() {
            let cfg = self.config.get();
            let mem = CallMemory::new(cfg.sync_stack_size, cfg.sync_heap_size).map_err(|e| error(e.to_string()))?;
            // SAFETY: JS thread only, no reference into the cell is live.
            unsafe { *self.memory.get() = Some(Box::new(mem)) };
        }
        Ok(())
    }

    /// The call memory as a raw pointer if it is mapped already (the lean entry's check).
    #[inline(always)]
    pub fn memory_if_mapped(&self) -> Option<*mut CallMemory> {
        // SAFETY: JS thread only; the Box gives a stable address and no reference is live.
        unsafe { (*self.memory.get()).as_deref_mut().map(|m| m as *mut CallMemory) }
    }

    /// The call memory as a raw pointer. Calls nest (a getter or callback may call C again
    /// while a call is being prepared), so callers never hold a `&mut` across JS code: they
    /// take short-lived references through this pointer.
    #[inline(always)]
    pub fn memory(&self) -> JsResult<*mut CallMemory> {
        // SAFETY: JS thread only; the Box gives a stable address and no reference is live.
        if let Some(m) = unsafe { (*self.memory.get()).as_deref_mut() } {
            return Ok(m as *mut CallMemory);
        }
        self.ensure_memory()?;
        // SAFETY: initialised just above.
        Ok(unsafe { (*self.memory.get()).as_deref_mut().map(|m| m as *mut CallMemory).unwrap_or(std::ptr::null_mut()) })
    }

    /// A JS helper registered by index.js.
    pub fn helper(&self, env: Env, pick: impl Fn(&Helpers) -> Option<napi_ref>) -> JsResult<Value> {
        let r = pick(&self.helpers.borrow()).ok_or_else(|| error("koffi-rs JS helpers are not installed"))?;
        env.deref(r)
    }
}
