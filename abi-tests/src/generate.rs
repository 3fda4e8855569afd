//! The deterministic signature generator (used by build.rs). The seed lives in `abi-tests/seed`;
//! the same seed always gives the same cases, in the same order.
//!
//! Coverage, first as fixed sweeps, then as random cases up to [`TOTAL`]:
//! every scalar as parameter and result; structs of every size from 1 to 32 bytes; homogeneous
//! float/double aggregates of 1–4 members; 1–20 parameters so that registers run out; then random
//! structs (1–8 members, nested up to 3 deep, arrays inside), unions, packed structs, large
//! aggregates and variadic calls, with results of every kind.

use crate::desc::{Case, Sc, Ty, SCALARS};

/// How many generated cases (hand-written edge cases come on top).
pub const TOTAL: usize = 2200;
/// Largest aggregate the generator makes (bytes).
const MAX_SIZE: usize = 256;

/// splitmix64: small, fast, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    /// True with probability `percent`%.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.range(1, 100) <= percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.range(0, items.len() - 1)]
    }
}

/// Size and alignment by C rules on an LP64 target.
pub fn size_align(ty: &Ty) -> (usize, usize) {
    match ty {
        Ty::Scalar(s) => {
            let n = match s {
                Sc::I8 | Sc::U8 | Sc::Bool => 1,
                Sc::I16 | Sc::U16 => 2,
                Sc::I32 | Sc::U32 | Sc::F32 => 4,
                _ => 8,
            };
            (n, n)
        }
        Ty::Array(e, n) => {
            let (s, a) = size_align(e);
            (s * n, a)
        }
        Ty::Struct { fields, packed } => {
            let (mut size, mut align) = (0usize, 1usize);
            for f in fields {
                let (s, a) = size_align(f);
                let a = if *packed { 1 } else { a };
                size = size.div_ceil(a) * a + s;
                align = align.max(a);
            }
            (size.div_ceil(align) * align, align)
        }
        Ty::Union(fields) => {
            let (size, align) =
                fields.iter().map(size_align).fold((0usize, 1usize), |(s, a), (fs, fa)| (s.max(fs), a.max(fa)));
            (size.div_ceil(align) * align, align)
        }
    }
}

const PLAIN: [Sc; 11] =
    [Sc::I8, Sc::U8, Sc::I16, Sc::U16, Sc::I32, Sc::U32, Sc::I64, Sc::U64, Sc::F32, Sc::F64, Sc::Ptr];

fn scalar(rng: &mut Rng, allow_bool: bool) -> Sc {
    if allow_bool && rng.chance(5) {
        Sc::Bool
    } else {
        rng.pick(&PLAIN)
    }
}

fn hfa(rng: &mut Rng) -> Ty {
    let s = if rng.chance(50) { Sc::F32 } else { Sc::F64 };
    let n = rng.range(1, 4);
    if n >= 2 && rng.chance(30) {
        // The same HFA written with an array or a nested struct.
        return Ty::Struct { fields: vec![Ty::Array(Box::new(Ty::Scalar(s)), n)], packed: false };
    }
    Ty::Struct { fields: vec![Ty::Scalar(s); n], packed: false }
}

/// A random aggregate nested at most `3 - depth` more levels.
fn aggregate(rng: &mut Rng, depth: usize) -> Ty {
    loop {
        let ty = match rng.range(1, 100) {
            1..=15 => hfa(rng),
            16..=23 if depth < 3 => {
                let n = rng.range(2, 4);
                // bool bytes must stay 0 or 1, which overlapping union members cannot promise.
                Ty::Union((0..n).map(|_| member(rng, depth + 1, false)).collect())
            }
            24..=30 => {
                let n = rng.range(2, 6);
                Ty::Struct { fields: (0..n).map(|_| member(rng, depth + 1, true)).collect(), packed: true }
            }
            31..=34 => {
                // Some large aggregates.
                let s = rng.pick(&[Sc::I32, Sc::F64, Sc::I8, Sc::I64]);
                Ty::Struct { fields: vec![Ty::Array(Box::new(Ty::Scalar(s)), rng.range(5, 24))], packed: false }
            }
            _ => {
                let n = rng.range(1, 8);
                Ty::Struct { fields: (0..n).map(|_| member(rng, depth + 1, true)).collect(), packed: false }
            }
        };
        if size_align(&ty).0 <= MAX_SIZE {
            return ty;
        }
    }
}

