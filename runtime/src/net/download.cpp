// One download: retries around attempts, each attempt following redirects, each response
// either written to the `.partial` file or turned into a clear error. Nothing reaches `dest`
// before its size, SHA-256 and the caller's check have passed.
#include "header_fields.hpp"
#include "http_client.hpp"
#include "partial_file.hpp"
#include "progress.hpp"
#include "settings.hpp"

#include <bitnet/runtime/diagnostics/sha256.hpp>
#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/net/download.hpp>

#include <algorithm>
#include <cmath>
#include <thread>
#include <variant>

namespace bitnet::net {
namespace {

constexpr int kMaxRedirects = 10;
constexpr std::chrono::seconds kMaxDelay{60};

std::string shown(const Url& url) {
  return redact_url(url.text());
}

struct Retry {
  std::string why;
  std::optional<std::chrono::milliseconds> after;  // the server's Retry-After
  bool restart = false;      // the partial file was dropped: once per download, not a retry
  bool server_busy = false;  // 429, 5xx: the server, not the network, failed
};

class Downloader {
 public:
  Downloader(const DownloadRequest& req, Settings settings, Url origin, PartialFile partial)
      : req_(req),
        settings_(settings),
        origin_(std::move(origin)),
        partial_(std::move(partial)),
        progress_(req.progress, req.dest.filename().string()) {}

  Result<Downloaded> run() {
    bool restarted = false;
    for (int attempt = 0;; ++attempt) {
      auto step = attempt_once();
      if (auto* done = std::get_if<Result<Downloaded>>(&step)) return std::move(*done);
      const Retry& retry = std::get<Retry>(step);
      if (retry.restart && !restarted) {
        log::info("net", retry.why);
        restarted = true;
        --attempt;
        continue;
      }
      if (attempt >= settings_.retries) return give_up(retry, attempt + 1);
      const auto delay = retry.after ? std::min<std::chrono::milliseconds>(*retry.after, kMaxDelay)
                                     : backoff(attempt);
      log::warn("net", retry.why, "; retrying in ", delay.count(), " ms (retry ", attempt + 1,
                " of ", settings_.retries, ")");
      std::this_thread::sleep_for(delay);
    }
  }

 private:
  // A result, a reason to try again, or a redirect to follow.
  using Step = std::variant<Result<Downloaded>, Retry, Url>;

  std::chrono::milliseconds backoff(int attempt) const {
    const double ms = static_cast<double>(settings_.backoff.count()) * std::pow(2.0, attempt);
    return std::chrono::milliseconds(
        static_cast<int64_t>(std::min(ms, static_cast<double>(kMaxDelay.count()) * 1000)));
  }

  Result<Downloaded> give_up(const Retry& last, int attempts) {
    auto kept = partial_.size();
    const bool resumable = kept && *kept > 0;
    return make_error(
        BITNET_STATUS_NETWORK,
        "could not download " + redact_url(req_.url) + " after " + std::to_string(attempts) +
            " attempt(s): " + last.why + "; " +
            (resumable ? "the " + std::to_string(*kept) + " bytes received are kept in " +
                             partial_.path().string() + " and the next run resumes; "
                       : std::string()) +
            (last.server_busy ? "the server is overloaded or failing: try again later, or use "
                                "another source"
                              : "check the network and HTTPS_PROXY, raise BITNET_DOWNLOAD_TIMEOUT "
                                "or BITNET_DOWNLOAD_RETRIES, and run the command again"));
  }

  Step attempt_once() {
    Url url = origin_;
    bool send_headers = true;
    for (int hop = 0; hop <= kMaxRedirects; ++hop) {
      auto step = exchange(url, send_headers);
      const Url* next = std::get_if<Url>(&step);
      if (!next) return step;
      if (!same_origin(*next, url)) {
        if (send_headers && !req_.headers.empty())
          log::debug("net", "redirected to another host (", next->authority(true),
                     "): its request carries none of the caller's headers");
        send_headers = false;
      }
      url = *next;
    }
    return Result<Downloaded>(
        make_error(BITNET_STATUS_NETWORK, redact_url(req_.url) + " redirected more than " +
                                              std::to_string(kMaxRedirects) +
                                              " times; the server is misconfigured"));
  }

