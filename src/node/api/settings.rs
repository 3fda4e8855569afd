//! Settings, statistics, errno and reset (spec §13), and the hook through which index.js hands
//! its JS helpers to the native module.

use crate::call::errno;
use crate::node::instance::callbacks::reset_broker;
use crate::node::instance::{Config, Instance};
use crate::node::js::callinfo::probe_direct_data;
use crate::node::js::tagged::Tagged;
use crate::node::js::{error, type_error, Args, Env, JsResult, JsType, Value};

/// (name, minimum, maximum) of each setting, in `config()` order (spec §13 table).
const LIMITS: [(&str, usize, usize); 7] = [
    ("sync_stack_size", 1 << 10, 16 << 20),
    ("sync_heap_size", 1 << 10, 16 << 20),
    ("async_stack_size", 1 << 10, 16 << 20),
    ("async_heap_size", 1 << 10, 16 << 20),
    ("resident_async_pools", 0, 16),
    ("max_async_calls", 0, 4096),
    ("max_type_size", 32, 512 << 20),
];

fn get(cfg: &Config, key: &str) -> usize {
    match key {
        "sync_stack_size" => cfg.sync_stack_size,
        "sync_heap_size" => cfg.sync_heap_size,
        "async_stack_size" => cfg.async_stack_size,
        "async_heap_size" => cfg.async_heap_size,
        "resident_async_pools" => cfg.resident_async_pools,
        "max_async_calls" => cfg.max_async_calls,
        _ => cfg.max_type_size,
    }
}

fn set(cfg: &mut Config, key: &str, v: usize) {
    match key {
        "sync_stack_size" => cfg.sync_stack_size = v,
        "sync_heap_size" => cfg.sync_heap_size = v,
        "async_stack_size" => cfg.async_stack_size = v,
        "async_heap_size" => cfg.async_heap_size = v,
        "resident_async_pools" => cfg.resident_async_pools = v,
        "max_async_calls" => cfg.max_async_calls = v,
        _ => cfg.max_type_size = v,
    }
}

fn config_object(env: Env, cfg: &Config) -> JsResult<Value> {
    let obj = env.object()?;
    for (key, _, _) in LIMITS {
        env.set(obj, key, env.double(get(cfg, key) as f64)?)?;
    }
    Ok(obj)
}

/// `koffi.config()` / `koffi.config(obj)` (spec CFG-01..CFG-04).
pub fn config(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let mut cfg = inst.config.get();
    if args.len() == 0 || matches!(env.type_of(args.at(0))?, JsType::Undefined) {
        return config_object(env, &cfg);
    }
    let obj = args.at(0);
    if env.type_of(obj)? != JsType::Object || env.is_array(obj)? {
        return Err(type_error(format!("Unexpected {} value for config, expected object", env.type_name(obj))));
    }
    if inst.memory_ready() {
        return Err(error("Cannot change Koffi configuration once a library has been loaded"));
    }
    for key in env.own_keys(obj)? {
        let name = env.get_string(key)?;
        let Some(&(_, min, max)) = LIMITS.iter().find(|(k, _, _)| *k == name) else {
            return Err(error(format!("Unexpected config member '{name}'")));
        };
        let v = env.get_prop(obj, key)?;
        if env.type_of(v)? != JsType::Number {
            return Err(type_error(format!("Unexpected {} value for '{name}', expected number", env.type_name(v))));
        }
        let n = env.get_f64(v)?;
        if !(n >= min as f64 && n <= max as f64) {
            let (lo, hi) = if name.ends_with("_size") {
                (human_size(min), human_size(max))
            } else {
                (min.to_string(), max.to_string())
            };
            return Err(error(format!("Setting '{name}' must be between {lo} and {hi}")));
        }
        set(&mut cfg, &name, n as usize);
    }
    if cfg.max_async_calls < cfg.resident_async_pools {
        return Err(error("Setting max_async_calls must be >= resident_async_pools"));
    }
    inst.config.set(cfg);
    inst.reg.borrow_mut().max_type_size = cfg.max_type_size;
    config_object(env, &cfg)
}

/// Sizes as upstream's messages print them: `32 B`, `1 kiB`, `16 MiB`.
fn human_size(n: usize) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} kiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

/// `koffi.stats()` (spec STAT-01).
pub fn stats(env: Env, _args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let obj = env.object()?;
    env.set(obj, "disposed", env.double(inst.disposed.get() as f64)?)?;
    // Koffi 3.x's `callbacks` (spec EXT-08): trampolines in use, process-wide.
    env.set(obj, "callbacks", env.double(crate::callback::in_use() as f64)?)?;
    Ok(obj)
}

/// `koffi.errno()` / `koffi.errno(value)` (spec ERRNO-01).
pub fn errno(env: Env, args: &Args) -> JsResult<Value> {
    if args.len() >= 1 {
        let v = args.at(0);
        if env.type_of(v)? != JsType::Number {
            return Err(type_error(format!("Unexpected {} value for errno, expected integer", env.type_name(v))));
        }
        errno::set_errno(env.get_f64(v)? as i32);
    }
    env.int32(errno::errno())
}

