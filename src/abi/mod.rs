//! Per-ABI classification: a [`Signature`] goes in, a [`CallPlan`] comes out.
//!
//! The plan says, for every argument, which bytes of its C representation go to which register
//! or stack slot, and where the result comes back. It is computed once per declared function
//! (and once per variadic call shape); a call only executes it (see `src/call`).
//!
//! Every ABI module is compiled and unit-tested on every host: nothing here looks at
//! `target_arch`. The one exception is the [`native`] alias at the bottom of this file.

#![forbid(unsafe_code)]

pub mod arm32;
pub mod arm64;
pub mod riscv64;
#[cfg(test)]
mod testing;
pub mod x64_sysv;
pub mod x64_win;

use smallvec::SmallVec;

use crate::types::{Detail, Primitive, Registry, TypeId};

/// A scalar as the ABI sees it: width, signedness, integer or float.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs, reason = "the variants name C scalar types")]
pub enum Scalar {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
    /// A data or function pointer.
    Ptr,
}

impl Scalar {
    /// Size in bytes on a 64-bit target (pointers are 8).
    pub fn size(self) -> usize {
        match self {
            Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::I64 | Scalar::U64 | Scalar::F64 | Scalar::Ptr => 8,
        }
    }

    /// `F32` or `F64`.
    pub fn is_float(self) -> bool {
        matches!(self, Scalar::F32 | Scalar::F64)
    }

    /// How a value narrower than a register is widened (spec ABI-13).
    pub fn ext(self) -> Ext {
        match self {
            Scalar::I8 | Scalar::I16 | Scalar::I32 => Ext::Sign,
            Scalar::U8 | Scalar::U16 | Scalar::U32 => Ext::Zero,
            _ => Ext::None,
        }
    }
}

/// One scalar inside an aggregate, at its byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// Byte offset from the start of the aggregate.
    pub offset: usize,
    /// The scalar found there.
    pub scalar: Scalar,
}

/// A struct, union or array flattened to its scalars.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Aggregate {
    /// `sizeof`.
    pub size: usize,
    /// `alignof`.
    pub align: usize,
    /// Every scalar, in memory order (union members overlap).
    pub leaves: Vec<Leaf>,
    /// Whether a union occurs anywhere inside (RISC-V never flattens those).
    pub has_union: bool,
}

impl Aggregate {
    /// Whether some scalar is not at a multiple of its own size (packed structs).
    pub fn has_misaligned_leaf(&self) -> bool {
        self.leaves.iter().any(|l| l.offset % l.scalar.size() != 0)
    }

    /// The base type and element count when this is a homogeneous floating-point aggregate of
    /// 1 to `max_members` elements: after flattening, every scalar is the same `float` or
    /// `double`, and they fill the aggregate end to end (its size is the base size times the
    /// count, so there is no padding). AAPCS64 §5.9.5 and AAPCS32 §5.3.5 "Homogeneous
    /// Aggregates" define it the same way; each caller gives its ABI's limit (4 for both Arm
    /// procedure call standards' floating-point candidates).
    ///
    /// Union members overlap: a leaf at the same offset and of the same type as another is the
    /// same element, so `union { float a; float b[2]; }` is one of two floats, as gcc and clang
    /// pass it (tests of both Arm modules). A union mixing types never is, since its leaves differ.
    pub fn homogeneous_float(&self, max_members: usize) -> Option<(Scalar, usize)> {
        let base = self.leaves.first()?.scalar;
        if !base.is_float() || self.leaves.iter().any(|l| l.scalar != base) {
            return None;
        }
        let size = base.size();
        if self.size % size != 0 {
            return None;
        }
        let members = self.size / size;
        if !(1..=max_members.min(64)).contains(&members) {
            return None;
        }
        // Every element position is filled and no leaf sits between two positions.
        let mut filled = 0u64;
        for leaf in &self.leaves {
            let element = leaf.offset / size;
            if leaf.offset % size != 0 || element >= members {
                return None;
            }
            filled |= 1 << element;
        }
        (filled.count_ones() as usize == members).then_some((base, members))
    }
}

/// A C type as the ABI sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AbiType {
    /// `void` (results only).
    Void,
    /// A scalar.
    Scalar(Scalar),
    /// A struct, union or (inside aggregates) array.
    Aggregate(Aggregate),
}

impl AbiType {
    /// `sizeof`.
    pub fn size(&self) -> usize {
        match self {
            AbiType::Void => 0,
            AbiType::Scalar(s) => s.size(),
            AbiType::Aggregate(a) => a.size,
        }
    }
}

/// A function signature as the ABI sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The result.
    pub ret: AbiType,
    /// Every argument of this call, fixed then variadic.
    pub params: Vec<AbiType>,
    /// How many of `params` are fixed; the rest are variadic. Equal to `params.len()` unless
    /// the function is variadic.
    pub fixed: usize,
    /// Whether the function is variadic (even if no variadic argument is passed).
    pub variadic: bool,
}

