#include <bitnet/runtime/log.hpp>

#include <boost/test/unit_test.hpp>

using namespace bitnet::log;

BOOST_AUTO_TEST_SUITE(logging)

BOOST_AUTO_TEST_CASE(levels_parse_by_name) {
  BOOST_TEST((parse_level("debug") == Level::debug));
  BOOST_TEST((parse_level("warning") == Level::warn));
  BOOST_TEST((parse_level("off") == Level::off));
  BOOST_TEST(!parse_level("DEBUG").has_value());
  BOOST_TEST(!parse_level("").has_value());
}

BOOST_AUTO_TEST_CASE(level_filters_lower_levels) {
  const Level saved = level();
  set_level(Level::warn);
  BOOST_TEST(!enabled(Level::info));
  BOOST_TEST(enabled(Level::warn));
  BOOST_TEST(enabled(Level::error));
  set_level(Level::off);
  BOOST_TEST(!enabled(Level::error));
  set_level(saved);
}

BOOST_AUTO_TEST_SUITE_END()
