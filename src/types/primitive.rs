//! Primitive kinds and the table of built-in type names (spec §6).

/// The kind of a type: the `primitive` string of `koffi.introspect()`.
///
/// The `…S` variants are stored byte-swapped relative to the host (spec PRIM-11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs, reason = "the variants are the kind names of the spec's table")]
pub enum Primitive {
    Void,
    Bool,
    Int8,
    UInt8,
    Int16,
    Int16S,
    UInt16,
    UInt16S,
    Int32,
    Int32S,
    UInt32,
    UInt32S,
    Int64,
    Int64S,
    UInt64,
    UInt64S,
    String,
    String16,
    String32,
    Pointer,
    Record,
    Union,
    Array,
    Float32,
    Float64,
    Prototype,
    Callback,
}

impl Primitive {
    /// The kind name shown by `introspect()`.
    pub fn name(self) -> &'static str {
        use Primitive::*;
        match self {
            Void => "Void",
            Bool => "Bool",
            Int8 => "Int8",
            UInt8 => "UInt8",
            Int16 => "Int16",
            Int16S => "Int16S",
            UInt16 => "UInt16",
            UInt16S => "UInt16S",
            Int32 => "Int32",
            Int32S => "Int32S",
            UInt32 => "UInt32",
            UInt32S => "UInt32S",
            Int64 => "Int64",
            Int64S => "Int64S",
            UInt64 => "UInt64",
            UInt64S => "UInt64S",
            String => "String",
            String16 => "String16",
            String32 => "String32",
            Pointer => "Pointer",
            Record => "Record",
            Union => "Union",
            Array => "Array",
            Float32 => "Float32",
            Float64 => "Float64",
            Prototype => "Prototype",
            Callback => "Callback",
        }
    }

    /// Integer kinds, swapped or not.
    pub fn is_integer(self) -> bool {
        self.int_width().is_some()
    }

    /// For integer kinds: (width in bytes, signed, byte-swapped).
    pub fn int_width(self) -> Option<(usize, bool, bool)> {
        use Primitive::*;
        Some(match self {
            Int8 => (1, true, false),
            UInt8 => (1, false, false),
            Int16 => (2, true, false),
            Int16S => (2, true, true),
            UInt16 => (2, false, false),
            UInt16S => (2, false, true),
            Int32 => (4, true, false),
            Int32S => (4, true, true),
            UInt32 => (4, false, false),
            UInt32S => (4, false, true),
            Int64 => (8, true, false),
            Int64S => (8, true, true),
            UInt64 => (8, false, false),
            UInt64S => (8, false, true),
            _ => return None,
        })
    }

    /// `Float32` or `Float64`.
    pub fn is_float(self) -> bool {
        matches!(self, Primitive::Float32 | Primitive::Float64)
    }

    /// The three string kinds.
    pub fn is_string(self) -> bool {
        matches!(self, Primitive::String | Primitive::String16 | Primitive::String32)
    }

    /// Kinds that hold an address: strings, pointers and callbacks.
    pub fn is_pointer_like(self) -> bool {
        self.is_string() || matches!(self, Primitive::Pointer | Primitive::Callback)
    }
}

/// The sizes that vary between targets' C data models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataModel {
    /// `sizeof(void *)`.
    pub pointer_size: usize,
    /// `sizeof(long)`: 8 on LP64, 4 on LLP64 (Windows) and ILP32.
    pub long_size: usize,
    /// `sizeof(wchar_t)`: 4 on POSIX, 2 on Windows.
    pub wchar_size: usize,
    /// Alignment of 64-bit integers and `double` inside aggregates: 4 on i386 System V, else 8.
    pub align64: usize,
    /// Whether the target is little-endian (decides which of `_le`/`_be` is swapped).
    pub little_endian: bool,
}

impl DataModel {
    /// LP64 (Linux, macOS, BSD on 64-bit targets).
    pub const LP64: DataModel =
        DataModel { pointer_size: 8, long_size: 8, wchar_size: 4, align64: 8, little_endian: true };
    /// LLP64 (64-bit Windows).
    pub const LLP64: DataModel =
        DataModel { pointer_size: 8, long_size: 4, wchar_size: 2, align64: 8, little_endian: true };

    /// The data model of the target this crate is compiled for.
    pub fn native() -> DataModel {
        DataModel {
            pointer_size: std::mem::size_of::<usize>(),
            long_size: std::mem::size_of::<std::ffi::c_long>(),
            wchar_size: if cfg!(windows) { 2 } else { 4 },
            align64: std::mem::align_of::<u64>().min(std::mem::align_of::<f64>()),
            little_endian: cfg!(target_endian = "little"),
        }
    }
}

