//! Generates the ABI test cases and their C side, and compiles it for the target at -O0 and -O2.
//!
//! Outputs in OUT_DIR: `cases.txt` (one signature per line, see src/desc.rs), `gen.c` (one C
//! function per case that records every byte it receives and returns the bytes the driver put in
//! `kffi_ret`), and `fns.rs` (the entry points of both builds, for the driver). The C file is
//! compiled twice with different symbol prefixes (`o0_`, `o2_`); the recording buffers live in
//! `c/record.c`.

use std::fmt::Write;
use std::path::PathBuf;
use std::{env, fs};

#[path = "src/desc.rs"]
#[allow(dead_code, reason = "shared with the driver, which uses all of it")]
mod desc;
#[path = "src/generate.rs"]
#[allow(dead_code, reason = "shared with the driver")]
mod generate;

use desc::{Case, Ty};

/// Emits C declarations for the types of one case.
struct CTypes {
    defs: String,
    prefix: String,
    count: usize,
}

impl CTypes {
    /// The C name of a (non-array) type, defining aggregates on the way.
    fn name(&mut self, ty: &Ty) -> String {
        match ty {
            Ty::Scalar(s) => s.c_name().to_string(),
            Ty::Struct { fields, packed } => {
                self.record(if *packed { "struct __attribute__((packed))" } else { "struct" }, fields)
            }
            Ty::Union(fields) => self.record("union", fields),
            Ty::Array(..) => unreachable!("arrays only occur as members"),
        }
    }

    fn record(&mut self, keyword: &str, fields: &[Ty]) -> String {
        let members: Vec<String> = fields.iter().enumerate().map(|(i, f)| self.member(f, &format!("m{i}"))).collect();
        let name = format!("{}_t{}", self.prefix, self.count);
        self.count += 1;
        let _ = writeln!(self.defs, "typedef {keyword} {{ {}; }} {name};", members.join("; "));
        name
    }

    /// `T name[n2][n1]` for `Array(Array(T, n1), n2)`: the outer length comes first in C.
    fn member(&mut self, ty: &Ty, name: &str) -> String {
        let mut dims = String::new();
        let mut t = ty;
        while let Ty::Array(e, n) = t {
            let _ = write!(dims, "[{n}]");
            t = e;
        }
        format!("{} {name}{dims}", self.name(t))
    }
}

fn emit_case(c: &Case, src: &mut String, layout: &mut Vec<String>) {
    let mut types = CTypes { defs: String::new(), prefix: c.name.clone(), count: 0 };
    let ret = c.ret.as_ref().map(|t| types.name(t));
    let params: Vec<String> = c.params.iter().map(|t| types.name(t)).collect();
    src.push_str(&types.defs);
    let fixed = c.fixed.unwrap_or(params.len());
    let mut decl: Vec<String> = params[..fixed].iter().enumerate().map(|(i, t)| format!("{t} a{i}")).collect();
    if c.fixed.is_some() {
        decl.push("...".into());
    }
    let _ = writeln!(src, "EXPORT {} FN({})({}) {{", ret.as_deref().unwrap_or("void"), c.name, decl.join(", "));
    src.push_str("    kffi_rec_len = 0;\n");
    for i in 0..fixed {
        let _ = writeln!(src, "    REC(a{i});");
    }
    if c.fixed.is_some() {
        let _ = writeln!(src, "    va_list ap;\n    va_start(ap, a{});", fixed - 1);
        for (i, t) in params.iter().enumerate().skip(fixed) {
            let _ = writeln!(src, "    {{ {t} a{i} = va_arg(ap, {t}); REC(a{i}); }}");
        }
        src.push_str("    va_end(ap);\n");
    }
    if let Some(r) = &ret {
        let _ = writeln!(src, "    {r} r;\n    memcpy(&r, kffi_ret, sizeof(r));\n    return r;");
    }
    src.push_str("}\n");
    if c.fixed.is_none() {
        emit_caller(c, ret.as_deref(), &params, src);
    }
    let mut entries = vec![match &ret {
        Some(r) => format!("sizeof({r}), _Alignof({r})"),
        None => "0, 0".into(),
    }];
    entries.extend(params.iter().map(|p| format!("sizeof({p}), _Alignof({p})")));
    layout.push(entries.join(", "));
}

