//! The one parser for type strings (`'const char *'`, `'int[4]'`, `'Foo **'`, spec TS-02..TS-04)
//! and prototypes (`'int __stdcall Fn(_Out_ int *x, ...)'`, spec FN-06). Errors name the
//! offending token and its position.

use super::registry::Registry;
use super::{ArrayHint, Convention, Direction, Param, TypeError, TypeId};

const ARRAY_DECAY: &str = "Array types decay to pointers in prototypes (C standard), use pointers";

/// Most `*`/`[]` levels one type string may add (spec TS-04).
const MAX_INDIRECTIONS: usize = 8;

/// Most words a type name may have, with room to spare: the longest built-in,
/// `unsigned long long`, has three (spec PRIM-01); user-defined names are one identifier.
const MAX_NAME_WORDS: usize = 4;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok<'a> {
    Ident(&'a str),
    Number(&'a str),
    Ellipsis,
    Punct(char),
}

impl Tok<'_> {
    fn text(&self) -> String {
        match self {
            Tok::Ident(s) | Tok::Number(s) => s.to_string(),
            Tok::Ellipsis => "...".to_string(),
            Tok::Punct(c) => c.to_string(),
        }
    }
}

/// Splits into identifiers (ASCII letter or `_` first), numbers, `...` and single punctuation.
/// Returns the first character that cannot start a token as `Err((char, position))`.
fn tokenize(s: &str) -> Result<Vec<(Tok<'_>, usize)>, (char, usize)> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push((Tok::Ident(&s[start..i]), start));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            out.push((Tok::Number(&s[start..i]), start));
        } else if s[i..].starts_with("...") {
            out.push((Tok::Ellipsis, i));
            i += 3;
        } else if b"*[]()!,;".contains(&c) {
            out.push((Tok::Punct(c as char), i));
            i += 1;
        } else {
            let ch = s[i..].chars().next().unwrap_or('?');
            return Err((ch, i));
        }
    }
    Ok(out)
}

struct Cursor<'a> {
    toks: Vec<(Tok<'a>, usize)>,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<&Tok<'a>> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn peek_ident(&self) -> Option<&'a str> {
        match self.peek() {
            Some(Tok::Ident(s)) => Some(s),
            _ => None,
        }
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn unexpected(&self, expected: &str) -> TypeError {
        match self.toks.get(self.pos) {
            Some((t, at)) => {
                TypeError::error(format!("Unexpected token '{}', expected {expected} (at position {at})", t.text()))
            }
            None => TypeError::error(format!("Unexpected end of prototype, expected {expected}")),
        }
    }
}

/// Parses a type string into a type, creating derived pointer/array/disposable types as needed.
pub fn parse_type(reg: &mut Registry, s: &str) -> Result<TypeId, TypeError> {
    // Most specifiers are a name as written ('int', 'double', 'Foo'): one lookup, no parsing.
    if let Some(id) = reg.lookup(s) {
        return Ok(id);
    }
    let toks = tokenize(s)
        .map_err(|(c, at)| TypeError::error(format!("Unexpected character '{c}' in type specifier (position {at})")))?;
    let mut cur = Cursor { toks, pos: 0 };
    let mut words = Vec::new();
    while let Some(id) = cur.peek_ident() {
        cur.pos += 1;
        if id != "const" {
            words.push(id);
        }
    }
    if words.is_empty() {
        return Err(match cur.toks.get(cur.pos) {
            Some((t, at)) => {
                TypeError::error(format!("Unexpected character '{}' in type specifier (position {at})", t.text()))
            }
            None => TypeError::type_err(format!("Unknown or invalid type name '{s}'")),
        });
    }
    let name = words.join(" ");
    let base =
        reg.lookup(&name).ok_or_else(|| TypeError::type_err(format!("Unknown or invalid type name '{name}'")))?;
    let ty = apply_suffixes(reg, &mut cur, base, true)?;
    match cur.toks.get(cur.pos) {
        None => Ok(ty),
        Some((t, at)) => {
            Err(TypeError::error(format!("Unexpected character '{}' in type specifier (position {at})", t.text())))
        }
    }
}

