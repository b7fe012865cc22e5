// The diagnostics building blocks on hand-made data: range lists, node names, tensor
// statistics and hashes, logits comparison, logits files (hostile ones too), trace files and
// their diff, SHA-256. The tools built on them are tested on real models in
// integration/cli_diagnostics_test.cpp.
#include <bitnet/runtime/diagnostics/crossval.hpp>
#include <bitnet/runtime/diagnostics/logits_file.hpp>
#include <bitnet/runtime/diagnostics/node_trace.hpp>
#include <bitnet/runtime/diagnostics/sha256.hpp>
#include <bitnet/runtime/diagnostics/tensor_stats.hpp>
#include <bitnet/runtime/diagnostics/trace_diff.hpp>
#include <bitnet/runtime/diagnostics/trace_file.hpp>

#include <boost/test/unit_test.hpp>

#include <unistd.h>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace dg = bitnet::diagnostics;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("bitnet-diag-unit-" + std::to_string(getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

dg::NodeSlice slice(int64_t position, std::optional<int64_t> layer, std::string_view op,
                    const std::vector<float>& values) {
  dg::NodeSlice s;
  s.position = position;
  s.layer = layer;
  s.op = op;
  s.shape = {static_cast<int64_t>(values.size())};
  s.dtype = BITNET_TYPE_F32;
  s.values = values;
  return s;
}

// Two positions of a two-layer model; `bend` scales layer 1's "a" at position 1 and everything
// computed after it at that position, as a wrong op would.
void write_trace(const fs::path& dir, bool values, float bend) {
  auto w = dg::TraceWriter::create(dir, values);
  BOOST_REQUIRE(w.has_value());
  const std::vector<float> base = {0.5f, -1.0f, 2.0f, 0.25f};
  struct Op {
    std::optional<int64_t> layer;
    const char* op;
  };
  const Op ops[] = {
      {std::nullopt, "embed"}, {0, "a"}, {0, "b"}, {1, "a"}, {1, "b"}, {2, "a"}, {2, "b"},
      {std::nullopt, "logits"}};
  for (int64_t pos = 0; pos < 2; ++pos) {
    bool bent = false;
    for (size_t i = 0; i < std::size(ops); ++i) {
      bent |= pos == 1 && ops[i].layer == 1 && std::string_view(ops[i].op) == "a";
      std::vector<float> v = base;
      for (float& x : v)
        x *= static_cast<float>(i + 1) * (bent ? bend : 1.0f);
      BOOST_REQUIRE((*w)->write(slice(pos, ops[i].layer, ops[i].op, v)).has_value());
    }
  }
  BOOST_REQUIRE((*w)->close().has_value());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(diagnostics)

BOOST_AUTO_TEST_CASE(ranges_and_node_names) {
  auto r = dg::parse_ranges("0-3,7");
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->size() == 2u);
  BOOST_TEST(((*r)[0] == std::pair<int64_t, int64_t>{0, 3}));
  BOOST_TEST(((*r)[1] == std::pair<int64_t, int64_t>{7, 7}));
  BOOST_TEST(dg::parse_ranges("")->empty());
  for (const char* bad : {"3-1", "a", "1-", "-1", "1,,2", "2 "})
    BOOST_TEST(!dg::parse_ranges(bad).has_value(), bad);
  BOOST_TEST(dg::parse_ranges("x").error().message.find("'x'") != std::string::npos);

  dg::SliceFilter f{.layers = *dg::parse_ranges("1-2"), .positions = *dg::parse_ranges("0,4")};
  BOOST_TEST(f.keeps_layer(std::nullopt));
  BOOST_TEST(f.keeps_layer(2));
  BOOST_TEST(!f.keeps_layer(3));
  BOOST_TEST(f.keeps_position(4));
  BOOST_TEST(!f.keeps_position(1));

  auto [layer, op] = dg::split_node_name("blk.12.attn_q");
  BOOST_TEST(layer.value_or(-1) == 12);
  BOOST_TEST(op == "attn_q");
  auto [none, whole] = dg::split_node_name("output_norm");
  BOOST_TEST(!none.has_value());
  BOOST_TEST(whole == "output_norm");
  BOOST_TEST(!dg::split_node_name("blk.x.y").first.has_value());
}

