//! The C type model: primitives, records, unions, arrays, pointers, prototypes, opaque and
//! disposable types, their layout, the type-string and prototype parser, and the per-environment
//! registry of named types.
//!
//! Everything here is host-independent and safe: layout is computed for a [`DataModel`] given
//! when the registry is built, so the same code describes every target.
//!
//! Types live in a [`Registry`] arena and are referred to by [`TypeId`]. An id stays valid for
//! the registry's whole life ([`Registry::reset`] forgets names, not types); redefining an opaque type replaces the arena entry in place, which is how
//! `'T *'` declared earlier comes to point at the complete struct (spec OPQ-03, REC-10).

#![forbid(unsafe_code)]

mod error;
mod layout;
mod parser;
mod primitive;
mod registry;

pub use error::{ErrorClass, TypeError};
pub use layout::{layout_record, layout_union, MemberLayout, RecordLayout};
pub use parser::{parse_prototype, parse_type, ProtoDecl};
pub use primitive::{DataModel, Primitive};
pub use registry::{pointer_name, Checkpoint, MemberSpec, Registry, VOID};

/// Index of a type in its [`Registry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u32);

/// How a fixed array is converted to JS (spec ARR-03, ARR-04).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArrayHint {
    /// A TypedArray of the element's class.
    Typed,
    /// A plain JS Array.
    Array,
    /// A string, for char-like elements.
    String,
}

impl ArrayHint {
    /// The hint's name as `introspect()` shows it.
    pub fn name(self) -> &'static str {
        match self {
            ArrayHint::Typed => "Typed",
            ArrayHint::Array => "Array",
            ArrayHint::String => "String",
        }
    }
}

/// Direction of a pointer parameter (spec OUT-01).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Input only (the default): nothing is copied back.
    #[default]
    In,
    /// Zero-filled temporary, copied back after the call.
    Out,
    /// Initialised from the JS value, copied back after the call.
    InOut,
}

/// Calling convention keyword of a prototype (spec FN-08); only 32-bit x86 honours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Convention {
    /// `__cdecl`, the default.
    #[default]
    Cdecl,
    /// `__stdcall`.
    Stdcall,
    /// `__fastcall`.
    Fastcall,
    /// `__thiscall`.
    Thiscall,
}

impl Convention {
    /// Parses a convention keyword (`__cdecl`, …).
    pub fn from_keyword(s: &str) -> Option<Convention> {
        match s {
            "__cdecl" => Some(Convention::Cdecl),
            "__stdcall" => Some(Convention::Stdcall),
            "__fastcall" => Some(Convention::Fastcall),
            "__thiscall" => Some(Convention::Thiscall),
            _ => None,
        }
    }

    /// The keyword spelling without underscores, as upstream names conventions in messages.
    pub fn name(self) -> &'static str {
        match self {
            Convention::Cdecl => "Cdecl",
            Convention::Stdcall => "Stdcall",
            Convention::Fastcall => "Fastcall",
            Convention::Thiscall => "Thiscall",
        }
    }
}

/// One parameter of a function signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    /// The parameter's type.
    pub ty: TypeId,
    /// Whether the pointee is copied back after the call.
    pub dir: Direction,
}

/// A function signature: what a prototype type holds and what `lib.func` declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncSig {
    /// The C name (empty for anonymous prototypes).
    pub name: String,
    /// The result type (`void` allowed).
    pub ret: TypeId,
    /// The fixed parameters.
    pub params: Vec<Param>,
    /// Whether `...` ends the parameter list.
    pub variadic: bool,
    /// The declared calling convention.
    pub convention: Convention,
}

/// Who releases a value of a disposable type after it was converted to JS (spec DISP-03).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposer {
    /// C `free()`.
    Free,
    /// A JS function, identified by the binding's own handle number.
    Js(u32),
}

/// One member of a record or union.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member name (`_` for placeholders, which are not exposed: spec REC-07).
    pub name: std::sync::Arc<str>,
    /// The name's number in its registry ([`Registry::member_names`](registry::Registry)):
    /// bindings cache per-name data (property keys) by it.
    pub key: u32,
    /// The member type.
    pub ty: TypeId,
    /// The member type's description, shared with the registry (member types are complete
    /// and never change once a record uses them), so that conversions reach it without a
    /// registry lookup or reference count traffic.
    pub info: std::sync::Arc<TypeInfo>,
    /// Byte offset inside the record.
    pub offset: usize,
    /// For flexible arrays and counted pointers: the member holding the element count.
    pub counted_by: Option<String>,
    /// The index of that counter in the record's members, found once when the record is
    /// defined (decoding then reads it without a search).
    pub counter: Option<usize>,
}

