// bitnet::net::download against the local test hub: answers, retries, resume and integrity.
// What reaches dest is always the whole, verified file; what a failure leaves is at most a
// `.partial` of a body that was cut short.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "http_download_fixture.hpp"

namespace fs = std::filesystem;
using bitnet::net::download;
using bitnet_test::Fault;
using bitnet_test::HubFixture;
using bitnet_test::kTokenizerPath;
using bitnet_test::read_all;
using bitnet_test::write_all;

namespace {

std::optional<std::string> json_check(const fs::path& path) {
  boost::system::error_code ec;
  boost::json::parse(read_all(path), ec);
  if (ec) return "not JSON (" + ec.message() + ")";
  return std::nullopt;
}

void expect_nothing_left(const bitnet::net::DownloadRequest& r) {
  BOOST_TEST(!fs::exists(r.dest));
  BOOST_TEST(!fs::exists(HubFixture::partial(r)));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_download)

BOOST_FIXTURE_TEST_CASE(ok_200_verified_and_moved_into_place, HubFixture) {
  auto r = request();
  r.validate = json_check;
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(got->http_status == 200);
  BOOST_TEST(got->path == r.dest);
  BOOST_TEST(got->bytes == static_cast<int64_t>(content.size()));
  BOOST_TEST(read_all(r.dest) == content);
  BOOST_TEST(!fs::exists(partial(r)));
  BOOST_TEST(std::distance(fs::directory_iterator(r.dest.parent_path()), {}) == 1);
  const auto seen = hub->requests();
  BOOST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(seen[0].method == "GET");
  BOOST_TEST(seen[0].range.empty());
  BOOST_TEST(seen[0].authorization == std::string("Bearer ") + bitnet_test::kToken);
  // The hub's ETag is the file's SHA-256; the client reports the one it computed.
  BOOST_TEST(got->sha256.size() == 64u);
}

BOOST_FIXTURE_TEST_CASE(drop_mid_body_keeps_partial_and_next_call_resumes_206, HubFixture) {
  env.set("BITNET_DOWNLOAD_RETRIES", "0");
  const auto r = request();
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::drop_after, .bytes = 700000});
  bitnet_test::check_error(download(r), BITNET_STATUS_NETWORK);
  BOOST_TEST(!fs::exists(r.dest));
  BOOST_REQUIRE(fs::exists(partial(r)));
  BOOST_TEST(fs::file_size(partial(r)) == 700000u);
  BOOST_TEST(read_all(partial(r)) == content.substr(0, 700000));

  hub->clear_requests();
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(got->http_status == 206);
  BOOST_TEST(read_all(r.dest) == content);
  BOOST_TEST(!fs::exists(partial(r)));
  const auto seen = hub->requests();
  BOOST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(seen[0].range == "bytes=700000-");
}

BOOST_FIXTURE_TEST_CASE(drop_mid_body_is_resumed_by_the_retry, HubFixture) {
  const auto r = request();
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::drop_after, .bytes = 500000});
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(read_all(r.dest) == content);
  const auto seen = hub->requests();
  BOOST_REQUIRE(seen.size() == 2u);
  BOOST_TEST(seen[1].range == "bytes=500000-");
}

BOOST_FIXTURE_TEST_CASE(server_ignoring_range_restarts_from_zero, HubFixture) {
  const auto r = request();
  write_all(partial(r), std::string(1000, 'x'));
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::ignore_range});
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(got->http_status == 200);
  BOOST_TEST(read_all(r.dest) == content);
  BOOST_TEST(hub->requests().at(0).range == "bytes=1000-");
}

BOOST_FIXTURE_TEST_CASE(range_past_the_end_416_restarts_cleanly, HubFixture) {
  const auto r = request();
  write_all(partial(r), content + "stale tail");
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(read_all(r.dest) == content);
  const auto seen = hub->requests();
  BOOST_REQUIRE(seen.size() == 2u);
  BOOST_TEST(seen[0].range == "bytes=" + std::to_string(content.size() + 10) + "-");
  BOOST_TEST(seen[1].range.empty());
}