  Step exchange(const Url& url, bool send_headers) {
    auto offset = partial_.size();
    if (!offset) return Result<Downloaded>(offset.error());
    if (req_.max_bytes > 0 && *offset > req_.max_bytes) {
      if (auto r = partial_.truncate(); !r) return Result<Downloaded>(r.error());
      *offset = 0;
    }
    auto proxy = proxy_for(url);
    if (!proxy) return Result<Downloaded>(proxy.error());
    Request request{url,
                    send_headers ? req_.headers : decltype(req_.headers){},
                    *offset,
                    *proxy,
                    req_.ca_bundle,
                    settings_.timeout};
    if (log::enabled(log::Level::trace)) {
      std::string names;
      for (const auto& header : request.headers)
        names += " " + header.first;
      log::print(log::Level::trace, "net",
                 "caller headers sent (values withheld):", names.empty() ? " none" : names);
    }
    log::debug("net", "GET ", shown(url),
               *offset > 0 ? " from byte " + std::to_string(*offset) : "",
               *proxy ? " through " + (*proxy)->display() : "");
    local_error_.reset();
    expected_total_.reset();
    range_mismatch_ = false;
    resumed_ = *offset > 0;
    auto outcome = fetch(
        request, [&](const Response& r) { return accept(url, r, *offset); },
        [&](const char* data, size_t size) { return write(data, size); });
    progress_.finish();
    if (!outcome) return Result<Downloaded>(outcome.error());
    if (local_error_) return Result<Downloaded>(*local_error_);
    if (outcome->failure == Failure::refused)
      return Result<Downloaded>(make_error(BITNET_STATUS_NETWORK, outcome->message));
    if (!outcome->response) return Retry{outcome->message, std::nullopt};
    const Response& r = *outcome->response;
    if (outcome->failure != Failure::none) return Retry{outcome->message, std::nullopt};
    if ((r.status == 200 || r.status == 206) && !range_mismatch_) {
      if (outcome->overlong)
        return refuse(url, "is longer than the Content-Length the server announced");
      return finish(url, r);
    }
    return classify(url, r, *offset);
  }

  // Decides from the headers whether the body goes into the partial file.
  bool accept(const Url& url, const Response& r, int64_t offset) {
    last_status_ = r.status;
    log::debug("net", shown(url), " -> HTTP ", r.status);
    if (r.status == 200) {
      if (offset > 0) log::info("net", "the server sent the whole file; starting over");
      if (auto t = partial_.truncate(); !t) return stop(t.error());
      offset = 0;
      resumed_ = false;
    } else if (r.status == 206) {
      const ContentRange range = parse_content_range(r.header("content-range"));
      if (range.first != offset) {
        range_mismatch_ = true;
        return false;
      }
    } else {
      return false;
    }
    const auto length = r.header("content-length");
    const std::optional<int64_t> body = length ? parse_count(*length) : std::nullopt;
    expected_total_ = body ? std::optional<int64_t>(offset + *body) : std::nullopt;
    if (expected_total_ && req_.max_bytes > 0 && *expected_total_ > req_.max_bytes) {
      partial_.remove();
      return stop(make_error(BITNET_STATUS_DATA_LOSS,
                             shown(url) + " is " + std::to_string(*expected_total_) +
                                 " bytes, more than the " + std::to_string(req_.max_bytes) +
                                 " this download allows; check the URL"));
    }
    if (body) {
      const auto folder = partial_.path().has_parent_path() ? partial_.path().parent_path() : ".";
      auto free = free_bytes(folder);
      if (!free) return stop(free.error());
      if (*free < *body)
        return stop(make_error(
            BITNET_STATUS_IO, "not enough free space in " + folder.string() + " for " + shown(url) +
                                  ": it needs " + human_bytes(static_cast<double>(*body)) + ", " +
                                  human_bytes(static_cast<double>(*free)) +
                                  " are free; free some space or download elsewhere"));
    }
    written_ = offset;
    progress_.start(offset, expected_total_.value_or(0));
    return true;
  }