/// Where a piece of an argument goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A general-purpose argument register, by index in the ABI's list.
    Gpr(u8),
    /// A floating-point/vector argument register, by index.
    Fpr(u8),
    /// A byte offset in the outgoing stack argument area.
    Stack(u32),
}

/// How a piece narrower than its slot is widened (spec ABI-13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ext {
    /// Copied as is (the rest of the slot is unspecified; the frame writes zeros).
    None,
    /// Sign-extended to the slot width.
    Sign,
    /// Zero-extended to the slot width.
    Zero,
    /// A `float` in a 64-bit floating-point register, with the upper 32 bits set to ones. The
    /// RISC-V ISA manual (Volume I, "NaN Boxing of Narrower Values") makes a narrower value in a
    /// wider register valid only when so boxed; any other pattern reads as the canonical NaN.
    NanBox,
}

/// Copy `len` bytes at offset `src` of the argument's C representation into `dst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    /// Offset in the value's bytes.
    pub src: u32,
    /// Byte count (more than 8 only for stack destinations).
    pub len: u32,
    /// Destination.
    pub dst: Slot,
    /// Widening.
    pub ext: Ext,
}

/// Where one argument goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgLoc {
    /// Its bytes are moved piece by piece into registers and/or stack slots.
    Moves(SmallVec<[Move; 2]>),
    /// It is copied to scratch memory and its address is passed in `ptr` (large aggregates on
    /// AAPCS64 and RISC-V, odd-sized ones on Win64).
    Indirect {
        /// Where the address goes.
        ptr: Slot,
    },
}

/// A result register, by index in the ABI's return-register list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetReg {
    /// General-purpose result register (`%rax`, `%rdx` on x86-64).
    Gpr(u8),
    /// Floating-point result register (`%xmm0`, `%xmm1` on x86-64).
    Fpr(u8),
}

/// Copy `len` low bytes of result register `reg` to offset `dst` of the result's C bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetMove {
    /// The register.
    pub reg: RetReg,
    /// Offset in the result's bytes.
    pub dst: u32,
    /// Byte count (at most 8; at most 4 on 32-bit targets).
    pub len: u32,
    /// How a callback widens a result narrower than the register before returning it to C
    /// (callers may rely on it: spec ABI-13). Forward calls read only `len` bytes.
    pub ext: Ext,
}

/// Where the result comes back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetLoc {
    /// Nothing.
    Void,
    /// In registers.
    Regs(SmallVec<[RetMove; 2]>),
    /// The caller passes the address of result memory in `ptr` (hidden `sret` argument).
    Sret {
        /// Where the hidden pointer goes.
        ptr: Slot,
    },
}

/// The classification of one call shape: the only input the call engine needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallPlan {
    /// One entry per argument of the [`Signature`].
    pub args: Vec<ArgLoc>,
    /// The result.
    pub ret: RetLoc,
    /// Bytes of outgoing stack arguments (a multiple of the ABI's stack alignment).
    pub stack_size: u32,
    /// On x86-64 System V: the value of `%al` for variadic calls (vector registers used).
    pub fpr_count: u8,
    /// Bytes the callee pops on return (x86 stdcall/fastcall/thiscall; 0 elsewhere).
    pub callee_pops: u32,
}

/// A shape an ABI cannot express.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AbiError {
    /// The signature uses something this ABI module does not support.
    Unsupported {
        /// The ABI's file stem (`x64_sysv`, …).
        abi: &'static str,
        /// What is unsupported.
        what: String,
    },
}

impl std::fmt::Display for AbiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AbiError::Unsupported { abi, what } => {
                write!(f, "Unsupported by the {abi} ABI: {what}")
            }
        }
    }
}

impl std::error::Error for AbiError {}

/// Checked arithmetic for classifiers: overflow becomes an `Unsupported` error of `abi`, so that
/// no input makes a classifier panic.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The ABI's file stem, for error messages.
    pub abi: &'static str,
}

impl Limits {
    /// Rounds `value` up to a multiple of `align` (not zero).
    pub fn align_up(self, value: usize, align: usize) -> Result<usize, AbiError> {
        value.checked_next_multiple_of(align).ok_or_else(|| self.unsupported("a stack area this large"))
    }

    /// A byte count or offset as the plan stores it.
    pub fn bytes(self, value: usize) -> Result<u32, AbiError> {
        u32::try_from(value).map_err(|_| self.unsupported("a value of 4 GiB or more"))
    }

    /// An `Unsupported` error of this ABI.
    pub fn unsupported(self, what: &str) -> AbiError {
        AbiError::Unsupported { abi: self.abi, what: what.into() }
    }

    /// Argument register `i` of an ABI list of `count`, as `slot` (`Slot::Gpr` or `Slot::Fpr`)
    /// names it; past the end, an `Unsupported` error about `what` (a classifier bug, never a
    /// panic).
    pub fn register(self, i: usize, count: usize, slot: fn(u8) -> Slot, what: &str) -> Result<Slot, AbiError> {
        u8::try_from(i).ok().filter(|_| i < count).map(slot).ok_or_else(|| self.unsupported(what))
    }
}

