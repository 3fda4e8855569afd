//! The call engine end to end without Node: real libc functions called through the
//! classification and the assembly thunk, with arguments given as C bytes.

#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use std::ffi::c_void;

use koffi_rs::abi::{self, AbiType, Aggregate, Leaf, Scalar, Signature};
use koffi_rs::call::{call_bytes, CallMemory};

fn sig(ret: AbiType, params: Vec<AbiType>) -> Signature {
    let n = params.len();
    Signature { ret, params, fixed: n, variadic: false }
}

fn pair(a: Scalar, b: Scalar) -> AbiType {
    let size = a.size() + b.size();
    AbiType::Aggregate(Aggregate {
        size,
        align: a.size(),
        leaves: vec![Leaf { offset: 0, scalar: a }, Leaf { offset: a.size(), scalar: b }],
        has_union: false,
    })
}

fn call(f: *const c_void, sig: &Signature, args: &[&[u8]], ret_size: usize) -> Vec<u8> {
    let plan = abi::x64_sysv::classify(sig).expect("classify");
    let mut mem = CallMemory::new(256 << 10, 256 << 10).expect("call memory");
    let mut ret = vec![0u8; ret_size];
    // SAFETY: each test passes the real C signature of `f` and valid argument bytes.
    unsafe { call_bytes(&mut mem, f, &plan, args, &mut ret) }.expect("call");
    ret
}

#[test]
fn abs_takes_and_returns_an_int() {
    let s = sig(AbiType::Scalar(Scalar::I32), vec![AbiType::Scalar(Scalar::I32)]);
    let r = call(libc::abs as *const c_void, &s, &[&(-42i32).to_le_bytes()], 4);
    assert_eq!(i32::from_le_bytes(r.try_into().unwrap()), 42);
}

#[test]
fn strlen_takes_a_pointer() {
    let text = b"hello, engine\0";
    let s = sig(AbiType::Scalar(Scalar::U64), vec![AbiType::Scalar(Scalar::Ptr)]);
    let r = call(libc::strlen as *const c_void, &s, &[&(text.as_ptr() as u64).to_le_bytes()], 8);
    assert_eq!(u64::from_le_bytes(r.try_into().unwrap()), 13);
}

#[test]
fn div_returns_an_eight_byte_struct_in_rax() {
    // div_t { int quot; int rem; }: one INTEGER eightbyte.
    let s = sig(pair(Scalar::I32, Scalar::I32), vec![AbiType::Scalar(Scalar::I32), AbiType::Scalar(Scalar::I32)]);
    let r = call(div as *const c_void, &s, &[&17i32.to_le_bytes(), &5i32.to_le_bytes()], 8);
    assert_eq!(i32::from_le_bytes(r[0..4].try_into().unwrap()), 3);
    assert_eq!(i32::from_le_bytes(r[4..8].try_into().unwrap()), 2);
}

#[test]
fn ldiv_returns_a_sixteen_byte_struct_in_rax_rdx() {
    let s = sig(pair(Scalar::I64, Scalar::I64), vec![AbiType::Scalar(Scalar::I64), AbiType::Scalar(Scalar::I64)]);
    let r = call(ldiv as *const c_void, &s, &[&(-100i64).to_le_bytes(), &7i64.to_le_bytes()], 16);
    assert_eq!(i64::from_le_bytes(r[0..8].try_into().unwrap()), -14);
    assert_eq!(i64::from_le_bytes(r[8..16].try_into().unwrap()), -2);
}

#[repr(C)]
struct DivT(i32, i32);
#[repr(C)]
struct LdivT(i64, i64);

extern "C" {
    fn frexp(x: f64, exp: *mut i32) -> f64;
    fn ldexp(x: f64, exp: i32) -> f64;
    fn div(a: i32, b: i32) -> DivT;
    fn ldiv(a: i64, b: i64) -> LdivT;
}

#[test]
fn frexp_mixes_sse_and_integer_registers() {
    let mut exp = 0i32;
    let s = sig(AbiType::Scalar(Scalar::F64), vec![AbiType::Scalar(Scalar::F64), AbiType::Scalar(Scalar::Ptr)]);
    let ptr = &mut exp as *mut i32 as u64;
    let r = call(frexp as *const c_void, &s, &[&48f64.to_le_bytes(), &ptr.to_le_bytes()], 8);
    assert_eq!(f64::from_le_bytes(r.try_into().unwrap()), 0.75);
    assert_eq!(exp, 6);
    let s = sig(AbiType::Scalar(Scalar::F64), vec![AbiType::Scalar(Scalar::F64), AbiType::Scalar(Scalar::I32)]);
    let r = call(ldexp as *const c_void, &s, &[&0.75f64.to_le_bytes(), &6i32.to_le_bytes()], 8);
    assert_eq!(f64::from_le_bytes(r.try_into().unwrap()), 48.0);
}

#[test]
fn snprintf_is_variadic_with_stack_arguments() {
    // Nine doubles after the format: xmm0–7 fill up and the ninth goes on the stack; %al = 8.
    let mut buf = [0u8; 128];
    let fmt = b"%g %g %g %g %g %g %g %g %g|%d\0";
    let mut params = vec![AbiType::Scalar(Scalar::Ptr), AbiType::Scalar(Scalar::U64), AbiType::Scalar(Scalar::Ptr)];
    params.extend((0..9).map(|_| AbiType::Scalar(Scalar::F64)));
    params.push(AbiType::Scalar(Scalar::I32));
    let s = Signature { ret: AbiType::Scalar(Scalar::I32), params, fixed: 3, variadic: true };
    let bufp = (buf.as_mut_ptr() as u64).to_le_bytes();
    let size = 128u64.to_le_bytes();
    let fmtp = (fmt.as_ptr() as u64).to_le_bytes();
    let doubles: Vec<[u8; 8]> = (1..=9).map(|i| (i as f64 * 0.5).to_le_bytes()).collect();
    let last = 77i32.to_le_bytes();
    let mut args: Vec<&[u8]> = vec![&bufp, &size, &fmtp];
    args.extend(doubles.iter().map(|d| &d[..]));
    args.push(&last);
    call(libc::snprintf as *const c_void, &s, &args, 4);
    let text = std::ffi::CStr::from_bytes_until_nul(&buf).unwrap().to_str().unwrap();
    assert_eq!(text, "0.5 1 1.5 2 2.5 3 3.5 4 4.5|77");
}