/// Applies `*`, `!`, `const` and (when `arrays`) `[N]` suffixes left to right (spec TS-03).
fn apply_suffixes(reg: &mut Registry, cur: &mut Cursor<'_>, mut ty: TypeId, arrays: bool) -> Result<TypeId, TypeError> {
    let mut levels = 0;
    loop {
        match cur.peek() {
            Some(Tok::Punct('*')) => {
                cur.pos += 1;
                levels += 1;
                ty = reg.pointer_to(ty);
            }
            Some(Tok::Punct('[')) if arrays => {
                cur.pos += 1;
                levels += 1;
                let len = match cur.peek() {
                    Some(Tok::Number(n)) => n.parse::<usize>().map_err(|_| TypeError::error("Invalid array length"))?,
                    _ => return Err(TypeError::error("Invalid array length")),
                };
                cur.pos += 1;
                if !cur.eat_punct(']') {
                    return Err(TypeError::error("Expected ']' after array length"));
                }
                ty = reg.array_of(ty, len, None::<ArrayHint>, None)?;
            }
            Some(Tok::Punct('!')) => {
                cur.pos += 1;
                if !reg.get(ty).primitive.is_pointer_like() {
                    return Err(TypeError::error("Cannot create disposable type for non-pointer"));
                }
                ty = reg.free_disposable(ty)?;
            }
            Some(Tok::Ident("const")) => cur.pos += 1,
            _ => break,
        }
        if levels > MAX_INDIRECTIONS {
            return Err(TypeError::error("Too many type indirections"));
        }
    }
    Ok(ty)
}

/// A parsed prototype string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtoDecl {
    /// The function name (empty when absent, allowed only for `koffi.proto`).
    pub name: String,
    /// The result type.
    pub ret: TypeId,
    /// The fixed parameters.
    pub params: Vec<Param>,
    /// Whether the list ends with `...`.
    pub variadic: bool,
    /// The convention keyword, if any.
    pub convention: Convention,
}

/// Reads `type` in a prototype: the longest run of identifiers that names a known type
/// (`unsigned long long x` → `unsigned long long`), then pointer/disposable suffixes.
fn read_type(reg: &mut Registry, cur: &mut Cursor<'_>) -> Result<TypeId, TypeError> {
    while cur.peek_ident() == Some("const") {
        cur.pos += 1;
    }
    let start = cur.pos;
    let mut words = Vec::new();
    let mut best: Option<(usize, TypeId)> = None;
    while let Some(id) = cur.peek_ident() {
        if Convention::from_keyword(id).is_some() {
            break;
        }
        cur.pos += 1;
        if id == "const" {
            continue;
        }
        words.push(id);
        // No type name has more words than this (user names are one identifier): past it a
        // lookup cannot match, and joining every prefix of a long run of words would make
        // the parse quadratic in its length.
        if words.len() <= MAX_NAME_WORDS {
            if let Some(t) = reg.lookup(&words.join(" ")) {
                best = Some((cur.pos, t));
            }
        }
    }
    let Some((end, base)) = best else {
        cur.pos = start;
        return match words.first() {
            Some(w) => Err(TypeError::error(format!("Unknown or invalid type name '{w}'"))),
            None => Err(cur.unexpected("type")),
        };
    };
    cur.pos = end;
    apply_suffixes(reg, cur, base, false)
}

