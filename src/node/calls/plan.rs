//! What is decided about a function when it is declared, beside its ABI plan: its parameters
//! ([`ParamConv`]), and for signatures of numbers and booleans the lean path's table
//! ([`FastPlan`]): each argument's conversion and destination, precomputed so that a call is a
//! loop of "read a number, store it in a slot" with no conversion context.

use std::sync::Arc;

use smallvec::SmallVec;

use crate::abi::{ArgLoc, CallPlan, Ext, Move, RetLoc, RetReg, Slot};
use crate::call::frame::{single_word, WORD};
use crate::call::CallFrame;
use crate::node::js::scalar::ScalarConv;
use crate::types::{Direction, Primitive, TypeInfo};

/// One parameter, resolved at declaration.
pub struct ParamConv {
    /// The parameter type.
    pub info: Arc<TypeInfo>,
    /// Its direction.
    pub dir: Direction,
}

/// How one argument's JS value becomes bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Conv {
    /// An integer of at most 32 bits (wrapped modulo 2^32, spec §18-Q1).
    Int32,
    /// A 64-bit integer.
    Int64,
    /// A byte-swapped integer of this many bytes (spec PRIM-11).
    Swapped(u8),
    Float32,
    Float64,
    Bool,
    /// A `char *` input: the string written straight into the heap block when it fits.
    Utf8,
    /// A data pointer input: TypedArray/ArrayBuffer data in one call when it is one.
    Pointer,
    /// A struct passed by value in registers or stack slots: encoded by the general record
    /// conversion into a small buffer, then moved by the plan (`FastPlan::records[i]`).
    Record(u16),
}

/// Where an argument's bits go: a byte offset from the call frame's address, resolved from the
/// plan's [`Slot`] when the table is built. Register images lie inside the frame; the outgoing
/// stack area lies just below it (`CallMemory::top_frame` puts it there, 16-byte aligned), so
/// every destination is one store at one offset.
pub(super) fn frame_offset(slot: Slot, stack_size: u32) -> Option<i32> {
    let stack_area = crate::call::stack_area(stack_size as usize) as i64;
    let off = match slot {
        Slot::Gpr(i) if (i as usize) < crate::call::frame::NGPR => {
            (std::mem::offset_of!(CallFrame, gpr) + WORD * i as usize) as i64
        }
        Slot::Fpr(i) if (i as usize) < crate::call::frame::NFPR => {
            (std::mem::offset_of!(CallFrame, fpr) + WORD * i as usize) as i64
        }
        Slot::Stack(off) => off as i64 - stack_area,
        _ => return None,
    };
    i32::try_from(off).ok()
}

/// The plan's moves of a struct argument (see [`Conv::Record`]).
#[derive(Debug)]
pub(super) struct RecordArg {
    pub(super) info: Arc<TypeInfo>,
    pub(super) moves: SmallVec<[Move; 2]>,
}

/// Largest struct the lean path passes by value (its bytes are built in a stack buffer).
pub(super) const MAX_RECORD: usize = 32;

/// One argument: its conversion and its single destination (from the plan; unused for
/// [`Conv::Record`], which has several).
#[derive(Clone, Copy, Debug)]
pub(super) struct FastArg {
    pub(super) conv: Conv,
    /// See [`frame_offset`].
    pub(super) dst: i32,
    pub(super) len: u32,
    pub(super) ext: Ext,
    /// Whether the converted bits still need widening to the slot (see `FastPlan::new`).
    pub(super) widen: bool,
    /// The parameter's index, for the general conversion when the quick one does not apply.
    pub(super) param: u16,
}

/// How the result comes back. (`repr(u8)`: a plain tag is one compare-and-jump per call,
/// where the default niche layout needs decoding first.)
#[derive(Clone, Copy, Debug)]
#[repr(u8)]
pub(super) enum FastRet {
    Void,
    /// The most common results, read from the first integer or vector result register with
    /// one Node-API call each (checked against the plan when the table is built).
    Int32,
    Uint32,
    Double,
    /// Any other number or boolean in one register.
    Scalar(RetReg, ScalarConv),
    /// Anything else in registers (pointers, strings): the general conversion.
    General,
}

/// The precomputed table of a lean-path function.
#[derive(Debug)]
pub struct FastPlan {
    pub(super) args: Box<[FastArg]>,
    pub(super) records: Box<[RecordArg]>,
    pub(super) ret: FastRet,
    /// The plan's stack arguments, rounded up to 16 bytes (`call::stack_area`).
    pub(super) stack_area: u32,
    pub(super) fpr_count: u8,
    /// Whether every call takes something from the call memory (stack arguments, strings in
    /// the heap block, a result's general conversion): the memory is marked and the frame
    /// reserved up front. Otherwise that happens only if a general conversion is needed.
    pub(super) reserves: bool,
    /// The hidden result pointer of a struct returned through memory.
    pub(super) sret: Option<SretArg>,
}

