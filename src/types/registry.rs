//! The per-environment table of types and names (spec TS-06..TS-09, RESET-01).
//!
//! Types live in an arena indexed by [`TypeId`]. Derived types (pointers, arrays, `!`
//! disposables) are cached so that `'Foo *'` and `koffi.pointer(Foo)` are the same type
//! (spec PTR-01). A struct or union definition registers its name first, so members may say
//! `'Self *'` (TS-05), and rolls everything back if it fails (REC-11).

// Type and member names are hashed on every declaration: FxHash is several times cheaper
// than SipHash here, and the names come from the program itself, not from an adversary.
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use super::layout::{layout_record, layout_union, MemberLayout};
use super::primitive::{builtins, DataModel, Primitive};
use super::{ArrayHint, Detail, Direction, Disposer, FuncSig, Member, TypeError, TypeId, TypeInfo, MAX_NESTING};

/// One member as given to `koffi.struct` / `koffi.union`, before layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberSpec {
    /// Member name, interned by [`Registry::member_name`].
    pub name: Arc<str>,
    /// Member type.
    pub ty: TypeId,
    /// Explicit alignment from the `[alignment, type]` form.
    pub align: Option<usize>,
}

/// A point to roll a failed definition back to.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    len: usize,
    redefined: Option<(TypeId, TypeInfo)>,
    name: Option<String>,
}

/// The named-type registry of one JS environment.
#[derive(Clone, Debug)]
pub struct Registry {
    dm: DataModel,
    types: Vec<Arc<TypeInfo>>,
    names: HashMap<String, TypeId>,
    builtin_names: Vec<(String, TypeId)>,
    builtin_count: usize,
    pointer_cache: HashMap<TypeId, TypeId>,
    array_cache: HashMap<(TypeId, usize, ArrayHint), TypeId>,
    free_cache: HashMap<TypeId, TypeId>,
    anonymous: usize,
    /// Largest allowed struct/array size (`max_type_size`, spec REC-09, ARR-01).
    pub max_type_size: usize,

    /// Distinct member names, numbered in order of first use ([`Member::key`]); kept across
    /// resets so that a binding's per-name caches stay valid.
    member_names: Vec<Arc<str>>,
    member_keys: HashMap<Arc<str>, u32>,
}

/// The id of `void`, always the first built-in.
pub const VOID: TypeId = TypeId(0);

impl Registry {
    /// A registry holding the built-in types of `dm`.
    pub fn new(dm: DataModel) -> Registry {
        let mut reg = Registry {
            dm,
            types: Vec::new(),
            names: HashMap::default(),
            builtin_names: Vec::new(),
            builtin_count: 0,
            pointer_cache: HashMap::default(),
            array_cache: HashMap::default(),
            free_cache: HashMap::default(),
            member_names: Vec::new(),
            member_keys: HashMap::default(),
            anonymous: 0,
            max_type_size: 64 << 20,
        };
        for b in builtins(&dm) {
            let align = b.size;
            let id = reg.push(TypeInfo {
                name: b.names[0].to_string(),
                primitive: b.primitive,
                size: b.size,
                align,
                char_like: b.char_like,
                disposer: None,
                depth: 0,
                detail: Detail::Scalar,
            });
            for name in b.names {
                reg.builtin_names.push((name.to_string(), id));
            }
        }
        // 64-bit integers and double are 4-byte aligned on i386 System V (spec PRIM-02).
        for info in reg.types.iter_mut() {
            let info = Arc::make_mut(info);
            if info.size == 8 && (info.primitive.is_integer() || info.primitive.is_float()) {
                info.align = dm.align64;
            }
        }
        let wchar_kind = if dm.wchar_size == 2 { Primitive::String16 } else { Primitive::String32 };
        let strings: [(&[&str], Primitive); 4] = [
            (&["char *", "str", "string"], Primitive::String),
            (&["char16_t *", "char16 *", "str16", "string16"], Primitive::String16),
            (&["char32_t *", "char32 *", "str32", "string32"], Primitive::String32),
            (&["wchar_t *", "wchar *"], wchar_kind),
        ];
        for (names, primitive) in strings {
            let id = reg.push(TypeInfo {
                name: names[0].to_string(),
                primitive,
                size: dm.pointer_size,
                align: dm.pointer_size,
                char_like: false,
                disposer: None,
                depth: 0,
                detail: Detail::Scalar,
            });
            for name in names {
                reg.builtin_names.push((name.to_string(), id));
            }
        }
        reg.builtin_count = reg.types.len();
        reg.names = reg.builtin_names.iter().cloned().collect();
        reg
    }

