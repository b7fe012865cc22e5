#include "reference_forward.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

namespace bitnet::reference {
namespace {

using Vec = std::vector<double>;
using Rows = std::vector<Vec>;  // one vector per token

// Spelled out rather than taken from the SDK so that nothing here is shared with the backends.
constexpr int32_t kF32 = 0, kF16 = 1, kQ8_0 = 8, kBF16 = 30, kTQ2_0 = 35, kI2_S = 36;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("reference forward: " + what);
}

template <class T>
T load(std::span<const std::byte> bytes, size_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

double from_f16(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  const double v = exponent == 0    ? std::ldexp(mantissa, -24)
                   : exponent == 31 ? (mantissa ? std::nan("") : HUGE_VAL)
                                    : std::ldexp(mantissa + 1024, exponent - 25);
  return (h & 0x8000) ? -v : v;
}

// A weight viewed as `rows` rows of `cols` contiguous elements.
struct Matrix {
  std::string name;
  int32_t type = kF32;
  int64_t cols = 0, rows = 0;
  std::span<const std::byte> data;
  bool ternary() const { return type == kI2_S || type == kTQ2_0; }
};

// Element e of a ternary tensor as -1, 0 or +1, e counted over the whole tensor.
int64_t ternary(const Matrix& w, int64_t e) {
  const bool i2s = w.type == kI2_S;
  const int64_t byte = i2s ? e / 128 * 32 + e % 32 : e / 256 * 66 + e % 256 / 128 * 32 + e % 32;
  const int64_t shift = i2s ? 6 - 2 * (e % 128 / 32) : 2 * (e % 128 / 32);
  const unsigned code = (std::to_integer<unsigned>(w.data[byte]) >> shift) & 3;
  // No encoder writes 3; seeing one means the layout assumed here is wrong.
  if (code == 3) fail(w.name + " holds the 2-bit code 3, which is not a ternary value");
  return static_cast<int64_t>(code) - 1;
}

// The scale of ternary element e: one for a whole I2_S tensor (after its codes), one per
// 256-element TQ2_0 block.
double ternary_scale(const Matrix& w, int64_t e) {
  if (w.type == kI2_S) return load<float>(w.data, static_cast<size_t>(w.rows * w.cols / 4));
  return from_f16(load<uint16_t>(w.data, static_cast<size_t>(e / 256 * 66 + 64)));
}

// Element e, dequantised exactly.
double element(const Matrix& w, int64_t e) {
  const auto i = static_cast<size_t>(e);
  if (w.type == kF32) return load<float>(w.data, 4 * i);
  if (w.type == kF16) return from_f16(load<uint16_t>(w.data, 2 * i));
  if (w.type == kBF16) return std::bit_cast<float>(uint32_t{load<uint16_t>(w.data, 2 * i)} << 16);
  if (w.type == kQ8_0)
    return from_f16(load<uint16_t>(w.data, i / 32 * 34)) *
           load<int8_t>(w.data, i / 32 * 34 + 2 + i % 32);
  return static_cast<double>(ternary(w, e)) * ternary_scale(w, e);
}

Vec exact_row(const Matrix& w, int64_t r) {
  Vec out(w.cols);
  for (int64_t k = 0; k < w.cols; ++k)
    out[k] = element(w, r * w.cols + k);
  return out;
}

// Bytes `w` must span, after checking that its rows split into whole blocks.
size_t required_bytes(const Matrix& w) {
  const auto n = static_cast<size_t>(w.rows * w.cols);
  auto blocks = [&](int64_t elems, size_t bytes) {
    if (w.cols % elems != 0) fail(w.name + " has rows that do not split into whole blocks");
    return n / elems * bytes;
  };
  if (w.type == kF32) return 4 * n;
  if (w.type == kF16 || w.type == kBF16) return 2 * n;
  if (w.type == kQ8_0) return blocks(32, 34);
  if (w.type == kTQ2_0) return blocks(256, 66);
  if (w.type == kI2_S) return blocks(128, 32) + 32;  // the tail holds the scale
  fail(w.name + " has GGUF type " + std::to_string(w.type) + ", which is not supported");
}

// Hands out tensors and remembers which were asked for, so that weights this pass does not
// know about (biases, rope factors, extra norms) are refused rather than silently ignored.
struct Weights {
  const gguf::Reader& model;
  std::set<std::string> used;

  std::optional<Matrix> find(const std::string& name, int64_t cols, int64_t rows) {
    const gguf::TensorInfo* t = model.tensor(name);
    if (!t) return std::nullopt;
    used.insert(name);
    if (t->ne[0] != cols || t->ne[1] != rows || t->ne[2] != 1 || t->ne[3] != 1)
      fail(name + " does not have the shape [" + std::to_string(cols) + ", " +
           std::to_string(rows) + "]");
    Matrix m{name, t->type, cols, rows, model.data(*t)};
    if (m.data.size() < required_bytes(m)) fail(name + " is shorter than its shape needs");
    return m;
  }
  Matrix get(const std::string& name, int64_t cols, int64_t rows) {
    auto m = find(name, cols, rows);
    if (!m) fail("missing tensor " + name);
    return *m;
  }
  Vec vector(const std::string& name, int64_t n) { return exact_row(get(name, n, 1), 0); }
};

struct Config {
  std::string arch;
  int64_t n_embd = 0, n_layer = 0, n_ff = 0, n_head = 0, n_head_kv = 0, head_dim = 0;
  int64_t n_rot = 0, n_vocab = 0;
  double base = 10000, eps = 0, window = 0;
  bool neox = false;
};

double meta(const gguf::Reader& m, const std::string& key, std::optional<double> def) {
  const gguf::Value* v = m.find(key);
  if (!v && def) return *def;
  const std::optional<double> f = v ? v->as_float() : std::nullopt;
  if (!f) fail("metadata " + key + " is missing or not a single number");
  return *f;
}

// Integers written as floats are still accepted, as long as they are whole.
int64_t meta_int(const gguf::Reader& m, const std::string& key, std::optional<double> def) {
  const double f = meta(m, key, def);
  if (f < 0 || f > 0x1p40 || f != std::floor(f)) fail("metadata " + key + " is not a count");
  return static_cast<int64_t>(f);
}

Config read_config(const gguf::Reader& m) {
  Config c;
  const gguf::Value* arch = m.find("general.architecture");
  if (!arch || !arch->as_string()) fail("general.architecture is missing or not a string");
  c.arch = *arch->as_string();
  if (c.arch != "llama" && c.arch != "bitnet-b1.58" && c.arch != "qwen2" && c.arch != "phi3")
    fail("architecture '" + c.arch + "' is not supported");
  const std::string p = c.arch + ".";
  c.n_embd = meta_int(m, p + "embedding_length", {});
  c.n_layer = meta_int(m, p + "block_count", {});
  c.n_ff = meta_int(m, p + "feed_forward_length", {});
  c.n_head = meta_int(m, p + "attention.head_count", {});
  c.n_head_kv = meta_int(m, p + "attention.head_count_kv", c.n_head);
  if (c.n_head == 0 || c.n_head_kv == 0 || c.n_head % c.n_head_kv != 0)
    fail("the attention head counts do not group evenly");
  c.head_dim = meta_int(m, p + "attention.key_length", c.n_embd / c.n_head);
  c.n_rot = meta_int(m, p + "rope.dimension_count", c.head_dim);
  if (c.n_rot % 2 != 0 || c.n_rot > c.head_dim) fail("the rope dimension does not fit a head");
  c.base = meta(m, p + "rope.freq_base", 10000.0);
  c.eps = meta(m, p + "attention.layer_norm_rms_epsilon", {});
  c.window = meta(m, p + "attention.sliding_window", 0x1p60);
  c.neox = c.arch != "llama";
  // Scaled rope changes every angle, and the specification has no place for it.
  const gguf::Value* type = m.find(p + "rope.scaling.type");
  const double factor = meta(m, p + "rope.scaling.factor", 1.0);
  if ((type && (!type->as_string() || *type->as_string() != "none")) ||
      (factor != 0 && factor != 1))
    fail("rope scaling is not supported");
  const gguf::TensorInfo* embd = m.tensor("token_embd.weight");
  if (!embd) fail("missing tensor token_embd.weight");
  c.n_vocab = embd->ne[1];
  return c;
}

Rows matmul(const Matrix& w, const Rows& xs) {
  Rows ys(xs.size(), Vec(w.rows, 0.0));
  if (!w.ternary()) {
    for (int64_t r = 0; r < w.rows; ++r) {
      const Vec row = exact_row(w, r);
      for (size_t i = 0; i < xs.size(); ++i)
        ys[i][r] = std::inner_product(row.begin(), row.end(), xs[i].begin(), 0.0);
    }
    return ys;
  }
  // Ternary kernels multiply int8 activations, so the reference quantises them the same way:
  // absmax floored at 1e-5 and ties to even, as bitnet.cpp's quantize_row_i8_s and HF's
  // ActQuant (torch.round) do.
  std::vector<std::vector<int64_t>> xq(xs.size(), std::vector<int64_t>(w.cols, 0));
  Vec step(xs.size(), 0.0);
  for (size_t i = 0; i < xs.size(); ++i) {
    double s = 1e-5;
    for (double x : xs[i])
      s = std::max(s, std::isnan(x) ? HUGE_VAL : std::abs(x));
    if (s == HUGE_VAL) fail("an input to " + w.name + " is not finite");
    step[i] = s / 127;
    for (int64_t k = 0; k < w.cols; ++k)
      xq[i][k] =
          static_cast<int64_t>(std::clamp(std::nearbyint(xs[i][k] * 127 / s), -128.0, 127.0));
  }
  // Elements that share one scale: a row of I2_S, a block of TQ2_0.
  const int64_t block = w.type == kI2_S ? w.cols : 256;
  std::vector<int64_t> t(w.cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    for (int64_t k = 0; k < w.cols; ++k)
      t[k] = ternary(w, r * w.cols + k);
    for (size_t i = 0; i < xs.size(); ++i) {
      for (int64_t b = 0; b < w.cols; b += block) {
        // Exact: within a block the sum is an integer.
        const int64_t dot =
            std::inner_product(t.begin() + b, t.begin() + b + block, xq[i].begin() + b, int64_t{0});
        ys[i][r] += ternary_scale(w, r * w.cols + b) * static_cast<double>(dot);
      }
      ys[i][r] *= step[i];
    }
  }
  return ys;
}

Rows rms_norm(Rows xs, const Vec& w, double eps) {
  for (Vec& x : xs) {
    const double sum = std::inner_product(x.begin(), x.end(), x.begin(), 0.0);
    const double denom = std::sqrt(sum / static_cast<double>(x.size()) + eps);
    for (size_t k = 0; k < x.size(); ++k)
      x[k] = x[k] / denom * w[k];
  }
  return xs;
}

void add(Rows& xs, const Rows& ys) {
  for (size_t i = 0; i < xs.size(); ++i)
    std::transform(xs[i].begin(), xs[i].end(), ys[i].begin(), xs[i].begin(), std::plus<>());
}

void rope(Vec& v, int64_t n_heads, const Config& c, int64_t pos) {
  for (int64_t h = 0; h < n_heads; ++h) {
    double* head = v.data() + h * c.head_dim;
    for (int64_t i = 0; i < c.n_rot / 2; ++i) {
      const double theta =
          static_cast<double>(pos) *
          std::pow(c.base, -2.0 * static_cast<double>(i) / static_cast<double>(c.n_rot));
      const int64_t ia = c.neox ? i : 2 * i, ib = c.neox ? i + c.n_rot / 2 : 2 * i + 1;
      const double a = head[ia], b = head[ib];
      head[ia] = a * std::cos(theta) - b * std::sin(theta);
      head[ib] = a * std::sin(theta) + b * std::cos(theta);
    }
  }
}

// Elements [from, from + len) of every token's vector.
Rows slice(const Rows& xs, int64_t from, int64_t len) {
  Rows out;
  for (const Vec& x : xs)
    out.emplace_back(x.begin() + from, x.begin() + from + len);
  return out;
}

}  // namespace

std::vector<std::vector<double>> forward(const gguf::Reader& model,
                                         std::span<const int32_t> tokens) {
  const Config c = read_config(model);
  const bool bitnet = c.arch == "bitnet-b1.58", phi3 = c.arch == "phi3";
  const int64_t q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;
  const auto n = static_cast<int64_t>(tokens.size());
  if (static_cast<double>(n) >= c.window) fail("the sequence reaches the sliding window");
  Weights w{model, {}};
  const Matrix embd = w.get("token_embd.weight", c.n_embd, c.n_vocab);
  Rows x;
  for (int32_t t : tokens) {
    if (t < 0 || t >= c.n_vocab) fail("token id " + std::to_string(t) + " is out of range");
    x.push_back(exact_row(embd, t));
  }
  for (int64_t layer = 0; layer < c.n_layer; ++layer) {
    const std::string p = "blk." + std::to_string(layer) + ".";
    const Rows h = rms_norm(x, w.vector(p + "attn_norm.weight", c.n_embd), c.eps);
    Rows q, k, v;
    if (phi3) {
      const Rows qkv = matmul(w.get(p + "attn_qkv.weight", c.n_embd, q_dim + 2 * kv_dim), h);
      q = slice(qkv, 0, q_dim);
      k = slice(qkv, q_dim, kv_dim);
      v = slice(qkv, q_dim + kv_dim, kv_dim);
    } else {
      q = matmul(w.get(p + "attn_q.weight", c.n_embd, q_dim), h);
      k = matmul(w.get(p + "attn_k.weight", c.n_embd, kv_dim), h);
      v = matmul(w.get(p + "attn_v.weight", c.n_embd, kv_dim), h);
    }
    if (c.arch == "qwen2") {
      add(q, Rows(n, w.vector(p + "attn_q.bias", q_dim)));
      add(k, Rows(n, w.vector(p + "attn_k.bias", kv_dim)));
      add(v, Rows(n, w.vector(p + "attn_v.bias", kv_dim)));
    }
    for (int64_t i = 0; i < n; ++i) {
      rope(q[i], c.n_head, c, i);
      rope(k[i], c.n_head_kv, c, i);
    }
    Rows a(n, Vec(q_dim, 0.0));
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t hd = 0; hd < c.n_head; ++hd) {
        const int64_t qo = hd * c.head_dim, ko = hd / (c.n_head / c.n_head_kv) * c.head_dim;
        Vec s(i + 1);
        for (int64_t j = 0; j <= i; ++j)
          s[j] = std::inner_product(&q[i][qo], &q[i][qo] + c.head_dim, &k[j][ko], 0.0) /
                 std::sqrt(static_cast<double>(c.head_dim));
        const double top = *std::max_element(s.begin(), s.end());
        double sum = 0;
        for (double& e : s)
          sum += e = std::exp(e - top);
        for (int64_t j = 0; j <= i; ++j)
          for (int64_t d = 0; d < c.head_dim; ++d)
            a[i][qo + d] += s[j] / sum * v[j][ko + d];
      }
    }
    if (bitnet) a = rms_norm(a, w.vector(p + "attn_sub_norm.weight", q_dim), c.eps);
    add(x, matmul(w.get(p + "attn_output.weight", q_dim, c.n_embd), a));

