//! The driver: every case through the engine, compared byte by byte with what C saw.

use std::ffi::c_void;
use std::fmt::Write;

use koffi_rs::abi::{self, Signature};
use koffi_rs::call::{call_bytes, CallMemory};
use koffi_rs::types::{parse_type, DataModel, Detail, MemberSpec, Primitive, Registry, TypeId};

use crate::desc::{Case, Ty};

include!(concat!(env!("OUT_DIR"), "/fns.rs"));

/// Every case, one per line.
const CASES: &str = include_str!(concat!(env!("OUT_DIR"), "/cases.txt"));

extern "C" {
    static mut kffi_rec: [u8; 1 << 16];
    static mut kffi_rec_len: usize;
    static mut kffi_ret: [u8; 1 << 12];
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
                members.push(MemberSpec { name: format!("m{i}"), ty: build(reg, f)?, align: None });
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
    failures: Vec<String>,
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
}

#[test]
fn generated_signatures_match_c() {
    let cases: Vec<Case> = CASES.lines().map(|l| Case::parse_line(l).expect("cases.txt is well formed")).collect();
    assert_eq!(cases.len(), FUNCS.len());
    let mut mem = CallMemory::new(1 << 20, 1 << 20).expect("call memory");
    let mut out = Outcome { calls: 0, failures: Vec::new() };
    let mut layout_at = 0;
    for (i, case) in cases.iter().enumerate() {
        run_case(i, case, layout_at, &mut mem, &mut out);
        layout_at += 2 * (case.params.len() + 1);
    }
    let generated = cases.iter().filter(|c| c.name.starts_with('g')).count();
    println!(
        "abi-tests: {} signatures ({generated} generated, {} edge cases), {} calls at -O0 and -O2, {} failures",
        cases.len(),
        cases.len() - generated,
        out.calls,
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
