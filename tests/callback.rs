//! Callbacks end to end without Node: libc's qsort calls a Rust handler through a trampoline of
//! the static pool, with the comparison's arguments and result going through the plan.

#![cfg(all(
    any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "arm", target_arch = "riscv64"),
    target_os = "linux"
))]

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use koffi_rs::abi::{self, AbiType, CallPlan, Scalar, Signature};
use koffi_rs::call::{call_bytes, CallFrame, CallMemory};
use koffi_rs::callback::{self, Handler};

/// `void *` and `size_t` as `abi::lower` gives them on this target: an unsigned word on 32-bit.
const WORD: Scalar = if cfg!(target_pointer_width = "32") { Scalar::U32 } else { Scalar::Ptr };
const SIZE_T: Scalar = if cfg!(target_pointer_width = "32") { Scalar::U32 } else { Scalar::U64 };
const W: usize = std::mem::size_of::<usize>();

struct Compare {
    plan: CallPlan,
    calls: AtomicUsize,
}

impl Handler for Compare {
    fn invoke(&self, frame: &mut CallFrame) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let (mut a, mut b) = (0usize, 0usize);
        // SAFETY: the frame holds a call of int(const void *, const void *).
        unsafe {
            frame.load_arg(&self.plan.args[0], &mut a as *mut usize as *mut u8, W);
            frame.load_arg(&self.plan.args[1], &mut b as *mut usize as *mut u8, W);
            let (x, y) = (*(a as *const i32), *(b as *const i32));
            let r: i32 = (x > y) as i32 - (x < y) as i32;
            frame.store_result(&self.plan.ret, &r as *const i32 as *const u8, 4);
        }
    }
}

#[test]
fn qsort_calls_a_rust_comparator_through_the_pool() {
    let cmp_sig = Signature {
        ret: AbiType::Scalar(Scalar::I32),
        params: vec![AbiType::Scalar(WORD), AbiType::Scalar(WORD)],
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
        params: vec![AbiType::Scalar(WORD), AbiType::Scalar(SIZE_T), AbiType::Scalar(SIZE_T), AbiType::Scalar(WORD)],
        fixed: 4,
        variadic: false,
    };
    let plan = abi::native::classify(&qsort_sig).unwrap();
    let mut mem = CallMemory::new(256 << 10, 64 << 10).unwrap();
    let args = [
        (values.as_mut_ptr() as usize).to_le_bytes(),
        values.len().to_le_bytes(),
        4usize.to_le_bytes(),
        (fnptr as usize).to_le_bytes(),
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
