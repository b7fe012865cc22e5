// What a download reads from response headers and refuses in request headers.
#include "net/header_fields.hpp"

#include <boost/test/unit_test.hpp>

using namespace bitnet::net;

BOOST_AUTO_TEST_SUITE(net_header_fields)

BOOST_AUTO_TEST_CASE(only_an_etag_that_is_a_sha256_counts) {
  const std::string sha(64, 'a');
  BOOST_TEST(etag_sha256("\"" + sha + "\"") == sha);
  BOOST_TEST(etag_sha256("W/\"" + sha + "\"") == sha);
  BOOST_TEST(etag_sha256(std::string(64, 'F')) == std::string(64, 'f'));
  BOOST_TEST(etag_sha256("\"" + std::string(40, 'a') + "\"").empty());  // a git blob's SHA-1
  BOOST_TEST(etag_sha256("\"" + std::string(63, 'a') + "g\"").empty());
  BOOST_TEST(etag_sha256("\"d41d8cd98f00b204e9800998ecf8427e-3\"").empty());  // S3 multipart
  BOOST_TEST(etag_sha256(std::nullopt).empty());
  BOOST_TEST(is_sha256(sha));
  BOOST_TEST(!is_sha256(sha + "0"));
}

BOOST_AUTO_TEST_CASE(counts_are_plain_non_negative_decimals) {
  BOOST_TEST(parse_count("0").value() == 0);
  BOOST_TEST(parse_count("1234567890123").value() == 1234567890123);
  for (const char* bad : {"", "-1", "12a", " 12", "1e3", "99999999999999999999"})
    BOOST_TEST(!parse_count(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(content_ranges_give_first_byte_and_total) {
  const auto r = parse_content_range("bytes 100-999/1000");
  BOOST_TEST(r.first.value() == 100);
  BOOST_TEST(r.total.value() == 1000);
  const auto unsatisfied = parse_content_range("bytes */1000");
  BOOST_TEST(!unsatisfied.first.has_value());
  BOOST_TEST(unsatisfied.total.value() == 1000);
  const auto unknown_total = parse_content_range("bytes 5-9/*");
  BOOST_TEST(unknown_total.first.value() == 5);
  BOOST_TEST(!unknown_total.total.has_value());
  BOOST_TEST(!parse_content_range("items 1-2/3").first.has_value());
  BOOST_TEST(!parse_content_range("bytes 1-2").first.has_value());
  BOOST_TEST(!parse_content_range(std::nullopt).total.has_value());
}

BOOST_AUTO_TEST_CASE(request_headers_with_line_breaks_or_bad_names_are_refused) {
  BOOST_TEST(check_request_headers({{"Authorization", "Bearer abc"}, {"X-Api-Key", "k"}}, "u")
                 .has_value());
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer SECRET\n"},
                                                        {"Authorization", "Bearer SE\rCRET"},
                                                        {"Authorization", std::string("SE\0C", 4)},
                                                        {"", "v"},
                                                        {"Bad Name", "v"},
                                                        {"Bad:Name", "v"}}) {
    auto r = check_request_headers({{name, value}}, "https://h/f");
    BOOST_TEST(!r, name);
    if (!r) {
      BOOST_TEST(r.error().code == BITNET_STATUS_INVALID_ARGUMENT);
      BOOST_TEST(r.error().message.find("SE") == std::string::npos);
      BOOST_TEST(r.error().message.find("https://h/f") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
