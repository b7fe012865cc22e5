#include "hf_forward.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace bitnet::reference {
namespace {

using Vec = std::vector<double>;
using Rows = std::vector<Vec>;  // one vector per token

class Pass {
 public:
  Pass(const HfModel& m, HfForwardOptions o) : m_(m), o_(o) {}

  const HfTensor& tensor(const std::string& name) const {
    const auto it = m_.tensors.find(name);
    if (it == m_.tensors.end()) throw std::runtime_error("hf forward: missing tensor " + name);
    return it->second;
  }

  Vec vector(const std::string& name) const {
    const HfTensor& t = tensor(name);
    return Vec(t.values.begin(), t.values.end());
  }

  // x W^T (+ b) for every token, W stored [out, in] as torch keeps nn.Linear weights.
  Rows linear(const std::string& name, Rows xs, bool bit_linear = true,
              const std::string& bias = "") const {
    const HfTensor& w = tensor(name);
    const auto out = static_cast<size_t>(w.shape[0]), in = static_cast<size_t>(w.shape[1]);
    Vec W(w.values.begin(), w.values.end());
    if (o_.bitlinear && bit_linear) {
      // WeightQuant: (w * (1/s)).round().clamp(-1, 1) / (1/s), s = mean|w| >= 1e-5.
      const double s =
          std::max(std::accumulate(W.begin(), W.end(), 0.0,
                                   [](double a, double v) { return a + std::abs(v); }) /
                       static_cast<double>(W.size()),
                   1e-5);
      for (double& v : W)
        v = std::clamp(std::nearbyint(v / s), -1.0, 1.0) * s;
      // ActQuant: per token, (x * 127/m).round().clamp(-128, 127) / (127/m), m = max|x| >= 1e-5.
      for (Vec& x : xs) {
        double m = 1e-5;
        for (double v : x)
          m = std::max(m, std::abs(v));
        for (double& v : x)
          v = std::clamp(std::nearbyint(v * 127 / m), -128.0, 127.0) * m / 127;
      }
    }
    const Vec b = bias.empty() ? Vec(out, 0.0) : vector(bias);
    Rows ys;
    for (const Vec& x : xs) {
      Vec y(out);
      for (size_t r = 0; r < out; ++r)
        y[r] = std::inner_product(x.begin(), x.end(), W.begin() + r * in, b[r]);
      ys.push_back(std::move(y));
    }
    return ys;
  }

  Rows rms_norm(Rows xs, const std::string& weight) const {
    const Vec w = vector(weight);
    for (Vec& x : xs) {
      const double ms = std::inner_product(x.begin(), x.end(), x.begin(), 0.0) / x.size();
      for (size_t k = 0; k < x.size(); ++k)
        x[k] = x[k] / std::sqrt(ms + m_.rms_eps) * w[k];
    }
    return xs;
  }

  // HF's apply_rotary_pos_emb: q * cos + rotate_half(q) * sin, rotate_half(x) = [-x2, x1].
  void rope(Vec& v, int64_t heads, int64_t pos) const {
    const int64_t hd = m_.n_embd / m_.n_head, half = hd / 2;
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < half; ++i) {
        const double theta =
            static_cast<double>(pos) * std::pow(m_.rope_theta, -2.0 * static_cast<double>(i) / hd);
        const int64_t a = h * hd + (o_.adjacent_pair_rope ? 2 * i : i);
        const int64_t b = o_.adjacent_pair_rope ? a + 1 : a + half;
        const double x1 = v[a], x2 = v[b];
        v[a] = x1 * std::cos(theta) - x2 * std::sin(theta);
        v[b] = x2 * std::cos(theta) + x1 * std::sin(theta);
      }
  }

