//! Prototypes (`'int printf(const char *fmt, ...)'`) through `parse_prototype`: never a
//! panic; a prototype it accepts has a valid result type and parameters, a name when one is
//! required, and parsing it again gives the same declaration. The first byte chooses whether a
//! name is required (`lib.func`) or not (`koffi.proto`).
#![no_main]

#[path = "common.rs"]
mod common;

use koffi_rs::types::parse_prototype;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let Ok(s) = std::str::from_utf8(rest) else { return };
    let name_required = flags & 1 == 1;
    let mut reg = common::registry();
    if let Ok(decl) = parse_prototype(&mut reg, s, name_required) {
        assert!(!name_required || !decl.name.is_empty(), "{s:?}: no name");
        reg.check_return(decl.ret).expect("accepted result type");
        common::check_type(&reg, decl.ret);
        for p in &decl.params {
            reg.check_param(p.ty, p.dir).expect("accepted parameter type");
            common::check_type(&reg, p.ty);
        }
        let again = parse_prototype(&mut reg, s, name_required).expect("parses again");
        assert_eq!(decl, again, "{s:?} parsed two ways");
    }
});
