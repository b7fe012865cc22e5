// The SDK's C++ helpers, used the way a plugin uses them: exceptions become status objects,
// fixed buffers never overflow, buffer and tensor bounds are checked before memory is touched.
#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/plugin.hpp>
#include <bitnet/sdk/types.hpp>

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <stdexcept>
#include <vector>

namespace sdk = bitnet::sdk;

namespace {

struct PlainBackend final : sdk::Backend {
  void props(bitnet_backend_props& out) override {
    out.device_name = "plain";
    out.alignment = 32;
    out.memory_total = 1234;
  }
  bool supports(const bitnet_tensor&) override { return true; }
  std::unique_ptr<sdk::Buffer> alloc(size_t size) override {
    if (size > (1u << 20)) throw std::bad_alloc();
    return std::make_unique<sdk::HostBuffer>(size, 32);
  }
  void compute(const bitnet_tensor* const*, size_t) override {
    throw std::logic_error("compute exploded");
  }
};

struct Factory {
  static int device_count() { return 1; }
  static std::unique_ptr<sdk::Backend> create(int) { return std::make_unique<PlainBackend>(); }
};

// Records the generation the table hands over (ABI 1.3).
struct GenerationBackend final : sdk::Backend {
  static inline uint64_t seen = ~uint64_t{0};
  void props(bitnet_backend_props&) override {}
  bool supports(const bitnet_tensor&) override { return true; }
  std::unique_ptr<sdk::Buffer> alloc(size_t size) override {
    return std::make_unique<sdk::HostBuffer>(size, 32);
  }
  void compute(const bitnet_tensor* const*, size_t) override {}
  void compute_generation(const bitnet_tensor* const*, size_t, uint64_t generation) override {
    seen = generation;
  }
};

struct GenerationFactory {
  static int device_count() { return 1; }
  static std::unique_ptr<sdk::Backend> create(int) { return std::make_unique<GenerationBackend>(); }
};

struct Fixture {
  const bitnet_backend_api* api = sdk::backend_api<Factory>();
  bitnet_backend* backend = nullptr;
  Fixture() {
    bitnet_backend_create_args a{sizeof(a), 0, nullptr, 0};
    BOOST_REQUIRE(api->backend_create(&a) == nullptr);
    backend = a.backend;
  }
  ~Fixture() { api->backend_destroy(backend); }
  // Returns the message of `s` (or "" for success) and frees it.
  std::string take(bitnet_status* s) const {
    std::string m = s ? api->status_message(s) : "";
    api->status_destroy(s);
    return m;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(sdk_helpers)

BOOST_AUTO_TEST_CASE(guard_maps_exceptions_to_codes) {
  bitnet_status* s = sdk::guard([] { throw sdk::Error(BITNET_STATUS_IO, "disk gone"); });
  BOOST_TEST(sdk::status_code(s) == BITNET_STATUS_IO);
  BOOST_TEST(std::string(sdk::status_message(s)) == "disk gone");
  sdk::status_destroy(s);
  s = sdk::guard([] { throw std::bad_alloc(); });
  BOOST_TEST(sdk::status_code(s) == BITNET_STATUS_OUT_OF_MEMORY);
  sdk::status_destroy(s);
  s = sdk::guard([] { throw 42; });
  BOOST_TEST(sdk::status_code(s) == BITNET_STATUS_INTERNAL);
  sdk::status_destroy(s);
  BOOST_TEST(sdk::guard([] {}) == nullptr);
}

BOOST_AUTO_TEST_CASE(copy_message_truncates_and_terminates) {
  char buf[8];
  std::memset(buf, 'x', sizeof buf);
  sdk::copy_message(buf, "a message longer than eight");
  BOOST_TEST(std::string(buf) == "a messa");
  sdk::copy_message(buf, nullptr);
  BOOST_TEST(std::string(buf).empty());
}

BOOST_AUTO_TEST_CASE(row_bytes_of_block_types) {
  BOOST_TEST(sdk::row_bytes(BITNET_TYPE_F32, 10).value() == 40u);
  BOOST_TEST(sdk::row_bytes(BITNET_TYPE_Q8_0, 64).value() == 68u);
  BOOST_TEST(sdk::row_bytes(BITNET_TYPE_Q4_K, 512).value() == 288u);
  BOOST_TEST(sdk::row_bytes(BITNET_TYPE_TQ2_0, 256).value() == 66u);
  BOOST_TEST(sdk::row_bytes(BITNET_TYPE_I2_S, 8).value() == 2u);
  BOOST_TEST(!sdk::row_bytes(BITNET_TYPE_Q8_0, 33).has_value());
  BOOST_TEST(!sdk::row_bytes(99, 32).has_value());
  // 2^62 F32 elements are 2^64 bytes, which wraps to 0 in a size_t.
  BOOST_TEST(!sdk::row_bytes(BITNET_TYPE_F32, int64_t{1} << 62).has_value());
  const int64_t wrapping[] = {int64_t{1} << 62, 1};
  BOOST_TEST(!sdk::tensor_bytes(BITNET_TYPE_F32, wrapping, 2).has_value());
  BOOST_TEST(sdk::type_name(BITNET_TYPE_BF16) == "BF16");
}

BOOST_FIXTURE_TEST_CASE(props_copy_only_what_the_caller_holds, Fixture) {
  // A caller built against an older, shorter props struct: nothing past its size is written.
  struct {
    bitnet_backend_props props;
    char guard[8];
  } old{};
  std::memset(&old, 0x5a, sizeof old);
  old.props.struct_size = offsetof(bitnet_backend_props, memory_free);
  BOOST_TEST(take(api->get_props(backend, &old.props)).empty());
  BOOST_TEST(old.props.struct_size == offsetof(bitnet_backend_props, memory_free));
  BOOST_TEST(std::string(old.props.device_name) == "plain");
  BOOST_TEST(old.props.memory_total == 1234u);
  const unsigned char* after = reinterpret_cast<const unsigned char*>(&old.props.memory_free);
  for (size_t i = 0; i < sizeof(bitnet_backend_props) - old.props.struct_size; ++i)
    BOOST_REQUIRE_EQUAL(after[i], 0x5a);
}

BOOST_FIXTURE_TEST_CASE(buffer_bounds_are_checked, Fixture) {
  bitnet_buffer_alloc_args a{sizeof(a), backend, 64, nullptr};
  BOOST_REQUIRE(take(api->buffer_alloc(&a)).empty());
  std::vector<char> data(64, 'q');
  bitnet_buffer_upload_args up{sizeof(up), a.buffer, 0, data.data(), 64};
  BOOST_TEST(take(api->buffer_upload(&up)).empty());
  up.offset = 1;
  BOOST_TEST(take(api->buffer_upload(&up)).find("runs past the end") != std::string::npos);
  up.offset = SIZE_MAX;  // offset + size would wrap around
  up.size = 2;
  BOOST_TEST(take(api->buffer_upload(&up)).find("runs past the end") != std::string::npos);
  std::vector<char> back(64);
  bitnet_buffer_download_args down{sizeof(down), a.buffer, 0, back.data(), 64};
  BOOST_TEST(take(api->buffer_download(&down)).empty());
  BOOST_TEST(back == data);
  // A host buffer is read in place; a view past the end is an error, with no pointer.
  bitnet_buffer_view_args view{sizeof(view), a.buffer, 8, 56, nullptr};
  BOOST_TEST(take(api->buffer_view(&view)).empty());
  BOOST_REQUIRE(view.data != nullptr);
  BOOST_TEST(std::memcmp(view.data, data.data() + 8, 56) == 0);
  view.size = 57;
  BOOST_TEST(take(api->buffer_view(&view)).find("runs past the end") != std::string::npos);
  BOOST_TEST(view.data == nullptr);
  api->buffer_free(a.buffer);
}

BOOST_FIXTURE_TEST_CASE(failures_inside_the_plugin_become_statuses, Fixture) {
  bitnet_buffer_alloc_args a{sizeof(a), backend, size_t{1} << 30, nullptr};
  bitnet_status* s = api->buffer_alloc(&a);
  BOOST_TEST(api->status_code(s) == BITNET_STATUS_OUT_OF_MEMORY);
  api->status_destroy(s);
  BOOST_TEST(a.buffer == nullptr);
  bitnet_graph_compute_args g{sizeof(g), backend, nullptr, 0, 0};
  BOOST_TEST(take(api->graph_compute(&g)) == "compute exploded");
}

// A host built before ABI 1.3 passes args without `generation`: the backend sees 0 (no
// promise), not whatever lies where the field would be.
BOOST_AUTO_TEST_CASE(graph_generation_reaches_the_backend_only_where_given) {
  const bitnet_backend_api* api = sdk::backend_api<GenerationFactory>();
  bitnet_backend_create_args a{sizeof(a), 0, nullptr, 0};
  BOOST_REQUIRE(api->backend_create(&a) == nullptr);
  bitnet_graph_compute_args args{sizeof(args), a.backend, nullptr, 0, 42};
  BOOST_TEST(api->graph_compute(&args) == nullptr);
  BOOST_TEST(GenerationBackend::seen == 42u);
  args.struct_size = offsetof(bitnet_graph_compute_args, generation);
  BOOST_TEST(api->graph_compute(&args) == nullptr);
  BOOST_TEST(GenerationBackend::seen == 0u);
  api->backend_destroy(a.backend);
}

BOOST_FIXTURE_TEST_CASE(check_tensor_refuses_tensors_outside_their_buffer, Fixture) {
  bitnet_buffer_alloc_args a{sizeof(a), backend, 4 * 16, nullptr};
  BOOST_REQUIRE(take(api->buffer_alloc(&a)).empty());
  bitnet_tensor t{};
  t.struct_size = sizeof(t);
  t.type = BITNET_TYPE_F32;
  t.name = "w";
  t.ne[0] = 4;
  t.ne[1] = 4;
  t.ne[2] = t.ne[3] = 1;
  t.nb[0] = 4;
  t.nb[1] = 16;
  t.nb[2] = t.nb[3] = 64;
  t.buffer = a.buffer;
  BOOST_CHECK_NO_THROW(sdk::check_tensor(t));
  auto message = [&] {
    try {
      sdk::check_tensor(t);
    } catch (const sdk::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  t.offset = 4;
  BOOST_TEST(message().find("past its buffer of 64 bytes") != std::string::npos);
  t.offset = 0;
  t.ne[1] = int64_t{1} << 62;  // (ne-1) * nb overflows size_t
  BOOST_TEST(message().find("overflows") != std::string::npos);
  t.ne[1] = 0;
  BOOST_TEST(message().find("dimension 1 is 0") != std::string::npos);
  t.ne[1] = 4;
  t.type = 77;
  BOOST_TEST(message().find("unknown type 77") != std::string::npos);
  api->buffer_free(a.buffer);
}

BOOST_AUTO_TEST_SUITE_END()
