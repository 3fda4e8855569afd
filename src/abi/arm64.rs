//! placeholder, being written
use super::{AbiError, CallPlan, Signature};

/// Platform variants of AAPCS64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The Arm procedure call standard as Linux and the BSDs use it.
    Aapcs64,
    /// Apple's arm64 variant.
    Apple,
}

/// Classifies a signature.
pub fn classify(_sig: &Signature, _variant: Variant) -> Result<CallPlan, AbiError> {
    Err(AbiError::Unsupported { abi: "arm64", what: "not written".into() })
}