// A kept part that is not this file's (another version, a bad disk) fails the SHA-256 once
// resumed; the download then starts over from zero instead of failing.
BOOST_FIXTURE_TEST_CASE(stale_partial_failing_the_sha256_starts_over, HubFixture) {
  const auto r = request();
  write_all(partial(r), std::string(1000, 'x'));
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(read_all(r.dest) == content);
  BOOST_TEST(!fs::exists(partial(r)));
  const auto seen = hub->requests();
  BOOST_REQUIRE(seen.size() == 2u);
  BOOST_TEST(seen[0].range == "bytes=1000-");
  BOOST_TEST(seen[1].range.empty());
}

// Starting over happens once: wrong bytes from zero as well fail, and leave nothing.
BOOST_FIXTURE_TEST_CASE(stale_partial_then_wrong_bytes_fails_and_leaves_nothing, HubFixture) {
  const auto r = request();
  write_all(partial(r), std::string(1000, 'x'));
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::wrong_bytes});
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::wrong_bytes});
  bitnet_test::check_error(download(r), BITNET_STATUS_DATA_LOSS);
  expect_nothing_left(r);
  BOOST_TEST(hub->requests().size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(no_resume_starts_over, HubFixture) {
  auto r = request();
  r.no_resume = true;
  write_all(partial(r), std::string(1000, 'x'));
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(read_all(r.dest) == content);
  BOOST_TEST(hub->requests().at(0).range.empty());
}

BOOST_FIXTURE_TEST_CASE(existing_dest_is_kept_unless_forced, HubFixture) {
  auto r = request();
  write_all(r.dest, "already here");
  auto kept = download(r);
  BOOST_REQUIRE_MESSAGE(kept, (kept ? "" : kept.error().message));
  BOOST_TEST(read_all(r.dest) == "already here");
  BOOST_TEST(hub->requests().empty());
  r.force = true;
  auto forced = download(r);
  BOOST_REQUIRE_MESSAGE(forced, (forced ? "" : forced.error().message));
  BOOST_TEST(read_all(r.dest) == content);
}

BOOST_FIXTURE_TEST_CASE(unauthorized_401_and_forbidden_403_are_not_retried, HubFixture) {
  const auto r = request();
  for (int code : {401, 403}) {
    hub->clear_requests();
    hub->push_fault(kTokenizerPath, Fault{.kind = Fault::status, .code = code});
    bitnet_test::check_error(download(r), BITNET_STATUS_PERMISSION_DENIED);
    expect_nothing_left(r);
    BOOST_TEST(hub->requests().size() == 1u);
  }
}

BOOST_FIXTURE_TEST_CASE(missing_file_404_is_not_found_and_not_retried, HubFixture) {
  const auto r = request("/meta-llama/Llama-2-7b-hf/resolve/main/tokenizer.model");
  bitnet_test::check_error(download(r), BITNET_STATUS_NOT_FOUND);
  expect_nothing_left(r);
  BOOST_TEST(hub->requests().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(too_many_requests_429_then_success, HubFixture) {
  const auto r = request();
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::status, .code = 429});
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(read_all(r.dest) == content);
  BOOST_TEST(hub->requests().size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(server_error_500_is_retried, HubFixture) {
  const auto r = request();
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::status, .code = 500});
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::status, .code = 500});
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(read_all(r.dest) == content);
  BOOST_TEST(hub->requests().size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(server_errors_past_the_retries_fail, HubFixture) {
  const auto r = request();
  for (int i = 0; i < 3; ++i)
    hub->push_fault(kTokenizerPath, Fault{.kind = Fault::status, .code = 503});
  bitnet_test::check_error(download(r), BITNET_STATUS_NETWORK);
  expect_nothing_left(r);
  BOOST_TEST(hub->requests().size() == 3u);
  BOOST_TEST(hub->pending_faults() == 0u);
}

BOOST_FIXTURE_TEST_CASE(stalled_body_times_out, HubFixture) {
  env.set("BITNET_DOWNLOAD_TIMEOUT", "0.3");
  env.set("BITNET_DOWNLOAD_RETRIES", "0");
  const auto r = request();
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::stall, .stall_ms = 10000});
  const auto start = std::chrono::steady_clock::now();
  bitnet_test::check_error(download(r), BITNET_STATUS_NETWORK);
  const auto took = std::chrono::steady_clock::now() - start;
  BOOST_TEST(took < std::chrono::seconds(5));
  BOOST_TEST(!fs::exists(r.dest));
}

