#!/usr/bin/env python3
"""Writes runtime/src/text/unicode_tables.cpp from the Unicode Character Database.

Usage: python3 tools/gen-unicode-tables.py [--ucd DIR] [--out FILE]

DIR defaults to /usr/share/unicode (Debian/Ubuntu package `unicode-data`) and must hold
UnicodeData.txt, CompositionExclusions.txt and PropList.txt. The output is commit-ready; the
layout constants below must match runtime/include/bitnet/runtime/text/unicode.hpp (the generated
file static_asserts that they do).
"""
import argparse
import os
import re
import sys

FLAGS_END, FLAG_SHIFT = 0x40000, 7  # unicode.hpp: kFlagsEnd, kFlagShift
NORM_END, NORM_SHIFT = 0x30000, 5   # unicode.hpp: kNormEnd, kNormShift
SBASE, SCOUNT = 0xAC00, 11172       # Hangul syllables: decomposed and composed algorithmically
LETTER, NUMBER, SPACE = 1, 2, 3     # 2-bit codes in kFlagStage2 (unicode.hpp maps 3 to kWhitespace)
QC_NO, QC_MAYBE, HAS_DECOMP = 0x100, 0x200, 0x400  # kNormStage2 bits above the combining class


def version_of(path):
    m = re.match(r"#\s*\w+-(\d+\.\d+\.\d+)\.txt", open(path, encoding="utf-8").readline())
    if not m:
        sys.exit(f"{path}: no version on the first line")
    return m.group(1)


def read_unicode_data(path):
    """Returns ({cp: general category}, {cp: ccc}, {cp: one-level canonical decomposition})."""
    cat, ccc, dec = {}, {}, {}
    first = None
    for line in open(path, encoding="utf-8"):
        f = line.rstrip("\n").split(";")
        cp = int(f[0], 16)
        if f[1].endswith(", First>"):
            first = cp
            continue
        for c in range(first if f[1].endswith(", Last>") else cp, cp + 1):
            cat[c] = f[2]
        if int(f[3]):
            ccc[cp] = int(f[3])
        if f[5] and not f[5].startswith("<"):
            dec[cp] = [int(x, 16) for x in f[5].split()]
    return cat, ccc, dec


def read_code_points(path, prop=None):
    cps = set()
    for line in open(path, encoding="utf-8"):
        fields = line.split("#")[0].split(";")
        if not fields[0].strip() or (prop and fields[1].strip() != prop):
            continue
        lo, _, hi = fields[0].strip().partition("..")
        cps.update(range(int(lo, 16), int(hi or lo, 16) + 1))
    return cps


def two_stage(values, shift):
    """Splits values into blocks of 1 << shift, sharing identical blocks."""
    size = 1 << shift
    blocks, stage1 = {}, []
    for i in range(0, len(values), size):
        stage1.append(blocks.setdefault(tuple(values[i:i + size]), len(blocks)))
    return stage1, [v for block in blocks for v in block]


