#include "bench/driver/output.h"

#include <fmt/format.h>

#include <algorithm>

#include "bench/driver/adapter.h"

namespace strata::bench {

namespace {

constexpr double kNanosPerMicro = 1000.0;
constexpr double kBytesPerMiB = 1048576.0;

std::string Opt(const std::optional<double>& v, const char* format_spec = "{:.2f}") {
  return v ? fmt::format(fmt::runtime(format_spec), *v) : "-";
}

std::string ConfigLine(const BenchConfig& c) {
  std::string benchmarks;
  for (const auto& b : c.benchmarks) benchmarks += (benchmarks.empty() ? "" : ",") + b;
  return fmt::format(
      "num={} reads={} key_size={} value_size={} threads={} sync={} seed={} "
      "compressibility={:.2f} seek_nexts={} write_buffer={} cache={} bloom_bits={} "
      "benchmarks={}",
      c.num, c.read_ops(), c.key_size, c.value_size, c.threads, c.sync ? "true" : "false", c.seed,
      c.compressibility, c.seek_nexts, FormatBytes(c.write_buffer_bytes),
      FormatBytes(c.cache_bytes), c.bloom_bits, benchmarks);
}

struct Cell {
  const char* title;
  bool left;
  std::string text;
};

// One table row; the baseline and device-model columns appear only when asked for.
std::vector<Cell> Row(const std::vector<EngineRun>& runs, const BenchConfig& config,
                      const WorkloadResult& r) {
  const Histogram& h = r.latency;
  std::vector<Cell> row = {
      {"engine", true, r.engine},
      {"workload", true, r.workload},
      {"ops", false, std::to_string(r.ops)},
      {"ops/s", false, fmt::format("{:.0f}", r.ops_per_sec())},
      {"MB/s", false, fmt::format("{:.1f}", r.mb_per_sec())},
      {"p50 us", false, fmt::format("{:.2f}", h.Percentile(0.50) / kNanosPerMicro)},
      {"p99 us", false, fmt::format("{:.2f}", h.Percentile(0.99) / kNanosPerMicro)},
      {"p99.9 us", false, fmt::format("{:.2f}", h.Percentile(0.999) / kNanosPerMicro)},
      {"max us", false, fmt::format("{:.0f}", h.max_nanos() / kNanosPerMicro)},
      {"WA io", false, Opt(r.write_amp_io())},
      {"WA sys", false, Opt(r.write_amp_syscall())},
      {"WA eng", false, Opt(r.write_amp_engine())},
      {"SA", false, Opt(r.space_amp())},
      {"RSS MiB", false, fmt::format("{:.0f}", r.peak_rss_bytes / kBytesPerMiB)},
  };
  if (!config.baseline.empty()) {
    row.push_back({"x base", false, Opt(BaselineRatio(runs, config.baseline, r))});
  }
  if (!config.device_model.empty()) {
    row.push_back({"wall s", false, fmt::format("{:.3f}", r.seconds)});
    row.push_back({"model s", false, Opt(r.modeled_seconds, "{:.3f}")});
  }
  return row;
}

std::string JsonNumber(const std::optional<double>& v) {
  return v ? fmt::format("{:.6g}", *v) : "null";
}

}  // namespace

std::optional<double> BaselineRatio(const std::vector<EngineRun>& runs,
                                    const std::string& baseline, const WorkloadResult& r) {
  for (const EngineRun& run : runs) {
    if (run.engine != baseline) continue;
    for (const WorkloadResult& b : run.results) {
      if (b.workload == r.workload && b.ops_per_sec() > 0) return r.ops_per_sec() / b.ops_per_sec();
    }
  }
  return std::nullopt;
}

std::string FormatTable(const BenchConfig& config, const std::vector<EngineRun>& runs) {
  std::string out = "strata bench: " + ConfigLine(config) + "\n";
  for (const EngineRun& run : runs) {
    out += fmt::format("  {:<8} {}\n", run.engine, run.settings.empty() ? "-" : run.settings);
  }
  std::vector<std::vector<Cell>> rows;
  for (const EngineRun& run : runs) {
    for (const WorkloadResult& r : run.results) rows.push_back(Row(runs, config, r));
  }
  if (!rows.empty()) {
    const size_t columns = rows.front().size();
    std::vector<size_t> widths(columns);
    for (size_t i = 0; i < columns; ++i) {
      widths[i] = std::string_view(rows.front()[i].title).size();
      for (const auto& row : rows) widths[i] = std::max(widths[i], row[i].text.size());
    }
    auto line = [&](const std::vector<Cell>& cells, bool header) {
      std::string l;
      for (size_t i = 0; i < columns; ++i) {
        const std::string_view text =
            header ? std::string_view(cells[i].title) : std::string_view(cells[i].text);
        l += i == 0 ? "" : "  ";
        l += cells[i].left ? fmt::format("{:<{}}", text, widths[i])
                           : fmt::format("{:>{}}", text, widths[i]);
      }
      while (!l.empty() && l.back() == ' ') l.pop_back();
      return l + "\n";
    };
    out += "\n" + line(rows.front(), true);
    for (const auto& row : rows) out += line(row, false);
  }
  for (const EngineRun& run : runs) {
    if (!run.error.empty()) out += fmt::format("{}: FAILED: {}\n", run.engine, run.error);
  }
  out +=
      "\nLatencies per operation. WA io = bytes the process sent towards storage\n"
      "(/proc/self/io write_bytes) / logical bytes written; WA sys = bytes handed to write\n"
      "system calls (wchar) / logical bytes written; WA eng = the engine's own\n"
      "device-byte counters / user bytes; SA = bytes the database directory holds on disk /\n"
      "logical bytes of live keys; RSS = peak resident set of the engine's own process during\n"
      "the workload; x base = ops/s relative to --baseline; wall s / model s = measured time /\n"
      "time the device model charges strata's engines for the same I/O.\n";
  return out;
}

std::string JsonEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string FormatJson(const BenchConfig& config, const std::vector<EngineRun>& runs) {
  std::string out = "{\n  \"config\": \"" + JsonEscape(ConfigLine(config)) + "\",\n";
  out += "  \"baseline\": " +
         (config.baseline.empty() ? std::string("null") : "\"" + JsonEscape(config.baseline) + "\"") +
         ",\n  \"engines\": [";
  bool first_run = true;
  for (const EngineRun& run : runs) {
    out += first_run ? "\n" : ",\n";
    first_run = false;
    out += fmt::format("    {{\"engine\": \"{}\", \"settings\": \"{}\", \"error\": {}, \"results\": [",
                       JsonEscape(run.engine), JsonEscape(run.settings),
                       run.error.empty() ? "null" : "\"" + JsonEscape(run.error) + "\"");
    bool first = true;
    for (const WorkloadResult& r : run.results) {
      std::string series;
      for (double v : r.ops_per_second) series += (series.empty() ? "" : ", ") + fmt::format("{:.0f}", v);
      const Histogram& h = r.latency;
      out += first ? "\n" : ",\n";
      first = false;
      out += fmt::format(
          "      {{\"workload\": \"{}\", \"ops\": {}, \"found\": {}, \"seconds\": {:.6g}, "
          "\"ops_per_sec\": {:.6g}, \"mb_per_sec\": {:.6g}, \"latency_us\": {{\"p50\": {:.6g}, "
          "\"p99\": {:.6g}, \"p999\": {:.6g}, \"max\": {:.6g}, \"mean\": {:.6g}}}, "
          "\"user_bytes_written\": {}, \"io_write_bytes\": {}, \"write_amp_io\": {}, "
          "\"syscall_write_bytes\": {}, \"write_amp_syscall\": {}, "
          "\"write_amp_engine\": {}, \"disk_bytes\": {}, \"live_bytes\": {}, \"space_amp\": {}, "
          "\"peak_rss_bytes\": {}, \"baseline_ratio\": {}, \"modeled_seconds\": {}, "
          "\"ops_per_second\": [{}]}}",
          JsonEscape(r.workload), r.ops, r.found, r.seconds, r.ops_per_sec(), r.mb_per_sec(),
          h.Percentile(0.5) / kNanosPerMicro, h.Percentile(0.99) / kNanosPerMicro,
          h.Percentile(0.999) / kNanosPerMicro, h.max_nanos() / kNanosPerMicro,
          h.mean_nanos() / kNanosPerMicro, r.user_bytes_written, r.io_write_bytes,
          JsonNumber(r.write_amp_io()), r.syscall_write_bytes, JsonNumber(r.write_amp_syscall()),
          JsonNumber(r.write_amp_engine()), r.disk_bytes,
          r.live_bytes, JsonNumber(r.space_amp()), r.peak_rss_bytes,
          JsonNumber(config.baseline.empty() ? std::nullopt
                                             : BaselineRatio(runs, config.baseline, r)),
          JsonNumber(r.modeled_seconds), series);
    }
    out += first ? "]}" : "\n    ]}";
  }
  out += first_run ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string FormatCsv(const BenchConfig& config, const std::vector<EngineRun>& runs) {
  auto num = [](const std::optional<double>& v) { return v ? fmt::format("{:.6g}", *v) : ""; };
  std::string out =
      "engine,workload,ops,found,seconds,ops_per_sec,mb_per_sec,p50_us,p99_us,p999_us,max_us,"
      "write_amp_io,write_amp_syscall,write_amp_engine,space_amp,peak_rss_bytes,baseline_ratio,"
      "modeled_seconds\n";
  for (const EngineRun& run : runs) {
    for (const WorkloadResult& r : run.results) {
      const Histogram& h = r.latency;
      out += fmt::format(
          "{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{},{},{},{},{},{}\n",
                         CsvField(r.engine), CsvField(r.workload), r.ops, r.found, r.seconds,
                         r.ops_per_sec(), r.mb_per_sec(), h.Percentile(0.5) / kNanosPerMicro,
                         h.Percentile(0.99) / kNanosPerMicro,
                         h.Percentile(0.999) / kNanosPerMicro, h.max_nanos() / kNanosPerMicro,
                         num(r.write_amp_io()), num(r.write_amp_syscall()),
                         num(r.write_amp_engine()), num(r.space_amp()),
                         r.peak_rss_bytes,
                         num(config.baseline.empty() ? std::nullopt
                                                     : BaselineRatio(runs, config.baseline, r)),
                         num(r.modeled_seconds));
    }
  }
  return out;
}

}  // namespace strata::bench
