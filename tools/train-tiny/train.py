#!/usr/bin/env python3
"""Trains a small BitNet b1.58 model in the layout of the runtime's `bitnet-b1.58` architecture
(Microsoft's 2B4T: sub-norms, squared ReLU, NEOX RoPE, tied embeddings) on Brown corpus text,
with quantisation-aware training: weights ternary with a per-tensor absmean scale, activations
int8 per token with absmax, both through straight-through estimators, as HF transformers'
BitNet and the BitNet b1.58 paper do. Writes an HF-style checkpoint folder (config.json,
model.safetensors, tokenizer.json, tokenizer_config.json) that `bitnet convert` turns into GGUF,
and metrics.json with the held-out perplexity computed the way `bitnet perplexity` does.

Needs torch, tokenizers and safetensors (the device machine has them); never the product.
usage: train.py DATA_DIR OUT_DIR [--steps N]   (DATA_DIR holds prepare_brown.py's output)
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

BOS, EOS, EOT = "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"
CONFIG = dict(vocab_size=4096, hidden_size=256, intermediate_size=768, num_hidden_layers=6,
              num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
              rms_norm_eps=1e-5, rope_theta=10000.0)
# Matches the runtime's BitNet chat format (Role: content<|eot_id|>), so `bitnet chat` works.
CHAT_TEMPLATE = ("{{ bos_token }}{% for m in messages %}{{ m['role'] | capitalize }}: "
                 "{{ m['content'] }}<|eot_id|>{% endfor %}"
                 "{% if add_generation_prompt %}Assistant: {% endif %}")


def train_tokenizer(text_file, out_dir):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=CONFIG["vocab_size"], special_tokens=[BOS, EOS, EOT],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train([text_file], trainer)
    bos = tok.token_to_id(BOS)
    tok.post_processor = processors.TemplateProcessing(single=f"{BOS} $A", special_tokens=[(BOS, bos)])
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": BOS, "eos_token": EOS, "add_bos_token": True,
                   "chat_template": CHAT_TEMPLATE, "model_max_length": CONFIG["max_position_embeddings"]}, f)
    return tok


def weight_quant(w):
    s = w.abs().mean().clamp(min=1e-5)
    return (w / s).round().clamp(-1, 1) * s


def act_quant(x):
    s = 127.0 / x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
    return (x * s).round().clamp(-128, 127) / s


class BitLinear(nn.Linear):
    def forward(self, x):
        w = self.weight + (weight_quant(self.weight) - self.weight).detach()
        x = x + (act_quant(x) - x).detach()
        return F.linear(x, w)


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def rope(x, pos, theta):
    d = x.shape[-1]
    inv = 1.0 / theta ** (torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d)
    ang = pos[:, None].float() * inv[None, :]
    cos, sin = torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * cos.to(x.dtype) + torch.cat([-x2, x1], -1) * sin.to(x.dtype)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, f, eps = c["hidden_size"], c["intermediate_size"], c["rms_norm_eps"]
        self.heads = c["num_attention_heads"]
        self.input_layernorm, self.post_attention_layernorm = RMSNorm(h, eps), RMSNorm(h, eps)
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = (BitLinear(h, h, bias=False) for _ in range(4))
        self.attn_sub_norm, self.ffn_sub_norm = RMSNorm(h, eps), RMSNorm(f, eps)
        self.gate_proj, self.up_proj = BitLinear(h, f, bias=False), BitLinear(h, f, bias=False)
        self.down_proj = BitLinear(f, h, bias=False)
        self.theta = c["rope_theta"]

    def forward(self, x, pos):
        b, t, h = x.shape
        y = self.input_layernorm(x)
        q, k, v = (p(y).view(b, t, self.heads, -1).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        q, k = rope(q, pos, self.theta), rope(k, pos, self.theta)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, h)
        x = x + self.o_proj(self.attn_sub_norm(a))
        y = self.post_attention_layernorm(x)
        g = F.relu(self.gate_proj(y)) ** 2 * self.up_proj(y)
        return x + self.down_proj(self.ffn_sub_norm(g))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        nn.init.normal_(self.embed_tokens.weight, std=0.02)
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, ids, embed=None):
        e = self.embed_tokens.weight if embed is None else embed
        x = F.embedding(ids, e)
        pos = torch.arange(ids.shape[1], device=ids.device)
        for layer in self.layers:
            x = layer(x, pos)
        return self.norm(x) @ e.t()  # tied head, left in full precision as BitNet does


def heldout_ppl(model, ids, bos, ctx):
    """`bitnet perplexity`'s procedure: chunks of ctx tokens whose first token is BOS, each
    evaluated from scratch, NLL of the second half; the embedding rounded to fp16 as the GGUF
    stores it."""
    embed = model.embed_tokens.weight.half().float()
    nll, n = 0.0, 0
    with torch.no_grad():
        for c in range(len(ids) // ctx):
            chunk = torch.tensor(ids[c * ctx:(c + 1) * ctx], device=embed.device)
            chunk[0] = bos
            logp = F.log_softmax(model(chunk[None], embed)[0].float(), -1)
            first = ctx // 2
            nll -= logp[first:-1].gather(1, chunk[first + 1:, None]).sum().item()
            n += ctx - 1 - first
    return math.exp(nll / n), n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    tok = train_tokenizer(os.path.join(args.data, "train.txt"), args.out)
    bos = tok.token_to_id(BOS)
    read = lambda name: open(os.path.join(args.data, name), encoding="utf-8").read()
    train_ids = torch.tensor(tok.encode(read("train.txt"), add_special_tokens=False).ids, device=dev)
    held_ids = [bos] + tok.encode(read("heldout.txt"), add_special_tokens=False).ids
    ctx = CONFIG["max_position_embeddings"]
    model = Model(CONFIG).to(dev)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, betas=(0.9, 0.95), weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=args.steps, pct_start=0.05)
    batch, t0 = 64, time.time()
    for step in range(args.steps):
        starts = torch.randint(0, len(train_ids) - ctx - 1, (batch,), device=dev)
        win = torch.stack([train_ids[s:s + ctx + 1] for s in starts.tolist()])
        x, y = win[:, :-1].clone(), win[:, 1:]
        x[:, 0] = bos
        with torch.autocast(dev, dtype=torch.bfloat16):
            loss = F.cross_entropy(model(x).float().view(-1, CONFIG["vocab_size"]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 1000 == 0 or step == args.steps - 1:
            model.eval()
            held, _ = heldout_ppl(model, held_ids, bos, ctx)
            model.train()
            print(f"step {step} loss {loss.item():.3f} held-out ppl {held:.2f} "
                  f"({time.time() - t0:.0f} s)", flush=True)
    model.eval()
    ppl, scored = heldout_ppl(model.float(), held_ids, bos, ctx)
    print(f"held-out perplexity {ppl:.3f} over {scored} tokens; {params / 1e6:.2f}M parameters")

    state = {f"model.{k}": v.detach().float().contiguous().cpu() for k, v in model.state_dict().items()}
    save_checkpoint(state, args.out)
    with open(os.path.join(args.out, "heldout_ids.json"), "w") as f:
        json.dump(held_ids, f)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"heldout_ppl": ppl, "scored_tokens": scored, "ctx": ctx, "parameters": params,
                   "steps": args.steps, "final_loss": loss.item()}, f, indent=1)


def save_checkpoint(state, out):
    """HF BitNet names: attention parts under self_attn, FFN parts under mlp."""
    named = {}
    for k, v in state.items():
        for part in ("q_proj", "k_proj", "v_proj", "o_proj", "attn_sub_norm"):
            k = k.replace(f".{part}.", f".self_attn.{part}.") if ".self_attn." not in k else k
        for part in ("gate_proj", "up_proj", "down_proj", "ffn_sub_norm"):
            k = k.replace(f".{part}.", f".mlp.{part}.")
        named[k] = v
    # Two shards keep each file under the 16 MiB a device run can send back.
    names = sorted(named)
    shards = [names[: len(names) // 2], names[len(names) // 2:]]
    index = {"metadata": {}, "weight_map": {}}
    for i, part in enumerate(shards):
        file = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file({k: named[k] for k in part}, os.path.join(out, file))
        index["weight_map"].update({k: file for k in part})
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f)
    cfg = dict(CONFIG, architectures=["BitNetForCausalLM"], model_type="bitnet", hidden_act="relu2",
               tie_word_embeddings=True, bos_token_id=0, eos_token_id=1, torch_dtype="float32")
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)


if __name__ == "__main__":
    main()
