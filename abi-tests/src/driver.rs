//! The driver: every case through the engine, compared byte by byte with what C saw.

use std::ffi::c_void;
use std::fmt::Write;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use koffi_rs::abi::{self, AbiType, CallPlan, Scalar, Signature};
use koffi_rs::call::{call_bytes, CallFrame, CallMemory};
use koffi_rs::callback::{self, Handler};
use koffi_rs::types::{parse_type, DataModel, Detail, MemberSpec, Primitive, Registry, TypeId};

use crate::desc::{Case, Ty};

include!(concat!(env!("OUT_DIR"), "/fns.rs"));

/// Whether `KOFFI_ABI_TESTS_TRACE` is set: each case, its plan and each call are then named on
/// stderr before they run, so the last line printed names the one that crashed, if one does.
fn tracing() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("KOFFI_ABI_TESTS_TRACE").is_some())
}

/// Every case, one per line.
const CASES: &str = include_str!(concat!(env!("OUT_DIR"), "/cases.txt"));

extern "C" {
    static mut kffi_rec: [u8; 1 << 16];
    static mut kffi_rec_len: usize;
    static mut kffi_ret: [u8; 1 << 12];
    static mut kffi_cb_args: [u8; 1 << 16];
}

/// Builds a description's type in the registry, as `koffi.struct`/`koffi.union`/`koffi.array`
/// would.
fn build(reg: &mut Registry, ty: &Ty) -> Result<TypeId, String> {
    Ok(match ty {
        Ty::Scalar(s) => parse_type(reg, s.koffi_name()).map_err(|e| e.to_string())?,
        Ty::Struct { fields, .. } | Ty::Union(fields) => {
            let union = matches!(ty, Ty::Union(_));
            let packed = matches!(ty, Ty::Struct { packed: true, .. });
            let (id, _) = reg.begin_record(None, None, union).map_err(|e| e.to_string())?;
            let mut members = Vec::new();
            for (i, f) in fields.iter().enumerate() {
                let ty = build(reg, f)?;
                members.push(MemberSpec { name: reg.member_name(&format!("m{i}")), ty, align: None });
            }
            reg.finish_record(id, members, packed).map_err(|e| e.to_string())?;
            id
        }
        Ty::Array(e, n) => {
            let e = build(reg, e)?;
            reg.array_of(e, *n, None, None).map_err(|e| e.to_string())?
        }
    })
}

/// One scalar inside a value: where it is and how to name it in a report.
struct Leaf {
    offset: usize,
    size: usize,
    is_bool: bool,
    path: String,
}

fn leaves(reg: &Registry, id: TypeId, base: usize, path: &str, out: &mut Vec<Leaf>) {
    let info = reg.get(id);
    match &info.detail {
        Detail::Record { members } | Detail::Union { members } => {
            for m in members {
                leaves(reg, m.ty, base + m.offset, &format!("{path}.{}", m.name), out);
            }
        }
        Detail::Array { elem, len, .. } => {
            let size = reg.get(*elem).size;
            for i in 0..*len {
                leaves(reg, *elem, base + i * size, &format!("{path}[{i}]"), out);
            }
        }
        _ => out.push(Leaf {
            offset: base,
            size: info.size,
            is_bool: info.primitive == Primitive::Bool,
            path: path.into(),
        }),
    }
}

/// The byte that argument `arg`, leaf `leaf`, byte `byte` carries: never 0, and different for
/// neighbouring arguments, leaves and bytes, so that a misplaced byte says where it came from.
fn pattern(arg: usize, leaf: usize, byte: usize) -> u8 {
    ((arg * 73 + leaf * 29 + byte * 7 + 0x31) % 251 + 1) as u8
}

/// A value's expected bytes, which of them are meaningful (not padding), and their origin.
struct Value {
    bytes: Vec<u8>,
    meaningful: Vec<bool>,
    origin: Vec<String>,
}

fn fill(reg: &Registry, id: TypeId, arg: usize, name: &str) -> Value {
    let size = reg.get(id).size;
    let mut v = Value { bytes: vec![0; size], meaningful: vec![false; size], origin: vec![String::new(); size] };
    let mut list = Vec::new();
    leaves(reg, id, 0, name, &mut list);
    for (l, leaf) in list.iter().enumerate() {
        for b in 0..leaf.size {
            let at = leaf.offset + b;
            v.bytes[at] = if leaf.is_bool { ((arg + l) & 1) as u8 } else { pattern(arg, l, b) };
            v.meaningful[at] = true;
            v.origin[at] = format!("{} byte {b}", leaf.path);
        }
    }
    v
}

