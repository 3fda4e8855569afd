//! Raw memory and pointer helpers: `alloc`, `free`, `decode`, `encode`, `address`, `view` and
//! `call` (spec §12).

use crate::node::calls::callable::Callable;
use crate::node::calls::entry::{call as call_c, function_object};
use crate::node::convert::handles::{pointer_address, pointer_value};
use crate::node::convert::spec::resolve_spec;
use crate::node::convert::{self, strings, Ctx};
use crate::node::instance::Instance;
use crate::node::js::limits;
use crate::node::js::{error, range_error, type_error, Args, Env, JsResult, JsType, Value};
use crate::types::{Detail, Primitive, TypeInfo};

/// Where `decode`/`encode` read or write: an address, and for JS buffers their length.
struct Target {
    addr: u64,
    limit: Option<usize>,
}

fn target(env: Env, v: Value, offset: f64, what: &str) -> JsResult<Target> {
    match env.type_of(v)? {
        JsType::External => {
            let Some(addr) = pointer_address(env, v, None)? else {
                return Err(type_error(format!("Unexpected Type value for {what}, expected external or TypedArray")));
            };
            Ok(Target { addr: if addr == 0 { 0 } else { addr.wrapping_add(offset as i64 as u64) }, limit: None })
        }
        JsType::Object => match env.buffer_data(v)? {
            Some((data, len)) => {
                if offset < 0.0 {
                    return Err(error("Offset must be >= 0"));
                }
                let offset = offset as usize;
                Ok(Target { addr: (data as u64).wrapping_add(offset as u64), limit: Some(len.saturating_sub(offset)) })
            }
            None => Err(type_error(format!(
                "Unexpected {} value for {what}, expected external or TypedArray",
                env.type_name(v)
            ))),
        },
        _ => Err(type_error(format!(
            "Unexpected {} value for {what}, expected external or TypedArray",
            env.type_name(v)
        ))),
    }
}

fn check_room(t: &Target, info: &TypeInfo, size: usize) -> JsResult<()> {
    if let Some(limit) = t.limit {
        if limit < size {
            return Err(error(format!(
                "Expected buffer with size superior or equal to type {} ({} bytes)",
                info.name, size
            )));
        }
    }
    Ok(())
}

fn number_arg(env: Env, v: Value) -> JsResult<Option<f64>> {
    Ok(if env.type_of(v)? == JsType::Number { Some(env.get_f64(v)?) } else { None })
}

/// `koffi.decode(source, [offset,] type, [length])` (spec MEM-01..MEM-07).
pub fn decode(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    if args.len() < 2 {
        return Err(type_error(format!("Expected 2 to 4 arguments, got {}", args.len())));
    }
    let (offset, ty_at) = match number_arg(env, args.at(1))? {
        Some(o) if args.len() >= 3 => (o, 2),
        _ => (0.0, 1),
    };
    let length = if args.len() > ty_at + 1 { number_arg(env, args.at(ty_at + 1))? } else { None };
    let (id, _) = resolve_spec(env, inst, args.at(ty_at))?;
    let info = inst.type_info(id);
    let t = target(env, args.at(0), offset, "variable")?;
    if let Detail::Proto(sig) = &info.detail {
        if sig.variadic {
            return Err(type_error("Cannot decode variadic function pointers"));
        }
        let mut sig = (**sig).clone();
        sig.name = String::new();
        let callable = Callable::new(inst, sig, t.addr as usize as *const _, None)?;
        return function_object(env, inst, callable);
    }
    if (info.primitive == Primitive::Void) || info.is_opaque() {
        return Err(type_error(format!("Cannot decode value of type {}", info.name)));
    }
    if t.addr == 0 {
        return env.null();
    }
    let mut ctx = Ctx::persistent(env, inst);
    ctx.dispose = false;
    let src = t.addr as usize as *const u8;
    if info.primitive.is_string() {
        check_room(&t, &info, info.size)?;
        // SAFETY: the user vouches for the address (no bounds check on pointers: MEM-02).
        let text = unsafe { convert::read_addr(src, info.size) } as usize as *const u8;
        let units = length.filter(|l| *l >= 0.0).map(|l| l as usize);
        // SAFETY: as above.
        return unsafe { strings::decode(env, text, convert::string_width(info.primitive), units) };
    }
    match length {
        Some(len) => {
            // Koffi reads NaN and ±Infinity as 0 (an Int32 conversion): a RangeError here.
            let count = if len.is_nan() || len >= 0.0 {
                limits::count_from_f64(len, "length")?
            } else {
                let ok = info.primitive.int_width().is_some_and(|(w, _, _)| w <= 4) || info.primitive.is_pointer_like();
                if !ok {
                    return Err(type_error(format!("Cannot determine null-terminated length for type {}", info.name)));
                }
                // SAFETY: the user vouches for a zero-terminated array at the address.
                unsafe { count_to_zero(src, info.size, t.limit) }
            };
            check_room(&t, &info, limits::bytes_of(count, info.size, "Length")?)?;
            let hint = inst.reg.borrow().default_hint(id);
            // SAFETY: bounds checked for buffers; pointers are the user's responsibility.
            unsafe { convert::decode_elements(&mut ctx, src, &info, count, hint) }
        }
        None => {
            check_room(&t, &info, info.size)?;
            // SAFETY: as above.
            unsafe { convert::decode(&mut ctx, src, &info) }
        }
    }
}