/// Parses a prototype (spec FN-06): `type [convention] name "(" [void | params] ")" [";"]`.
/// `name_required` is false only for `koffi.proto` (PROTO-01). Parameter and result types are
/// validated (FN-13, FN-14); every error is a plain `Error`, as upstream throws for strings.
pub fn parse_prototype(reg: &mut Registry, s: &str, name_required: bool) -> Result<ProtoDecl, TypeError> {
    let toks = tokenize(s)
        .map_err(|(c, at)| TypeError::error(format!("Unexpected character '{c}' in prototype (position {at})")))?;
    let mut cur = Cursor { toks, pos: 0 };
    let ret = read_type(reg, &mut cur)?;
    if cur.peek() == Some(&Tok::Punct('[')) {
        return Err(TypeError::error(ARRAY_DECAY));
    }
    reg.check_return(ret).map_err(TypeError::into_error)?;
    let mut convention = Convention::Cdecl;
    if let Some(c) = cur.peek_ident().and_then(Convention::from_keyword) {
        convention = c;
        cur.pos += 1;
    }
    let mut name = String::new();
    if let Some(id) = cur.peek_ident() {
        name = id.to_string();
        cur.pos += 1;
    } else if name_required {
        return Err(cur.unexpected("identifier"));
    }
    if !cur.eat_punct('(') {
        return Err(cur.unexpected("'('"));
    }
    let mut params = Vec::new();
    let mut variadic = false;
    let is_void_list =
        cur.peek_ident() == Some("void") && cur.toks.get(cur.pos + 1).map(|t| &t.0) == Some(&Tok::Punct(')'));
    if is_void_list {
        cur.pos += 1;
    }
    if !cur.eat_punct(')') {
        loop {
            if cur.peek() == Some(&Tok::Ellipsis) {
                cur.pos += 1;
                variadic = true;
                if !cur.eat_punct(')') {
                    return Err(cur.unexpected("')' after '...'"));
                }
                break;
            }
            let dir = match cur.peek_ident() {
                Some("_In_") => Some(Direction::In),
                Some("_Out_") => Some(Direction::Out),
                Some("_Inout_") => Some(Direction::InOut),
                _ => None,
            };
            if dir.is_some() {
                cur.pos += 1;
            }
            let dir = dir.unwrap_or_default();
            let ty = read_type(reg, &mut cur)?;
            if cur.peek_ident().is_some() {
                cur.pos += 1;
            }
            if cur.peek() == Some(&Tok::Punct('[')) {
                return Err(TypeError::error("Array types decay to pointers in prototypes (C standard), use pointers"));
            }
            reg.check_param(ty, dir).map_err(TypeError::into_error)?;
            params.push(Param { ty, dir });
            if cur.eat_punct(')') {
                break;
            }
            if !cur.eat_punct(',') {
                return Err(cur.unexpected("')'"));
            }
        }
    }
    cur.eat_punct(';');
    if let Some((t, _)) = cur.toks.get(cur.pos) {
        return Err(TypeError::error(format!("Unexpected token '{}' after prototype", t.text())));
    }
    if params.len() > 64 {
        return Err(TypeError::error("Functions cannot have more than 64 parameters"));
    }
    Ok(ProtoDecl { name, ret, params, variadic, convention })
}

#[cfg(test)]
mod tests {
    use super::super::{DataModel, Primitive};
    use super::*;

    fn reg() -> Registry {
        Registry::new(DataModel::LP64)
    }

    fn name(r: &Registry, id: TypeId) -> String {
        r.get(id).name.clone()
    }

    #[test]
    fn type_strings_resolve() {
        let mut r = reg();
        let t = parse_type(&mut r, "const char *").unwrap();
        assert_eq!(r.get(t).primitive, Primitive::String);
        let t = parse_type(&mut r, "unsigned   long").unwrap();
        assert_eq!(name(&r, t), "unsigned long");
        let t = parse_type(&mut r, "char * const").unwrap();
        assert_eq!(r.get(t).primitive, Primitive::String, "trailing const is ignored (Q9)");
        let t = parse_type(&mut r, "int **").unwrap();
        assert_eq!(name(&r, t), "int **");
    }