BOOST_FIXTURE_TEST_CASE(stall_then_success_on_retry, HubFixture) {
  env.set("BITNET_DOWNLOAD_TIMEOUT", "1");
  const auto r = request();
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::stall, .stall_ms = 10000});
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(read_all(r.dest) == content);
  BOOST_TEST(hub->requests().size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(wrong_bytes_fail_the_sha256_and_leave_nothing, HubFixture) {
  const auto r = request();
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::wrong_bytes});
  bitnet_test::check_error(download(r), BITNET_STATUS_DATA_LOSS);
  expect_nothing_left(r);
  BOOST_TEST(hub->requests().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(expected_sha256_is_checked, HubFixture) {
  auto r = request();
  r.expected_sha256 = std::string(64, '0');
  bitnet_test::check_error(download(r), BITNET_STATUS_DATA_LOSS);
  expect_nothing_left(r);
  auto first = request();
  first.dest = dir / "first" / "tokenizer.json";
  auto got = download(first);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  r.expected_sha256 = got->sha256;
  auto again = download(r);
  BOOST_REQUIRE_MESSAGE(again, (again ? "" : again.error().message));
  BOOST_TEST(read_all(r.dest) == content);
}

// HF redirects an LFS file to a CDN whose ETag is not the file's SHA-256; the redirect's
// X-Linked-Etag is. Here the other host serves other bytes under an ETag that matches them.
BOOST_FIXTURE_TEST_CASE(x_linked_etag_of_the_redirect_outranks_the_cdn_etag, HubFixture) {
  const auto r = request();
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::redirect,
                                        .location = hub->other_host_url() + kTokenizerPath});
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::replace_body, .body = "{\"model\": {}}"});
  auto got = download(r);
  bitnet_test::check_error(got, BITNET_STATUS_DATA_LOSS);
  BOOST_TEST(bitnet_test::mentions(got.error().message, "X-Linked-Etag"));
  expect_nothing_left(r);
  BOOST_TEST(hub->requests().size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(invalid_json_is_refused_by_validate, HubFixture) {
  auto r = request();
  r.validate = json_check;
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::replace_body, .body = "{\"model\": {"});
  auto got = download(r);
  bitnet_test::check_error(got, BITNET_STATUS_DATA_LOSS);
  BOOST_TEST(bitnet_test::mentions(got.error().message, "not JSON"));
  expect_nothing_left(r);
}

BOOST_FIXTURE_TEST_CASE(content_length_longer_than_the_body_is_never_accepted, HubFixture) {
  env.set("BITNET_DOWNLOAD_RETRIES", "0");
  const auto r = request();
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::lie_length, .bytes = 10});
  auto got = download(r);
  BOOST_TEST(!got.has_value());
  BOOST_TEST(!fs::exists(r.dest));
  auto again = download(r);
  BOOST_REQUIRE_MESSAGE(again, (again ? "" : again.error().message));
  BOOST_TEST(read_all(r.dest) == content);
}

BOOST_FIXTURE_TEST_CASE(content_length_shorter_than_the_file_is_never_accepted, HubFixture) {
  env.set("BITNET_DOWNLOAD_RETRIES", "0");
  const auto r = request();
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::lie_length, .bytes = -10});
  bitnet_test::check_error(download(r), BITNET_STATUS_DATA_LOSS);
  expect_nothing_left(r);
}

BOOST_FIXTURE_TEST_CASE(body_larger_than_max_bytes_is_refused, HubFixture) {
  auto r = request();
  r.max_bytes = 1000;
  auto got = download(r);
  BOOST_REQUIRE(!got.has_value());
  BOOST_TEST(!fs::exists(r.dest));
  BOOST_TEST((!fs::exists(partial(r)) || fs::file_size(partial(r)) <= 1000u));
}

BOOST_AUTO_TEST_SUITE_END()
