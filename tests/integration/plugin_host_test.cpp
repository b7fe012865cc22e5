// The plugin host against real shared libraries built for these cases (tests/plugins/).
#include <bitnet/runtime/plugins/plugin_host.hpp>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using bitnet::plugins::HostOptions;
using bitnet::plugins::PluginHost;
using bitnet::plugins::PluginRecord;

namespace {

const fs::path kPlugins = BITNET_TEST_PLUGIN_DIR;

PluginHost scan(std::vector<fs::path> dirs, std::vector<bitnet_abi_version> offered = {{1, 0}}) {
  return PluginHost::scan(HostOptions{std::move(dirs), std::move(offered)});
}

const PluginRecord& only(const PluginHost& host) {
  BOOST_REQUIRE_EQUAL(host.plugins().size(), 1u);
  return host.plugins().front();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plugin_host)

BOOST_AUTO_TEST_CASE(older_minor_loads_in_a_newer_host) {
  const auto host = scan({kPlugins / "old-minor"}, {{1, 3}});
  const PluginRecord& r = only(host);
  BOOST_TEST(r.loaded, r.rejection);
  BOOST_TEST(r.name == "old-minor");
  BOOST_TEST(r.negotiated.major == 1);
  BOOST_TEST(r.negotiated.minor == 0);
  BOOST_TEST(r.backend != nullptr);
}

BOOST_AUTO_TEST_CASE(newer_minor_loads_at_the_host_minor) {
  const auto host = scan({kPlugins / "new-minor"});
  const PluginRecord& r = only(host);
  BOOST_TEST(r.loaded, r.rejection);
  BOOST_TEST(r.built.minor == 9);
  BOOST_TEST(r.negotiated.minor == 0);
}

BOOST_AUTO_TEST_CASE(other_major_is_refused_with_a_clear_message) {
  const auto host = scan({kPlugins / "other-major"});
  const PluginRecord& r = only(host);
  BOOST_TEST(!r.loaded);
  BOOST_TEST(r.name == "other-major");  // the description is read even when refused
  BOOST_TEST(contains(r.rejection, "built for ABI 2.0 but this host speaks ABI 1.0"), r.rejection);
}

BOOST_AUTO_TEST_CASE(missing_entry_point_is_refused) {
  const auto host = scan({kPlugins / "missing-init"});
  const PluginRecord& r = only(host);
  BOOST_TEST(!r.loaded);
  BOOST_TEST(r.name == "missing-init");
  BOOST_TEST(contains(r.rejection, "missing entry point bitnet_plugin_init"), r.rejection);
}

BOOST_AUTO_TEST_CASE(score_zero_is_skipped_with_the_plugins_reason) {
  const auto host = scan({kPlugins / "score-zero"});
  const PluginRecord& r = only(host);
  BOOST_TEST(!r.loaded);
  BOOST_TEST(r.rejection == "score 0 on this machine: needs the frobnicator");
  BOOST_TEST(host.ranked(BITNET_PLUGIN_KIND_BACKEND).empty());
}

BOOST_AUTO_TEST_CASE(init_error_does_not_stop_the_other_plugins) {
  const auto host = scan({kPlugins / "init-error"});
  BOOST_REQUIRE_EQUAL(host.plugins().size(), 2u);
  const PluginRecord* failed = nullptr;
  const PluginRecord* healthy = nullptr;
  for (const auto& r : host.plugins())
    (r.name == "init-error" ? failed : healthy) = &r;
  BOOST_REQUIRE(failed && healthy);
  BOOST_TEST(!failed->loaded);
  BOOST_TEST(failed->rejection == "init failed (status 5): cannot open /dev/frobnicator");
  BOOST_TEST(healthy->loaded, healthy->rejection);
  auto chosen = host.choose(BITNET_PLUGIN_KIND_BACKEND, "init-error");
  BOOST_REQUIRE(!chosen);
  BOOST_TEST(contains(chosen.error().message, "cannot be used: init failed"));
}

BOOST_AUTO_TEST_CASE(table_smaller_than_abi_1_0_is_refused) {
  const auto host = scan({kPlugins / "small-table"});
  const PluginRecord& r = only(host);
  BOOST_TEST(!r.loaded);
  BOOST_TEST(contains(r.rejection, "smaller than ABI 1.0's"), r.rejection);
}

BOOST_AUTO_TEST_CASE(plugins_of_a_kind_are_ranked_by_score) {
  const auto host = scan({kPlugins / "ranking"});
  const auto backends = host.ranked(BITNET_PLUGIN_KIND_BACKEND);
  BOOST_REQUIRE_EQUAL(backends.size(), 2u);
  BOOST_TEST(backends[0]->name == "rank-high");
  BOOST_TEST(backends[1]->name == "rank-low");
  BOOST_TEST(host.choose(BITNET_PLUGIN_KIND_BACKEND).value()->name == "rank-high");
  BOOST_TEST(host.choose(BITNET_PLUGIN_KIND_BACKEND, "rank-low").value()->name == "rank-low");
  const auto sources = host.ranked(BITNET_PLUGIN_KIND_TOKENIZER_SOURCE);
  BOOST_REQUIRE_EQUAL(sources.size(), 1u);
  BOOST_TEST(sources[0]->source != nullptr);
  auto missing = host.choose(BITNET_PLUGIN_KIND_BACKEND, "cuda");
  BOOST_REQUIRE(!missing);
  BOOST_TEST(missing.error().message ==
             "no backend plugin named 'cuda'; available: rank-high, rank-low");
}

BOOST_AUTO_TEST_CASE(duplicate_name_keeps_the_first_found) {
  const auto host = scan({kPlugins / "duplicate-b", kPlugins / "duplicate-a"});
  BOOST_REQUIRE_EQUAL(host.plugins().size(), 2u);
  const PluginRecord& first = host.plugins()[0];
  const PluginRecord& second = host.plugins()[1];
  BOOST_TEST(first.loaded);
  BOOST_TEST(first.score == 70);
  BOOST_TEST(!second.loaded);
  BOOST_TEST(contains(second.rejection, "duplicate name 'dup'"), second.rejection);
  BOOST_TEST(contains(second.rejection, (kPlugins / "duplicate-b").string()), second.rejection);
}

BOOST_AUTO_TEST_CASE(same_file_twice_is_one_plugin) {
  const auto host = scan({kPlugins / "old-minor", kPlugins / "old-minor" / "bitnet-old-minor.so"});
  BOOST_TEST(host.plugins().size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_library_is_refused) {
  const fs::path dir = fs::temp_directory_path() / "bitnet-garbage-plugin";
  fs::create_directories(dir);
  std::ofstream(dir / "bitnet-garbage.so") << std::string(4096, '#');  // not an ELF file
  const auto host = scan({dir, kPlugins / "old-minor"});
  fs::remove_all(dir);
  BOOST_REQUIRE_EQUAL(host.plugins().size(), 2u);
  BOOST_TEST(!host.plugins()[0].loaded);
  const std::string& why = host.plugins()[0].rejection;
  BOOST_TEST(contains(why, "cannot load the library: "), why);
  BOOST_TEST(contains(why, "invalid ELF header"), why);
  BOOST_TEST(host.plugins()[1].loaded);
}

BOOST_AUTO_TEST_CASE(no_plugins_gives_an_actionable_error) {
  const auto host = scan({kPlugins / "does-not-exist"});
  auto chosen = host.choose(BITNET_PLUGIN_KIND_BACKEND);
  BOOST_REQUIRE(!chosen);
  BOOST_TEST(contains(chosen.error().message, "run `bitnet plugins`"));
}

BOOST_AUTO_TEST_CASE(source_plugin_resolves_through_the_c_table) {
  const auto host = scan({kPlugins / "ranking"});
  const bitnet_source_api* api = host.choose(BITNET_PLUGIN_KIND_TOKENIZER_SOURCE).value()->source;
  const fs::path dir = fs::temp_directory_path() / "bitnet-source-test";
  fs::create_directories(dir);
  std::ofstream(dir / "tokenizer.json") << "{}";

  bitnet_source_create_args bad{sizeof(bad), "bad", nullptr};
  bitnet_status* s = api->source_create(&bad);
  BOOST_REQUIRE(s);
  BOOST_TEST(std::string(api->status_message(s)) == "config 'bad' refused");
  api->status_destroy(s);

  bitnet_source_create_args create{sizeof(create), nullptr, nullptr};
  BOOST_REQUIRE(api->source_create(&create) == nullptr);
  const std::string model = (dir / "model.gguf").string();
  bitnet_source_query q{};
  q.struct_size = sizeof(q);
  q.model_path = model.c_str();
  bitnet_source_resolve_args args{sizeof(args), create.source, &q, nullptr, {}};
  BOOST_REQUIRE(api->resolve(&args) == nullptr);
  BOOST_REQUIRE(args.result);
  BOOST_TEST(args.result->format == BITNET_TOKENIZER_FORMAT_HF_JSON);
  BOOST_TEST(fs::path(args.result->path) == dir / "tokenizer.json");
  BOOST_TEST(args.result->config_path == nullptr);
  api->result_destroy(args.result);

  fs::remove(dir / "tokenizer.json");
  BOOST_REQUIRE(api->resolve(&args) == nullptr);
  BOOST_TEST(args.result == nullptr);
  BOOST_TEST(std::string(args.note) == (dir / "tokenizer.json").string() + " does not exist");

  // A host built before `note` existed passes a shorter struct; the plugin must not write it.
  bitnet_source_resolve_args old_args{};
  old_args.struct_size = offsetof(bitnet_source_resolve_args, note);
  old_args.source = create.source;
  old_args.query = &q;
  std::fill(std::begin(old_args.note), std::end(old_args.note), 'x');
  BOOST_REQUIRE(api->resolve(&old_args) == nullptr);
  BOOST_TEST(old_args.note[0] == 'x');
  api->source_destroy(create.source);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
