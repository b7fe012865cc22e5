#include <bitnet/runtime/plugins/discovery.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using bitnet::plugins::find_plugin_files;
using bitnet::plugins::split_path_list;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/bitnet-discovery-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  void touch(const fs::path& rel) const {
    fs::create_directories((path / rel).parent_path());
    std::ofstream(path / rel) << "x";
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(discovery)

BOOST_AUTO_TEST_CASE(path_list_drops_empty_entries) {
  const auto v = split_path_list(":/a::/b/c:");
  BOOST_REQUIRE_EQUAL(v.size(), 2u);
  BOOST_TEST(v[0] == fs::path("/a"));
  BOOST_TEST(v[1] == fs::path("/b/c"));
  BOOST_TEST(split_path_list("").empty());
}

BOOST_AUTO_TEST_CASE(only_bitnet_shared_objects_in_name_order) {
  TempDir d;
  d.touch("dir/bitnet-zeta.so");
  d.touch("dir/bitnet-alpha.so");
  d.touch("dir/libother.so");
  d.touch("dir/bitnet-notes.txt");
  d.touch("dir/sub/bitnet-nested.so");  // not searched recursively
  d.touch("explicit.so");               // a file path is taken as it is
  const auto files =
      find_plugin_files({d.path / "missing", d.path / "dir", d.path / "explicit.so"});
  BOOST_REQUIRE_EQUAL(files.size(), 3u);
  BOOST_TEST(files[0].filename() == "bitnet-alpha.so");
  BOOST_TEST(files[1].filename() == "bitnet-zeta.so");
  BOOST_TEST(files[2].filename() == "explicit.so");
}

BOOST_AUTO_TEST_CASE(env_paths_come_before_the_library_directory) {
  ::setenv("BITNET_PLUGIN_PATH", "/first:/second", 1);
  const auto paths = bitnet::plugins::default_search_paths();
  ::unsetenv("BITNET_PLUGIN_PATH");
  BOOST_REQUIRE_EQUAL(paths.size(), 3u);
  BOOST_TEST(paths[0] == fs::path("/first"));
  BOOST_TEST(paths[1] == fs::path("/second"));
  BOOST_TEST(paths[2].filename() == "plugins");
  BOOST_TEST(paths[2].parent_path().filename() == "bitnet");
}

BOOST_AUTO_TEST_SUITE_END()
