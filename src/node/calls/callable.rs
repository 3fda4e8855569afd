//! Declared functions (spec FN-15): a [`Callable`] is built once per declaration, with its
//! parameters' types and the [`CallPlan`](crate::abi::CallPlan) from the native ABI module.

use std::ffi::c_void;
use std::sync::Arc;

use super::plan::{FastPlan, ParamConv};
use crate::abi::{self, CallPlan, Signature};
use crate::node::convert::handles::type_value;
use crate::node::instance::libraries::LibHandle;
use crate::node::instance::Instance;
use crate::node::js::{error, type_error, Env, JsError, JsResult, Value};
use crate::types::{Direction, FuncSig, Param, TypeInfo};

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
    pub fast: Option<FastPlan>,
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

pub fn lower_sig(inst: &Instance, ret: &Param, params: &[Param], fixed: usize, variadic: bool) -> Signature {
    let reg = inst.reg.borrow();
    Signature {
        ret: abi::lower(&reg, ret.ty),
        params: params.iter().map(|p| abi::lower(&reg, p.ty)).collect(),
        fixed,
        variadic,
    }
}

pub fn classify(sig: &Signature) -> JsResult<CallPlan> {
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
        let fast = plan.as_ref().and_then(|p| FastPlan::new(&params, &ret, p));
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
