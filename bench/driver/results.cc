#include "bench/driver/results.h"

#include <charconv>
#include <map>

#include "bench/driver/metrics.h"

namespace strata::bench {

std::optional<double> WorkloadResult::write_amp_io() const {
  return Ratio(io_write_bytes, user_bytes_written);
}

std::optional<double> WorkloadResult::write_amp_syscall() const {
  if (!syscall_write_bytes) return std::nullopt;
  return Ratio(*syscall_write_bytes, user_bytes_written);
}

std::optional<double> WorkloadResult::write_amp_engine() const {
  if (!engine_device_bytes) return std::nullopt;
  // Over the logical key+value bytes, as WA io and WA sys: the engines' own
  // "user bytes" counters include their batch encodings, differently
  // (RocksDB's BYTES_WRITTEN counts a 12-byte header per batch and tags and
  // lengths per entry: 131 bytes for a 16+100-byte Put; strata's 119).
  return Ratio(*engine_device_bytes, user_bytes_written);
}

std::optional<double> WorkloadResult::space_amp() const { return Ratio(disk_bytes, live_bytes); }

std::optional<double> WorkloadResult::write_amp_device_model() const {
  if (!modeled_write_bytes) return std::nullopt;
  return Ratio(*modeled_write_bytes, user_bytes_written);
}

namespace {

// Text form: "engine\tNAME", "settings\tTEXT", "error\tTEXT" and one
// "result\tkey=value\t..." line per workload. Values never hold tabs or
// newlines (settings and errors are sanitised).
std::string Clean(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\t' || c == '\n') c = ' ';
  }
  return out;
}

std::string Field(std::string_view key, std::string_view value) {
  return "\t" + std::string(key) + "=" + std::string(value);
}

std::string Num(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, ptr);
}

