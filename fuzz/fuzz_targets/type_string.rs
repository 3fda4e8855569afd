//! Type strings (`'const char *'`, `'int[4][2]'`, `'Point **'`, `'str!'`) through
//! `parse_type`: never a panic; a type it returns keeps the size rules, and parsing the same
//! string again gives the same type (derived types are cached: spec PTR-01).
#![no_main]

#[path = "common.rs"]
mod common;

use koffi_rs::types::parse_type;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let mut reg = common::registry();
    if let Ok(id) = parse_type(&mut reg, s) {
        common::check_type(&reg, id);
        let again = parse_type(&mut reg, s).expect("a type string that parsed once parses again");
        assert_eq!(id, again, "{s:?} gave two different types");
    }
});
