//! Shared by the fuzz targets: a registry holding a few user types, and the invariants every
//! type in it must keep.

use koffi_rs::types::{DataModel, MemberSpec, Registry, TypeId};

/// A fresh registry for the host's data model with the user types the seed inputs name:
/// `Point { int x; int y }`, `Named { const char *name; double v[3] }`, the union
/// `Value { int64_t i; double d }` and the opaque `Handle`, so that type strings and
/// prototypes can refer to records, unions and opaque types, not only to built-ins.
pub fn registry() -> Registry {
    let mut reg = Registry::new(DataModel::native());
    define(&mut reg, "Point", false, &[("x", "int"), ("y", "int")]);
    define(&mut reg, "Named", false, &[("name", "const char *"), ("v", "double[3]")]);
    define(&mut reg, "Value", true, &[("i", "int64_t"), ("d", "double")]);
    reg.opaque(Some("Handle")).expect("opaque Handle");
    reg
}

fn define(reg: &mut Registry, name: &str, union: bool, members: &[(&str, &str)]) {
    let (id, _) = reg.begin_record(Some(name), None, union).expect("begin_record");
    let specs = members
        .iter()
        .map(|(n, t)| MemberSpec {
            name: reg.member_name(n),
            ty: koffi_rs::types::parse_type(reg, t).expect("member type"),
            align: None,
        })
        .collect();
    reg.finish_record(id, specs, false).expect("finish_record");
}

/// Size and alignment rules every complete type keeps: alignment a power of two (or 0 for
/// void and opaque types), size a multiple of it, nothing larger than `max_type_size`.
pub fn check_type(reg: &Registry, id: TypeId) {
    let info = reg.get(id);
    assert!(info.align == 0 || info.align.is_power_of_two(), "{}: alignment {}", info.name, info.align);
    if info.align > 0 {
        assert_eq!(info.size % info.align, 0, "{}: size {} not a multiple of {}", info.name, info.size, info.align);
    }
    assert!(info.size <= reg.max_type_size, "{}: size {} over the limit", info.name, info.size);
}
