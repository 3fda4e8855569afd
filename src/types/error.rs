//! Errors of the type layer, worded as Koffi words them (spec §14).

use std::fmt;

/// Which JS exception class an error maps to: user code checks it (spec ERR-01).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// A JS `TypeError`.
    Type,
    /// A plain JS `Error`.
    Error,
    /// A JS `RangeError`: a size or length beyond what C, V8 or a buffer allows.
    Range,
}

/// An error in a type specifier, a prototype or a type definition.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TypeError {
    /// The JS class to throw.
    pub class: ErrorClass,
    /// The message, with upstream's distinctive fragment.
    pub message: String,
}

impl TypeError {
    /// An error thrown as a JS `TypeError`.
    pub fn type_err(message: impl Into<String>) -> Self {
        TypeError { class: ErrorClass::Type, message: message.into() }
    }

    /// An error thrown as a plain JS `Error`.
    pub fn error(message: impl Into<String>) -> Self {
        TypeError { class: ErrorClass::Error, message: message.into() }
    }

    /// An error thrown as a JS `RangeError`.
    pub fn range(message: impl Into<String>) -> Self {
        TypeError { class: ErrorClass::Range, message: message.into() }
    }

    /// The same message thrown as a plain `Error` (prototype strings report type problems so).
    pub fn into_error(self) -> Self {
        TypeError { class: ErrorClass::Error, ..self }
    }
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TypeError {}
