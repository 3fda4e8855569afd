//! The vocabulary the ABI modules' unit tests write signatures and expected plans in.

use super::{AbiType, Aggregate, ArgLoc, Ext, Leaf, Move, RetLoc, RetMove, RetReg, Scalar, Signature, Slot};

/// A scalar type.
pub fn sc(s: Scalar) -> AbiType {
    AbiType::Scalar(s)
}

/// `n` parameters of scalar type `s`.
pub fn times(n: usize, s: Scalar) -> Vec<AbiType> {
    vec![sc(s); n]
}

fn aggregate(size: usize, align: usize, fields: &[(usize, Scalar)], has_union: bool) -> AbiType {
    let leaves = fields.iter().map(|&(offset, scalar)| Leaf { offset, scalar }).collect();
    AbiType::Aggregate(Aggregate { size, align, leaves, has_union })
}

/// An aggregate with explicit size and alignment, from (offset, scalar) leaves.
pub fn agg(size: usize, align: usize, fields: &[(usize, Scalar)]) -> AbiType {
    aggregate(size, align, fields, false)
}

/// The same, for a union (or a struct containing one).
pub fn union(size: usize, align: usize, fields: &[(usize, Scalar)]) -> AbiType {
    aggregate(size, align, fields, true)
}

/// A naturally laid-out struct: alignment of its widest scalar, size padded to it.
pub fn strukt(fields: &[(usize, Scalar)]) -> AbiType {
    let align = fields.iter().map(|f| f.1.size()).max().unwrap_or(1);
    let end = fields.iter().map(|f| f.0 + f.1.size()).max().unwrap_or(0);
    agg(end.next_multiple_of(align), align, fields)
}

/// A struct of `n` members of type `s`.
pub fn array(n: usize, s: Scalar) -> AbiType {
    strukt(&(0..n).map(|i| (i * s.size(), s)).collect::<Vec<_>>())
}

/// A non-variadic signature.
pub fn sig(ret: AbiType, params: Vec<AbiType>) -> Signature {
    Signature { fixed: params.len(), ret, params, variadic: false }
}

/// One move.
pub fn mv(src: u32, len: u32, dst: Slot, ext: Ext) -> Move {
    Move { src, len, dst, ext }
}

/// An argument placed by these moves.
pub fn moves(m: &[Move]) -> ArgLoc {
    ArgLoc::Moves(m.iter().copied().collect())
}

/// A whole argument in general register `i`.
pub fn gpr(i: u8, len: u32, ext: Ext) -> ArgLoc {
    moves(&[mv(0, len, Slot::Gpr(i), ext)])
}

/// A whole argument in vector register `i`.
pub fn fpr(i: u8, len: u32) -> ArgLoc {
    moves(&[mv(0, len, Slot::Fpr(i), Ext::None)])
}

/// A whole argument at stack offset `off`.
pub fn stack(off: u32, len: u32, ext: Ext) -> ArgLoc {
    moves(&[mv(0, len, Slot::Stack(off), ext)])
}

/// A result in these (register, offset, length) pieces, none of them widened.
pub fn rets(m: &[(RetReg, u32, u32)]) -> RetLoc {
    RetLoc::Regs(m.iter().map(|&(reg, dst, len)| RetMove { reg, dst, len, ext: Ext::None }).collect())
}

/// A scalar result of `len` bytes in register `reg`, widened by `ext`.
pub fn ret1(reg: RetReg, len: u32, ext: Ext) -> RetLoc {
    RetLoc::Regs([RetMove { reg, dst: 0, len, ext }].into_iter().collect())
}