/// Names every origin that would have produced `byte` in this case (a hint for reports).
fn whence(values: &[(String, Value)], byte: u8) -> String {
    let hits: Vec<String> = values
        .iter()
        .flat_map(|(_, v)| {
            (0..v.bytes.len())
                .filter(move |i| v.meaningful[*i] && v.bytes[*i] == byte)
                .map(move |i| v.origin[i].clone())
        })
        .take(3)
        .collect();
    if hits.is_empty() {
        "no argument carries it".into()
    } else {
        format!("carried by {}", hits.join(", "))
    }
}

struct Outcome {
    calls: usize,
    callbacks: usize,
    failures: Vec<String>,
}

/// The Rust end of the reverse direction: checks every byte C passed to the callback and
/// returns the result pattern.
struct Checker {
    plan: CallPlan,
    args: Vec<(String, Value)>,
    ret: Option<Vec<u8>>,
    calls: AtomicUsize,
    failures: Mutex<Vec<String>>,
}

impl Handler for Checker {
    fn invoke(&self, frame: &mut CallFrame) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut report = String::new();
        for ((name, v), loc) in self.args.iter().zip(&self.plan.args) {
            let mut got = vec![0u8; v.bytes.len()];
            // SAFETY: the trampoline spilled a call of this signature.
            unsafe { frame.load_arg(loc, got.as_mut_ptr(), got.len()) };
            for (i, g) in got.iter().enumerate() {
                if v.meaningful[i] && *g != v.bytes[i] && report.len() < 600 {
                    let _ = write!(
                        report,
                        "\n    callback {name}, {}: C passed {:#04x}, the handler read {g:#04x}",
                        v.origin[i], v.bytes[i]
                    );
                }
            }
        }
        if let Some(bytes) = &self.ret {
            // SAFETY: as above; `bytes` holds the whole result.
            unsafe { frame.store_result(&self.plan.ret, bytes.as_ptr(), bytes.len()) };
        }
        if !report.is_empty() {
            self.failures.lock().unwrap_or_else(|e| e.into_inner()).push(report);
        }
    }
}