/// Elements before the first all-zero element.
///
/// # Safety
/// The memory must hold a zero element (or `limit` bytes) after `src`.
unsafe fn count_to_zero(src: *const u8, size: usize, limit: Option<usize>) -> usize {
    let max = limit.map(|l| l / size.max(1)).unwrap_or(usize::MAX);
    let mut n = 0;
    // SAFETY: forwarded from the caller.
    while n < max && unsafe { std::slice::from_raw_parts(src.add(n * size), size) }.iter().any(|b| *b != 0) {
        n += 1;
    }
    n
}

/// `koffi.encode(ref, [offset,] type, value, [length])` (spec MEM-08..MEM-10).
pub fn encode(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    if args.len() < 3 {
        return Err(type_error(format!("Expected 3 to 5 arguments, got {}", args.len())));
    }
    let offset_form = number_arg(env, args.at(1))?.is_some();
    if offset_form && args.len() < 4 {
        return Err(type_error(format!("Expected 4 to 5 arguments, got {}", args.len())));
    }
    let (offset, ty_at) = if offset_form { (number_arg(env, args.at(1))?.unwrap_or(0.0), 2) } else { (0.0, 1) };
    let (mut id, _) = resolve_spec(env, inst, args.at(ty_at))?;
    let value = args.at(ty_at + 1);
    if args.len() > ty_at + 2 {
        if let Some(len) = number_arg(env, args.at(ty_at + 2))? {
            if len < 0.0 {
                return Err(type_error("Automatic (negative) length is only supported when decoding"));
            }
            // NaN and infinite lengths are refused (Koffi reads them as 0); finite ones are
            // bounded by max_type_size in array_of.
            let len = limits::count_from_f64(len, "length")?;
            id = inst.reg.borrow_mut().array_of(id, len, None, None)?;
        }
    }
    let info = inst.type_info(id);
    let t = target(env, args.at(0), offset, "reference")?;
    if t.addr == 0 {
        return Err(error("Cannot encode data in NULL pointer"));
    }
    check_room(&t, &info, info.size)?;
    if info.primitive == Primitive::Callback && env.type_of(value)? == JsType::Function {
        return Err(error("Cannot encode non-registered callback"));
    }
    if info.size == 0 {
        return Err(type_error(format!("Cannot encode value of type {}", info.name)));
    }
    let mut ctx = Ctx::persistent(env, inst);
    convert::encode(&mut ctx, value, &info, t.addr as usize as *mut u8)?;
    // Temporaries (strings, arrays) live as long as the destination may point at them: until
    // the next encode at the same address (spec MEM-10).
    let kept = ctx.into_kept();
    let mut encoded = inst.encoded.borrow_mut();
    if kept.is_empty() {
        encoded.remove(&(t.addr as usize));
    } else {
        encoded.insert(t.addr as usize, kept);
    }
    env.undefined()
}