    /// How many ids the built-in types take (ids below it survive [`Registry::reset`]).
    pub fn builtin_count(&self) -> u32 {
        self.builtin_count as u32
    }

    /// The data model types are laid out for.
    pub fn data_model(&self) -> DataModel {
        self.dm
    }

    fn push(&mut self, info: TypeInfo) -> TypeId {
        self.types.push(Arc::new(info));
        TypeId((self.types.len() - 1) as u32)
    }

    /// The type behind `id`. Ids come only from this registry, so this never fails for them.
    pub fn get(&self, id: TypeId) -> &TypeInfo {
        &self.types[id.0 as usize]
    }

    /// The type behind `id`, or `None` when `id` is out of range.
    pub fn try_get(&self, id: TypeId) -> Option<&TypeInfo> {
        self.types.get(id.0 as usize).map(|t| &**t)
    }

    /// A shared handle on the type behind `id`: conversions hold it while JS code (getters,
    /// callbacks) may redefine types, since an entry is replaced, never mutated, once complete.
    pub fn get_arc(&self, id: TypeId) -> Arc<TypeInfo> {
        self.types[id.0 as usize].clone()
    }

    /// The type registered under `name` (built-in or user-defined).
    pub fn lookup(&self, name: &str) -> Option<TypeId> {
        self.names.get(name).copied()
    }

    /// Built-in names that contain no `*`, for `koffi.types` (spec TS-09).
    pub fn builtin_type_names(&self) -> impl Iterator<Item = (&str, TypeId)> {
        self.builtin_names.iter().filter(|(n, _)| !n.contains('*')).map(|(n, id)| (n.as_str(), *id))
    }

    /// Forgets every user-defined name; built-ins stay (spec RESET-01).
    ///
    /// The types themselves stay in the arena, unreachable by name: functions, callbacks and
    /// types declared before the reset keep referring to them by id (a pointer type to its
    /// pointee, a declared function to its parameters), and RESET-01 leaves functions and
    /// callbacks working. Ids are therefore never reused, so nothing made before a reset can
    /// be confused with a type made after it, and a type value kept from before still means
    /// what it meant. The cost is the memory of the forgotten types (about a hundred bytes
    /// each), kept until the environment ends.
    pub fn reset(&mut self) {
        self.names = self.builtin_names.iter().cloned().collect();
        self.pointer_cache.clear();
        self.array_cache.clear();
        self.free_cache.clear();
        self.anonymous = 0;
    }

    /// The number of a member name (the same for every record using that name).
    fn member_key(&mut self, name: &str) -> u32 {
        self.intern_member(name).0
    }

    /// The member name `name`, shared by every record that uses it (a struct definition then
    /// allocates nothing for names seen before).
    pub fn member_name(&mut self, name: &str) -> Arc<str> {
        self.intern_member(name).1
    }

    fn intern_member(&mut self, name: &str) -> (u32, Arc<str>) {
        if let Some((shared, &k)) = self.member_keys.get_key_value(name) {
            return (k, shared.clone());
        }
        let k = self.member_names.len() as u32;
        let shared: Arc<str> = Arc::from(name);
        self.member_names.push(shared.clone());
        self.member_keys.insert(shared.clone(), k);
        (k, shared)
    }

    /// The member names numbered so far, by [`Member::key`].
    pub fn member_names(&self) -> &[Arc<str>] {
        &self.member_names
    }

    fn anonymous_name(&mut self) -> String {
        self.anonymous += 1;
        format!("<anonymous_{}>", self.anonymous)
    }

    fn check_new_name(&self, name: &str) -> Result<(), TypeError> {
        if !is_identifier(name) {
            return Err(TypeError::error(format!("Invalid type name '{name}'")));
        }
        if self.names.contains_key(name) {
            return Err(TypeError::error(format!("Duplicate type name '{name}'")));
        }
        Ok(())
    }

