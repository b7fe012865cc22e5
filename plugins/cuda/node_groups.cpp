#include "node_groups.hpp"

#include <bitnet/sdk/types.hpp>

#include <initializer_list>
#include <vector>

#include "buffer.hpp"
#include "tensor_util.hpp"

namespace bitnet::cuda {
namespace {

// Weights a matvec run fetches into L2 ahead (the H200's L2 holds 60 MB).
constexpr size_t kPrefetchBytes = size_t{24} << 20;

bool fits_l2(const DecodeMatvec& a) {
  size_t bytes = 0;
  for (int i = 0; i < a.sets; ++i)
    bytes += static_cast<size_t>(a.set[i].m) * a.set[i].row_bytes;
  return bytes <= kPrefetchBytes;
}

bool batch1_matmul(const bitnet_tensor& node) {
  if (node.op != BITNET_OP_MUL_MAT) return false;
  const bitnet_tensor &w = *node.src[0], &x = *node.src[1];
  return decode_matvec_type(w.type) && flat(w) && flat(x) && flat(node) && x.ne[1] == 1 &&
         decode_matvec_shared(w.type, w.ne[0], false) <= decode_matvec_shared_limit();
}

RowSet row_set(const bitnet_tensor& node) {
  const bitnet_tensor& w = *node.src[0];
  char* const data = device_data(w);
  RowSet s;
  s.w = data;
  s.w_stride = w.nb[1];
  s.row_bytes = *sdk::row_bytes(w.type, w.ne[0]);
  s.i2s_scale = reinterpret_cast<const float*>(
      w.type == BITNET_TYPE_I2_S ? data + static_cast<size_t>(rows(w)) * w.nb[1] : nullptr);
  s.dst = reinterpret_cast<float*>(device_data(node));
  s.m = w.ne[1];
  return s;
}

// `node` joins a run over activations `x` whose outputs so far are `outs`.
bool joins(const bitnet_tensor& node, const bitnet_tensor& first,
           const std::vector<const bitnet_tensor*>& outs) {
  if (!batch1_matmul(node) || node.src[0]->type != first.src[0]->type ||
      node.src[0]->ne[0] != first.src[0]->ne[0] || !same_layout(*node.src[1], *first.src[1]) ||
      overlap(node, *first.src[1]))
    return false;
  for (const bitnet_tensor* o : outs)
    if (overlap(node, *o)) return false;
  return true;
}

bool glu_over(const bitnet_tensor& glu, const bitnet_tensor& gate, const bitnet_tensor& up) {
  if (glu.op != BITNET_OP_GLU || !flat(glu) || glu.ne[1] != 1) return false;
  return same_layout(*glu.src[0], gate) && same_layout(*glu.src[1], up) && gate.ne[0] == up.ne[0] &&
         !overlap(glu, gate) && !overlap(glu, up) && !overlap(glu, *gate.src[1]);
}

// Row r of `a` and of `b` hold the same elements (a CPY between them keeps each row whole).
bool same_rows(const bitnet_tensor& a, const bitnet_tensor& b) {
  for (int d = 0; d < BITNET_MAX_DIMS; ++d)
    if (a.ne[d] != b.ne[d]) return false;
  return a.ne[3] == 1;
}

// A tensor a task reads or writes. A CPY's destination moves from step to step within its
// buffer (a replayed graph keeps its fusion), so against a tensor that stays put it is compared
// by buffer, not by address.
struct Touch {
  const bitnet_tensor* t;
  bool moves;
};

bool meet(const Touch& a, const Touch& b) {
  if (a.moves != b.moves) return a.t->buffer == b.t->buffer;
  return overlap(*a.t, *b.t);
}

// A task reading `r` and writing `w` can run beside tasks that read `reads` and write `writes`.
bool independent(std::initializer_list<Touch> r, Touch w, const std::vector<Touch>& reads,
                 const std::vector<Touch>& writes) {
  for (const Touch& x : writes) {
    if (meet(x, w)) return false;
    for (const Touch& y : r)
      if (meet(x, y)) return false;
  }
  for (const Touch& x : reads)
    if (meet(w, x)) return false;
  return true;
}

// Larger runs (an output head of 128k rows) would repeat the norm in thousands of blocks.
constexpr int64_t kMaxNormRows = 32768;

// The matmuls that follow an RMS_NORM of one row and read its output; `norm` also becomes part
// of the run when every block can compute it (its row fits in shared memory) and no output of
// the run lands on the norm's input, which blocks read at different times.
bool norm_joins(const bitnet_tensor& norm, MatvecRun& run, int64_t rows) {
  const bitnet_tensor& x = *norm.src[0];
  if (norm.op != BITNET_OP_RMS_NORM || !flat(norm) || norm.ne[1] != 1 || !flat(x) ||
      !same_layout(*run.x, norm) || rows > kMaxNormRows ||
      decode_matvec_shared(run.args.type, run.args.k, true) > decode_matvec_shared_limit())
    return false;
  const DecodeMatvec& a = run.args;
  // The kernel reads and writes the rows as float4s and quantises 16 elements at a time.
  const auto aligned = [](const bitnet_tensor* t) {
    return !t || reinterpret_cast<uintptr_t>(device_data(*t)) % 16 == 0;
  };
  if (a.k % 16 || !aligned(&x) || !aligned(norm.src[1]) || !aligned(&norm)) return false;
  if (overlap(norm, x)) return false;
  for (int i = 0; i < a.sets; ++i)
    if (overlap_bytes(a.set[i].dst, a.set[i].m, x)) return false;
  return !a.glu_dst || !overlap_bytes(a.glu_dst, a.set[0].m, x);
}

// The residual ADD right after a single matmul: add = resid + out, element by element.
bool add_joins(const bitnet_tensor& add, const bitnet_tensor& matmul, const bitnet_tensor* norm) {
  if (add.op != BITNET_OP_ADD || !flat(add) || add.ne[1] != 1) return false;
  const bitnet_tensor &resid = *add.src[0], &out = *add.src[1];
  if (!same_layout(out, matmul) || !flat(resid) || resid.ne[0] != add.ne[0] || resid.ne[1] != 1)
    return false;
  // The sum is written while other blocks still read the activations (or the norm's input).
  const bitnet_tensor& x = norm ? *norm->src[0] : *matmul.src[1];
  return !overlap(add, x) && !overlap(add, resid) && !overlap(add, matmul) &&
         !(norm && overlap(add, *norm)) && !overlap(matmul, resid);
}

int64_t total_rows(const DecodeMatvec& a) {
  int64_t rows = 0;
  for (int i = 0; i < a.sets; ++i)
    rows += a.set[i].m;
  return rows;
}

MatvecRun matmul_run(const bitnet_tensor* const* nodes, size_t n) {
  MatvecRun run;
  const bitnet_tensor& first = *nodes[0];
  if (!batch1_matmul(first) || overlap(first, *first.src[1])) return run;
  run.x = first.src[1];
  DecodeMatvec& a = run.args;
  a.type = first.src[0]->type;
  a.k = first.src[0]->ne[0];
  a.x = reinterpret_cast<const float*>(device_data(*run.x));
  a.set[0] = row_set(first);
  a.sets = 1;
  run.count = 1;
  std::vector<const bitnet_tensor*> outs{&first};
  if (n >= 3 && joins(*nodes[1], first, outs) && nodes[1]->ne[0] == first.ne[0] &&
      glu_over(*nodes[2], first, *nodes[1])) {
    a.set[1] = row_set(*nodes[1]);
    a.sets = 2;
    a.glu_dst = reinterpret_cast<float*>(device_data(*nodes[2]));
    a.glu_silu = static_cast<int>(nodes[2]->op_params[0]) == BITNET_GLU_SILU;
    run.count = 3;
    return run;
  }
  while (run.count < n && a.sets < kMaxRowSets && joins(*nodes[run.count], first, outs)) {
    a.set[a.sets++] = row_set(*nodes[run.count]);
    outs.push_back(nodes[run.count++]);
  }
  return run;
}

// The set whose whole output `t` is, as [head_dim, heads] rows of a ROPE or a CPY (head_dim
// even, so a warp's even rows hold whole pairs); -1 if none.
int set_holding(const bitnet_tensor& t, const DecodeMatvec& a) {
  if (t.type != BITNET_TYPE_F32 || !flat(t) || t.ne[0] % 2 || t.nb[0] != sizeof(float) ||
      t.nb[1] != t.ne[0] * sizeof(float))
    return -1;
  for (int s = 0; s < a.sets; ++s)
    if (reinterpret_cast<float*>(device_data(t)) == a.set[s].dst && t.ne[0] * t.ne[1] == a.set[s].m)
      return s;
  return -1;
}

// A ROPE the epilogue computes: over one token, into rows laid out as its input's.
bool epilogue_rope(const bitnet_tensor& rope) {
  const bitnet_tensor &x = *rope.src[0], &pos = *rope.src[1];
  const auto dims = static_cast<int64_t>(rope.op_params[0]);
  if (dims <= 0 || dims % 2 || dims > x.ne[0] || pos.type != BITNET_TYPE_I32) return false;
  for (int d = 0; d < BITNET_MAX_DIMS; ++d)
    if (rope.ne[d] != x.ne[d] || (x.ne[d] > 1 && rope.nb[d] != x.nb[d])) return false;
  return rope.type == BITNET_TYPE_F32;
}

// The ROPEs and CPYs into the KV cache right after a q/k/v run, done in its epilogue
// (RowEpilogue): a ROPE of a set's whole output, and the CPY of a set's output, or of its
// ROPE's, into rows of the same shape. `reads` and `writes` are what the run's kernel reads and
// writes; nothing a taken node writes may meet them. Returns how many of nodes[0..n) it takes.
size_t take_epilogue(const bitnet_tensor* const* nodes, size_t n, size_t first,
                     const int64_t* dynamic, DecodeMatvec& a, std::vector<Touch>& reads,
                     std::vector<Touch>& writes) {
  const bitnet_tensor* rope_of[kMaxRowSets] = {};
  size_t taken = 0;
  for (; taken < n; ++taken) {
    const bitnet_tensor& node = *nodes[taken];
    if (node.op != BITNET_OP_ROPE && node.op != BITNET_OP_CPY) break;
    const bitnet_tensor& x = *node.src[0];
    int s = -1;
    if (node.op == BITNET_OP_ROPE) {
      s = set_holding(x, a);
      if (s < 0 || rope_of[s] || a.set[s].epi.store || !epilogue_rope(node)) break;
      const Touch pos{node.src[1], false}, out{&node, false};
      if (!independent({pos}, out, reads, writes)) break;
      RowEpilogue& e = a.set[s].epi;
      e.rope_dst = reinterpret_cast<float*>(device_data(node));
      e.pos = ints(*node.src[1]);
      e.head_dim = static_cast<int>(x.ne[0]);
      e.dims = static_cast<int>(node.op_params[0]);
      e.base = node.op_params[1];
      e.neox = static_cast<int>(node.op_params[2]) == BITNET_ROPE_NEOX;
      rope_of[s] = &node;
      reads.push_back(pos);
      writes.push_back(out);
      continue;
    }
    for (int i = 0; i < a.sets; ++i)
      if (rope_of[i] && same_layout(x, *rope_of[i])) s = i;
    if (s < 0 && (s = set_holding(x, a)) >= 0 && rope_of[s]) break;  // the unrotated rows
    if (s < 0 || a.set[s].epi.store || !same_rows(node, x) ||
        (node.type != BITNET_TYPE_F32 && node.type != BITNET_TYPE_F16) ||
        node.nb[0] != *sdk::row_bytes(node.type, 1))
      break;
    const Touch out{&node, true};
    if (!independent({}, out, reads, writes)) break;
    RowEpilogue& e = a.set[s].epi;
    e.head_dim = static_cast<int>(x.ne[0]);
    e.store = true;
    e.store_dst = dev(node);
    e.store_address = Dynamic{dynamic, static_cast<int32_t>(first + taken)};
    writes.push_back(out);
  }
  a.even_rows = taken > 0;
  return taken;
}

}  // namespace

MatvecRun decode_matvec_run(const bitnet_tensor* const* nodes, size_t n, size_t first,
                            const int64_t* dynamic) {
  const bitnet_tensor* norm = nodes[0]->op == BITNET_OP_RMS_NORM ? nodes[0] : nullptr;
  const size_t from = norm ? 1 : 0;
  if (from >= n) return {};
  MatvecRun run = matmul_run(nodes + from, n - from);
  if (!run.count) return run;
  DecodeMatvec& a = run.args;
  if (norm) {
    if (!norm_joins(*norm, run, total_rows(a))) return {};
    a.norm.x = reinterpret_cast<const float*>(device_data(*norm->src[0]));
    a.norm.weight =
        norm->src[1] ? reinterpret_cast<const float*>(device_data(*norm->src[1])) : nullptr;
    a.norm.eps = norm->op_params[0];
    a.norm.out = reinterpret_cast<float*>(device_data(*norm));
    ++run.count;
  }
  const size_t next = from + run.count - (norm ? 1 : 0);
  if (a.sets == 1 && !a.glu_dst && next < n && add_joins(*nodes[next], *nodes[from], norm)) {
    a.resid = reinterpret_cast<const float*>(device_data(*nodes[next]->src[0]));
    a.resid_dst = reinterpret_cast<float*>(device_data(*nodes[next]));
    ++run.count;
  }
  if (!a.resid_dst && !a.glu_dst && next < n) {
    std::vector<Touch> reads, writes;
    for (size_t i = from; i < from + static_cast<size_t>(a.sets); ++i)
      writes.push_back({nodes[i], false});
    if (norm) {
      writes.push_back({norm, false});
      reads.push_back({norm->src[0], false});
      if (norm->src[1]) reads.push_back({norm->src[1], false});
    } else {
      reads.push_back({run.x, false});
    }
    run.count += take_epilogue(nodes + next, n - next, first + next, dynamic, a, reads, writes);
  }
  a.prefetch = fits_l2(a);
  return run;
}

RopeRun rope_run(const bitnet_tensor* const* nodes, size_t n, size_t first,
                 const int64_t* dynamic) {
  RopeRun run;
  if (nodes[0]->op != BITNET_OP_ROPE) return run;
  std::vector<Touch> writes, reads;
  std::vector<const bitnet_tensor*> task_nodes;
  RowTasks& g = run.tasks;
  for (size_t i = 0; i < n && g.count < kMaxRowTasks; ++i) {
    const bitnet_tensor& node = *nodes[i];
    const auto slot = static_cast<int32_t>(first + i);
    if (node.op == BITNET_OP_ROPE) {
      const Touch x{node.src[0], false}, pos{node.src[1], false}, out{&node, false};
      if (!independent({x, pos}, out, reads, writes)) break;
      task_nodes.push_back(&node);
      RowTask& t = g.task[g.count++];
      t.dst = dev(node);
      t.src = dev(*node.src[0]);
      t.rope = true;
      t.pos = ints(*node.src[1]);
      t.dims = static_cast<int>(node.op_params[0]);
      t.base = node.op_params[1];
      t.neox = static_cast<int>(node.op_params[2]) == BITNET_ROPE_NEOX;
      reads.insert(reads.end(), {x, pos});
      writes.push_back(out);
    } else if (node.op == BITNET_OP_CPY) {
      // The CPY of a ROPE's output of this run is written by that ROPE's task, from the
      // rotated values it holds; any other CPY reads its source as a task of its own.
      int into = -1;
      for (int j = 0; j < g.count; ++j)
        if (g.task[j].rope && !g.task[j].store && same_layout(*node.src[0], *task_nodes[j]) &&
            same_rows(node, *node.src[0]))
          into = j;
      const Touch x{node.src[0], false}, out{&node, true};
      if (into >= 0 ? !independent({}, out, reads, writes) : !independent({x}, out, reads, writes))
        break;
      if (into >= 0) {
        RowTask& t = g.task[into];
        t.store = true;
        t.store_dst = dev(node);
        t.store_address = Dynamic{dynamic, slot};
      } else {
        task_nodes.push_back(&node);
        RowTask& t = g.task[g.count++];
        t.dst = dev(node);
        t.src = dev(*node.src[0]);
        t.address = Dynamic{dynamic, slot};
        reads.push_back(x);
      }
      writes.push_back(out);
    } else {
      break;
    }
    run.count = i + 1;
  }
  return run;
}

}  // namespace bitnet::cuda