BOOST_AUTO_TEST_CASE(stats_hashes_and_errors) {
  const std::vector<float> v = {1, -1, 3, NAN, INFINITY};
  const dg::TensorStats s = dg::tensor_stats(v);
  BOOST_TEST(s.count == 5);
  BOOST_TEST(s.nonfinite == 2);
  BOOST_TEST(s.mean == 1.0);
  BOOST_TEST(s.rms == std::sqrt(11.0 / 3), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(s.min == -1.0);
  BOOST_TEST(s.max == 3.0);
  std::vector<float> w = v;
  BOOST_TEST(dg::tensor_stats(w).hash == s.hash);
  w[0] = std::nextafter(1.0f, 2.0f);
  BOOST_TEST(dg::tensor_stats(w).hash != s.hash);
  BOOST_TEST(dg::hash_hex(0x0123456789abcdefull) == "0123456789abcdef");

  const std::vector<float> a = {1, 2, 3}, b = {1.05f, 2.1f, 3.15f};
  BOOST_TEST(dg::relative_error(a, a) == 0.0);
  BOOST_TEST(dg::relative_error(a, b) == 0.05 / 1.05, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(std::isinf(dg::relative_error(a, std::vector<float>{1, NAN, 3})));
  BOOST_TEST(std::isinf(dg::relative_error(a, std::vector<float>{1, 2})));
}

BOOST_AUTO_TEST_CASE(logits_agreement) {
  const std::vector<float> r = {0, 1, 2, 3, 4, 5, 6};
  const dg::LogitsAgreement same = dg::compare_logits(r, r);
  BOOST_TEST(same.max_abs_diff == 0.0);
  BOOST_TEST(same.cosine == 1.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(same.kl == 0.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(same.top1);
  BOOST_TEST(same.top5 == 5);

  // Top two swapped, and token 3 out of the top five for token 1.
  const std::vector<float> o = {0, 2.2f, 1.5f, 1, 4, 6, 5};
  const dg::LogitsAgreement diff = dg::compare_logits(r, o);
  BOOST_TEST(!diff.top1);
  BOOST_TEST(diff.top5 == 4);
  BOOST_TEST(diff.max_abs_diff == 2.0);

  // Two tokens: p = (1/2, 1/2) against q = (3/4, 1/4).
  const std::vector<float> p = {0, 0}, q = {std::log(3.0f), 0};
  BOOST_TEST(dg::compare_logits(p, q).kl == 0.5 * std::log(2.0 / 3) + 0.5 * std::log(2.0),
             boost::test_tools::tolerance(1e-6));
  BOOST_TEST(dg::compare_logits(std::vector<float>{1, 2}, std::vector<float>{2, 1}).cosine == 0.8,
             boost::test_tools::tolerance(1e-12));
  // A NaN never passes for agreement.
  const dg::LogitsAgreement nan = dg::compare_logits(r, std::vector<float>{0, 1, 2, 3, 4, 5, NAN});
  BOOST_TEST(!(nan.cosine >= 0.999));
  BOOST_TEST(std::isnan(nan.max_abs_diff));
}

BOOST_AUTO_TEST_CASE(logits_file_round_trip_and_hostile_files) {
  TempDir dir;
  const fs::path path = dir.path / "x.logits";
  dg::LogitsFile f;
  f.n_vocab = 3;
  f.tokens = {2, 0};
  f.logits = {0.5f, -1, 2, 3, 4, -0.25f};
  f.model = "m.gguf";
  BOOST_REQUIRE(dg::write_logits_file(path, f).has_value());
  auto back = dg::read_logits_file(path);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->n_vocab == 3);
  BOOST_TEST(back->tokens == f.tokens);
  BOOST_TEST(back->logits == f.logits);
  BOOST_TEST(back->model == "m.gguf");
  BOOST_TEST(back->row(1)[0] == 3.0f);

  auto write = [&](const std::string& header, size_t floats) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << header;
    const std::vector<float> zeros(floats);
    out.write(reinterpret_cast<const char*>(zeros.data()),
              static_cast<std::streamsize>(floats * 4));
  };
  auto refused = [&](const std::string& part) {
    auto r = dg::read_logits_file(path);
    BOOST_TEST(!r.has_value());
    if (!r) BOOST_TEST(r.error().message.find(part) != std::string::npos, r.error().message);
  };
  const std::string ok = R"({"format":"bitnet-logits","version":1,"n_vocab":3,"tokens":[1,2]})";
  write(ok + "\n", 5);
  refused("bytes follow the header");
  write(ok + "\n", 7);
  refused("bytes follow the header");
  write(ok, 0);
  refused("no header line");
  write(R"({"format":"other","version":1,"n_vocab":3,"tokens":[1]})"
        "\n",
        3);
  refused("bitnet-logits");
  write(R"({"format":"bitnet-logits","version":2,"n_vocab":3,"tokens":[1]})"
        "\n",
        3);
  refused("version 1");
  write(R"({"format":"bitnet-logits","version":1,"n_vocab":3,"tokens":[3]})"
        "\n",
        3);
  refused("token id");
  write(R"({"format":"bitnet-logits","version":1,"n_vocab":-3,"tokens":[0]})"
        "\n",
        3);
  refused("n_vocab");
  write("[1,2]\n", 0);
  refused("not a JSON object");
  BOOST_TEST(!dg::read_logits_file(dir.path / "missing").has_value());
  f.logits.pop_back();
  BOOST_TEST(!dg::write_logits_file(path, f).has_value());
}

BOOST_AUTO_TEST_CASE(trace_files_and_their_diff) {
  TempDir dir;
  for (bool values : {true, false}) {
    const fs::path a = dir.path / "a", b = dir.path / "b";
    write_trace(a, values, 1.0f);
    write_trace(b, values, 1.1f);
    auto ta = dg::read_trace(a);
    auto tb = dg::read_trace(b / dg::kTraceRecords);
    BOOST_REQUIRE(ta.has_value());
    BOOST_REQUIRE(tb.has_value());
    BOOST_TEST(ta->records.size() == 16u);
    BOOST_TEST(ta->values.has_value() == values);
    const dg::TraceRecord& r = ta->records[3];
    BOOST_TEST(r.layer.value_or(-1) == 1);
    BOOST_TEST(r.op == "a");
    BOOST_TEST(r.dtype == "F32");
    BOOST_TEST(r.stats.rms > 0);
    if (values) BOOST_TEST(ta->values_of(r) == (std::vector<float>{2, -4, 8, 1}));

    const dg::TraceDiff same = dg::diff_traces(*ta, *ta, 0);
    BOOST_TEST(!same.first.has_value());
    BOOST_TEST(same.compared == 16u);

    const dg::TraceDiff d = dg::diff_traces(*ta, *tb, 1e-3);
    BOOST_TEST(d.used_values == values);
    BOOST_REQUIRE(d.first.has_value());
    BOOST_TEST(d.first->a->position == 1);
    BOOST_TEST(d.first->a->layer.value_or(-1) == 1);
    BOOST_TEST(d.first->a->op == "a");
    BOOST_TEST(d.first->error > 0.05);
    // Layers 1 and 2 by their last op, then the head.
    BOOST_REQUIRE(d.layers_after.size() == 3u);
    BOOST_TEST(d.layers_after[0].a->op == "b");
    BOOST_TEST(d.layers_after[1].a->layer.value_or(-1) == 2);
    BOOST_TEST(d.layers_after[2].a->op == "logits");
    BOOST_TEST(d.layers_after[2].b->stats.rms / d.layers_after[2].a->stats.rms == 1.1,
               boost::test_tools::tolerance(1e-6));
    BOOST_TEST(!dg::diff_traces(*ta, *tb, 0.2).first.has_value());
  }
}

BOOST_AUTO_TEST_CASE(hostile_traces) {
  TempDir dir;
  write_trace(dir.path, true, 1.0f);
  const fs::path file = dir.path / dg::kTraceRecords;
  std::ofstream(file, std::ios::app) << "{\"position\":1,\"layer\":\"x\"}\n";
  auto r = dg::read_trace(dir.path);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message.find("line 17") != std::string::npos, r.error().message);

  write_trace(dir.path, true, 1.0f);
  fs::resize_file(dir.path / dg::kTraceValues, 8);
  r = dg::read_trace(dir.path);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message.find("past the end") != std::string::npos, r.error().message);

  BOOST_TEST(!dg::read_trace(dir.path / "nothing-here").has_value());
}

BOOST_AUTO_TEST_CASE(sha256_of_a_file) {
  TempDir dir;
  std::ofstream(dir.path / "abc") << "abc";
  BOOST_TEST(dg::sha256_file(dir.path / "abc").value() ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::ofstream(dir.path / "empty").flush();
  BOOST_TEST(dg::sha256_file(dir.path / "empty").value() ==
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(!dg::sha256_file(dir.path / "missing").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