/// `koffi.address(value)` (spec MEM-11).
pub fn address(env: Env, args: &Args) -> JsResult<Value> {
    expect_args(args, 1)?;
    let v = args.at(0);
    let addr = match env.type_of(v)? {
        JsType::Null | JsType::Undefined => 0,
        _ => pointer_or_buffer(env, v)?.0,
    };
    env.bigint_u64(addr)
}

/// Upstream's check of an API function's argument count (spec §14).
fn expect_args(args: &Args, n: usize) -> JsResult<()> {
    if args.len() < n {
        let s = if n == 1 { "" } else { "s" };
        return Err(type_error(format!("Expected {n} argument{s}, got {}", args.len())));
    }
    Ok(())
}

/// The address of a pointer value, or of a TypedArray's or ArrayBuffer's bytes with their
/// length (spec MEM-11): what `address`, `view` and `call` take as `ptr`.
fn pointer_or_buffer(env: Env, v: Value) -> JsResult<(u64, Option<usize>)> {
    let found = match env.type_of(v)? {
        JsType::External => pointer_address(env, v, None)?.map(|a| (a, None)),
        JsType::Object => env.buffer_data(v)?.map(|(data, len)| (data as u64, Some(len))),
        _ => None,
    };
    match found {
        Some(found) => Ok(found),
        None => {
            let name = if env.type_of(v)? == JsType::External { "Type" } else { env.type_name(v) };
            Err(type_error(format!("Unexpected {name} value for ptr, expected external pointer")))
        }
    }
}

/// `koffi.view(ptr, length)` (spec MEM-12): an ArrayBuffer aliasing native memory.
pub fn view(env: Env, args: &Args) -> JsResult<Value> {
    expect_args(args, 2)?;
    let v = args.at(0);
    let len = args.at(1);
    if env.type_of(len)? != JsType::Number {
        return Err(type_error(format!("Unexpected {} value for length, expected integer", env.type_name(len))));
    }
    let len = env.get_f64(len)?;
    if len < 0.0 || len.is_nan() {
        return Err(type_error("Array length must be positive and non-zero"));
    }
    // Infinity and lengths past 2^53 are refused here; past Node's own limit just below: both
    // would otherwise reach a fatal check inside V8 (Koffi 2.16.3 aborts on them).
    let len = limits::count_from_f64(len, "length")?;
    if len == 0 {
        return Ok(env.arraybuffer(0)?.0);
    }
    let max = limits::max_buffer_bytes(env);
    if len > max {
        return Err(range_error(format!("View length {len} is too high (max = {max})")));
    }
    let (addr, limit) = pointer_or_buffer(env, v)?;
    // A view of a JS buffer stays inside it and keeps it alive (upstream does neither: a
    // longer view reads past it, and one that outlives it reads freed memory).
    let (finalize, keep): (napi::sys::napi_finalize, napi::sys::napi_ref) = match limit {
        Some(limit) => {
            if len > limit {
                // As decode's bounds check (spec MEM-02).
                return Err(error(format!(
                    "Expected buffer with size superior or equal to view length ({len} bytes), got {limit} bytes"
                )));
            }
            (Some(release_reference), env.reference(v)?)
        }
        None => (None, std::ptr::null_mut()),
    };
    let mut out = std::ptr::null_mut();
    // SAFETY: JS thread, valid env; the memory is the caller's (or the kept buffer's).
    let status = unsafe {
        napi::sys::napi_create_external_arraybuffer(
            env.0,
            addr as usize as *mut _,
            len,
            finalize,
            keep as *mut _,
            &mut out,
        )
    };
    if status != napi::sys::Status::napi_ok {
        if !keep.is_null() {
            // SAFETY: the reference made above, not handed to anything.
            unsafe { napi::sys::napi_delete_reference(env.0, keep) };
        }
        return Err(env.failure(status));
    }
    Ok(out)
}