    const Rows f = rms_norm(x, w.vector(p + "ffn_norm.weight", c.n_embd), c.eps);
    Rows g, u = matmul(w.get(p + "ffn_up.weight", c.n_embd, phi3 ? 2 * c.n_ff : c.n_ff), f);
    if (phi3) {
      g = slice(u, 0, c.n_ff);
      u = slice(u, c.n_ff, c.n_ff);
    } else {
      g = matmul(w.get(p + "ffn_gate.weight", c.n_embd, c.n_ff), f);
    }
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t d = 0; d < c.n_ff; ++d) {
        const double gd = g[i][d];
        u[i][d] *= bitnet ? std::max(gd, 0.0) * std::max(gd, 0.0) : gd / (1 + std::exp(-gd));
      }
    }
    if (bitnet) u = rms_norm(u, w.vector(p + "ffn_sub_norm.weight", c.n_ff), c.eps);
    add(x, matmul(w.get(p + "ffn_down.weight", c.n_ff, c.n_embd), u));
  }
  x = rms_norm(x, w.vector("output_norm.weight", c.n_embd), c.eps);
  const Matrix output = w.find("output.weight", c.n_embd, c.n_vocab).value_or(embd);
  // Tensors are asked for as the pass reaches them, so only now are the leftovers known.
  for (const gguf::TensorInfo& t : model.tensors())
    if (!w.used.contains(t.name)) fail("tensor " + t.name + " is not supported");
  return matmul(output, x);
}

}  // namespace bitnet::reference