    fn register(&mut self, name: Option<&str>, info: TypeInfo) -> Result<TypeId, TypeError> {
        if let Some(name) = name {
            self.check_new_name(name)?;
        }
        let id = self.push(info);
        if let Some(name) = name {
            self.names.insert(name.to_string(), id);
        }
        Ok(id)
    }

    /// The pointer type `'<ref> *'` (spec PTR-01). `char`, `char16_t`, `char32_t` and `wchar_t`
    /// give the string kinds, as `'char *'` does; a prototype gives a `Callback` (PTR-05).
    pub fn pointer_to(&mut self, to: TypeId) -> TypeId {
        if let Some(id) = self.pointer_cache.get(&to) {
            return *id;
        }
        let target = self.get(to);
        let string_name = match (target.name.as_str(), target.detail.clone()) {
            ("char", Detail::Scalar) => Some("char *"),
            ("char16_t", Detail::Scalar) => Some("char16_t *"),
            ("char32_t", Detail::Scalar) => Some("char32_t *"),
            ("wchar_t", Detail::Scalar) => Some("wchar_t *"),
            _ => None,
        };
        if let Some(id) = string_name.filter(|_| to.0 < self.builtin_count as u32).and_then(|n| self.lookup(n)) {
            self.pointer_cache.insert(to, id);
            return id;
        }
        let name = pointer_name(&target.name);
        let primitive =
            if matches!(target.detail, Detail::Proto(_)) { Primitive::Callback } else { Primitive::Pointer };
        let info = self.pointer_info(name, primitive, to, None);
        let id = self.push(info);
        self.pointer_cache.insert(to, id);
        id
    }

    fn pointer_info(&self, name: String, primitive: Primitive, to: TypeId, counted_by: Option<String>) -> TypeInfo {
        TypeInfo {
            name,
            primitive,
            size: self.dm.pointer_size,
            align: self.dm.pointer_size,
            char_like: false,
            disposer: None,
            depth: 0,
            detail: Detail::Pointer { to, counted_by },
        }
    }

    /// A distinct named (or anonymous) pointer type, optionally counted by a struct member
    /// (spec PTR-03, PTR-04).
    pub fn named_pointer(
        &mut self,
        name: Option<&str>,
        to: TypeId,
        counted_by: Option<String>,
    ) -> Result<TypeId, TypeError> {
        let display = match name {
            Some(n) => n.to_string(),
            None if counted_by.is_none() => self.anonymous_name(),
            None => pointer_name(&self.get(to).name),
        };
        let primitive =
            if matches!(self.get(to).detail, Detail::Proto(_)) { Primitive::Callback } else { Primitive::Pointer };
        let info = self.pointer_info(display, primitive, to, counted_by);
        self.register(name, info)
    }

    /// The default array hint for an element type (spec ARR-04).
    pub fn default_hint(&self, elem: TypeId) -> ArrayHint {
        let info = self.get(elem);
        if info.char_like {
            ArrayHint::String
        } else if info.primitive.is_integer() || info.primitive.is_float() {
            ArrayHint::Typed
        } else {
            ArrayHint::Array
        }
    }

