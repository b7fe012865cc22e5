#include <bitnet/runtime/graph/graph.hpp>
#include <bitnet/sdk/types.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <iterator>
#include <map>

namespace bitnet::graph {
namespace {

void set_contiguous_strides(bitnet_tensor& t) {
  t.nb[0] = sdk::type_traits(t.type)->block_bytes;
  t.nb[1] = sdk::row_bytes(t.type, t.ne[0]).value_or(0);
  for (int d = 2; d < BITNET_MAX_DIMS; ++d)
    t.nb[d] = t.nb[d - 1] * static_cast<size_t>(t.ne[d - 1]);
}

size_t contiguous_bytes(const bitnet_tensor& t) {
  return sdk::tensor_bytes(t.type, t.ne, BITNET_MAX_DIMS).value_or(0);
}

size_t align_up(size_t n, size_t a) {
  return (n + a - 1) / a * a;
}

// First-fit allocation over one address range; freed blocks merge with their neighbours.
class Arena {
 public:
  size_t alloc(size_t bytes) {
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if (it->second >= bytes) {
        const size_t at = it->first, left = it->second - bytes;
        free_.erase(it);
        if (left) free_[at + bytes] = left;
        return at;
      }
    // Grow the range, absorbing a free block at its end.
    size_t at = end_;
    if (!free_.empty() && std::prev(free_.end())->first + std::prev(free_.end())->second == end_) {
      at = std::prev(free_.end())->first;
      free_.erase(std::prev(free_.end()));
    }
    end_ = at + bytes;
    return at;
  }
  void release(size_t at, size_t bytes) {
    auto [it, _] = free_.emplace(at, bytes);
    if (auto next = std::next(it); next != free_.end() && at + bytes == next->first) {
      it->second += next->second;
      free_.erase(next);
    }
    if (it != free_.begin())
      if (auto prev = std::prev(it); prev->first + prev->second == at) {
        prev->second += it->second;
        free_.erase(it);
      }
  }
  size_t end() const { return end_; }

