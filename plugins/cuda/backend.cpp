#include "backend.hpp"

#include <bitnet/sdk/plugin.hpp>

#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "blas.hpp"
#include "buffer.hpp"
#include "cuda_error.hpp"
#include "device.hpp"
#include "host_mirror.hpp"
#include "node_launch.hpp"
#include "scratch.hpp"
#include "tensor_util.hpp"

namespace bitnet::cuda {
namespace {

constexpr size_t kAlignment = 256;

std::string node_label(const bitnet_tensor* node, size_t i) {
  return "node " + std::to_string(i) + " (" + (node && node->name ? node->name : "unnamed") + ")";
}

bool env_is(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v && std::strcmp(v, value) == 0;
}

// The per-node Dynamic values: pinned on the host, copied to the device before each graph.
class DynamicValues {
 public:
  explicit DynamicValues(int device) : device_(device) {}
  ~DynamicValues() {
    cudaSetDevice(device_);
    cudaFreeHost(host_);
    cudaFree(device_values_);
  }
  DynamicValues(const DynamicValues&) = delete;
  DynamicValues& operator=(const DynamicValues&) = delete;

  // Room for n values; true when the device array moved (captured graphs point at it).
  bool reserve(size_t n) {
    if (n <= capacity_) return false;
    const size_t want = std::max<size_t>(n, 2 * capacity_);
    check_cuda(cudaFreeHost(host_), "freeing pinned memory");
    check_cuda(cudaFree(device_values_), "freeing device memory");
    host_ = nullptr;
    device_values_ = nullptr;
    capacity_ = 0;
    check_cuda(cudaMallocHost(&host_, want * sizeof(int64_t)), "allocating pinned memory");
    check_cuda(cudaMalloc(&device_values_, want * sizeof(int64_t)), "allocating device memory");
    capacity_ = want;
    return true;
  }
  int64_t* host() { return host_; }
  const int64_t* device() const { return device_values_; }

 private:
  int device_;
  int64_t* host_ = nullptr;
  int64_t* device_values_ = nullptr;
  size_t capacity_ = 0;
};

class CudaBackend final : public sdk::Backend {
 public:
  explicit CudaBackend(int device)
      : device_(device),
        label_(device_label(device)),
        graphs_(!env_is("BITNET_CUDA_GRAPHS", "0")),
        profile_(env_is("BITNET_CUDA_PROFILE", "1")),
        profile_host_(env_is("BITNET_CUDA_PROFILE", "2")),
        scratch_(device),
        dynamic_(device) {
    select();
    check_cuda(cudaStreamCreate(&stream_), "creating a CUDA stream");
    // The flag lives in mapped host memory: a kernel meeting a bad id stores into it across
    // the bus, and a graph needs no copy after it to report.
    void* flag = nullptr;
    check_cuda(cudaHostAlloc(&flag, sizeof(int32_t), cudaHostAllocMapped),
               "allocating the error flag");
    error_host_ = static_cast<int32_t*>(flag);
    *error_host_ = 0;
    check_cuda(cudaHostGetDevicePointer(&flag, error_host_, 0), "mapping the error flag");
    error_ = static_cast<int32_t*>(flag);
    mirror_ = std::make_shared<HostMirror>(device_, stream_);
    if (!env_is("BITNET_CUDA_BLAS", "0")) blas_ = Blas::load(device_, stream_);
    if (!blas_)
      sdk::plugin_host().debug("cuda: no cuBLAS; prefill matmuls use the plugin's kernels");
  }
  ~CudaBackend() override {
    report_profile();
    cudaSetDevice(device_);
    cudaStreamSynchronize(stream_);
    mirror_->clear();
    drop_graph();
    blas_.reset();
    cudaFreeHost(error_host_);
    cudaStreamDestroy(stream_);
  }
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  void props(bitnet_backend_props& out) override {
    select();
    size_t free = 0, total = 0;
    check_cuda(cudaMemGetInfo(&free, &total),
               "asking GPU " + std::to_string(device_) + " for its memory");
    out.device_name = label_.c_str();
    out.memory_total = total;
    out.memory_free = free;
    out.alignment = kAlignment;
    out.host_memory = 0;
  }