    /// An array of `len` elements (spec ARR-01..ARR-05), or a flexible array counted by a member
    /// of the enclosing struct (FLEX-01).
    pub fn array_of(
        &mut self,
        elem: TypeId,
        len: usize,
        hint: Option<ArrayHint>,
        counted_by: Option<String>,
    ) -> Result<TypeId, TypeError> {
        let info = self.get(elem);
        if matches!(info.detail, Detail::Incomplete) {
            return Err(TypeError::type_err("Cannot make array of incomplete type"));
        }
        if info.primitive == Primitive::Void || info.is_opaque() || matches!(info.detail, Detail::Proto(_)) {
            return Err(TypeError::type_err(format!(
                "Type {} cannot be used as an array element (maybe try {} *)",
                info.name, info.name
            )));
        }
        if len == 0 {
            return Err(TypeError::type_err("Array length must be positive and non-zero"));
        }
        let hint = match hint {
            None => self.default_hint(elem),
            Some(ArrayHint::Typed) if !(info.primitive.is_integer() || info.primitive.is_float()) => {
                return Err(TypeError::error(format!("Array hint 'Typed' cannot be used with type {}", info.name)));
            }
            // Spec ARR-05 and §18-Q6: 8-, 16- and (superset) char-like 32-bit elements.
            Some(ArrayHint::String)
                if !(matches!(info.primitive, Primitive::Int8 | Primitive::Int16)
                    || info.char_like && info.primitive == Primitive::Int32) =>
            {
                return Err(TypeError::error(format!(
                    "Array hint 'String' can only be used with 8 and 16-bit signed integer types, not {}",
                    info.name
                )));
            }
            Some(h) => h,
        };
        let depth = info.depth + 1;
        if depth > MAX_NESTING {
            return Err(TypeError::error(too_deep(&format!("Array of {}", info.name))));
        }
        let max_len = self.max_type_size.checked_div(info.size).unwrap_or(usize::MAX);
        if len > max_len {
            return Err(TypeError::type_err(format!("Array length is too high (max = {max_len})")));
        }
        if counted_by.is_none() {
            if let Some(id) = self.array_cache.get(&(elem, len, hint)) {
                return Ok(*id);
            }
        }
        let new = TypeInfo {
            name: format!("{}[{}]", info.name, len),
            primitive: Primitive::Array,
            size: info.size * len,
            align: info.align,
            char_like: false,
            disposer: None,
            depth,
            detail: Detail::Array { elem, len, hint, counted_by: counted_by.clone() },
        };
        let id = self.push(new);
        if counted_by.is_none() {
            self.array_cache.insert((elem, len, hint), id);
        }
        Ok(id)
    }

    /// A new opaque type (spec OPQ-01).
    pub fn opaque(&mut self, name: Option<&str>) -> Result<TypeId, TypeError> {
        let display = match name {
            Some(n) => n.to_string(),
            None => self.anonymous_name(),
        };
        let info = TypeInfo {
            name: display,
            primitive: Primitive::Void,
            size: 0,
            align: 0,
            char_like: false,
            disposer: None,
            depth: 0,
            detail: Detail::Opaque,
        };
        self.register(name, info)
    }

    /// Another name for the very same type (spec TS-14).
    pub fn alias(&mut self, name: &str, id: TypeId) -> Result<TypeId, TypeError> {
        self.check_new_name(name)?;
        self.names.insert(name.to_string(), id);
        Ok(id)
    }

    /// A disposable copy of a pointer or string type (spec DISP-01, DISP-02); anonymous ones are
    /// named `<anonymous_N>` like every anonymous type.
    pub fn disposable(&mut self, name: Option<&str>, base: TypeId, disposer: Disposer) -> Result<TypeId, TypeError> {
        let display = match name {
            Some(n) => n.to_string(),
            None => self.anonymous_name(),
        };
        let new = self.disposable_info(base, disposer, display)?;
        self.register(name, new)
    }

    /// The `!` shorthand of type strings (spec DISP-05): a `free()`-based disposable that keeps
    /// the base type's name, one per base type.
    pub fn free_disposable(&mut self, base: TypeId) -> Result<TypeId, TypeError> {
        if let Some(id) = self.free_cache.get(&base) {
            return Ok(*id);
        }
        let name = self.get(base).name.clone();
        let new = self.disposable_info(base, Disposer::Free, name)?;
        let id = self.push(new);
        self.free_cache.insert(base, id);
        Ok(id)
    }

    fn disposable_info(&self, base: TypeId, disposer: Disposer, name: String) -> Result<TypeInfo, TypeError> {
        let info = self.get(base);
        if !info.primitive.is_pointer_like() || info.primitive == Primitive::Callback {
            return Err(TypeError::type_err(format!("Unexpected {} type, expected pointer or string type", info.name)));
        }
        if info.disposer.is_some() {
            return Err(TypeError::type_err(format!(
                "Cannot use disposable type '{}' to create new disposable",
                info.name
            )));
        }
        Ok(TypeInfo { name, disposer: Some(disposer), ..info.clone() })
    }

