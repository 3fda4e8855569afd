//! Signature descriptions shared by the generator (build.rs) and the driver (tests/abi.rs).
//!
//! One case per line: `name|ret|fixed|param param …`, where `ret` is `v` for void, `fixed` is `-`
//! for non-variadic functions or the number of named parameters, and each type is written in a
//! compact grammar:
//!
//! ```text
//! scalar  = c C s S i I l L f d p b      (int8 uint8 int16 uint16 int32 uint32 int64 uint64
//!                                          float double pointer bool)
//! struct  = "{" type+ "}"                 packed struct = "<" type+ ">"     union = "(" type+ ")"
//! array   = type "[" N "]"                (only inside structs and unions)
//! ```

use std::fmt::Write;

/// A C scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs, reason = "the variants name C scalar types")]
pub enum Sc {
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
    Ptr,
    Bool,
}

/// Every scalar, in code order.
pub const SCALARS: [Sc; 12] =
    [Sc::I8, Sc::U8, Sc::I16, Sc::U16, Sc::I32, Sc::U32, Sc::I64, Sc::U64, Sc::F32, Sc::F64, Sc::Ptr, Sc::Bool];

impl Sc {
    /// The one-letter code of the grammar.
    pub fn code(self) -> char {
        b"cCsSiIlLfdpb"[SCALARS.iter().position(|s| *s == self).unwrap_or(0)] as char
    }

    /// Parses a one-letter code.
    pub fn from_code(c: char) -> Option<Sc> {
        "cCsSiIlLfdpb".find(c).map(|i| SCALARS[i])
    }

    /// The C spelling.
    pub fn c_name(self) -> &'static str {
        match self {
            Sc::I8 => "int8_t",
            Sc::U8 => "uint8_t",
            Sc::I16 => "int16_t",
            Sc::U16 => "uint16_t",
            Sc::I32 => "int32_t",
            Sc::U32 => "uint32_t",
            Sc::I64 => "int64_t",
            Sc::U64 => "uint64_t",
            Sc::F32 => "float",
            Sc::F64 => "double",
            Sc::Ptr => "void *",
            Sc::Bool => "bool",
        }
    }

    /// The koffi type name.
    pub fn koffi_name(self) -> &'static str {
        match self {
            Sc::Ptr => "void *",
            other => other.c_name(),
        }
    }

    /// Whether C promotes it in variadic calls (so it cannot be passed there as itself).
    pub fn promoted(self) -> bool {
        matches!(self, Sc::I8 | Sc::U8 | Sc::I16 | Sc::U16 | Sc::F32 | Sc::Bool)
    }
}

/// A C type of a generated signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    /// A scalar.
    Scalar(Sc),
    /// A struct, packed (`__attribute__((packed))`) or not.
    Struct {
        /// Members in order.
        fields: Vec<Ty>,
        /// Whether members are byte-aligned.
        packed: bool,
    },
    /// A union.
    Union(Vec<Ty>),
    /// A fixed array (inside aggregates only).
    Array(Box<Ty>, usize),
}

impl Ty {
    /// Writes the grammar form.
    pub fn encode(&self, out: &mut String) {
        match self {
            Ty::Scalar(s) => out.push(s.code()),
            Ty::Struct { fields, packed } => {
                out.push(if *packed { '<' } else { '{' });
                fields.iter().for_each(|f| f.encode(out));
                out.push(if *packed { '>' } else { '}' });
            }
            Ty::Union(fields) => {
                out.push('(');
                fields.iter().for_each(|f| f.encode(out));
                out.push(')');
            }
            Ty::Array(elem, n) => {
                elem.encode(out);
                let _ = write!(out, "[{n}]");
            }
        }
    }

    /// The grammar form as a string.
    pub fn text(&self) -> String {
        let mut s = String::new();
        self.encode(&mut s);
        s
    }

    /// Parses one type at the start of `s`, returning it and the rest.
    pub fn parse(s: &str) -> Result<(Ty, &str), String> {
        let mut chars = s.chars();
        let c = chars.next().ok_or("unexpected end of type")?;
        let (mut ty, mut rest) = match c {
            '{' | '<' | '(' => {
                let close = match c {
                    '{' => '}',
                    '<' => '>',
                    _ => ')',
                };
                let mut fields = Vec::new();
                let mut rest = chars.as_str();
                while !rest.starts_with(close) {
                    let (f, r) = Ty::parse(rest)?;
                    fields.push(f);
                    rest = r;
                }
                let rest = &rest[1..];
                let ty = if c == '(' { Ty::Union(fields) } else { Ty::Struct { fields, packed: c == '<' } };
                (ty, rest)
            }
            _ => (Ty::Scalar(Sc::from_code(c).ok_or_else(|| format!("bad scalar code '{c}'"))?), chars.as_str()),
        };
        while let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').ok_or("unterminated array")?;
            let n = after[..end].parse().map_err(|_| "bad array length")?;
            ty = Ty::Array(Box::new(ty), n);
            rest = &after[end + 1..];
        }
        Ok((ty, rest))
    }

    /// Whether a `bool` occurs anywhere inside.
    pub fn has_bool(&self) -> bool {
        match self {
            Ty::Scalar(s) => *s == Sc::Bool,
            Ty::Struct { fields, .. } | Ty::Union(fields) => fields.iter().any(Ty::has_bool),
            Ty::Array(e, _) => e.has_bool(),
        }
    }
}

/// One generated (or hand-written) signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The C function's base name.
    pub name: String,
    /// The result, `None` for void.
    pub ret: Option<Ty>,
    /// Every parameter (named, then variadic).
    pub params: Vec<Ty>,
    /// For variadic functions: how many parameters are named.
    pub fixed: Option<usize>,
}

impl Case {
    /// The one-line form.
    pub fn to_line(&self) -> String {
        let ret = self.ret.as_ref().map(Ty::text).unwrap_or_else(|| "v".into());
        let fixed = self.fixed.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        let params: Vec<String> = self.params.iter().map(Ty::text).collect();
        format!("{}|{}|{}|{}", self.name, ret, fixed, params.join(" "))
    }

    /// Parses the one-line form.
    pub fn parse_line(line: &str) -> Result<Case, String> {
        let parts: Vec<&str> = line.trim().split('|').collect();
        if parts.len() != 4 {
            return Err(format!("expected 4 fields in '{line}'"));
        }
        let whole = |s: &str| -> Result<Ty, String> {
            let (t, rest) = Ty::parse(s)?;
            if rest.is_empty() {
                Ok(t)
            } else {
                Err(format!("trailing '{rest}' in '{s}'"))
            }
        };
        let ret = if parts[1] == "v" { None } else { Some(whole(parts[1])?) };
        let fixed = if parts[2] == "-" { None } else { Some(parts[2].parse().map_err(|_| "bad fixed count")?) };
        let params = parts[3].split_whitespace().map(whole).collect::<Result<Vec<_>, _>>()?;
        Ok(Case { name: parts[0].to_string(), ret, params, fixed })
    }
}