  bool supports(const bitnet_tensor& node) override { return check_node(node).empty(); }

  std::unique_ptr<sdk::Buffer> alloc(size_t size) override {
    return std::make_unique<DeviceBuffer>(device_, size, epoch_, mirror_);
  }

  // Every node is checked before anything is queued. A graph of the same shape as the one
  // before is captured once into a CUDA graph and then replayed (a decode step: the host hands
  // over the same graph each token, only the cache row and key count move; its generation says
  // so without the comparison, backend.h). Returns once the graph is queued: the host prepares
  // the next step while the GPU runs this one, and synchronize() reports what the kernels
  // flagged.
  void compute(const bitnet_tensor* const* nodes, size_t n) override {
    compute_generation(nodes, n, 0);
  }

  void compute_generation(const bitnet_tensor* const* nodes, size_t n,
                          uint64_t generation) override {
    if (!profile_host_) return run(nodes, n, generation);
    auto& h = host_time_;
    const auto begin = std::chrono::steady_clock::now();
    if (h.graphs++) h.between_ms += ms(h.last_end, begin);
    if (!h.start) {
      check_cuda(cudaEventCreate(&h.start), "creating an event");
      check_cuda(cudaEventCreate(&h.stop), "creating an event");
    }
    h.begin = begin;
    run(nodes, n, generation);
    cudaEventRecord(h.stop, stream_);
    cudaEventSynchronize(h.stop);
    float gpu = 0;
    cudaEventElapsedTime(&gpu, h.start, h.stop);
    h.gpu_ms += gpu;
    h.last_end = std::chrono::steady_clock::now();
    h.inside_ms += ms(begin, h.last_end);
  }

  static double ms(std::chrono::steady_clock::time_point a,
                   std::chrono::steady_clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  }

  void run(const bitnet_tensor* const* nodes, size_t n, uint64_t generation) {
    if (n && !nodes) throw sdk::Error(BITNET_STATUS_INVALID_ARGUMENT, "graph nodes are NULL");
    for (size_t i = 0; i < n; ++i)
      if (!nodes[i])
        throw sdk::Error(BITNET_STATUS_INVALID_ARGUMENT, node_label(nodes[i], i) + " is NULL");
    select();
    if (pending_) synchronize();  // a graph nobody waited for still reports its errors first
    mirror_->clear();
    // The host's promise (backend.h's generation) stands for the key where it names the graph
    // the key was made of: building and comparing the key took 15-20 us a 2B4T token.
    const bool promised = generation && generation == key_generation_ && key_words_ &&
                          n == key_nodes_ && *epoch_ == key_.front();
    // The key starts with the buffer epoch: a buffer freed and another allocated at its address
    // must not pass for the old one.
    size_t key_words = key_words_;
    if (!promised) {
      if (key_scratch_.size() < 1 + n * kShapeKeyWords) key_scratch_.resize(1 + n * kShapeKeyWords);
      uint64_t* end = key_scratch_.data();
      *end++ = *epoch_;
      for (size_t i = 0; i < n; ++i)
        end = write_shape_key(*nodes[i], end);
      key_words = static_cast<size_t>(end - key_scratch_.data());
    }
    // A graph of the last one's shape, over the same buffers, passed these checks then; only
    // what moves is checked again.
    const bool same_shape = promised || (n && key_words == key_words_ &&
                                         std::memcmp(key_.data(), key_scratch_.data(),
                                                     key_words * sizeof(uint64_t)) == 0);
    if (profile_host_) host_time_.key_ms += ms(host_time_.begin, std::chrono::steady_clock::now());
    size_t scratch = 0;
    for (size_t i = 0; i < n; ++i)
      if (!same_shape || dynamic_value(*nodes[i])) {
        validate(*nodes[i], i);
        scratch = std::max(scratch, scratch_bytes(*nodes[i]));
      }
    if (scratch > scratch_.size()) {
      drop_graph();
      scratch_.reserve(scratch);
    }
    if (dynamic_.reserve(n)) drop_graph();
    planned_ = plan_mirror(n ? nodes[n - 1] : nullptr);
    for (size_t i = 0; i < n; ++i)
      dynamic_.host()[i] = dynamic_value(*nodes[i]);
    check_cuda(cudaMemcpyAsync(const_cast<int64_t*>(dynamic_.device()), dynamic_.host(),
                               n * sizeof(int64_t), cudaMemcpyHostToDevice, stream_),
               "copying the step's cache positions");
    const LaunchContext ctx{stream_, &scratch_, error_, dynamic_.device(), blas_.get()};
    if (profile_host_) {
      host_time_.prep_ms += ms(host_time_.begin, std::chrono::steady_clock::now());
      cudaEventRecord(host_time_.start, stream_);
    }
    if (profile_) {
      queue(nodes, n, ctx, &profile_ms_);
    } else if (graphs_ && same_shape) {
      if (!exec_) {
        capture(nodes, n, ctx);
        ++host_time_.captured;
      }
      ++host_time_.replayed;
      check_cuda(cudaGraphLaunch(exec_, stream_), "replaying the captured graph");
    } else {
      queue(nodes, n, ctx);
      // A new shape becomes the key; the same one (BITNET_CUDA_GRAPHS=0) keeps the key it has.
      if (!same_shape) {
        drop_graph();
        key_.swap(key_scratch_);
        key_words_ = key_words;
        key_nodes_ = n;
      }
    }
    key_generation_ = key_words_ ? generation : 0;
    mirror_->hold(planned_);
    pending_nodes_.assign(nodes, nodes + n);
    pending_ = true;
  }