    /// A function type (spec PROTO-01..03); named prototypes are registered.
    pub fn proto(&mut self, sig: FuncSig) -> Result<TypeId, TypeError> {
        let named = !sig.name.is_empty();
        let name = if named { sig.name.clone() } else { self.anonymous_name() };
        let info = TypeInfo {
            name: name.clone(),
            primitive: Primitive::Prototype,
            size: self.dm.pointer_size,
            align: self.dm.pointer_size,
            char_like: false,
            disposer: None,
            depth: 0,
            detail: Detail::Proto(Box::new(sig)),
        };
        self.register(named.then_some(name.as_str()), info)
    }

    /// Starts a struct or union definition: registers its name (or takes over the opaque type
    /// `redefine`) as an incomplete type, so that members can point to it (spec TS-05, REC-10).
    pub fn begin_record(
        &mut self,
        name: Option<&str>,
        redefine: Option<TypeId>,
        union: bool,
    ) -> Result<(TypeId, Checkpoint), TypeError> {
        let primitive = if union { Primitive::Union } else { Primitive::Record };
        let mut cp = Checkpoint { len: self.types.len(), redefined: None, name: None };
        if let Some(id) = redefine {
            let info = self.get(id);
            if !info.is_opaque() {
                return Err(TypeError::type_err(format!("Cannot redefine non-opaque type {}", info.name)));
            }
            cp.redefined = Some((id, info.clone()));
            let slot = Arc::make_mut(&mut self.types[id.0 as usize]);
            slot.primitive = primitive;
            slot.detail = Detail::Incomplete;
            return Ok((id, cp));
        }
        let display = match name {
            Some(n) => n.to_string(),
            None => self.anonymous_name(),
        };
        let info = TypeInfo {
            name: display,
            primitive,
            size: 0,
            align: 0,
            char_like: false,
            disposer: None,
            depth: 0,
            detail: Detail::Incomplete,
        };
        let id = self.register(name, info)?;
        cp.name = name.map(str::to_string);
        Ok((id, cp))
    }

    /// Undoes everything since `cp`: the definition and any type derived meanwhile (REC-11).
    pub fn rollback(&mut self, cp: Checkpoint) {
        let len = cp.len as u32;
        if let Some((id, info)) = cp.redefined {
            self.types[id.0 as usize] = Arc::new(info);
        }
        if let Some(name) = cp.name {
            self.names.remove(&name);
        }
        self.types.truncate(cp.len);
        self.names.retain(|_, id| id.0 < len);
        self.pointer_cache.retain(|k, v| k.0 < len && v.0 < len);
        self.array_cache.retain(|k, v| k.0 .0 < len && v.0 < len);
        self.free_cache.retain(|k, v| k.0 < len && v.0 < len);
    }

