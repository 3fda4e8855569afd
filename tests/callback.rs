//! Callbacks end to end without Node: libc's qsort calls a Rust handler through a trampoline of
//! the static pool, with the comparison's arguments and result going through the plan.

#![cfg(all(any(target_arch = "x86_64", target_arch = "aarch64"), target_os = "linux"))]

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use koffi_rs::abi::{self, AbiType, CallPlan, Scalar, Signature};
use koffi_rs::call::{call_bytes, CallFrame, CallMemory};
use koffi_rs::callback::{self, Handler};

struct Compare {
    plan: CallPlan,
    calls: AtomicUsize,
}

impl Handler for Compare {
    fn invoke(&self, frame: &mut CallFrame) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let (mut a, mut b) = (0u64, 0u64);
        // SAFETY: the frame holds a call of int(const void *, const void *).
        unsafe {
            frame.load_arg(&self.plan.args[0], &mut a as *mut u64 as *mut u8, 8);
            frame.load_arg(&self.plan.args[1], &mut b as *mut u64 as *mut u8, 8);
            let (x, y) = (*(a as usize as *const i32), *(b as usize as *const i32));
            let r: i32 = (x > y) as i32 - (x < y) as i32;
            frame.store_result(&self.plan.ret, &r as *const i32 as *const u8, 4);
        }
    }
}

#[test]
fn qsort_calls_a_rust_comparator_through_the_pool() {
    let cmp_sig = Signature {
        ret: AbiType::Scalar(Scalar::I32),
        params: vec![AbiType::Scalar(Scalar::Ptr), AbiType::Scalar(Scalar::Ptr)],
        fixed: 2,
        variadic: false,
    };
    let handler = Arc::new(Compare { plan: abi::native::classify(&cmp_sig).unwrap(), calls: AtomicUsize::new(0) });
    let before = callback::in_use();
    let (index, fnptr) = callback::register(handler.clone()).expect("a free trampoline");
    assert_eq!(callback::in_use(), before + 1);

    let mut values: Vec<i32> = vec![5, -3, 12, 0, 7, 7, -40, 3];
    let qsort_sig = Signature {
        ret: AbiType::Void,
        params: vec![
            AbiType::Scalar(Scalar::Ptr),
            AbiType::Scalar(Scalar::U64),
            AbiType::Scalar(Scalar::U64),
            AbiType::Scalar(Scalar::Ptr),
        ],
        fixed: 4,
        variadic: false,
    };
    let plan = abi::native::classify(&qsort_sig).unwrap();
    let mut mem = CallMemory::new(256 << 10, 64 << 10).unwrap();
    let args = [
        (values.as_mut_ptr() as u64).to_le_bytes(),
        (values.len() as u64).to_le_bytes(),
        4u64.to_le_bytes(),
        (fnptr as u64).to_le_bytes(),
    ];
    let arg_refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
    // SAFETY: qsort's real signature; the comparator reads valid i32 pointers.
    unsafe { call_bytes(&mut mem, libc::qsort as *const c_void, &plan, &arg_refs, &mut []) }.unwrap();
    assert_eq!(values, vec![-40, -3, 0, 3, 5, 7, 7, 12]);
    assert!(handler.calls.load(Ordering::Relaxed) >= 7);

    assert!(callback::release(index, None));
    assert!(!callback::release(index, None), "releasing twice is refused");
    assert_eq!(callback::in_use(), before);
}