  bool write(const char* data, size_t size) {
    written_ += static_cast<int64_t>(size);
    if (req_.max_bytes > 0 && written_ > req_.max_bytes) {
      partial_.remove();
      return stop(make_error(BITNET_STATUS_DATA_LOSS,
                             redact_url(req_.url) + " sent more than the " +
                                 std::to_string(req_.max_bytes) + " bytes this download allows"));
    }
    if (auto r = partial_.append(data, size); !r) return stop(r.error());
    progress_.advance(static_cast<int64_t>(size));
    return true;
  }

  bool stop(Error e) {
    local_error_ = std::move(e);
    return false;
  }

  // Every answer but a complete 200 or 206.
  Step classify(const Url& url, const Response& r, int64_t offset) {
    const int s = r.status;
    const std::string what = shown(url) + " answered HTTP " + std::to_string(s);
    if (s >= 300 && s < 400 && s != 304) {
      const auto location = r.header("location");
      if (!location)
        return Result<Downloaded>(
            make_error(BITNET_STATUS_NETWORK, what + " without a Location; the server is broken"));
      auto next = resolve_location(url, *location);
      if (!next)
        return Result<Downloaded>(
            make_error(BITNET_STATUS_NETWORK,
                       what + ", a redirect that was refused: " + next.error().message));
      if (linked_sha256_.empty()) linked_sha256_ = etag_sha256(r.header("x-linked-etag"));
      log::debug("net", "redirect ", s, " to ", shown(*next));
      return std::move(*next);
    }
    if (range_mismatch_) return restart(what + " with another range than the one asked for");
    if (s == 416 && offset > 0) {
      if (parse_content_range(r.header("content-range")).total == offset) {
        expected_total_ = offset;
        return finish(url, r);
      }
      return restart(what + ": it cannot resume " + partial_.path().filename().string());
    }
    if (s == 401 || s == 403)
      return Result<Downloaded>(make_error(
          BITNET_STATUS_PERMISSION_DENIED,
          what + " (access refused); check the token or credentials the source sends (HF_TOKEN, "
                 "the mirror's auth settings) and that your account may read this repository"));
    if (s == 404)
      return Result<Downloaded>(
          make_error(BITNET_STATUS_NOT_FOUND,
                     what + " (not found); check the repository, the revision and the file name"));
    if (s == 429 || s == 408 || s >= 500) return Retry{what, retry_after(r), false, true};
    return Result<Downloaded>(
        make_error(BITNET_STATUS_NETWORK, what + ", which a download cannot use; check the URL"));
  }

  Step restart(const std::string& why) {
    if (auto t = partial_.truncate(); !t) return Result<Downloaded>(t.error());
    return Retry{why + "; starting over", std::chrono::milliseconds(0), true};
  }

  static std::optional<std::chrono::milliseconds> retry_after(const Response& r) {
    const auto h = r.header("retry-after");
    const auto secs = h ? parse_count(*h) : std::nullopt;
    if (!secs) return std::nullopt;
    return std::chrono::milliseconds(std::min<int64_t>(*secs, kMaxDelay.count()) * 1000);
  }

