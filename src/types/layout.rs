//! C layout of records and unions (spec REC-04, REC-05, UNI-02).

/// Size, alignment and explicit alignment of one member, as the layout needs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberLayout {
    /// `sizeof(member type)`.
    pub size: usize,
    /// `alignof(member type)`.
    pub align: usize,
    /// An explicit `[alignment, type]` override (spec REC-03).
    pub explicit_align: Option<usize>,
}

/// The computed layout of a record or union.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordLayout {
    /// Offset of each member, in order.
    pub offsets: Vec<usize>,
    /// Total size, padded to the alignment.
    pub size: usize,
    /// Alignment of the whole.
    pub align: usize,
}

/// `value` rounded up to `align`, saturating at `usize::MAX`: an overflowing layout then
/// reads as too large (above `max_type_size`) instead of wrapping to a small, wrong one.
fn align_up(value: usize, align: usize) -> usize {
    if align <= 1 {
        value
    } else {
        value.div_ceil(align).saturating_mul(align)
    }
}

/// Lays out a struct. For each member `a = explicit ?? (packed ? 1 : alignof(type))`,
/// `offset = align_up(cursor, a)`, `cursor = offset + size`; the struct's alignment is the largest
/// `a` and its size the cursor rounded up to it (spec REC-04; REC-05 for `koffi.pack`, where an
/// explicit member alignment still raises the struct's).
pub fn layout_record(members: &[MemberLayout], packed: bool) -> RecordLayout {
    let mut cursor = 0usize;
    let mut align = 1usize;
    let mut offsets = Vec::with_capacity(members.len());
    for m in members {
        let a = m.explicit_align.unwrap_or(if packed { 1 } else { m.align.max(1) });
        let offset = align_up(cursor, a);
        offsets.push(offset);
        cursor = offset.saturating_add(m.size);
        align = align.max(a);
    }
    RecordLayout { offsets, size: align_up(cursor, align), align }
}

/// Lays out a union: every member at offset 0, alignment the largest member alignment (explicit
/// ones honoured), size the largest member rounded up to it (spec UNI-02).
pub fn layout_union(members: &[MemberLayout]) -> RecordLayout {
    let align = members.iter().map(|m| m.explicit_align.unwrap_or(m.align).max(1)).max().unwrap_or(1);
    let size = members.iter().map(|m| m.size).max().unwrap_or(0);
    RecordLayout { offsets: vec![0; members.len()], size: align_up(size, align), align }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(size: usize, align: usize) -> MemberLayout {
        MemberLayout { size, align, explicit_align: None }
    }

    #[test]
    fn pixel_struct_puts_float_at_four() {
        // Spec §7.1 example: { uint8 r, g, b; float alpha } → alpha at 4, size 8.
        let l = layout_record(&[m(1, 1), m(1, 1), m(1, 1), m(4, 4)], false);
        assert_eq!(l.offsets, vec![0, 1, 2, 4]);
        assert_eq!((l.size, l.align), (8, 4));
    }

    #[test]
    fn explicit_member_alignment_gives_size_16() {
        // Spec REC-06 / Q15: struct({ a: int8, b: [8, int16] }) → b at 8, size 16, align 8.
        let b = MemberLayout { size: 2, align: 2, explicit_align: Some(8) };
        let l = layout_record(&[m(1, 1), b], false);
        assert_eq!(l.offsets, vec![0, 8]);
        assert_eq!((l.size, l.align), (16, 8));
    }

    #[test]
    fn packed_struct_with_explicit_alignment() {
        // Spec REC-06: pack({ a: int8, b: [4, int16] }) → size 8, alignment 4.
        let b = MemberLayout { size: 2, align: 2, explicit_align: Some(4) };
        let l = layout_record(&[m(1, 1), b], true);
        assert_eq!(l.offsets, vec![0, 4]);
        assert_eq!((l.size, l.align), (8, 4));
        let wire = layout_record(&[m(1, 1), m(4, 4)], true);
        assert_eq!((wire.size, wire.align), (5, 1));
    }

    #[test]
    fn overflowing_layout_saturates() {
        // On a 32-bit host, 9 members of 512 MiB pass 2^32: the size must not wrap around.
        let huge = m(usize::MAX / 4, 8);
        let l = layout_record(&[huge, huge, huge, huge, huge], false);
        assert_eq!(l.size, usize::MAX);
    }

    #[test]
    fn union_takes_largest_member() {
        let l = layout_union(&[m(8, 8), m(1, 1), m(12, 4)]);
        assert_eq!((l.size, l.align), (16, 8));
    }
}