/// One built-in primitive: its names, kind, size and whether it is char-like (PRIM-12).
pub(crate) struct Builtin {
    pub names: &'static [&'static str],
    pub primitive: Primitive,
    pub size: usize,
    pub char_like: bool,
}

/// The built-in primitives for a data model (spec §6). String kinds and their `char *` spellings
/// are added by the registry because they depend on the char types.
pub(crate) fn builtins(dm: &DataModel) -> Vec<Builtin> {
    use Primitive::*;
    let (le16, be16, le16u, be16u) = swapped(dm, Int16, Int16S, UInt16, UInt16S);
    let (le32, be32, le32u, be32u) = swapped(dm, Int32, Int32S, UInt32, UInt32S);
    let (le64, be64, le64u, be64u) = swapped(dm, Int64, Int64S, UInt64, UInt64S);
    let int_of = |size: usize, signed: bool| match (size, signed) {
        (4, true) => Int32,
        (4, false) => UInt32,
        (_, true) => Int64,
        (_, false) => UInt64,
    };
    let wchar = if dm.wchar_size == 2 { Int16 } else { Int32 };
    let b = |names, primitive, size| Builtin { names, primitive, size, char_like: false };
    let c = |names, primitive, size| Builtin { names, primitive, size, char_like: true };
    vec![
        b(&["void"], Void, 0),
        b(&["bool"], Bool, 1),
        b(&["int8_t", "int8"], Int8, 1),
        b(&["uint8_t", "uint8"], UInt8, 1),
        c(&["char"], Int8, 1),
        b(&["unsigned char", "uchar"], UInt8, 1),
        c(&["char16_t", "char16"], Int16, 2),
        c(&["char32_t", "char32"], Int32, 4),
        c(&["wchar_t", "wchar"], wchar, dm.wchar_size),
        b(&["int16_t", "int16"], Int16, 2),
        b(&["int16_le_t", "int16_le"], le16, 2),
        b(&["int16_be_t", "int16_be"], be16, 2),
        b(&["uint16_t", "uint16"], UInt16, 2),
        b(&["uint16_le_t", "uint16_le"], le16u, 2),
        b(&["uint16_be_t", "uint16_be"], be16u, 2),
        b(&["short"], Int16, 2),
        b(&["unsigned short", "ushort"], UInt16, 2),
        b(&["int32_t", "int32"], Int32, 4),
        b(&["int32_le_t", "int32_le"], le32, 4),
        b(&["int32_be_t", "int32_be"], be32, 4),
        b(&["uint32_t", "uint32"], UInt32, 4),
        b(&["uint32_le_t", "uint32_le"], le32u, 4),
        b(&["uint32_be_t", "uint32_be"], be32u, 4),
        b(&["int"], Int32, 4),
        b(&["unsigned int", "uint"], UInt32, 4),
        b(&["int64_t", "int64"], Int64, 8),
        b(&["int64_le_t", "int64_le"], le64, 8),
        b(&["int64_be_t", "int64_be"], be64, 8),
        b(&["uint64_t", "uint64"], UInt64, 8),
        b(&["uint64_le_t", "uint64_le"], le64u, 8),
        b(&["uint64_be_t", "uint64_be"], be64u, 8),
        b(&["intptr_t", "intptr"], int_of(dm.pointer_size, true), dm.pointer_size),
        b(&["uintptr_t", "uintptr"], int_of(dm.pointer_size, false), dm.pointer_size),
        b(&["size_t"], int_of(dm.pointer_size, false), dm.pointer_size),
        b(&["long"], int_of(dm.long_size, true), dm.long_size),
        b(&["unsigned long", "ulong"], int_of(dm.long_size, false), dm.long_size),
        b(&["long long", "longlong"], Int64, 8),
        b(&["unsigned long long", "ulonglong"], UInt64, 8),
        b(&["float", "float32"], Float32, 4),
        b(&["double", "float64"], Float64, 8),
    ]
}

/// Returns the (le signed, be signed, le unsigned, be unsigned) kinds: the host-order kind for
/// the target's own endianness and the `…S` kind for the other.
fn swapped(
    dm: &DataModel,
    s: Primitive,
    s_swapped: Primitive,
    u: Primitive,
    u_swapped: Primitive,
) -> (Primitive, Primitive, Primitive, Primitive) {
    if dm.little_endian {
        (s, s_swapped, u, u_swapped)
    } else {
        (s_swapped, s, u_swapped, u)
    }
}
