//! Struct and union layout through the registry, from definitions the fuzz bytes describe:
//! member types (built-ins, pointers, earlier records by value, the record's own pointer),
//! arrays of any length (huge ones included) and of arrays, explicit member alignments (valid
//! and not), `pack`, unions, placeholders and duplicate names, and chains of records nested by
//! value. Never a panic; a definition that fails is rolled back; one that succeeds keeps C's
//! layout rules: members inside the record, in order and without overlap, aligned (unless
//! packed), size a multiple of the alignment.
//!
//! Encoding, one definition after another (a missing byte reads as 0):
//! `flags` (bit 0 union, bit 1 packed, bit 2 anonymous), `count` (members, % 17: 0 is the
//! "empty struct" error), then per member `kind`, `pick`, `align` and, when `kind` asks for an
//! array, a length byte `l` (bit 7 set: a 32-bit little-endian length follows, scaled by
//! `1 << (l & 31)`; otherwise `l + 1`). `kind & 7` chooses a built-in (0-2), a pointer (3), an
//! earlier record by value (4-5, `pick` counts back from the newest, so a chain nests deeply),
//! the record's own pointer (6) or an earlier record's pointer (7); bit 3 makes it an array,
//! bit 4 an array of that array; bit 5 names the member `_`, bit 6 reuses the previous name.
//! `align % 8`: 0-3 none, 4-7 alignment 1, 2, 4, 8; `align` bit 7 an invalid one (3 or 16).
#![no_main]

use koffi_rs::types::{DataModel, MemberSpec, Registry, TypeId};
use libfuzzer_sys::fuzz_target;

const BUILTINS: &[&str] = &[
    "bool",
    "char",
    "int8_t",
    "uint8_t",
    "short",
    "uint16_t",
    "int",
    "uint32_t",
    "float",
    "long",
    "int64_t",
    "uint64_t",
    "double",
    "size_t",
    "wchar_t",
    "char16_t",
    "int16_be_t",
    "uint32_le_t",
    "const char *",
    "void *",
];

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn array_len(&mut self) -> usize {
        let l = self.u8();
        if l & 0x80 != 0 {
            (self.u32() as usize).saturating_mul(1usize << (l & 31))
        } else {
            l as usize + 1
        }
    }
}

/// One member as defined, with what the checks need besides the registry.
struct Defined {
    explicit: Option<usize>,
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let mut reg = Registry::new(DataModel::native());
    let mut records: Vec<TypeId> = Vec::new();
    let mut serial = 0;
    while !b.0.is_empty() {
        let flags = b.u8();
        let (union, packed, anonymous) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0);
        let count = (b.u8() % 17) as usize;
        serial += 1;
        let name = format!("R{serial}");
        let (id, cp) = match reg.begin_record((!anonymous).then_some(name.as_str()), None, union) {
            Ok(x) => x,
            Err(_) => continue,
        };
        let mut specs = Vec::with_capacity(count);
        let mut defined = Vec::with_capacity(count);
        let mut failed = false;
        for i in 0..count {
            let (kind, pick, align) = (b.u8(), b.u8() as usize, b.u8());
            let earlier = |pick: usize| records.iter().rev().nth(pick % records.len().max(1)).copied();
            let base = match kind & 7 {
                0..=2 => koffi_rs::types::parse_type(&mut reg, BUILTINS[pick % BUILTINS.len()]).ok(),
                3 => koffi_rs::types::parse_type(&mut reg, BUILTINS[pick % BUILTINS.len()])
                    .ok()
                    .map(|t| reg.pointer_to(t)),
                4 | 5 => earlier(pick).or_else(|| koffi_rs::types::parse_type(&mut reg, "int").ok()),
                6 => Some(reg.pointer_to(id)),
                _ => earlier(pick).map(|r| reg.pointer_to(r)),
            };
            let Some(mut ty) = base else {
                failed = true;
                break;
            };
            for bit in [8u8, 16] {
                if kind & bit != 0 {
                    let len = b.array_len();
                    match reg.array_of(ty, len, None, None) {
                        Ok(a) => ty = a,
                        Err(_) => {
                            failed = true;
                            break;
                        }
                    }
                }
            }
            if failed {
                break;
            }
            let member = if kind & 0x20 != 0 {
                "_".to_string()
            } else if kind & 0x40 != 0 && i > 0 {
                format!("m{}", i - 1)
            } else {
                format!("m{i}")
            };
            let explicit = if align & 0x80 != 0 {
                Some(if align & 1 != 0 { 3 } else { 16 })
            } else {
                [None, None, None, None, Some(1), Some(2), Some(4), Some(8)][(align % 8) as usize]
            };
            specs.push(MemberSpec { name: reg.member_name(&member), ty, align: explicit });
            defined.push(Defined { explicit });
        }
        if failed || reg.finish_record(id, specs, packed).is_err() {
            reg.rollback(cp);
            continue;
        }
        check(&reg, id, union, packed, &defined);
        records.push(id);
    }
});

fn check(reg: &Registry, id: TypeId, union: bool, packed: bool, defined: &[Defined]) {
    let info = reg.get(id);
    let members = info.members();
    assert_eq!(members.len(), defined.len());
    assert!(info.align.is_power_of_two(), "alignment {}", info.align);
    assert_eq!(info.size % info.align, 0, "size {} not a multiple of alignment {}", info.size, info.align);
    assert!(info.size <= reg.max_type_size);
    let mut end = 0;
    for (m, d) in members.iter().zip(defined) {
        let (size, align) = (m.info.size, m.info.align.max(1));
        assert!(m.offset + size <= info.size, "member {} at {}+{size} past {}", m.name, m.offset, info.size);
        let a = d.explicit.unwrap_or(if packed && !union { 1 } else { align });
        assert_eq!(m.offset % a, 0, "member {} at {} not aligned to {a}", m.name, m.offset);
        assert!(info.align >= a, "record alignment {} below member's {a}", info.align);
        if union {
            assert_eq!(m.offset, 0);
        } else {
            assert!(m.offset >= end, "member {} at {} overlaps the previous one (ends at {end})", m.name, m.offset);
            end = m.offset + size;
        }
    }
}