/// Where a hidden result pointer goes (see [`frame_offset`]) and the memory it points to.
#[derive(Clone, Copy, Debug)]
pub(super) struct SretArg {
    pub(super) dst: i32,
    pub(super) size: u32,
    pub(super) align: u32,
}

impl FastPlan {
    /// Whether every call marks the call memory and reserves its frame up front.
    pub fn reserves(&self) -> bool {
        self.reserves
    }

    /// The table for a signature, or `None` if it cannot take the lean path: every parameter a
    /// number, boolean, input string or data pointer in one slot, or a small struct passed by
    /// value; a result without hidden pointer or disposer.
    pub fn new(params: &[ParamConv], ret: &TypeInfo, plan: &CallPlan) -> Option<FastPlan> {
        let mut args = Vec::with_capacity(params.len());
        let mut records = Vec::new();
        for (i, (p, loc)) in params.iter().zip(&plan.args).enumerate() {
            let info = &p.info;
            let ArgLoc::Moves(moves) = loc else { return None };
            if info.primitive == Primitive::Record && p.dir == Direction::In && info.size <= MAX_RECORD {
                let conv = Conv::Record(u16::try_from(records.len()).ok()?);
                records.push(RecordArg { info: info.clone(), moves: moves.clone() });
                let param = u16::try_from(i).ok()?;
                args.push(FastArg { conv, dst: 0, len: 8, ext: Ext::None, widen: false, param });
                continue;
            }
            // The lean path stores one word per argument.
            let m = single_word(moves)?;
            let conv = match (info.primitive, info.primitive.int_width()) {
                (Primitive::Float32, _) => Conv::Float32,
                (Primitive::Float64, _) => Conv::Float64,
                (Primitive::Bool, _) => Conv::Bool,
                // Inputs only: outputs need copying back, which the general path does.
                (Primitive::String, _) if p.dir == Direction::In => Conv::Utf8,
                (Primitive::Pointer, _) if p.dir == Direction::In => Conv::Pointer,
                (_, Some((w, _, true))) => Conv::Swapped(w as u8),
                (_, Some((8, _, false))) => Conv::Int64,
                (_, Some(_)) => Conv::Int32,
                _ => return None,
            };
            let dst = frame_offset(m.dst, plan.stack_size)?;
            // Conversions that already give the slot's bits need no widening: doubles and
            // 8-byte values fill the slot, floats and booleans come zero-extended, a 32-bit
            // integer comes sign-extended (what a signed 4-byte slot wants). A float that the
            // ABI NaN-boxes (RISC-V) still needs its upper half set.
            let widen = (m.len as usize) < WORD
                && match conv {
                    Conv::Float32 => m.ext == Ext::NanBox,
                    Conv::Bool => false,
                    Conv::Int32 => !(m.len == 4 && m.ext == Ext::Sign),
                    _ => true,
                };
            args.push(FastArg { conv, dst, len: m.len, ext: m.ext, widen, param: u16::try_from(i).ok()? });
        }
        if ret.disposer.is_some() {
            return None;
        }
        let mut sret = None;
        let ret = match (&plan.ret, ret.primitive) {
            (RetLoc::Void, _) => FastRet::Void,
            // A struct returned through memory the caller provides (System V AMD64 psABI
            // §3.2.3 class MEMORY, AAPCS64 §6.9 x8): that memory comes from the heap block, its
            // address goes where the plan says, the general conversion decodes it.
            (RetLoc::Sret { ptr }, Primitive::Record | Primitive::Union) => {
                let size = u32::try_from(ret.size.max(1)).ok()?;
                let align = u32::try_from(ret.align.max(16)).ok()?;
                sret = Some(SretArg { dst: frame_offset(*ptr, plan.stack_size)?, size, align });
                FastRet::General
            }
            (RetLoc::Sret { .. }, _) => return None,
            (RetLoc::Regs(moves), p) => match (moves.as_slice(), ScalarConv::of(p)) {
                ([m], Some(conv)) => match (m.reg, conv) {
                    (RetReg::Gpr(0), ScalarConv::Int { width: 4, signed: true }) => FastRet::Int32,
                    (RetReg::Gpr(0), ScalarConv::Int { width: 4, signed: false }) => FastRet::Uint32,
                    (RetReg::Fpr(0), ScalarConv::Float64) => FastRet::Double,
                    (reg, conv) => FastRet::Scalar(reg, conv),
                },
                // Struct results too: the general conversion decodes them.
                _ if p.is_pointer_like() || p == Primitive::Record => FastRet::General,
                _ => return None,
            },
        };
        // (A struct returned through memory is a General result.)
        let reserves =
            plan.stack_size > 0 || matches!(ret, FastRet::General) || args.iter().any(|a| a.conv == Conv::Utf8);
        Some(FastPlan {
            args: args.into_boxed_slice(),
            records: records.into_boxed_slice(),
            ret,
            stack_area: u32::try_from(crate::call::stack_area(plan.stack_size as usize)).ok()?,
            fpr_count: plan.fpr_count,
            reserves,
            sret,
        })
    }
}