    /// Finishes a definition started by [`Registry::begin_record`]: validates the members, lays
    /// them out and completes the type in place. On error the caller rolls back.
    pub fn finish_record(&mut self, id: TypeId, specs: Vec<MemberSpec>, packed: bool) -> Result<(), TypeError> {
        let union = self.get(id).primitive == Primitive::Union;
        let what = if union { "union" } else { "struct" };
        // Only error messages need it.
        let record_name = |reg: &Registry| reg.get(id).name.clone();
        if specs.is_empty() {
            let kind = if union { "union" } else { "struct" };
            return Err(TypeError::error(format!("Empty {kind} '{}' is not allowed in C", record_name(self))));
        }
        let mut layouts = Vec::with_capacity(specs.len());
        // The first index of each member name: the duplicate check and the counter lookups
        // below stay linear in the member count (a scan per member was quadratic: 14 s for
        // 100,000 members).
        let mut depth = 1u16;
        let mut first: HashMap<&str, usize> = HashMap::default();
        first.reserve(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            first.entry(&spec.name).or_insert(i);
        }
        for (i, spec) in specs.iter().enumerate() {
            if &*spec.name != "_" {
                if !is_identifier(&spec.name) {
                    return Err(TypeError::error(format!("Invalid member name '{}'", spec.name)));
                }
                if first[&*spec.name] != i {
                    return Err(TypeError::error(format!(
                        "Duplicate member '{}' in {what} '{}'",
                        spec.name,
                        record_name(self)
                    )));
                }
            }
            if let Some(a) = spec.align {
                if ![1, 2, 4, 8].contains(&a) {
                    return Err(TypeError::error(format!("Alignment of member '{}' must be 1, 2, 4 or 8", spec.name)));
                }
            }
            let info = self.get(spec.ty);
            self.check_member(info)?;
            if let Some(counter) = info.counted_by() {
                if union {
                    return Err(TypeError::type_err("Cannot use dynamic-length array or pointer inside of union"));
                }
                let is_array = info.primitive == Primitive::Array;
                if is_array && i + 1 != specs.len() {
                    return Err(TypeError::error(format!(
                        "Flexible array '{}' is not the last member of struct",
                        spec.name
                    )));
                }
                let Some(c) = first.get(counter).map(|&c| &specs[c]) else {
                    return Err(TypeError::error(format!(
                        "Record type {} does not have member '{counter}'",
                        record_name(self)
                    )));
                };
                if !self.get(c.ty).primitive.is_integer() {
                    return Err(TypeError::error(format!("Dynamic length member {counter} is not an integer")));
                }
            }
            depth = depth.max(info.depth + 1);
            layouts.push(MemberLayout { size: info.size, align: info.align, explicit_align: spec.align });
        }
        if depth > MAX_NESTING {
            let kind = if union { "Union" } else { "Struct" };
            return Err(TypeError::error(too_deep(&format!("{kind} '{}'", record_name(self)))));
        }
        let layout = if union { layout_union(&layouts) } else { layout_record(&layouts, packed) };
        if layout.size > self.max_type_size {
            return Err(TypeError::error(format!(
                "{} '{}' size is too high (max = {})",
                if union { "Union" } else { "Struct" },
                record_name(self),
                self.max_type_size
            )));
        }
        let counters: Vec<Option<usize>> =
            specs.iter().map(|spec| self.get(spec.ty).counted_by().and_then(|c| first.get(c).copied())).collect();
        let members: Vec<Member> = specs
            .into_iter()
            .zip(layout.offsets)
            .zip(counters)
            .map(|((spec, offset), counter)| Member {
                counted_by: self.get(spec.ty).counted_by().map(str::to_string),
                counter,
                key: self.member_key(&spec.name),
                info: self.get_arc(spec.ty),
                name: spec.name,
                ty: spec.ty,
                offset,
            })
            .collect();
        let slot = Arc::make_mut(&mut self.types[id.0 as usize]);
        slot.size = layout.size;
        slot.align = layout.align;
        slot.depth = depth;
        slot.detail = if union { Detail::Union { members } } else { Detail::Record { members } };
        Ok(())
    }

    fn check_member(&self, info: &TypeInfo) -> Result<(), TypeError> {
        if matches!(info.detail, Detail::Incomplete) {
            return Err(TypeError::type_err("Cannot directly use incomplete type"));
        }
        if info.primitive == Primitive::Void
            || matches!(info.detail, Detail::Proto(_))
            || self.is_variadic_callback(info)
        {
            return Err(TypeError::type_err(format!(
                "Type {} cannot be used as a member (maybe try {} *)",
                info.name, info.name
            )));
        }
        Ok(())
    }

    fn is_variadic_callback(&self, info: &TypeInfo) -> bool {
        match info.detail {
            Detail::Pointer { to, .. } => self.get(to).proto().is_some_and(|s| s.variadic),
            _ => false,
        }
    }

    /// Whether `id` may be a function's result (spec FN-13).
    pub fn check_return(&self, id: TypeId) -> Result<(), TypeError> {
        let info = self.get(id);
        if matches!(info.detail, Detail::Incomplete) {
            return Err(TypeError::type_err("Cannot directly use incomplete type"));
        }
        let refused = matches!(info.detail, Detail::Array { .. } | Detail::Proto(_) | Detail::Opaque)
            || info.counted_by().is_some();
        if refused {
            return Err(TypeError::type_err(format!(
                "You are not allowed to directly return {} values (maybe try {} *)",
                info.name, info.name
            )));
        }
        Ok(())
    }