template <typename T>
bool ParseNum(std::string_view text, T* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::string EncodeResult(const WorkloadResult& r) {
  std::string line = "result";
  line += Field("workload", r.workload);
  line += Field("ops", std::to_string(r.ops));
  line += Field("found", std::to_string(r.found));
  line += Field("bytes", std::to_string(r.bytes));
  line += Field("seconds", Num(r.seconds));
  line += Field("latency", r.latency.Encode());
  std::string series;
  for (double v : r.ops_per_second) series += (series.empty() ? "" : ",") + Num(v);
  line += Field("series", series);
  std::string progress;
  for (auto [t, n] : r.progress) {
    progress += (progress.empty() ? "" : ",") + Num(t) + ":" + std::to_string(n);
  }
  line += Field("progress", progress);
  line += Field("user_bytes_written", std::to_string(r.user_bytes_written));
  line += Field("io_write_bytes", std::to_string(r.io_write_bytes));
  if (r.syscall_write_bytes) {
    line += Field("syscall_write_bytes", std::to_string(*r.syscall_write_bytes));
  }
  if (r.engine_user_bytes) line += Field("engine_user_bytes", std::to_string(*r.engine_user_bytes));
  if (r.engine_device_bytes) {
    line += Field("engine_device_bytes", std::to_string(*r.engine_device_bytes));
  }
  line += Field("disk_bytes", std::to_string(r.disk_bytes));
  line += Field("live_bytes", std::to_string(r.live_bytes));
  line += Field("peak_rss_bytes", std::to_string(r.peak_rss_bytes));
  if (r.modeled_seconds) line += Field("modeled_seconds", Num(*r.modeled_seconds));
  if (r.modeled_write_bytes) {
    line += Field("modeled_write_bytes", std::to_string(*r.modeled_write_bytes));
  }
  return line + "\n";
}

std::vector<std::string_view> SplitTabs(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    parts.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return parts;
}

Status DecodeField(std::string_view key, std::string_view value, WorkloadResult* r) {
  bool ok = true;
  uint64_t u = 0;
  if (key == "workload") {
    r->workload = value;
  } else if (key == "ops") {
    ok = ParseNum(value, &r->ops);
  } else if (key == "found") {
    ok = ParseNum(value, &r->found);
  } else if (key == "bytes") {
    ok = ParseNum(value, &r->bytes);
  } else if (key == "seconds") {
    ok = ParseNum(value, &r->seconds);
  } else if (key == "latency") {
    STRATA_ASSIGN_OR_RETURN(r->latency, Histogram::Decode(value));
  } else if (key == "series") {
    size_t start = 0;
    while (ok && start < value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string_view::npos) comma = value.size();
      double v = 0;
      ok = ParseNum(value.substr(start, comma - start), &v);
      r->ops_per_second.push_back(v);
      start = comma + 1;
    }
  } else if (key == "progress") {
    size_t start = 0;
    while (ok && start < value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string_view::npos) comma = value.size();
      const std::string_view pair = value.substr(start, comma - start);
      const size_t colon = pair.find(':');
      double t = 0;
      uint64_t n = 0;
      ok = colon != std::string_view::npos && ParseNum(pair.substr(0, colon), &t) &&
           ParseNum(pair.substr(colon + 1), &n);
      r->progress.emplace_back(t, n);
      start = comma + 1;
    }
  } else if (key == "user_bytes_written") {
    ok = ParseNum(value, &r->user_bytes_written);
  } else if (key == "io_write_bytes") {
    ok = ParseNum(value, &r->io_write_bytes);
  } else if (key == "syscall_write_bytes") {
    ok = ParseNum(value, &u);
    r->syscall_write_bytes = u;
  } else if (key == "engine_user_bytes") {
    ok = ParseNum(value, &u);
    r->engine_user_bytes = u;
  } else if (key == "engine_device_bytes") {
    ok = ParseNum(value, &u);
    r->engine_device_bytes = u;
  } else if (key == "disk_bytes") {
    ok = ParseNum(value, &r->disk_bytes);
  } else if (key == "live_bytes") {
    ok = ParseNum(value, &r->live_bytes);
  } else if (key == "peak_rss_bytes") {
    ok = ParseNum(value, &r->peak_rss_bytes);
  } else if (key == "modeled_seconds") {
    double d = 0;
    ok = ParseNum(value, &d);
    r->modeled_seconds = d;
  } else if (key == "modeled_write_bytes") {
    ok = ParseNum(value, &u);
    r->modeled_write_bytes = u;
  } else {
    ok = false;
  }
  if (!ok) {
    return Status::Corruption("bench result: bad field '" + std::string(key) + "=" +
                              std::string(value) + "'");
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeEngineRun(const EngineRun& run) {
  std::string out = "engine\t" + Clean(run.engine) + "\n";
  out += "settings\t" + Clean(run.settings) + "\n";
  if (!run.error.empty()) out += "error\t" + Clean(run.error) + "\n";
  for (const WorkloadResult& r : run.results) out += EncodeResult(r);
  return out;
}

Result<EngineRun> DecodeEngineRun(std::string_view text) {
  EngineRun run;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::vector<std::string_view> parts = SplitTabs(text.substr(pos, eol - pos));
    pos = eol + 1;
    if (parts.size() == 2 && parts[0] == "engine") {
      run.engine = parts[1];
    } else if (parts.size() == 2 && parts[0] == "settings") {
      run.settings = parts[1];
    } else if (parts.size() == 2 && parts[0] == "error") {
      run.error = parts[1];
    } else if (!parts.empty() && parts[0] == "result") {
      WorkloadResult r;
      r.engine = run.engine;
      for (size_t i = 1; i < parts.size(); ++i) {
        const size_t eq = parts[i].find('=');
        if (eq == std::string_view::npos) return Status::Corruption("bench result: no '='");
        STRATA_RETURN_IF_ERROR(DecodeField(parts[i].substr(0, eq), parts[i].substr(eq + 1), &r));
      }
      run.results.push_back(std::move(r));
    } else if (!(parts.size() == 1 && parts[0].empty())) {
      return Status::Corruption("bench result: unexpected line '" + std::string(parts[0]) + "'");
    }
  }
  if (run.engine.empty()) return Status::Corruption("bench result: no engine line");
  return run;
}

}  // namespace strata::bench
