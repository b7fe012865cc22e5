// The runs of nodes that one kernel computes at batch 1, recognised in the graph the host hands
// over: MUL_MATs of one activation row (q, k and v) as one grouped matvec, with the RMS_NORM
// before them and either a residual ADD after a single one, or the ROPEs and CPYs into the KV
// cache after them; a gate/up pair and the GLU over them; ROPEs and the CPYs into the KV cache
// around them where the matvec does not take them. A run is taken only where no node of it
// reads bytes another of it writes (the fused kernel has no order inside), except the rows a
// matvec hands its epilogue in registers, so its results are those of the nodes one by one. The
// graph planner keeps a tensor's memory from being reused by the two nodes after its last reader,
// which is what lets these runs form.
#pragma once

#include <bitnet/backend.h>

#include <cstddef>
#include <cstdint>

#include "kernels.hpp"

namespace bitnet::cuda {

// nodes[0..count) as one launch_decode_matvec; count 0 when nodes[0] is no batch-1 MUL_MAT it
// takes, nor an RMS_NORM it can compute before one. `x` is the shared activation row (ternary
// kernels read its int8 form, which the caller fills in as args.q and args.amax). `first` is
// nodes[0]'s index in the graph (the slot of its Dynamic values).
struct MatvecRun {
  size_t count = 0;
  const bitnet_tensor* x = nullptr;
  DecodeMatvec args{};
};
MatvecRun decode_matvec_run(const bitnet_tensor* const* nodes, size_t n, size_t first,
                            const int64_t* dynamic);

// nodes[0..count) as one launch_row_tasks; count 0 when nodes[0] is no ROPE. `first` is
// nodes[0]'s index in the graph (the slot of its Dynamic values).
struct RopeRun {
  size_t count = 0;
  RowTasks tasks;
};
RopeRun rope_run(const bitnet_tensor* const* nodes, size_t n, size_t first, const int64_t* dynamic);

}  // namespace bitnet::cuda