  // Ids and positions live on the device, so kernels report a bad one through the flag.
  void synchronize() override {
    select();
    check_cuda(cudaStreamSynchronize(stream_), "running the graph");
    if (!pending_) return;
    pending_ = false;
    const int32_t flagged = *static_cast<volatile int32_t*>(error_host_);
    if (!flagged) return;
    *error_host_ = 0;
    const size_t i = static_cast<size_t>(flagged - 1);
    const bitnet_tensor* node = i < pending_nodes_.size() ? pending_nodes_[i] : nullptr;
    const char* what = node && node->op == BITNET_OP_GET_ROWS
                           ? "a row id is outside the table"
                           : "a query position is outside the keys given";
    throw sdk::Error(BITNET_STATUS_INVALID_ARGUMENT, node_label(node, i) + ": " + what);
  }

 private:
  void report_profile() {
    if (host_time_.graphs)
      sdk::plugin_host().info(
          "profile: ", host_time_.graphs, " graphs, ", host_time_.inside_ms, " ms inside compute (",
          host_time_.prep_ms, " ms of it on the host before launching, ", host_time_.key_ms,
          " ms of that for the graph's key, ", host_time_.gpu_ms,
          " ms from launch to the last op done), ", host_time_.between_ms, " ms between graphs; ",
          host_time_.captured, " captured, ", host_time_.replayed, " replayed");
    std::vector<std::pair<double, std::string>> rows;
    double total = 0;
    for (const auto& [what, v] : profile_ms_.ms_and_count) {
      rows.emplace_back(v.first, what + ": " + std::to_string(v.first) + " ms over " +
                                     std::to_string(v.second) + " runs");
      total += v.first;
    }
    std::sort(rows.rbegin(), rows.rend());
    for (const auto& r : rows)
      sdk::plugin_host().info("profile ", r.second, " (", 100 * r.first / total, "%)");
  }

  void validate(const bitnet_tensor& node, size_t i) {
    if (std::string why = check_node(node); !why.empty())
      throw sdk::Error(BITNET_STATUS_UNSUPPORTED, node_label(&node, i) + ": " + why);
    sdk::check_tensor(node);
    for (const bitnet_tensor* s : node.src)
      if (s) sdk::check_tensor(*s);
  }

  void select() { check_cuda(cudaSetDevice(device_), "selecting GPU " + std::to_string(device_)); }

  // The graph's last node's bytes when small enough (a logits row) to copy to the host.
  MirrorSpan plan_mirror(const bitnet_tensor* last) {
    if (!last) return {};
    const auto [begin, end] = extent(*last);
    const auto bytes = static_cast<size_t>(end - begin);
    if (bytes > HostMirror::kMaxBytes || reinterpret_cast<uintptr_t>(begin) % 16) return {};
    if (mirror_->reserve(bytes)) drop_graph();
    return {device_buffer(*last), last->offset, bytes, begin};
  }