    /// Whether `id` may be a parameter with direction `dir` (spec FN-14).
    pub fn check_param(&self, id: TypeId, dir: Direction) -> Result<(), TypeError> {
        let info = self.get(id);
        if matches!(info.detail, Detail::Incomplete) {
            return Err(TypeError::type_err("Cannot directly use incomplete type"));
        }
        let refused = info.primitive == Primitive::Void
            || matches!(info.detail, Detail::Array { .. } | Detail::Proto(_))
            || info.counted_by().is_some()
            || self.is_variadic_callback(info)
            || (dir != Direction::In && !info.primitive.is_pointer_like());
        if refused {
            return Err(TypeError::type_err(format!("Type {} cannot be used as a parameter", info.name)));
        }
        Ok(())
    }
}

/// The message for a type nested deeper than [`MAX_NESTING`].
fn too_deep(what: &str) -> String {
    format!("{what} nests structs, unions or arrays by value too deeply (more than {MAX_NESTING} levels)")
}

/// `'<ref> *'`, or `'<ref>*'` when `<ref>` already ends in `*` (spec TS-08).
/// The name of a pointer to the type named `target` (spec TS-08): `'int *'`, `'int **'`.
pub fn pointer_name(target: &str) -> String {
    if target.ends_with('*') {
        format!("{target}*")
    } else {
        format!("{target} *")
    }
}

