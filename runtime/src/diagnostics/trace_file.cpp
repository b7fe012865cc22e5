#include <bitnet/runtime/diagnostics/trace_file.hpp>
#include <bitnet/runtime/log.hpp>
#include <bitnet/sdk/types.hpp>

#include <boost/json.hpp>

#include <cstring>

namespace bitnet::diagnostics {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

Error bad_line(const fs::path& file, size_t line, const std::string& what) {
  return make_error(BITNET_STATUS_INVALID_ARGUMENT, file.string() + " line " +
                                                        std::to_string(line) + ": " + what +
                                                        "; is it a trace written by bitnet?");
}

Result<TraceRecord> parse_record(const std::string& text, const fs::path& file, size_t line) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return bad_line(file, line, "not a JSON object");
  const json::object& o = v.as_object();
  TraceRecord r;
  const json::value* pos = o.if_contains("position");
  const json::value* layer = o.if_contains("layer");
  const json::value* op = o.if_contains("op");
  const json::value* shape = o.if_contains("shape");
  const json::value* dtype = o.if_contains("dtype");
  const json::value* hash = o.if_contains("hash");
  if (!pos || !pos->is_int64() || !layer || !(layer->is_null() || layer->is_int64()) || !op ||
      !op->is_string() || !shape || !shape->is_array() || !dtype || !dtype->is_string() || !hash ||
      !hash->is_string() || hash->as_string().size() != 16)
    return bad_line(file, line,
                    "needs position, layer (a number or null), op, shape, dtype and hash");
  r.position = pos->as_int64();
  if (layer->is_int64()) r.layer = layer->as_int64();
  r.op = op->as_string();
  r.dtype = dtype->as_string();
  for (const json::value& d : shape->as_array()) {
    if (!d.is_int64() || d.as_int64() < 1) return bad_line(file, line, "shape is not all counts");
    r.shape.push_back(d.as_int64());
  }
  for (auto [key, field] : {std::pair{"rms", &r.stats.rms}, std::pair{"mean", &r.stats.mean},
                            std::pair{"min", &r.stats.min}, std::pair{"max", &r.stats.max}}) {
    const json::value* x = o.if_contains(key);
    if (!x || !x->is_number()) return bad_line(file, line, std::string(key) + " is not a number");
    *field = x->to_number<double>();
  }
  const json::value* nonfinite = o.if_contains("nonfinite");
  if (!nonfinite || !nonfinite->is_int64()) return bad_line(file, line, "nonfinite is not a count");
  r.stats.nonfinite = nonfinite->as_int64();
  r.stats.count = 1;
  for (int64_t d : r.shape)
    r.stats.count *= d;
  const std::string_view hex = hash->as_string();
  for (char c : hex) {
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return bad_line(file, line, "hash is not 16 hex digits");
    r.stats.hash = r.stats.hash << 4 | static_cast<uint64_t>(digit);
  }
  if (const json::value* off = o.if_contains("values_offset")) {
    if (!off->is_int64() || off->as_int64() < 0)
      return bad_line(file, line, "values_offset is not a byte offset");
    r.values_offset = static_cast<uint64_t>(off->as_int64());
  }
  return r;
}

}  // namespace

Result<std::unique_ptr<TraceWriter>> TraceWriter::create(const fs::path& dir, bool values) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return make_error(BITNET_STATUS_IO,
                      "cannot create the trace directory " + dir.string() + ": " + ec.message());
  std::unique_ptr<TraceWriter> w(new TraceWriter());
  w->dir_ = dir;
  w->with_values_ = values;
  w->records_.open(dir / kTraceRecords, std::ios::binary | std::ios::trunc);
  if (values) w->values_.open(dir / kTraceValues, std::ios::binary | std::ios::trunc);
  if (!w->records_ || (values && !w->values_))
    return make_error(BITNET_STATUS_IO,
                      "cannot write a trace into " + dir.string() + ": " + std::strerror(errno));
  if (!values) fs::remove(dir / kTraceValues, ec);  // a stale one would be read as this trace's
  return w;
}

Result<> TraceWriter::write(const NodeSlice& s) {
  const TensorStats st = tensor_stats(s.values);
  json::object o{{"position", s.position},
                 {"layer", s.layer ? json::value(*s.layer) : json::value(nullptr)},
                 {"op", s.op},
                 {"shape", json::value_from(s.shape)},
                 {"dtype", sdk::type_name(s.dtype)},
                 {"rms", st.rms},
                 {"mean", st.mean},
                 {"min", st.min},
                 {"max", st.max},
                 {"nonfinite", st.nonfinite},
                 {"hash", hash_hex(st.hash)}};
  if (with_values_) {
    o["values_offset"] = values_bytes_;
    values_.write(reinterpret_cast<const char*>(s.values.data()),
                  static_cast<std::streamsize>(s.values.size_bytes()));
    values_bytes_ += s.values.size_bytes();
  }
  records_ << json::serialize(o) << '\n';
  if (!records_ || (with_values_ && !values_))
    return make_error(BITNET_STATUS_IO,
                      "writing the trace in " + dir_.string() + " failed: " + std::strerror(errno));
  return {};
}

Result<> TraceWriter::close() {
  records_.close();
  if (with_values_) values_.close();
  if (records_.fail() || (with_values_ && values_.fail()))
    return make_error(BITNET_STATUS_IO, "finishing the trace in " + dir_.string() +
                                            " failed: " + std::strerror(errno));
  return {};
}

TraceWriter::~TraceWriter() {
  if (!records_.is_open()) return;
  if (Result<> r = close(); !r) log::error("trace", r.error().message);
}

std::vector<float> Trace::values_of(const TraceRecord& r) const {
  if (!values || !r.values_offset) return {};
  std::vector<float> out(static_cast<size_t>(r.stats.count));
  std::memcpy(out.data(), values->bytes().data() + *r.values_offset, out.size() * sizeof(float));
  return out;
}

Result<Trace> read_trace(const fs::path& path) {
  std::error_code ec;
  const fs::path file = fs::is_directory(path, ec) ? path / kTraceRecords : path;
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return make_error(BITNET_STATUS_NOT_FOUND,
                      "cannot read " + file.string() + ": " + std::strerror(errno) +
                          "; give a directory written with --trace or its " + kTraceRecords);
  Trace t;
  t.path = file;
  std::string text;
  for (size_t line = 1; std::getline(in, text); ++line) {
    if (text.empty()) continue;
    Result<TraceRecord> r = parse_record(text, file, line);
    if (!r) return r.error();
    t.records.push_back(std::move(*r));
  }
  const fs::path values = file.parent_path() / kTraceValues;
  const bool wants_values =
      !t.records.empty() && std::ranges::all_of(t.records, [](const TraceRecord& r) {
        return r.values_offset.has_value();
      });
  if (wants_values && fs::exists(values, ec)) {
    Result<MappedFile> m = MappedFile::open(values);
    if (!m) return m.error();
    for (size_t i = 0; i < t.records.size(); ++i) {
      const TraceRecord& r = t.records[i];
      const uint64_t bytes = static_cast<uint64_t>(r.stats.count) * sizeof(float);
      if (*r.values_offset % sizeof(float) || *r.values_offset > m->bytes().size() ||
          bytes > m->bytes().size() - *r.values_offset)
        return bad_line(file, i + 1, "values_offset points past the end of " + values.string());
    }
    t.values = std::move(*m);
  }
  return t;
}

}  // namespace bitnet::diagnostics
