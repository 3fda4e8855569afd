//! C numbers and booleans as JS values: how a value held in one register or stack slot becomes
//! a JS Number, BigInt or boolean, for the results of both call paths and the scalar arguments
//! of callbacks.

use super::error::JsResult;
use super::napi::{Env, Value};
use crate::abi::Ext;
use crate::call::frame::extend;
use crate::types::Primitive;

/// How a number or boolean held in one register or stack slot becomes JS: the results of both
/// call paths and the scalar arguments of callbacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarConv {
    Bool,
    Float32,
    Float64,
    /// A native-endian integer of `width` bytes.
    Int {
        width: u8,
        signed: bool,
    },
}

impl ScalarConv {
    /// The conversion for a value of primitive `p`, or `None` when it is not a number or
    /// boolean (or is a byte-swapped integer, which the general decoder handles).
    pub fn of(p: Primitive) -> Option<ScalarConv> {
        match p {
            Primitive::Bool => Some(ScalarConv::Bool),
            Primitive::Float32 => Some(ScalarConv::Float32),
            Primitive::Float64 => Some(ScalarConv::Float64),
            _ => match p.int_width() {
                Some((w, signed, false)) => Some(ScalarConv::Int { width: w as u8, signed }),
                _ => None,
            },
        }
    }

    /// The JS value of the register bits `bits`.
    #[inline(always)]
    pub fn to_js(self, env: Env, bits: u64) -> JsResult<Value> {
        match self {
            // Only the low byte of a bool is defined, and only its low bit counts (spec ABI-01,
            // PRIM-09).
            ScalarConv::Bool => env.boolean(bits & 1 != 0),
            ScalarConv::Float64 => env.double(f64::from_bits(bits)),
            ScalarConv::Float32 => env.double(f32::from_bits(bits as u32) as f64),
            // The low 32 bits of the register are the value; narrower results are widened by
            // the same rule as their type (the callee may leave the upper bits unspecified).
            ScalarConv::Int { width: 4, signed: true } => env.int32(bits as i32),
            ScalarConv::Int { width: 4, signed: false } => env.uint32(bits as u32),
            ScalarConv::Int { width, signed } => {
                let ext = if signed { Ext::Sign } else { Ext::Zero };
                int_to_js(env, extend(bits, width as u32, ext), width as usize, signed)
            }
        }
    }
}

/// An integer as a JS value: Numbers for ≤ 32 bits, Number-or-BigInt for 64 (spec PRIM-07).
#[inline]
pub fn int_to_js(env: Env, bits: u64, width: usize, signed: bool) -> JsResult<Value> {
    match (width, signed) {
        (8, true) => env.int64(bits as i64),
        (8, false) => env.uint64(bits),
        (_, true) => env.int32(bits as i64 as i32),
        (_, false) => env.uint32(bits as u32),
    }
}

/// The int32 the register bits `bits` stand for when their JS value is a Number that V8 holds
/// as a Smi (an integer of int32 range, not -0), for [`Tagged::smi_result`]; `None` otherwise
/// (booleans, fractions, -0, NaN, integers beyond int32, BigInts).
#[inline(always)]
pub fn smi_of(conv: ScalarConv, bits: u64) -> Option<i32> {
    let integral = |d: f64| {
        let i = d as i32;
        (i as f64 == d && (i != 0 || d.to_bits() == 0)).then_some(i)
    };
    match conv {
        ScalarConv::Bool => None,
        ScalarConv::Float64 => integral(f64::from_bits(bits)),
        ScalarConv::Float32 => integral(f32::from_bits(bits as u32) as f64),
        ScalarConv::Int { width, signed } => {
            let ext = if signed { Ext::Sign } else { Ext::Zero };
            let v = extend(bits, u32::from(width), ext);
            if signed {
                i32::try_from(v as i64).ok()
            } else {
                i32::try_from(v).ok()
            }
        }
    }
}