impl Member {
    /// Whether this member is visible to JS (not a `_` placeholder).
    pub fn exposed(&self) -> bool {
        &*self.name != "_"
    }
}

/// The kind-specific part of a type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Primitives and strings: nothing more.
    Scalar,
    /// A pointer (kind `Pointer`, or `Callback` when the pointee is a prototype).
    Pointer {
        /// The pointee.
        to: TypeId,
        /// For counted pointers (spec PTR-04): the member holding the element count.
        counted_by: Option<String>,
    },
    /// A struct (kind `Record`).
    Record {
        /// Members in declaration order.
        members: Vec<Member>,
    },
    /// A union (kind `Union`).
    Union {
        /// Members, all at offset 0.
        members: Vec<Member>,
    },
    /// A fixed array, or a flexible array when `counted_by` is set (spec FLEX-01).
    Array {
        /// The element type.
        elem: TypeId,
        /// The element count (the maximum for flexible arrays).
        len: usize,
        /// How the array converts to JS.
        hint: ArrayHint,
        /// For flexible arrays: the member holding the element count.
        counted_by: Option<String>,
    },
    /// A function type (kind `Prototype`).
    Proto(Box<FuncSig>),
    /// An opaque type, usable only behind pointers until redefined.
    Opaque,
    /// A record or union whose definition is in progress (spec TS-05).
    Incomplete,
    /// A type invalidated by `koffi.reset()` or a failed definition.
    Dead,
}

/// Everything known about one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeInfo {
    /// The introspection name.
    pub name: String,
    /// The kind (`primitive` in introspection).
    pub primitive: Primitive,
    /// Size in bytes.
    pub size: usize,
    /// Alignment in bytes (0 for void and opaque types).
    pub align: usize,
    /// `char`, `char16_t`, `char32_t`, `wchar_t`: arrays of them default to strings (PRIM-12).
    pub char_like: bool,
    /// Set for disposable types.
    pub disposer: Option<Disposer>,
    /// How deeply aggregates nest by value in this type: 0 for scalars, strings and pointers,
    /// one more than the deepest member or element for records, unions and arrays. Bounded by
    /// [`MAX_NESTING`], so that every recursion over a type (layout, classification,
    /// conversions, drop) stays shallow.
    pub depth: u16,
    /// The kind-specific part.
    pub detail: Detail,
}

/// The deepest nesting of records, unions and arrays by value that a type may have. C11
/// §5.2.4.1 asks compilers for 63 levels of nested struct or union definitions; 64 leaves room
/// for one array level on top, and keeps each recursive conversion a few kilobytes of stack
/// even on a worker thread.
pub const MAX_NESTING: u16 = 64;

impl TypeInfo {
    /// Members of a record or union, empty otherwise.
    pub fn members(&self) -> &[Member] {
        match &self.detail {
            Detail::Record { members } | Detail::Union { members } => members,
            _ => &[],
        }
    }

    /// The referenced type of pointers and arrays.
    pub fn target(&self) -> Option<TypeId> {
        match &self.detail {
            Detail::Pointer { to, .. } => Some(*to),
            Detail::Array { elem, .. } => Some(*elem),
            _ => None,
        }
    }

    /// The signature of a prototype type.
    pub fn proto(&self) -> Option<&FuncSig> {
        match &self.detail {
            Detail::Proto(sig) => Some(sig),
            _ => None,
        }
    }

    /// Whether this is an opaque type (never redefined).
    pub fn is_opaque(&self) -> bool {
        matches!(self.detail, Detail::Opaque)
    }

    /// The element count member of flexible arrays and counted pointers.
    pub fn counted_by(&self) -> Option<&str> {
        match &self.detail {
            Detail::Pointer { counted_by, .. } | Detail::Array { counted_by, .. } => counted_by.as_deref(),
            _ => None,
        }
    }
}