/// `koffi.reset()` (spec RESET-01).
pub fn reset(env: Env, _args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    inst.reg.borrow_mut().reset();
    inst.protos.borrow_mut().clear();
    reset_broker(env, inst)?;
    for (_, r) in inst.introspected.borrow_mut().drain() {
        // SAFETY: valid env and a reference we created.
        unsafe { ::napi::sys::napi_delete_reference(env.0, r) };
    }
    env.undefined()
}

/// `_setup({ unionState, makeUnion })`: index.js's helpers for union instances.
pub fn setup(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let obj = args.at(0);
    let mut helpers = inst.helpers.borrow_mut();
    helpers.union_state = Some(env.reference(env.get(obj, "unionState")?)?);
    helpers.make_union = Some(env.reference(env.get(obj, "makeUnion")?)?);
    helpers.decorate = Some(env.reference(env.get(obj, "decorate")?)?);
    drop(helpers);
    if env.get(obj, "isNode").and_then(|v| env.get_bool(v)).unwrap_or(false) {
        probe_direct_data(env)?;
        // KOFFI_RS_TAGGED=0 keeps every value on Node-API (the tests compare both ways).
        if std::env::var_os("KOFFI_RS_TAGGED").map_or(true, |v| v != "0") {
            let literals = env.get(obj, "literals")?;
            let n = env.array_length(literals)?;
            let literals = (0..n).map(|i| env.get_element(literals, i)).collect::<JsResult<Vec<_>>>()?;
            inst.tagged.set(Tagged::probe(env, &literals, &inst.result_slot));
        }
    }
    env.undefined()
}

/// `koffi.os.errno`: the C library's `E…` constants (spec ERRNO-02).
pub fn errno_constants(env: Env) -> JsResult<Value> {
    let obj = env.object()?;
    for (name, value) in ERRNO.iter().chain(ERRNO_LINUX) {
        env.set(obj, name, env.int32(*value)?)?;
    }
    Ok(obj)
}

macro_rules! errno_table {
    ($($name:ident),* $(,)?) => { &[$((stringify!($name), libc::$name)),*] };
}

/// The `E…` constants every POSIX C library defines.
const ERRNO: &[(&str, i32)] = errno_table!(
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    EDOM,
    ERANGE,
    EDEADLK,
    ENAMETOOLONG,
    ENOLCK,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    EWOULDBLOCK,
    EINPROGRESS,
    EALREADY,
    ENOTSOCK,
    EADDRINUSE,
    ECONNREFUSED,
    ECONNRESET,
    ETIMEDOUT,
    EHOSTUNREACH,
);

/// The ones glibc and musl add on Linux.
#[cfg(target_os = "linux")]
const ERRNO_LINUX: &[(&str, i32)] = errno_table!(
    ENOTBLK,
    ETXTBSY,
    ENOMSG,
    EIDRM,
    ECHRNG,
    EL2NSYNC,
    EL3HLT,
    EL3RST,
    ELNRNG,
    EUNATCH,
    ENOCSI,
    EL2HLT,
    EBADE,
    EBADR,
    EXFULL,
    ENOANO,
    EBADRQC,
    EBADSLT,
    EDEADLOCK,
    EBFONT,
    ENOSTR,
    ENODATA,
    ETIME,
    ENOSR,
    ENONET,
    ENOPKG,
    EREMOTE,
    ENOLINK,
    EADV,
    ESRMNT,
    ECOMM,
    EPROTO,
    EMULTIHOP,
    EDOTDOT,
    EBADMSG,
    EOVERFLOW,
    ENOTUNIQ,
    EBADFD,
    EREMCHG,
    ELIBACC,
    ELIBBAD,
    ELIBSCN,
    ELIBMAX,
    ELIBEXEC,
    EILSEQ,
    ERESTART,
    ESTRPIPE,
    EUSERS,
    EDESTADDRREQ,
    EMSGSIZE,
    EPROTOTYPE,
    ENOPROTOOPT,
    EPROTONOSUPPORT,
    ESOCKTNOSUPPORT,
    EOPNOTSUPP,
    ENOTSUP,
    EPFNOSUPPORT,
    EAFNOSUPPORT,
    EADDRNOTAVAIL,
    ENETDOWN,
    ENETUNREACH,
    ENETRESET,
    ECONNABORTED,
    ENOBUFS,
    EISCONN,
    ENOTCONN,
    ESHUTDOWN,
    ETOOMANYREFS,
    EHOSTDOWN,
    ESTALE,
    EUCLEAN,
    ENOTNAM,
    ENAVAIL,
    EISNAM,
    EREMOTEIO,
    EDQUOT,
    ENOMEDIUM,
    EMEDIUMTYPE,
    ECANCELED,
    ENOKEY,
    EKEYEXPIRED,
    EKEYREVOKED,
    EKEYREJECTED,
    EOWNERDEAD,
    ENOTRECOVERABLE,
    ERFKILL,
    EHWPOISON,
);
#[cfg(not(target_os = "linux"))]
const ERRNO_LINUX: &[(&str, i32)] = &[];