def array(ctype, name, values, fmt="{}"):
    """A C array definition, as many values to a line as fit in 100 columns."""
    lines, line = [], ""
    for item in (fmt.format(v) + "," for v in values):
        if len(line) + len(item) > 96:
            lines.append(line)
            line = ""
        line += item
    body = "\n".join("    " + x for x in lines + [line])
    return f"const {ctype} {name}[{len(values)}] = {{\n{body}\n}};\n"


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ucd", default="/usr/share/unicode")
    ap.add_argument("--out", default=os.path.join(root, "runtime/src/text/unicode_tables.cpp"))
    args = ap.parse_args()
    ucd = lambda name: os.path.join(args.ucd, name)

    version = version_of(ucd("CompositionExclusions.txt"))
    if version_of(ucd("PropList.txt")) != version:
        sys.exit("PropList.txt and CompositionExclusions.txt are from different Unicode versions")
    cat, ccc, dec = read_unicode_data(ucd("UnicodeData.txt"))
    excluded = read_code_points(ucd("CompositionExclusions.txt"))
    spaces = read_code_points(ucd("PropList.txt"), "White_Space")

    # Category flags, for code points from 0x80 (the header holds ASCII).
    codes = [0] * FLAGS_END
    for cp, gc in cat.items():
        code = LETTER if gc[0] == "L" else NUMBER if gc[0] == "N" else 0
        if code and cp in spaces:
            sys.exit(f"U+{cp:04X} is both {gc} and White_Space")
        if code and cp >= FLAGS_END:
            sys.exit(f"U+{cp:04X} ({gc}) is past kFlagsEnd: raise it here and in unicode.hpp")
        if code:
            codes[cp] = code
    for cp in spaces:
        codes[cp] = SPACE
    packed = [sum(codes[i + k] << 2 * k for k in range(4)) for i in range(0, FLAGS_END, 4)]
    flag1, flag2 = two_stage(packed, FLAG_SHIFT - 2)

    # Normalization: full composition exclusion = listed exclusions, singletons and decompositions
    # that start with a non-starter; every other canonical pair is a primary composite.
    composites = {cp: d for cp, d in dec.items()
                  if cp not in excluded and len(d) == 2 and d[0] not in ccc}
    seconds = {d[1] for d in composites.values()} | set(range(0x1161, 0x1176)) | set(
        range(0x11A8, 0x11C3))
    norm = [0] * NORM_END
    for cp, c in ccc.items():
        norm[cp] |= c
    for cp in dec:
        norm[cp] |= HAS_DECOMP | (0 if cp in composites else QC_NO)
    for cp in seconds:
        norm[cp] |= QC_MAYBE
    if max(max(ccc), max(dec), max(seconds)) >= NORM_END:
        sys.exit("normalization data past kNormEnd: raise it here and in unicode.hpp")
    if any(SBASE <= cp < SBASE + SCOUNT for cp in dec):
        sys.exit("UnicodeData.txt lists a Hangul syllable decomposition; the runtime computes them")

    # nfc() restarts at the last starter with NFC_QC=Yes before a problem, so such a starter must
    # never combine with what precedes it, even through its decomposition.
    def full(cp):
        return [x for d in dec[cp] for x in full(d)] if cp in dec else [cp]
    for cp in range(NORM_END):
        if not norm[cp] & (0xFF | QC_NO | QC_MAYBE) and full(cp)[0] in seconds:
            sys.exit(f"U+{cp:04X} is a QC=Yes starter whose decomposition combines backwards")
    norm1, norm2 = two_stage(norm, NORM_SHIFT)
    if max(norm1) > 255 or max(flag1) > 255:
        sys.exit("more than 256 distinct blocks: widen the stage-1 type in unicode.hpp")

    decomps = sorted(dec.items())
    index = {cp: i for i, (cp, _) in enumerate(decomps)}
    order = [index[cp] for cp, _ in sorted(composites.items(), key=lambda kv: kv[1])]

    rel = os.path.relpath(args.out, root)
    rows = [f"{{{cp:#x},{d[0]:#x},{d[1] if len(d) > 1 else 0:#x}}}" for cp, d in decomps]
    parts = [
        f"// Generated by `python3 tools/gen-unicode-tables.py` from Unicode {version}\n"
        f"// (UnicodeData.txt, CompositionExclusions.txt, PropList.txt in {args.ucd}). Do not edit.\n"
        "// clang-format off\n"
        "#include <bitnet/runtime/text/unicode.hpp>\n\n"
        "namespace bitnet::text {\n\n"
        f'std::string_view unicode_version() {{ return "{version}"; }}\n\n'
        "namespace detail {\n\n"
        f"static_assert(kFlagsEnd == {FLAGS_END:#x} && kFlagShift == {FLAG_SHIFT});\n"
        f"static_assert(kNormEnd == {NORM_END:#x} && kNormShift == {NORM_SHIFT});\n",
        array("uint8_t", "kFlagStage1", flag1),
        array("uint8_t", "kFlagStage2", flag2),
        array("uint8_t", "kNormStage1", norm1),
        array("uint16_t", "kNormStage2", norm2),
        f"const size_t kDecompositionCount = {len(decomps)};\n"
        + array("char32_t", "kDecompositions", rows).replace("] =", "][3] =", 1),
        f"const size_t kCompositionCount = {len(order)};\n"
        + array("uint16_t", "kCompositions", order),
        "}  // namespace detail\n}  // namespace bitnet::text\n",
    ]
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    print(f"{rel}: Unicode {version}, {len(flag2) // (1 << FLAG_SHIFT - 2)} flag blocks, "
          f"{len(norm2) >> NORM_SHIFT} norm blocks, {len(decomps)} decompositions, "
          f"{len(order)} compositions")


if __name__ == "__main__":
    main()