  // The graph's kernels, then, unless the kernel computing it wrote it there, the copy of its
  // last node's output to the host mirror.
  void queue(const bitnet_tensor* const* nodes, size_t n, LaunchContext ctx,
             Profile* profile = nullptr) {
    bool mirrored = false;
    if (planned_.bytes) {
      ctx.mirror_src = planned_.src;
      ctx.mirror = mirror_->device_view();
      ctx.mirrored = &mirrored;
    }
    launch_graph(nodes, n, ctx, profile);
    if (planned_.bytes && !mirrored) mirror_->launch_copy(planned_);
    check_cuda(cudaGetLastError(), "launching the copy of the output to the host");
  }

  void capture(const bitnet_tensor* const* nodes, size_t n, const LaunchContext& ctx) {
    check_cuda(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal),
               "starting a graph capture");
    cudaGraph_t graph = nullptr;
    try {
      queue(nodes, n, ctx);
    } catch (...) {
      cudaStreamEndCapture(stream_, &graph);
      if (graph) cudaGraphDestroy(graph);
      throw;
    }
    check_cuda(cudaStreamEndCapture(stream_, &graph), "ending a graph capture");
    const cudaError_t e = cudaGraphInstantiate(&exec_, graph, 0);
    cudaGraphDestroy(graph);
    if (e != cudaSuccess) exec_ = nullptr;
    check_cuda(e, "instantiating a captured graph");
  }

  void drop_graph() {
    if (exec_) cudaGraphExecDestroy(exec_);
    exec_ = nullptr;
    key_words_ = 0;
    key_generation_ = 0;
  }

  int device_;
  std::string label_;
  bool graphs_;        // BITNET_CUDA_GRAPHS=0 runs every graph eagerly (what replay saves)
  bool profile_;       // BITNET_CUDA_PROFILE=1: eager, timed per node, summed at the end
  bool profile_host_;  // BITNET_CUDA_PROFILE=2: time inside compute, between, and on the GPU
  struct {
    double inside_ms = 0, between_ms = 0, gpu_ms = 0, prep_ms = 0, key_ms = 0;
    int64_t graphs = 0, captured = 0, replayed = 0;
    std::chrono::steady_clock::time_point last_end, begin;
    cudaEvent_t start = nullptr, stop = nullptr;
  } host_time_;
  Profile profile_ms_;
  Scratch scratch_;
  DynamicValues dynamic_;
  cudaStream_t stream_ = nullptr;
  int32_t* error_ = nullptr;       // the device's view of error_host_
  int32_t* error_host_ = nullptr;  // mapped host memory
  std::shared_ptr<uint64_t> epoch_ = std::make_shared<uint64_t>(0);
  std::vector<uint64_t> key_, key_scratch_;  // key_'s first key_words_ are the last graph's
  size_t key_words_ = 0;
  size_t key_nodes_ = 0;         // nodes in the graph key_ was made of
  uint64_t key_generation_ = 0;  // the host's generation for that graph, 0 if none
  cudaGraphExec_t exec_ = nullptr;
  std::unique_ptr<Blas> blas_;
  std::shared_ptr<HostMirror> mirror_;
  MirrorSpan planned_;  // this graph's output, to be mirrored (plan_mirror)
  // A graph queued and not yet waited for, and its nodes (valid until synchronize, backend.h).
  bool pending_ = false;
  std::vector<const bitnet_tensor*> pending_nodes_;
};

}  // namespace

int Factory::device_count() {
  return check_devices().count;
}

std::unique_ptr<sdk::Backend> Factory::create(int device, uint32_t) {
  const DeviceCheck devices = check_devices();
  if (devices.count == 0) throw sdk::Error(BITNET_STATUS_NOT_FOUND, "cuda: " + devices.reason);
  if (device < 0 || device >= devices.count)
    throw sdk::Error(BITNET_STATUS_NOT_FOUND, "cuda: there is no GPU " + std::to_string(device) +
                                                  " (" + devices.reason + ")");
  return std::make_unique<CudaBackend>(device);
}

}  // namespace bitnet::cuda
