//! Compiles the forward-call thunk (`asm/<abi>.S`) for the *target* with `cc`.
//!
//! One table maps (arch, os) to the assembly file; it reads `CARGO_CFG_TARGET_*` (never
//! `cfg!`, which describes the host). A target without a thunk still builds, and the engine then
//! reports calls as unsupported; `cfg(kffi_asm)` tells the crate whether a thunk was linked.

use std::env;

fn find_assembly(arch: &str, os: &str) -> Option<&'static str> {
    match (arch, os) {
        ("x86_64", "windows") => None,
        ("x86_64", _) => Some("asm/x64_sysv.S"),
        ("aarch64", "windows") => None,
        ("aarch64", _) => Some("asm/arm64.S"),
        ("arm", "windows") => None,
        ("arm", _) => Some("asm/arm32.S"),
        ("riscv64", _) => Some("asm/riscv64.S"),
        _ => None,
    }
}

fn main() {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    println!("cargo:rustc-check-cfg=cfg(kffi_asm)");
    println!("cargo:rerun-if-changed=asm");
    match find_assembly(&arch, &os) {
        Some(file) => {
            cc::Build::new().file(file).include("asm").compile("kffi_asm");
            println!("cargo:rustc-cfg=kffi_asm");
        }
        None => println!("cargo:warning=koffi-rs has no call thunk for {arch}-{os} yet"),
    }
}
