//! placeholder, being written
use super::{AbiError, CallPlan, Signature};
/// Classifies a signature.
pub fn classify(_sig: &Signature) -> Result<CallPlan, AbiError> {
    Err(AbiError::Unsupported {
        abi: "x64_sysv",
        what: "not written".into(),
    })
}
