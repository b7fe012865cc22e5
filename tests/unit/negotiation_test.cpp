#include <bitnet/runtime/plugins/negotiation.hpp>

#include <boost/test/unit_test.hpp>

#include <vector>

using bitnet::plugins::accept_version;

BOOST_AUTO_TEST_SUITE(negotiation)

const std::vector<bitnet_abi_version> kHost13 = {{1, 3}};

BOOST_AUTO_TEST_CASE(older_plugin_minor_is_used) {
  auto v = accept_version(kHost13, {1, 0}, {1, 0});
  BOOST_REQUIRE(v);
  BOOST_TEST(v->major == 1);
  BOOST_TEST(v->minor == 0);
}

BOOST_AUTO_TEST_CASE(newer_plugin_answers_the_host_minor) {
  auto v = accept_version(kHost13, {1, 9}, {1, 3});
  BOOST_REQUIRE(v);
  BOOST_TEST(v->minor == 3);
}

BOOST_AUTO_TEST_CASE(other_major_is_refused_with_both_versions_named) {
  auto v = accept_version(kHost13, {2, 0}, {0, 0});
  BOOST_REQUIRE(!v);
  const std::string& m = v.error().message;
  BOOST_TEST(m.find("built for ABI 2.0") != std::string::npos, m);
  BOOST_TEST(m.find("host speaks ABI 1.3") != std::string::npos, m);
  BOOST_TEST(v.error().code == BITNET_STATUS_UNSUPPORTED);
}

BOOST_AUTO_TEST_CASE(answer_above_what_either_side_has_is_refused) {
  BOOST_TEST(!accept_version(kHost13, {1, 9}, {1, 9}));  // host only has 1.3
  BOOST_TEST(!accept_version(kHost13, {1, 1}, {1, 2}));  // plugin only has 1.1
  BOOST_TEST(!accept_version(kHost13, {1, 1}, {2, 0}));  // major differs from what it built
}

BOOST_AUTO_TEST_CASE(host_speaking_two_majors_accepts_either) {
  const std::vector<bitnet_abi_version> host = {{1, 4}, {2, 1}};
  BOOST_TEST(accept_version(host, {2, 0}, {2, 0}).has_value());
  BOOST_TEST(accept_version(host, {1, 2}, {1, 2}).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