/// The reverse direction: `FN(name_cb)(fp)` calls `fp` as a function of the case's signature,
/// with arguments read from `kffi_cb_args` (each parameter's bytes, one after the other), and
/// records the bytes it gets back in `kffi_rec`.
fn emit_caller(c: &Case, ret: Option<&str>, params: &[String], src: &mut String) {
    let ret_c = ret.unwrap_or("void");
    let _ = writeln!(src, "EXPORT void FN({}_cb)(void *fp) {{", c.name);
    let _ = writeln!(src, "    {ret_c} (*cb)({}) = ({ret_c} (*)({}))fp;", params.join(", "), params.join(", "));
    src.push_str("    size_t off = 0;\n");
    for (i, t) in params.iter().enumerate() {
        let _ = writeln!(src, "    {t} a{i}; memcpy(&a{i}, kffi_cb_args + off, sizeof(a{i})); off += sizeof(a{i});");
    }
    let call_args: Vec<String> = (0..params.len()).map(|i| format!("a{i}")).collect();
    src.push_str("    kffi_rec_len = 0;\n");
    match ret {
        Some(_) => {
            let _ = writeln!(src, "    {ret_c} r = cb({});\n    REC(r);", call_args.join(", "));
        }
        None => {
            let _ = writeln!(src, "    cb({});", call_args.join(", "));
        }
    }
    src.push_str("}\n");
}

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("out dir"));
    for f in ["seed", "edge-cases.txt", "c/record.c", "src/desc.rs", "src/generate.rs"] {
        println!("cargo:rerun-if-changed={f}");
    }
    let seed_text = fs::read_to_string(dir.join("seed")).expect("abi-tests/seed");
    let seed = u64::from_str_radix(seed_text.trim().trim_start_matches("0x"), 16).expect("seed is a hex number");

    let mut cases = generate::generate(seed);
    let edge = fs::read_to_string(dir.join("edge-cases.txt")).expect("abi-tests/edge-cases.txt");
    for (i, line) in edge.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).enumerate() {
        let mut case = Case::parse_line(line).unwrap_or_else(|e| panic!("edge-cases.txt: {e}"));
        case.name = format!("e{i}_{}", case.name);
        cases.push(case);
    }

    let mut src = String::from(
        "/* Generated by abi-tests/build.rs from abi-tests/seed: do not edit. */\n\
         #include <stdarg.h>\n#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n\
         #define CAT2(a, b) a##b\n#define CAT(a, b) CAT2(a, b)\n#define FN(n) CAT(PFX, n)\n\
         #define EXPORT __attribute__((visibility(\"default\")))\n\
         extern unsigned char kffi_rec[];\nextern size_t kffi_rec_len;\nextern unsigned char kffi_ret[];\nextern unsigned char kffi_cb_args[];\n\
         #define REC(x) do { memcpy(kffi_rec + kffi_rec_len, &(x), sizeof(x)); kffi_rec_len += sizeof(x); } while (0)\n",
    );
    let mut layout = Vec::new();
    for c in &cases {
        emit_case(c, &mut src, &mut layout);
    }
    src.push_str("#ifdef KFFI_LAYOUT\nconst uint32_t kffi_layout[] = {\n");
    for l in &layout {
        let _ = writeln!(src, "    {l},");
    }
    src.push_str("};\n#endif\n");
    fs::write(out.join("gen.c"), &src).expect("write gen.c");
    let lines: Vec<String> = cases.iter().map(Case::to_line).collect();
    fs::write(out.join("cases.txt"), lines.join("\n") + "\n").expect("write cases.txt");

    let mut rs = String::from("// Generated by abi-tests/build.rs.\nextern \"C\" {\n");
    for c in &cases {
        let _ = writeln!(rs, "    fn o0_{0}();\n    fn o2_{0}();", c.name);
        if c.fixed.is_none() {
            let _ = writeln!(rs, "    fn o0_{0}_cb();\n    fn o2_{0}_cb();", c.name);
        }
    }
    let total: usize = cases.iter().map(|c| 2 * (c.params.len() + 1)).sum();
    let _ = writeln!(rs, "    static kffi_layout: [u32; {total}];\n}}");
    rs.push_str("/// The -O0 and -O2 entry points of each case, in cases.txt order.\n");
    rs.push_str("static FUNCS: &[[unsafe extern \"C\" fn(); 2]] = &[\n");
    for c in &cases {
        let _ = writeln!(rs, "    [o0_{0}, o2_{0}],", c.name);
    }
    rs.push_str("];\n");
    rs.push_str("/// The -O0 and -O2 callers of each case (C calling a function pointer), if not variadic.\n");
    rs.push_str("static CALLERS: &[Option<[unsafe extern \"C\" fn(); 2]>] = &[\n");
    for c in &cases {
        if c.fixed.is_none() {
            let _ = writeln!(rs, "    Some([o0_{0}_cb, o2_{0}_cb]),", c.name);
        } else {
            rs.push_str("    None,\n");
        }
    }
    rs.push_str("];\n");
    fs::write(out.join("fns.rs"), rs).expect("write fns.rs");

    cc::Build::new().file(dir.join("c/record.c")).compile("kffi_abi_record");
    for (level, prefix, layout) in [(0, "o0_", true), (2, "o2_", false)] {
        let mut build = cc::Build::new();
        build
            .out_dir(out.join(format!("o{level}")))
            .file(out.join("gen.c"))
            .opt_level(level)
            .define("PFX", prefix)
            .flag_if_supported("-std=gnu11")
            .warnings(false);
        if layout {
            build.define("KFFI_LAYOUT", None);
        }
        build.compile(&format!("kffi_abi_o{level}"));
    }
}