fn run_case(index: usize, case: &Case, layout_at: usize, mem: &mut CallMemory, out: &mut Outcome) {
    let mut reg = Registry::new(DataModel::native());
    let describe = || format!("{} [{}]", case.name, case.to_line());
    let types: Result<Vec<Option<TypeId>>, String> = std::iter::once(case.ret.as_ref())
        .chain(case.params.iter().map(Some))
        .map(|t| t.map(|t| build(&mut reg, t)).transpose())
        .collect();
    let types = match types {
        Ok(t) => t,
        Err(e) => return out.failures.push(format!("{}: cannot build types: {e}", describe())),
    };
    // The registry's layout must be the C compiler's (sizeof and _Alignof of every type).
    for (j, t) in types.iter().enumerate() {
        let (size, align) = t.map(|id| (reg.get(id).size, reg.get(id).align)).unwrap_or((0, 0));
        // SAFETY: kffi_layout has two entries per type of every case, in order.
        let (c_size, c_align) =
            unsafe { (kffi_layout[layout_at + 2 * j] as usize, kffi_layout[layout_at + 2 * j + 1] as usize) };
        if (size, align) != (c_size, c_align) {
            let what = if j == 0 { "result".to_string() } else { format!("argument {j}") };
            out.failures.push(format!(
                "{}: layout of the {what}: koffi-rs says size {size} align {align}, C says size {c_size} align {c_align}",
                describe()
            ));
            return;
        }
    }
    let ret_id = types[0];
    let params: Vec<TypeId> = types[1..].iter().map(|t| t.expect("parameters are never void")).collect();
    let sig = Signature {
        ret: ret_id.map(|id| abi::lower(&reg, id)).unwrap_or(abi::AbiType::Void),
        params: params.iter().map(|id| abi::lower(&reg, *id)).collect(),
        fixed: case.fixed.unwrap_or(params.len()),
        variadic: case.fixed.is_some(),
    };
    let plan = match abi::native::classify(&sig) {
        Ok(p) => p,
        Err(e) => return out.failures.push(format!("{}: classification failed: {e}", describe())),
    };
    let args: Vec<(String, Value)> = params
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("argument {}", i + 1), fill(&reg, *id, i, &format!("a{}", i + 1))))
        .collect();
    let ret = ret_id.map(|id| fill(&reg, id, 200, "result"));
    if tracing() {
        eprintln!("    plan: {plan:?}");
    }
    let arg_bytes: Vec<&[u8]> = args.iter().map(|(_, v)| v.bytes.as_slice()).collect();
    for (level, f) in FUNCS[index].iter().enumerate() {
        let opt = if level == 0 { "-O0" } else { "-O2" };
        let mut received = vec![0u8; ret.as_ref().map(|r| r.bytes.len()).unwrap_or(0)];
        // SAFETY: single-threaded test; the buffers are only touched by the called C function.
        unsafe {
            kffi_rec_len = 0;
            if let Some(r) = &ret {
                std::ptr::copy_nonoverlapping(
                    r.bytes.as_ptr(),
                    std::ptr::addr_of_mut!(kffi_ret) as *mut u8,
                    r.bytes.len(),
                );
            }
        }
        if tracing() {
            eprintln!("    call {opt}");
        }
        // SAFETY: the C function was generated from the same description as the plan.
        let result = unsafe { call_bytes(mem, *f as *const c_void, &plan, &arg_bytes, &mut received) };
        out.calls += 1;
        if let Err(e) = result {
            out.failures.push(format!("{} {opt}: call failed: {e}", describe()));
            continue;
        }
        // SAFETY: as above; the C function has returned.
        let rec: Vec<u8> =
            unsafe { std::slice::from_raw_parts(std::ptr::addr_of!(kffi_rec) as *const u8, kffi_rec_len).to_vec() };
        let mut report = String::new();
        let expected_len: usize = args.iter().map(|(_, v)| v.bytes.len()).sum();
        if rec.len() != expected_len {
            let _ = write!(report, "\n    C recorded {} bytes of arguments, expected {expected_len}", rec.len());
        }
        let mut at = 0;
        let mut mismatches = 0;
        for (name, v) in &args {
            for i in 0..v.bytes.len() {
                let got = rec.get(at + i).copied().unwrap_or(0);
                if v.meaningful[i] && got != v.bytes[i] && mismatches < 6 {
                    mismatches += 1;
                    let _ = write!(
                        report,
                        "\n    {name}, {}: expected {:#04x}, C received {got:#04x} ({})",
                        v.origin[i],
                        v.bytes[i],
                        whence(&args, got)
                    );
                }
            }
            at += v.bytes.len();
        }
        if let Some(r) = &ret {
            for (i, got) in received.iter().enumerate() {
                if r.meaningful[i] && *got != r.bytes[i] && mismatches < 8 {
                    mismatches += 1;
                    let _ = write!(
                        report,
                        "\n    {}: C returned {:#04x}, the engine read {got:#04x}",
                        r.origin[i], r.bytes[i]
                    );
                }
            }
        }
        if !report.is_empty() {
            out.failures.push(format!("{} {opt}:{report}\n    plan: {plan:?}", describe()));
        }
    }
    if let Some(callers) = CALLERS[index] {
        run_callback(&describe(), callers, &plan, args, ret, mem, out);
    }
}