 private:
  std::map<size_t, size_t> free_;  // offset -> size
  size_t end_ = 0;
};

std::atomic<uint64_t> next_generation{1};  // 0 is backend.h's "no promise"

// A stride of a dimension of extent 1 addresses nothing (a cache view's nb[3] grows with its
// key count), so backend.h leaves it out of a generation's promise.
bool strides_differ(int64_t ne_a, size_t nb_a, int64_t ne_b, size_t nb_b) {
  return (ne_a > 1 || ne_b > 1) && nb_a != nb_b;
}

}  // namespace

void Graph::changed() {
  generation_ = next_generation.fetch_add(1, std::memory_order_relaxed);
}

void Graph::read_by(const bitnet_tensor& node) {
  for (int k = 0; k < BITNET_MAX_SRC; ++k)
    if (const int s = node.src[k] ? index_of(node.src[k]) : -1; s >= 0) {
      info_[s].read = true;
      if (node.op != BITNET_OP_ATTENTION || (k != 1 && k != 2)) info_[s].read_other = true;
    }
}

bitnet_tensor& Graph::add(Kind kind, int32_t type, Shape ne, std::string name) {
  bound_ = nullptr;
  changed();
  bitnet_tensor& t = tensors_.emplace_back();
  t.struct_size = sizeof(t);
  t.type = type;
  for (int d = 0; d < BITNET_MAX_DIMS; ++d)
    t.ne[d] = ne[d] ? ne[d] : 1;
  set_contiguous_strides(t);
  t.name = names_.emplace_back(std::move(name)).c_str();
  index_.emplace(&t, static_cast<int>(info_.size()));
  info_.push_back({kind});
  return t;
}

int Graph::index_of(const bitnet_tensor* t) const {
  auto it = index_.find(t);
  return it == index_.end() ? -1 : it->second;
}

int Graph::root(int i) const {
  while (i >= 0 && info_[i].kind == Kind::view)
    i = info_[i].base;
  return i;
}

bool Graph::placed(int i) const {
  const int r = root(i);
  return r < 0 || info_[r].kind == Kind::external;
}

const bitnet_tensor* Graph::external(int32_t type, Shape ne, bitnet_buffer* buffer, size_t offset,
                                     std::string name) {
  bitnet_tensor& t = add(Kind::external, type, ne, std::move(name));
  t.buffer = buffer;
  t.offset = offset;
  return &t;
}

const bitnet_tensor* Graph::input(int32_t type, Shape ne, std::string name) {
  return &add(Kind::input, type, ne, std::move(name));
}

const bitnet_tensor* Graph::op(int32_t op, Shape ne,
                               std::initializer_list<const bitnet_tensor*> src,
                               std::initializer_list<float> params, std::string name,
                               int32_t type) {
  bitnet_tensor& t = add(Kind::node, type, ne, std::move(name));
  t.op = op;
  std::copy(src.begin(), src.end(), t.src);
  std::copy(params.begin(), params.end(), t.op_params);
  read_by(t);
  nodes_.push_back(&t);
  return &t;
}

const bitnet_tensor* Graph::op_into(int32_t op, const bitnet_tensor* into,
                                    std::initializer_list<const bitnet_tensor*> src,
                                    std::string name) {
  const int target = index_of(into);
  assert(placed(target));
  bitnet_tensor& t = add(Kind::node_into, into->type, {}, std::move(name));
  info_.back().base = target;
  std::copy(std::begin(into->ne), std::end(into->ne), t.ne);
  std::copy(std::begin(into->nb), std::end(into->nb), t.nb);
  t.buffer = into->buffer;
  t.offset = into->offset;
  t.op = op;
  std::copy(src.begin(), src.end(), t.src);
  read_by(t);
  nodes_.push_back(&t);
  return &t;
}

const bitnet_tensor* Graph::view(const bitnet_tensor* of, Shape ne, std::array<size_t, 4> nb,
                                 size_t offset) {
  const int base = index_of(of);
  bitnet_tensor& t = add(Kind::view, of->type, ne, of->name ? of->name : "");
  std::copy(nb.begin(), nb.end(), t.nb);
  info_.back().base = base;
  info_.back().offset = offset;
  // A view of placed memory is placed now; a view of planned memory waits for bind().
  if (placed(base)) {
    t.buffer = of->buffer;
    t.offset = of->offset + offset;
  }
  return &t;
}

const bitnet_tensor* Graph::reshape(const bitnet_tensor* of, Shape ne) {
  bitnet_tensor probe{};
  probe.type = of->type;
  for (int d = 0; d < BITNET_MAX_DIMS; ++d)
    probe.ne[d] = ne[d] ? ne[d] : 1;
  set_contiguous_strides(probe);
  return view(of, ne, {probe.nb[0], probe.nb[1], probe.nb[2], probe.nb[3]}, 0);
}

void Graph::move_view(const bitnet_tensor* view, Shape ne, std::array<size_t, 4> nb,
                      size_t offset) {
  const int i = index_of(view);
  assert(i >= 0 && info_[i].kind == Kind::view && placed(i));
  bitnet_tensor& t = tensors_[static_cast<size_t>(i)];
  // What backend.h lets a generation keep: a view no node reads (a CPY's destination) may move,
  // one only ATTENTION reads as K or V may change its key count (ne[2]).
  const Info& at = info_[i];
  bool keeps = offset == at.offset || !at.read;
  for (int d = 0; d < BITNET_MAX_DIMS; ++d) {
    const int64_t n = ne[d] ? ne[d] : 1;
    if (n != t.ne[d] && (d != 2 || !at.read || at.read_other)) keeps = false;
    if (strides_differ(n, nb[d], t.ne[d], t.nb[d])) keeps = false;
    t.ne[d] = n;
  }
  if (!keeps) changed();
  std::copy(nb.begin(), nb.end(), t.nb);
  info_[i].offset = offset;
  if (info_[i].base >= 0) t.offset = tensors_[static_cast<size_t>(info_[i].base)].offset + offset;
}

void Graph::follow_into(const bitnet_tensor* node) {
  const int i = index_of(node);
  assert(i >= 0 && info_[i].kind == Kind::node_into);
  if (info_[i].base < 0) return;  // a target made outside this graph cannot have moved
  bitnet_tensor& t = tensors_[static_cast<size_t>(i)];
  const bitnet_tensor& into = tensors_[static_cast<size_t>(info_[i].base)];
  bool keeps = t.op == BITNET_OP_CPY;
  for (int d = 0; d < BITNET_MAX_DIMS; ++d)
    if (into.ne[d] != t.ne[d] || strides_differ(into.ne[d], into.nb[d], t.ne[d], t.nb[d]))
      keeps = false;
  if (!keeps) changed();
  std::copy(std::begin(into.ne), std::end(into.ne), t.ne);
  std::copy(std::begin(into.nb), std::end(into.nb), t.nb);
  t.buffer = into.buffer;
  t.offset = into.offset;
}

void Graph::mark_output(const bitnet_tensor* t) {
  changed();
  if (const int r = root(index_of(t)); r >= 0) info_[r].output = true;
}

// Memory released after node n is reused from node n + kReuseDistance on: a backend may run a
// node together with the two after it in one kernel (an RMS_NORM, a matmul and its residual
// ADD), whose blocks read the first node's inputs while others already write the later ones'
// outputs; those outputs must not land on memory the first node read.
constexpr size_t kReuseDistance = 3;

size_t Graph::plan(size_t alignment) {
  bound_ = nullptr;
  changed();
  // The last node (by position) that reads each planned tensor, through any view.
  std::vector<int> last_use(info_.size(), -1);
  for (size_t n = 0; n < nodes_.size(); ++n)
    for (const bitnet_tensor* s : nodes_[n]->src)
      if (s && !placed(index_of(s))) last_use[root(index_of(s))] = static_cast<int>(n);
  Arena arena;
  auto place = [&](int i) {
    info_[i].bytes = align_up(std::max<size_t>(contiguous_bytes(tensors_[i]), 1), alignment);
    info_[i].offset = arena.alloc(info_[i].bytes);
  };
  // Inputs are uploaded before the first node runs, so they are all alive at the start.
  for (size_t i = 0; i < info_.size(); ++i)
    if (info_[i].kind == Kind::input) place(static_cast<int>(i));
  // Released blocks waiting for their node: (first node that may reuse it, offset, bytes).
  std::vector<std::array<size_t, 3>> cooling;
  for (size_t n = 0; n < nodes_.size(); ++n) {
    std::erase_if(cooling, [&](const std::array<size_t, 3>& c) {
      if (c[0] > n) return false;
      arena.release(c[1], c[2]);
      return true;
    });
    const int i = index_of(nodes_[n]);
    if (info_[i].kind == Kind::node) place(i);
    // An output nobody reads (and nobody keeps) is free again once written.
    if (info_[i].kind == Kind::node && last_use[i] < 0 && !info_[i].output)
      last_use[i] = static_cast<int>(n);
    auto release_if_done = [&](int r) {
      const Kind k = info_[r].kind;
      if (last_use[r] == static_cast<int>(n) && !info_[r].output &&
          (k == Kind::input || k == Kind::node)) {
        cooling.push_back({n + kReuseDistance, info_[r].offset, info_[r].bytes});
        last_use[r] = -2;  // a node may read the same tensor twice: release it once
      }
    };
    for (const bitnet_tensor* s : nodes_[n]->src)
      if (s && !placed(index_of(s))) release_if_done(root(index_of(s)));
    if (info_[i].kind == Kind::node) release_if_done(i);
  }
  return arena.end();
}

void Graph::bind(bitnet_buffer* scratch) {
  if (scratch == bound_) return;
  changed();
  for (size_t i = 0; i < info_.size(); ++i) {
    const Kind k = info_[i].kind;
    if (k == Kind::input || k == Kind::node) {
      tensors_[i].buffer = scratch;
      tensors_[i].offset = info_[i].offset;
    }
  }
  // Views in creation order: a view's base (possibly a view itself) was made before it.
  for (size_t i = 0; i < info_.size(); ++i)
    if (info_[i].kind == Kind::view && !placed(static_cast<int>(i))) {
      const bitnet_tensor& base = tensors_[info_[i].base];
      tensors_[i].buffer = base.buffer;
      tensors_[i].offset = base.offset + info_[i].offset;
    }
  bound_ = scratch;
}

}  // namespace bitnet::graph