  // The body is complete: size, SHA-256 and the caller's check, then into place.
  Step finish(const Url& url, const Response& r) {
    auto size = partial_.size();
    if (!size) return Result<Downloaded>(size.error());
    if (expected_total_ && *size != *expected_total_)
      return refuse(url, "is " + std::to_string(*size) + " bytes but the server announced " +
                             std::to_string(*expected_total_));
    auto sha = diagnostics::sha256_file(partial_.path());
    if (!sha) return Result<Downloaded>(sha.error());
    std::string expected = lower(req_.expected_sha256), from = "the caller";
    if (expected.empty()) expected = linked_sha256_, from = "the X-Linked-Etag header";
    if (expected.empty()) expected = etag_sha256(r.header("etag")), from = "the ETag header";
    if (!expected.empty() && *sha != expected)
      return refuse(url, "has SHA-256 " + *sha + " but " + from + " says " + expected);
    if (req_.validate)
      if (auto why = req_.validate(partial_.path())) return refuse(url, "was refused: " + *why);
    if (auto c = partial_.commit(req_.dest); !c) return Result<Downloaded>(c.error());
    log::debug("net", "saved ", shown(url), " as ", req_.dest.string(), " (", *size, " bytes)");
    return Result<Downloaded>(Downloaded{req_.dest, *size, *sha, last_status_});
  }

  Step refuse(const Url& url, const std::string& why) {
    // The kept part may be what is wrong (another file's bytes, a bad disk): once from zero.
    if (resumed_) return restart("the resumed download of " + shown(url) + " " + why);
    partial_.remove();
    return Result<Downloaded>(make_error(
        BITNET_STATUS_DATA_LOSS, "the download of " + shown(url) + " " + why +
                                     "; it was deleted. The server or something between "
                                     "(a proxy) sent wrong bytes: try again, or report it to "
                                     "whoever runs the server"));
  }

  const DownloadRequest& req_;
  Settings settings_;
  Url origin_;
  PartialFile partial_;
  Progress progress_;
  std::optional<Error> local_error_;
  std::optional<int64_t> expected_total_;
  std::string linked_sha256_;
  int64_t written_ = 0;
  int last_status_ = 0;
  bool range_mismatch_ = false;
  bool resumed_ = false;
};

std::optional<Downloaded> already_there(const DownloadRequest& req) {
  std::error_code ec;
  if (req.force || !std::filesystem::is_regular_file(req.dest, ec)) return std::nullopt;
  auto sha = diagnostics::sha256_file(req.dest);
  if (!sha) return std::nullopt;
  if (!req.expected_sha256.empty() && *sha != lower(req.expected_sha256)) {
    log::info("net", req.dest.string(), " has another SHA-256 than expected; downloading again");
    return std::nullopt;
  }
  return Downloaded{req.dest, static_cast<int64_t>(std::filesystem::file_size(req.dest, ec)), *sha,
                    0};
}

}  // namespace

Result<Downloaded> download(const DownloadRequest& req) {
  auto origin = parse_https_url(req.url);
  if (!origin) return origin.error();
  if (req.dest.empty())
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "no destination path for the download of " + redact_url(req.url));
  if (!req.expected_sha256.empty() && !is_sha256(req.expected_sha256))
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "the expected SHA-256 for " + redact_url(req.url) +
                          " is not 64 hex digits; fix the value or leave it empty");
  if (auto h = check_request_headers(req.headers, redact_url(req.url)); !h) return h.error();
  auto settings = settings_from_env();
  if (!settings) return settings.error();
  if (auto existing = already_there(req)) return *existing;
  if (auto offline = offline_variable())
    return make_error(BITNET_STATUS_NETWORK, "offline mode (" + *offline +
                                                 ") forbids downloading " + redact_url(req.url) +
                                                 "; unset it to allow the network, or put the "
                                                 "file at " +
                                                 req.dest.string() + " yourself");
  auto partial = PartialFile::open(req.dest);
  if (!partial) return partial.error();
  if (req.no_resume)
    if (auto t = partial->truncate(); !t) return t.error();
  return Downloader(req, *settings, std::move(*origin), std::move(*partial)).run();
}

}  // namespace bitnet::net
