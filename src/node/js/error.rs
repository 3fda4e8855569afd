//! Errors on their way to JS: a [`JsError`] is the `TypeError`, `Error` or `RangeError` that
//! the export glue (`export`) throws, or the marker that a JS exception is already pending.
//! Plain Rust: making one touches no Node-API (the JS object is made only when it is thrown).

use crate::types::ErrorClass;

/// An error to be thrown into JS. One pointer wide (NULL when a JS exception is already
/// pending), so that `JsResult<Value>` comes back from every wrapper in two registers: the call
/// path is a long chain of them.
#[derive(Debug)]
pub struct JsError(pub(super) Option<Box<Thrown>>);

/// What an error throws.
#[derive(Debug)]
pub struct Thrown {
    /// The JS class: `TypeError`, `Error` or `RangeError`.
    pub class: ErrorClass,
    /// The message.
    pub message: String,
}

/// An error taken apart, for matching.
#[derive(Debug)]
pub enum ErrorKind {
    /// Throw a `TypeError`.
    Type(String),
    /// Throw a plain `Error`.
    Error(String),
    /// A JS exception is already pending (thrown by JS code we called); let it propagate.
    Pending,
}

impl JsError {
    /// A JS exception is already pending.
    pub const PENDING: JsError = JsError(None);

    /// Whether a JS exception is already pending.
    pub fn is_pending(&self) -> bool {
        self.0.is_none()
    }

    /// Takes the error apart.
    pub fn kind(self) -> ErrorKind {
        match self.0 {
            None => ErrorKind::Pending,
            Some(t) if t.class == ErrorClass::Type => ErrorKind::Type(t.message),
            // A RangeError reads as an Error where the class is not kept (async results).
            Some(t) => ErrorKind::Error(t.message),
        }
    }

    /// The same error with its message rewritten (pending exceptions are left alone).
    pub fn map_message(self, f: impl FnOnce(String) -> String) -> JsError {
        JsError(self.0.map(|t| Box::new(Thrown { class: t.class, message: f(t.message) })))
    }
}

/// Result of anything that can throw.
pub type JsResult<T> = Result<T, JsError>;

/// A `TypeError`.
#[cold]
pub fn type_error(msg: impl Into<String>) -> JsError {
    JsError(Some(Box::new(Thrown { class: ErrorClass::Type, message: msg.into() })))
}

/// A plain `Error`.
#[cold]
pub fn error(msg: impl Into<String>) -> JsError {
    JsError(Some(Box::new(Thrown { class: ErrorClass::Error, message: msg.into() })))
}

/// A `RangeError`: a length or size beyond what C, V8 or a buffer allows.
#[cold]
pub fn range_error(msg: impl Into<String>) -> JsError {
    JsError(Some(Box::new(Thrown { class: ErrorClass::Range, message: msg.into() })))
}

impl From<crate::types::TypeError> for JsError {
    fn from(e: crate::types::TypeError) -> Self {
        match e.class {
            crate::types::ErrorClass::Type => type_error(e.message),
            crate::types::ErrorClass::Error => error(e.message),
            crate::types::ErrorClass::Range => range_error(e.message),
        }
    }
}