/// Finalizer of a view of a JS buffer: lets the buffer go.
unsafe extern "C" fn release_reference(
    env: napi::sys::napi_env,
    _data: *mut std::ffi::c_void,
    hint: *mut std::ffi::c_void,
) {
    // SAFETY: `hint` is the reference `view` made for this ArrayBuffer, deleted only here.
    unsafe { napi::sys::napi_delete_reference(env, hint as napi::sys::napi_ref) };
}

/// `koffi.alloc(type, count)` (spec MEM-13).
pub fn alloc(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    if args.len() < 2 {
        return Err(type_error(format!("Expected 2 arguments, got {}", args.len())));
    }
    let (id, _) = resolve_spec(env, inst, args.at(0))?;
    let count = args.at(1);
    if env.type_of(count)? != JsType::Number {
        return Err(type_error(format!("Unexpected {} value for length, expected number", env.type_name(count))));
    }
    let count = env.get_f64(count)?;
    if count.is_nan() || count < 1.0 {
        return Err(error("Size must be greater than 0"));
    }
    let info = inst.type_info(id);
    if info.size == 0 {
        return Err(type_error(format!("Cannot allocate memory for zero-sized type {}", info.name)));
    }
    let max = i32::MAX as usize / info.size;
    if count > max as f64 {
        return Err(error(format!("Cannot allocate more than {max} objects of type {}", info.name)));
    }
    let count = count as usize;
    limits::bytes_of(count, info.size, "Allocation")?;
    // SAFETY: calloc with a bounded size.
    let ptr = unsafe { libc::calloc(count, info.size) };
    if ptr.is_null() {
        return Err(error("Failed to allocate memory"));
    }
    pointer_value(env, ptr as usize as u64, id)
}

/// `koffi.free(ptr)` (spec MEM-14).
pub fn free(env: Env, args: &Args) -> JsResult<Value> {
    expect_args(args, 1)?;
    let v = args.at(0);
    match env.type_of(v)? {
        JsType::Null | JsType::Undefined => {}
        JsType::External => {
            let addr = pointer_address(env, v, None)?
                .ok_or_else(|| type_error("Unexpected Type value for ptr, expected external pointer"))?;
            // SAFETY: the user hands back memory from the C allocator (koffi.alloc or C).
            unsafe { libc::free(addr as usize as *mut libc::c_void) };
        }
        _ => {
            return Err(type_error(format!("Unexpected {} value for ptr, expected external pointer", env.type_name(v))))
        }
    }
    env.undefined()
}

/// `koffi.call(ptr, proto, ...args)` (spec MEM-15).
pub fn call(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    if args.len() < 2 {
        return Err(type_error(format!("Expected 2 or more arguments, got {}", args.len())));
    }
    let v = args.at(0);
    // A TypedArray or ArrayBuffer gives the address of its bytes (code written into memory
    // from `koffi.view`), as upstream; NULL is refused (upstream jumps to it).
    let addr = match env.type_of(v)? {
        JsType::Null | JsType::Undefined => None,
        _ => Some(pointer_or_buffer(env, v)?.0),
    }
    .filter(|a| *a != 0)
    .ok_or_else(|| type_error(format!("Unexpected {} value for ptr, expected external pointer", env.type_name(v))))?;
    let ty = args.at(1);
    let (id, _) = resolve_spec(env, inst, ty)?;
    let info = inst.type_info(id);
    let Some(sig) = info.proto() else {
        // Upstream names the argument's JS type here, not the type it resolved to.
        let name = if env.type_of(ty)? == JsType::External { "Type" } else { env.type_name(ty) };
        return Err(type_error(format!("Unexpected {name} value for type, expected function type")));
    };
    inst.ensure_memory()?;
    let callable = Callable::new(inst, sig.clone(), addr as usize as *const _, None)?;
    call_c(env, inst, &callable, &args.argv[2..])
}