/// Type and member names must be identifiers: an ASCII letter or `_`, then ASCII letters,
/// digits or `_`. Spec TS-06 names Unicode XID, but Koffi 2.16.3 itself refuses non-ASCII names
/// (`'TsÉtoile'` → "Invalid type name"), and code written for it is what we must accept.
pub(crate) fn is_identifier(name: &str) -> bool {
    // Bytes, not chars: every accepted character is ASCII, and a multi-byte one fails anyway.
    match name.as_bytes() {
        [first, rest @ ..] if first.is_ascii_alphabetic() || *first == b'_' => {
            rest.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> Registry {
        Registry::new(DataModel::LP64)
    }

    #[test]
    fn builtins_have_the_spec_sizes() {
        let r = reg();
        for (name, size, kind) in [
            ("long", 8, Primitive::Int64),
            ("wchar_t", 4, Primitive::Int32),
            ("size_t", 8, Primitive::UInt64),
            ("uint16_be_t", 2, Primitive::UInt16S),
            ("int32_le", 4, Primitive::Int32),
            ("str16", 8, Primitive::String16),
            ("wchar *", 8, Primitive::String32),
        ] {
            let info = r.get(r.lookup(name).unwrap());
            assert_eq!((info.size, info.primitive), (size, kind), "{name}");
        }
        assert_eq!(r.builtin_type_names().count(), 79, "koffi.types has 79 entries (TS-09)");
        let w = Registry::new(DataModel::LLP64);
        assert_eq!(w.get(w.lookup("long").unwrap()).size, 4);
        assert_eq!(w.get(w.lookup("wchar_t *").unwrap()).primitive, Primitive::String16);
    }

    #[test]
    fn char_pointer_is_the_string_type() {
        let mut r = reg();
        let c = r.lookup("char").unwrap();
        assert_eq!(r.pointer_to(c), r.lookup("str").unwrap());
        let i = r.lookup("int").unwrap();
        let p = r.pointer_to(i);
        assert_eq!(r.get(p).name, "int *");
        let pp = r.pointer_to(p);
        assert_eq!(r.get(pp).name, "int **");
        assert_eq!(r.pointer_to(i), p, "pointer types are shared");
    }

    #[test]
    fn failed_struct_leaves_nothing_behind() {
        let mut r = reg();
        let (id, cp) = r.begin_record(Some("Node"), None, false).unwrap();
        let _ptr = r.pointer_to(id);
        let err = r.finish_record(id, vec![], false).unwrap_err();
        assert!(err.message.contains("Empty struct"));
        r.rollback(cp);
        assert!(r.lookup("Node").is_none());
        let (id2, _) = r.begin_record(Some("Node"), None, false).unwrap();
        assert_eq!(id2, id);
    }

    #[test]
    fn opaque_redefinition_keeps_the_id() {
        let mut r = reg();
        let t = r.opaque(Some("T1")).unwrap();
        let p = r.pointer_to(t);
        let (id, _) = r.begin_record(None, Some(t), false).unwrap();
        let f = r.lookup("float").unwrap();
        let name = r.member_name("f");
        r.finish_record(id, vec![MemberSpec { name, ty: f, align: None }], false).unwrap();
        assert_eq!(r.get(r.get(p).target().unwrap()).size, 4);
        assert_eq!(r.get(t).name, "T1");
    }

    #[test]
    fn reset_forgets_user_types() {
        let mut r = reg();
        let foo = r.opaque(Some("Foo")).unwrap();
        r.reset();
        assert!(r.lookup("Foo").is_none());
        assert!(r.lookup("int").is_some());
        assert_eq!(r.get(foo).name, "Foo", "the type itself stays");
    }

    #[test]
    fn reset_keeps_ids_of_earlier_types() {
        let mut r = reg();
        let int = r.lookup("int").unwrap();
        let name = r.member_name("a");
        let (s, _) = r.begin_record(Some("S"), None, false).unwrap();
        r.finish_record(s, vec![MemberSpec { name: name.clone(), ty: int, align: None }], false).unwrap();
        let p = r.pointer_to(s);
        r.reset();
        let (s2, _) = r.begin_record(Some("S"), None, false).unwrap();
        let d = r.lookup("double").unwrap();
        r.finish_record(s2, vec![MemberSpec { name, ty: d, align: None }], false).unwrap();
        assert_ne!(s2, s, "ids are never reused");
        assert_eq!(r.get(r.get(p).target().unwrap()).size, 4, "the old pointer still sees the old struct");
        assert_ne!(r.pointer_to(s2), p);
    }

    fn define(r: &mut Registry, members: &[(&str, TypeId)]) -> Result<TypeId, TypeError> {
        let (id, cp) = r.begin_record(None, None, false).unwrap();
        let specs = members.iter().map(|(n, ty)| MemberSpec { name: r.member_name(n), ty: *ty, align: None }).collect();
        match r.finish_record(id, specs, false) {
            Ok(()) => Ok(id),
            Err(e) => {
                r.rollback(cp);
                Err(e)
            }
        }
    }

    #[test]
    fn nesting_by_value_stops_at_the_limit() {
        let mut r = reg();
        let mut t = r.lookup("int").unwrap();
        for level in 1..=MAX_NESTING {
            t = define(&mut r, &[("a", t)]).unwrap();
            assert_eq!(r.get(t).depth, level);
        }
        let e = define(&mut r, &[("a", t)]).unwrap_err();
        assert!(e.message.contains("too deeply (more than 64 levels)"), "{e}");
        let e = r.array_of(t, 2, None, None).unwrap_err();
        assert!(e.message.starts_with("Array of"), "{e}");
        // Pointers end a by-value chain.
        let p = r.pointer_to(t);
        assert_eq!(define(&mut r, &[("p", p)]).map(|id| r.get(id).depth), Ok(1));
    }

    #[test]
    fn duplicates_and_counters_are_found_among_many_members() {
        let mut r = reg();
        let i = r.lookup("int").unwrap();
        let names: Vec<String> = (0..50_000).map(|k| format!("m{k}")).collect();
        let mut members: Vec<(&str, TypeId)> = names.iter().map(|n| (n.as_str(), i)).collect();
        assert!(define(&mut r, &members).is_ok());
        members.push(("m49999", i));
        let e = define(&mut r, &members).unwrap_err();
        assert!(e.message.contains("Duplicate member 'm49999'"), "{e}");
        // A counter declared after the counted pointer is found, and its index kept.
        let counted = r.named_pointer(None, i, Some("n".to_string())).unwrap();
        let id = define(&mut r, &[("items", counted), ("x", i), ("n", i)]).unwrap();
        assert_eq!(r.get(id).members()[0].counter, Some(2));
    }

    #[test]
    fn names_must_be_identifiers_and_unique() {
        let mut r = reg();
        assert!(r.opaque(Some("1abc")).unwrap_err().message.contains("Invalid type name"));
        assert!(r.opaque(Some("int")).unwrap_err().message.contains("Duplicate type name"));
    }
}
