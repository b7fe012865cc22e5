// A compute graph as the backend ABI takes it, built by the model code: leaves that already
// live in backend buffers (weights, the KV cache; tensors made elsewhere count as such), inputs
// the host uploads, op nodes and views.
// plan() lays every input and intermediate out in one scratch buffer, reusing the memory of a
// tensor once its last reader has run, so a step's scratch is the peak of what is alive at
// once, not the sum of all intermediates.
#pragma once

#include <bitnet/backend.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace bitnet::graph {

using Shape = std::array<int64_t, BITNET_MAX_DIMS>;

class Graph {
 public:
  Graph() { changed(); }
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Contiguous tensor already placed in a backend buffer; the planner never touches it.
  const bitnet_tensor* external(int32_t type, Shape ne, bitnet_buffer* buffer, size_t offset,
                                std::string name);
  // A tensor the host uploads before compute (token ids, positions); placed by plan().
  const bitnet_tensor* input(int32_t type, Shape ne, std::string name);
  // An op node with a contiguous F32 (or `type`) output placed by plan().
  const bitnet_tensor* op(int32_t op, Shape ne, std::initializer_list<const bitnet_tensor*> src,
                          std::initializer_list<float> params, std::string name,
                          int32_t type = BITNET_TYPE_F32);
  // An op node that writes into existing memory (a KV-cache row): the node takes the place and
  // strides of `into`, which must be an external tensor or a view of one.
  const bitnet_tensor* op_into(int32_t op, const bitnet_tensor* into,
                               std::initializer_list<const bitnet_tensor*> src, std::string name);
  // Another shape over the same memory, `offset` bytes in; strides nb (nb[0] the element size).
  const bitnet_tensor* view(const bitnet_tensor* of, Shape ne, std::array<size_t, 4> nb,
                            size_t offset);
  // `of` seen as a contiguous tensor of shape ne (same element count; `of` contiguous).
  const bitnet_tensor* reshape(const bitnet_tensor* of, Shape ne);
  // Keeps `t` alive to the end, so the host can read it after compute.
  void mark_output(const bitnet_tensor* t);
  // Gives a view of placed memory a new shape, strides and offset into its base, and makes an
  // op_into node take its target's place again: a graph kept from one decode step to the next
  // moves its KV-cache windows this way instead of being rebuilt.
  void move_view(const bitnet_tensor* view, Shape ne, std::array<size_t, 4> nb, size_t offset);
  void follow_into(const bitnet_tensor* node);
  // The graph's number for backend.h's `generation`: unique in the process, and kept only by
  // the moves backend.h allows (a CPY's destination moved, ATTENTION's key count changed); any
  // other change, including a move beyond those, draws a new one.
  uint64_t generation() const { return generation_; }

  // Assigns scratch offsets; returns the bytes the scratch buffer needs.
  size_t plan(size_t alignment);
  // Points every planned tensor and view at `scratch`. Call after plan(); binding the buffer
  // the graph is bound to again does nothing (a decode step's graph is kept from token to token).
  void bind(bitnet_buffer* scratch);

  std::span<const bitnet_tensor* const> nodes() const { return nodes_; }
  size_t size() const { return tensors_.size(); }

 private:
  enum class Kind { external, input, node, node_into, view };
  struct Info {
    Kind kind;
    int base = -1;      // views: the tensor whose memory this is; op_into nodes: the target
    size_t offset = 0;  // planned offset (inputs, nodes) or offset into base (views)
    size_t bytes = 0;   // bytes a planned tensor occupies
    bool output = false;
    bool read = false;        // a source of some node
    bool read_other = false;  // ... other than ATTENTION's K or V
  };
  bitnet_tensor& add(Kind kind, int32_t type, Shape ne, std::string name);
  int index_of(const bitnet_tensor* t) const;  // -1 for a tensor made outside this graph
  int root(int i) const;
  bool placed(int i) const;  // memory fixed before planning: external, or a view of it
  void read_by(const bitnet_tensor& node);
  void changed();

  std::deque<bitnet_tensor> tensors_;
  std::deque<std::string> names_;
  std::vector<Info> info_;
  std::unordered_map<const bitnet_tensor*, int> index_;
  std::vector<const bitnet_tensor*> nodes_;
  bitnet_buffer* bound_ = nullptr;  // what bind() last pointed the planned tensors at
  uint64_t generation_ = 0;
};

}  // namespace bitnet::graph