    #[test]
    fn array_suffixes_apply_left_to_right() {
        // Spec TS-03 / Q8: 'int[2][3]' is three int[2].
        let mut r = reg();
        let t = parse_type(&mut r, "int[2][3]").unwrap();
        let info = r.get(t).clone();
        assert_eq!((info.name.as_str(), info.size), ("int[2][3]", 24));
        assert_eq!(name(&r, info.target().unwrap()), "int[2]");
        let t = parse_type(&mut r, "int *[4]").unwrap();
        assert_eq!(r.get(r.get(t).target().unwrap()).primitive, Primitive::Pointer);
    }

    #[test]
    fn long_runs_of_words_stay_linear() {
        let mut r = reg();
        let proto = format!("void f({}x)", "unsigned ".repeat(200_000));
        let start = std::time::Instant::now();
        assert!(parse_prototype(&mut r, &proto, true).is_err());
        // Quadratic joining took tens of seconds here; linear work takes milliseconds.
        assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
        let d = parse_prototype(&mut r, "unsigned long long f(unsigned long long x)", true).unwrap();
        assert_eq!(r.get(d.ret).name, "unsigned long long");
    }

    #[test]
    fn type_string_errors() {
        let mut r = reg();
        let e = parse_type(&mut r, "Foo").unwrap_err();
        assert_eq!(e, TypeError::type_err("Unknown or invalid type name 'Foo'"));
        let e = parse_type(&mut r, "int $").unwrap_err();
        assert!(e.message.starts_with("Unexpected character '$'"), "{e}");
        let e = parse_type(&mut r, "int*********").unwrap_err();
        assert_eq!(e.message, "Too many type indirections");
        let e = parse_type(&mut r, "int[x]").unwrap_err();
        assert_eq!(e.message, "Invalid array length");
        let e = parse_type(&mut r, "int!").unwrap_err();
        assert_eq!(e.message, "Cannot create disposable type for non-pointer");
    }

    #[test]
    fn prototypes_parse() {
        let mut r = reg();
        let p =
            parse_prototype(&mut r, "unsigned long long strtoull(const char *s, _Out_ char **end, int base);", true)
                .unwrap();
        assert_eq!(p.name, "strtoull");
        assert_eq!(name(&r, p.ret), "unsigned long long");
        assert_eq!(p.params.len(), 3);
        assert_eq!(p.params[1].dir, Direction::Out);
        let p = parse_prototype(&mut r, "int __stdcall Fn(int x, ...)", true).unwrap();
        assert!(p.variadic);
        assert_eq!(p.convention, Convention::Stdcall);
        let p = parse_prototype(&mut r, "void f(void)", true).unwrap();
        assert!(p.params.is_empty());
        let p = parse_prototype(&mut r, "int (int, double)", false).unwrap();
        assert_eq!(p.name, "");
        let p = parse_prototype(&mut r, "int f(char * const p)", true).unwrap();
        assert_eq!(p.params.len(), 1);
    }

    #[test]
    fn prototype_errors() {
        let mut r = reg();
        let e = parse_prototype(&mut r, "int f(int x) extra", true).unwrap_err();
        assert_eq!(e.message, "Unexpected token 'extra' after prototype");
        let e = parse_prototype(&mut r, "int f(int x[4])", true).unwrap_err();
        assert!(e.message.starts_with("Array types decay to pointers"));
        let e = parse_prototype(&mut r, "Foo f(int x)", true).unwrap_err();
        assert!(e.message.contains("Unknown or invalid type name 'Foo'"));
        let e = parse_prototype(&mut r, "int f(int x", true).unwrap_err();
        assert!(e.message.starts_with("Unexpected end of prototype"), "{e}");
        let e = parse_prototype(&mut r, "int (int x)", true).unwrap_err();
        assert!(e.message.contains("expected identifier"), "{e}");
        let e = parse_prototype(&mut r, "int f(void x, int y)", true).unwrap_err();
        assert!(e.message.contains("cannot be used as a parameter"), "{e}");
        assert_eq!(e.class, super::super::ErrorClass::Error);
    }
}