/// Offset and length of piece `i` when a value of `size` bytes is cut into `unit`-byte pieces
/// (registers, eightbytes, words): the last piece may be short.
pub fn piece_span(i: usize, unit: usize, size: usize) -> (usize, usize) {
    let src = i * unit;
    (src, size.saturating_sub(src).min(unit))
}

/// Aggregates above this size are not flattened into [`Aggregate::leaves`].
pub const MAX_FLATTENED_SIZE: usize = 64;

/// Lowers a registry type to what the ABI sees. Strings, pointers and callbacks are pointers;
/// `bool` is an unsigned byte; byte-swapped integers are integers of their width (the swap is
/// done when converting values).
pub fn lower(reg: &Registry, id: TypeId) -> AbiType {
    let info = reg.get(id);
    match info.primitive {
        Primitive::Void => AbiType::Void,
        Primitive::Record | Primitive::Union | Primitive::Array => {
            let mut agg = Aggregate { size: info.size, align: info.align.max(1), leaves: Vec::new(), has_union: false };
            // Every ABI passes aggregates this large in memory or by reference, whatever their
            // members: flattening them would only cost time (and a 64 MiB array would cost a lot).
            if info.size <= MAX_FLATTENED_SIZE {
                flatten(reg, id, 0, &mut agg);
            }
            AbiType::Aggregate(agg)
        }
        p => AbiType::Scalar(scalar_of(p, reg.data_model().pointer_size)),
    }
}

fn scalar_of(p: Primitive, pointer_size: usize) -> Scalar {
    use Primitive::*;
    match p {
        Bool | UInt8 => Scalar::U8,
        Int8 => Scalar::I8,
        Int16 | Int16S => Scalar::I16,
        UInt16 | UInt16S => Scalar::U16,
        Int32 | Int32S => Scalar::I32,
        UInt32 | UInt32S => Scalar::U32,
        Int64 | Int64S => Scalar::I64,
        UInt64 | UInt64S => Scalar::U64,
        Float32 => Scalar::F32,
        Float64 => Scalar::F64,
        _ if pointer_size == 4 => Scalar::U32,
        _ => Scalar::Ptr,
    }
}

fn flatten(reg: &Registry, id: TypeId, base: usize, agg: &mut Aggregate) {
    let info = reg.get(id);
    match &info.detail {
        Detail::Record { members } => {
            for m in members {
                flatten(reg, m.ty, base + m.offset, agg);
            }
        }
        Detail::Union { members } => {
            agg.has_union = true;
            for m in members {
                flatten(reg, m.ty, base, agg);
            }
        }
        Detail::Array { elem, len, .. } => {
            let size = reg.get(*elem).size;
            for i in 0..*len {
                flatten(reg, *elem, base + i * size, agg);
            }
        }
        _ if info.primitive == Primitive::Void => {}
        _ => agg.leaves.push(Leaf { offset: base, scalar: scalar_of(info.primitive, reg.data_model().pointer_size) }),
    }
}

/// The ABI of the target this crate is compiled for.
#[cfg(all(target_arch = "x86_64", not(windows)))]
pub use x64_sysv as native;

/// The ABI of the target this crate is compiled for: AAPCS64, with Apple's variant on Apple
/// platforms.
#[cfg(all(target_arch = "aarch64", not(windows)))]
pub mod native {
    use super::{arm64, AbiError, CallPlan, Signature};

    /// Classifies for the native ARM64 platform.
    pub fn classify(sig: &Signature) -> Result<CallPlan, AbiError> {
        let variant = if cfg!(target_vendor = "apple") { arm64::Variant::Apple } else { arm64::Variant::Aapcs64 };
        arm64::classify(sig, variant)
    }
}

/// The ABI of the target this crate is compiled for: AAPCS32 with the VFP hard-float variant
/// (Linux gnueabihf).
#[cfg(all(target_arch = "arm", target_abi = "eabihf", not(windows)))]
pub use arm32 as native;

/// The ABI of the target this crate is compiled for: RISC-V LP64D.
#[cfg(all(target_arch = "riscv64", not(windows)))]
pub use riscv64 as native;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_past_the_list_are_errors_and_pieces_end_short() {
        let limits = Limits { abi: "test" };
        assert_eq!(limits.register(3, 4, Slot::Gpr, "r"), Ok(Slot::Gpr(3)));
        assert_eq!(limits.register(1, 8, Slot::Fpr, "v"), Ok(Slot::Fpr(1)));
        assert!(limits.register(4, 4, Slot::Gpr, "r").is_err());
        assert!(limits.register(usize::MAX, usize::MAX, Slot::Gpr, "r").is_err());
        assert_eq!(piece_span(0, 8, 12), (0, 8));
        assert_eq!(piece_span(1, 8, 12), (8, 4));
        assert_eq!(piece_span(2, 4, 9), (8, 1));
        assert_eq!(piece_span(3, 4, 9), (12, 0));
    }
}