/// The reverse direction: C (compiled at -O0 and -O2) calls a Rust handler through a trampoline
/// with the case's signature; the handler checks the argument bytes and returns the pattern.
fn run_callback(
    describe: &str,
    callers: [unsafe extern "C" fn(); 2],
    plan: &CallPlan,
    args: Vec<(String, Value)>,
    ret: Option<Value>,
    mem: &mut CallMemory,
    out: &mut Outcome,
) {
    let expected_ret = ret.as_ref().map(|v| (v.bytes.clone(), v.meaningful.clone(), v.origin.clone()));
    let packed: Vec<u8> = args.iter().flat_map(|(_, v)| v.bytes.iter().copied()).collect();
    let checker = Arc::new(Checker {
        plan: plan.clone(),
        args,
        ret: ret.map(|v| v.bytes),
        calls: AtomicUsize::new(0),
        failures: Mutex::new(Vec::new()),
    });
    let (slot, fnptr) = match callback::register(checker.clone()) {
        Ok(r) => r,
        Err(e) => return out.failures.push(format!("{describe}: {e}")),
    };
    // A data pointer, as `abi::lower` gives it for this target (an unsigned word on 32-bit).
    let pointer = if cfg!(target_pointer_width = "32") { Scalar::U32 } else { Scalar::Ptr };
    let caller_sig =
        Signature { ret: AbiType::Void, params: vec![AbiType::Scalar(pointer)], fixed: 1, variadic: false };
    let caller_plan = abi::native::classify(&caller_sig).expect("void(void *) classifies");
    for (level, f) in callers.iter().enumerate() {
        let opt = if level == 0 { "-O0" } else { "-O2" };
        if tracing() {
            eprintln!("    callback {opt}");
        }
        let before = checker.calls.load(Ordering::Relaxed);
        // SAFETY: single-threaded test; the caller reads kffi_cb_args and writes kffi_rec.
        unsafe {
            std::ptr::copy_nonoverlapping(
                packed.as_ptr(),
                std::ptr::addr_of_mut!(kffi_cb_args) as *mut u8,
                packed.len(),
            );
            kffi_rec_len = 0;
        }
        let arg = (fnptr as u64).to_le_bytes();
        // SAFETY: the caller's real signature is void(void *).
        let result = unsafe { call_bytes(mem, *f as *const c_void, &caller_plan, &[&arg], &mut []) };
        out.callbacks += 1;
        if let Err(e) = result {
            out.failures.push(format!("{describe} callback {opt}: call failed: {e}"));
            continue;
        }
        if checker.calls.load(Ordering::Relaxed) != before + 1 {
            out.failures.push(format!("{describe} callback {opt}: the handler was not called exactly once"));
        }
        let mut report = String::new();
        for f in checker.failures.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            report.push_str(&f);
        }
        if let Some((bytes, meaningful, origin)) = &expected_ret {
            // SAFETY: as above; the caller recorded what the callback returned.
            let rec = unsafe { std::slice::from_raw_parts(std::ptr::addr_of!(kffi_rec) as *const u8, kffi_rec_len) };
            for i in 0..bytes.len() {
                let got = rec.get(i).copied().unwrap_or(0);
                if meaningful[i] && got != bytes[i] && report.len() < 1200 {
                    let _ = write!(
                        report,
                        "\n    callback {}: the handler returned {:#04x}, C got {got:#04x}",
                        origin[i], bytes[i]
                    );
                }
            }
        }
        if !report.is_empty() {
            out.failures.push(format!("{describe} callback {opt}:{report}\n    plan: {plan:?}"));
        }
    }
    callback::release(slot, None);
}

#[test]
fn generated_signatures_match_c() {
    let cases: Vec<Case> = CASES.lines().map(|l| Case::parse_line(l).expect("cases.txt is well formed")).collect();
    assert_eq!(cases.len(), FUNCS.len());
    let mut mem = CallMemory::new(1 << 20, 1 << 20).expect("call memory");
    let mut out = Outcome { calls: 0, callbacks: 0, failures: Vec::new() };
    let mut layout_at = 0;
    for (i, case) in cases.iter().enumerate() {
        if tracing() {
            eprintln!("abi-tests: {} {}", case.name, case.to_line());
        }
        run_case(i, case, layout_at, &mut mem, &mut out);
        layout_at += 2 * (case.params.len() + 1);
    }
    let generated = cases.iter().filter(|c| c.name.starts_with('g')).count();
    println!(
        "abi-tests: {} signatures ({generated} generated, {} edge cases), {} calls and {} callbacks at -O0 and -O2, {} failures",
        cases.len(),
        cases.len() - generated,
        out.calls,
        out.callbacks,
        out.failures.len()
    );
    for f in out.failures.iter().take(20) {
        eprintln!("FAIL {f}");
    }
    assert!(out.failures.is_empty(), "{} of {} cases failed (first ones above)", out.failures.len(), cases.len());
    assert!(generated >= 2000, "the generator must produce at least 2000 signatures");
}

#[test]
fn case_lines_round_trip() {
    for line in CASES.lines().take(500) {
        let case = Case::parse_line(line).expect("parse");
        assert_eq!(case.to_line(), line);
    }
}