  Rows attention(Rows q, Rows k, const Rows& v) const {
    const int64_t hd = m_.n_embd / m_.n_head, group = m_.n_head / m_.n_head_kv;
    const auto n = static_cast<int64_t>(q.size());
    for (int64_t i = 0; i < n; ++i) {
      rope(q[i], m_.n_head, i);
      rope(k[i], m_.n_head_kv, i);
    }
    Rows out(n, Vec(m_.n_head * hd, 0.0));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t h = 0; h < m_.n_head; ++h) {
        const int64_t qo = h * hd, ko = h / group * hd;
        Vec p(i + 1);
        for (int64_t j = 0; j <= i; ++j)
          p[j] = std::inner_product(&q[i][qo], &q[i][qo] + hd, &k[j][ko], 0.0) / std::sqrt(hd);
        const double top = *std::max_element(p.begin(), p.end());
        double sum = 0;
        for (double& e : p)
          sum += e = std::exp(e - top);
        for (int64_t j = 0; j <= i; ++j)
          for (int64_t d = 0; d < hd; ++d)
            out[i][qo + d] += p[j] / sum * v[j][ko + d];
      }
    return out;
  }

 private:
  const HfModel& m_;
  HfForwardOptions o_;
};

Rows columns(const Rows& xs, int64_t from, int64_t len) {
  Rows out;
  for (const Vec& x : xs)
    out.emplace_back(x.begin() + from, x.begin() + from + len);
  return out;
}

void add(Rows& xs, const Rows& ys) {
  for (size_t i = 0; i < xs.size(); ++i)
    for (size_t k = 0; k < xs[i].size(); ++k)
      xs[i][k] += ys[i][k];
}

}  // namespace

std::vector<std::vector<double>> hf_forward(const HfModel& m, std::span<const int32_t> tokens,
                                            HfForwardOptions options) {
  const Pass p(m, options);
  const bool bitnet = m.hf_class == "BitNetForCausalLM", phi3 = m.hf_class == "Phi3ForCausalLM";
  const bool qwen2 = m.hf_class == "Qwen2ForCausalLM";
  const int64_t q_dim = m.n_embd, kv_dim = m.n_embd / m.n_head * m.n_head_kv;
  const HfTensor& embed = p.tensor("model.embed_tokens.weight");
  Rows x;
  for (int32_t t : tokens)
    x.emplace_back(embed.values.begin() + t * m.n_embd, embed.values.begin() + (t + 1) * m.n_embd);
  for (int64_t l = 0; l < m.n_layer; ++l) {
    const std::string b = "model.layers." + std::to_string(l) + ".";
    const Rows h = p.rms_norm(x, b + "input_layernorm.weight");
    Rows q, k, v;
    if (phi3) {
      const Rows qkv = p.linear(b + "self_attn.qkv_proj.weight", h);
      q = columns(qkv, 0, q_dim);
      k = columns(qkv, q_dim, kv_dim);
      v = columns(qkv, q_dim + kv_dim, kv_dim);
    } else {
      auto proj = [&](const char* n) {
        const std::string w = b + "self_attn." + n + "_proj.";
        return p.linear(w + "weight", h, true, qwen2 ? w + "bias" : "");
      };
      q = proj("q");
      k = proj("k");
      v = proj("v");
    }
    Rows a = p.attention(std::move(q), std::move(k), v);
    if (bitnet) a = p.rms_norm(a, b + "self_attn.attn_sub_norm.weight");
    add(x, p.linear(b + "self_attn.o_proj.weight", a));

    const Rows f = p.rms_norm(x, b + "post_attention_layernorm.weight");
    Rows gate, up;
    if (phi3) {
      const Rows gu = p.linear(b + "mlp.gate_up_proj.weight", f);
      gate = columns(gu, 0, m.n_ff);
      up = columns(gu, m.n_ff, m.n_ff);
    } else {
      gate = p.linear(b + "mlp.gate_proj.weight", f);
      up = p.linear(b + "mlp.up_proj.weight", f);
    }
    for (size_t i = 0; i < up.size(); ++i)
      for (int64_t d = 0; d < m.n_ff; ++d) {
        const double g = gate[i][d];
        up[i][d] *= bitnet ? std::max(g, 0.0) * std::max(g, 0.0) : g / (1 + std::exp(-g));
      }
    if (bitnet) up = p.rms_norm(up, b + "mlp.ffn_sub_norm.weight");
    add(x, p.linear(b + "mlp.down_proj.weight", up));
  }
  x = p.rms_norm(x, "model.norm.weight");
  return p.linear(m.tied ? "model.embed_tokens.weight" : "lm_head.weight", x, false);
}

}  // namespace bitnet::reference