fn member(rng: &mut Rng, depth: usize, allow_bool: bool) -> Ty {
    match rng.range(1, 100) {
        1..=60 => Ty::Scalar(scalar(rng, allow_bool)),
        61..=75 => Ty::Array(Box::new(Ty::Scalar(scalar(rng, allow_bool))), rng.range(1, 4)),
        _ if depth < 3 => {
            let inner = aggregate(rng, depth);
            if inner.has_bool() && !allow_bool {
                Ty::Scalar(scalar(rng, false))
            } else {
                inner
            }
        }
        _ => Ty::Scalar(scalar(rng, allow_bool)),
    }
}

fn param(rng: &mut Rng) -> Ty {
    if rng.chance(55) {
        Ty::Scalar(scalar(rng, true))
    } else {
        aggregate(rng, 0)
    }
}

fn variadic_param(rng: &mut Rng) -> Ty {
    loop {
        let ty = if rng.chance(75) {
            Ty::Scalar(rng.pick(&[Sc::I32, Sc::U32, Sc::I64, Sc::U64, Sc::F64, Sc::Ptr]))
        } else {
            aggregate(rng, 0)
        };
        if !ty.has_bool() {
            return ty;
        }
    }
}

fn chars(n: usize) -> Ty {
    Ty::Struct { fields: vec![Ty::Array(Box::new(Ty::Scalar(Sc::I8)), n)], packed: false }
}

/// Fixed sweeps: each scalar, every struct size 1–32, HFAs, and register exhaustion.
fn sweeps() -> Vec<(Option<Ty>, Vec<Ty>, Option<usize>)> {
    let mut out = Vec::new();
    for s in SCALARS {
        out.push((Some(Ty::Scalar(s)), vec![Ty::Scalar(s)], None));
        out.push((Some(Ty::Scalar(s)), vec![Ty::Scalar(s); 10], None));
    }
    for n in 1..=32 {
        out.push((Some(chars(n)), vec![chars(n), Ty::Scalar(Sc::I32), chars(n)], None));
        // A mixed struct of exactly n bytes: a double or int first when it fits, then chars.
        let mixed = match n {
            _ if n >= 12 && n % 4 == 0 => Ty::Struct {
                fields: vec![Ty::Scalar(Sc::F32), Ty::Array(Box::new(Ty::Scalar(Sc::I32)), n / 4 - 1)],
                packed: false,
            },
            _ if n >= 8 => Ty::Struct {
                fields: vec![Ty::Scalar(Sc::F64), Ty::Array(Box::new(Ty::Scalar(Sc::U8)), n - 8)],
                packed: true,
            },
            _ => chars(n),
        };
        if n >= 9 {
            out.push((Some(mixed.clone()), vec![Ty::Scalar(Sc::F64), mixed], None));
        }
    }
    for s in [Sc::F32, Sc::F64] {
        for n in 1..=4 {
            let h = Ty::Struct { fields: vec![Ty::Scalar(s); n], packed: false };
            out.push((Some(h.clone()), vec![h.clone(), h.clone(), h.clone()], None));
            out.push((Some(h.clone()), vec![Ty::Scalar(Sc::F64), h.clone(), Ty::Scalar(Sc::I32), h], None));
        }
    }
    for n in 1..=20 {
        out.push((Some(Ty::Scalar(Sc::I64)), vec![Ty::Scalar(Sc::I32); n], None));
        out.push((Some(Ty::Scalar(Sc::F64)), vec![Ty::Scalar(Sc::F64); n], None));
        let mix = (0..n).map(|i| Ty::Scalar(if i % 3 == 1 { Sc::F32 } else { Sc::U16 })).collect();
        out.push((Some(Ty::Scalar(Sc::I32)), mix, None));
    }
    out
}

/// Every generated case, named `g0`, `g1`, ….
pub fn generate(seed: u64) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    let mut shapes = sweeps();
    while shapes.len() < TOTAL {
        let ret = match rng.range(1, 100) {
            1..=10 => None,
            11..=45 => Some(Ty::Scalar(scalar(&mut rng, true))),
            _ => Some(aggregate(&mut rng, 0)),
        };
        if rng.chance(8) {
            let fixed = rng.range(1, 3);
            let mut params: Vec<Ty> = (0..fixed).map(|_| param(&mut rng)).collect();
            params.extend((0..rng.range(1, 8)).map(|_| variadic_param(&mut rng)));
            shapes.push((ret, params, Some(fixed)));
        } else {
            let n = if rng.chance(25) { rng.range(7, 20) } else { rng.range(1, 6) };
            shapes.push((ret, (0..n).map(|_| param(&mut rng)).collect(), None));
        }
    }
    shapes
        .into_iter()
        .enumerate()
        .map(|(i, (ret, params, fixed))| Case { name: format!("g{i}"), ret, params, fixed })
        .collect()
}
