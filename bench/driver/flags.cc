#include "bench/driver/flags.h"

#include "bench/driver/adapter.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <string_view>

namespace strata::bench {

namespace {

// The quick suite: what `make demo` runs.
constexpr std::string_view kQuickBenchmarks = "fillrandom,readrandom,seekrandom,ycsb-a,ycsb-c";
constexpr uint64_t kQuickNum = 200000;
constexpr std::string_view kDefaultBenchmarks =
    "fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom";
// LMDB refuses longer keys; other engines accept more, but a benchmark key
// this long is a mistake rather than a workload.
constexpr uint64_t kKeySizeMax = 511;
constexpr uint64_t kKeySizeMin = 8;  // the key number is 8 bytes big-endian
constexpr uint64_t kValueSizeMax = 16ull << 20;
constexpr uint64_t kThreadsMax = 256;
// The profile x device matrix (--matrix): sized so that a paced HDD run of
// both strata engines ends in a few minutes (docs/BENCHMARKS.md).
constexpr std::string_view kMatrixBenchmarks = "fillrandom,readrandom,seekrandom";
constexpr uint64_t kMatrixNum = 20000;
constexpr int64_t kMatrixReads = 1000;
constexpr uint32_t kMatrixSeekNexts = 100;
constexpr uint64_t kMatrixWriteBufferBytes = 256 << 10;
constexpr uint64_t kMatrixCacheBytes = 1 << 20;

std::vector<std::string> SplitList(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(start, comma - start);
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

Status BadValue(std::string_view flag, std::string_view value, std::string_view want) {
  return Status::InvalidArgument("--" + std::string(flag) + "=" + std::string(value) +
                                 ": expected " + std::string(want));
}

Status ParseU64(std::string_view flag, std::string_view value, uint64_t min, uint64_t max,
                uint64_t* out) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
    return BadValue(flag, value, "a non-negative integer");
  }
  if (v < min || v > max) {
    return BadValue(flag, value,
                    "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  *out = v;
  return Status::Ok();
}

Status ParseDouble(std::string_view flag, std::string_view value, double min, double max,
                   double* out) {
  double v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || !(v >= min) ||
      !(v <= max)) {
    return BadValue(flag, value,
                    "a number in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  *out = v;
  return Status::Ok();
}

Status ParseBool(std::string_view flag, std::string_view value, bool* out) {
  if (value == "1" || value == "true" || value == "yes") {
    *out = true;
  } else if (value == "0" || value == "false" || value == "no") {
    *out = false;
  } else {
    return BadValue(flag, value, "true/false or 1/0");
  }
  return Status::Ok();
}

Status ParseChoice(std::string_view flag, std::string_view value,
                   std::initializer_list<std::string_view> choices, std::string* out) {
  std::string want;
  for (std::string_view c : choices) {
    if (value == c) {
      *out = std::string(value);
      return Status::Ok();
    }
    want += (want.empty() ? "" : "|") + std::string(c);
  }
  return BadValue(flag, value, want);
}

struct FlagDef {
  bool is_bool = false;
  std::function<Status(std::string_view value, BenchConfig* config)> set;
};

using FlagTable = std::map<std::string, FlagDef, std::less<>>;

FlagDef U64Flag(uint64_t min, uint64_t max, std::function<void(BenchConfig*, uint64_t)> assign,
                std::string name) {
  return {false, [=](std::string_view value, BenchConfig* c) {
            uint64_t v = 0;
            STRATA_RETURN_IF_ERROR(ParseU64(name, value, min, max, &v));
            assign(c, v);
            return Status::Ok();
          }};
}

FlagDef BoolFlag(std::function<void(BenchConfig*, bool)> assign, std::string name) {
  return {true, [=](std::string_view value, BenchConfig* c) {
            bool v = false;
            STRATA_RETURN_IF_ERROR(ParseBool(name, value, &v));
            assign(c, v);
            return Status::Ok();
          }};
}

FlagDef StringFlag(std::function<void(BenchConfig*, std::string_view)> assign) {
  return {false, [=](std::string_view value, BenchConfig* c) {
            assign(c, value);
            return Status::Ok();
          }};
}

// --json and --csv: bare flag means stdout.
FlagDef OutputFlag(OutputTarget BenchConfig::*member) {
  return {true, [=](std::string_view value, BenchConfig* c) {
            (c->*member).enabled = true;
            (c->*member).path = (value.empty() || value == "true") ? "-" : std::string(value);
            return Status::Ok();
          }};
}

FlagTable& NumericFlags(FlagTable& t) {
  constexpr uint64_t kU64Max = ~0ull;
  t["num"] = U64Flag(1, 1ull << 40, [](BenchConfig* c, uint64_t v) { c->num = v; }, "num");
  t["reads"] = U64Flag(0, 1ull << 40,
                       [](BenchConfig* c, uint64_t v) { c->reads = static_cast<int64_t>(v); },
                       "reads");
  t["key_size"] = U64Flag(kKeySizeMin, kKeySizeMax,
                          [](BenchConfig* c, uint64_t v) { c->key_size = v; }, "key_size");
  t["value_size"] = U64Flag(1, kValueSizeMax,
                            [](BenchConfig* c, uint64_t v) { c->value_size = v; }, "value_size");
  t["threads"] = U64Flag(1, kThreadsMax, [](BenchConfig* c, uint64_t v) { c->threads = v; },
                         "threads");
  t["seed"] = U64Flag(0, kU64Max, [](BenchConfig* c, uint64_t v) { c->seed = v; }, "seed");
  t["seek_nexts"] = U64Flag(0, 1u << 20,
                            [](BenchConfig* c, uint64_t v) { c->seek_nexts = v; }, "seek_nexts");
  t["write_buffer_size"] =
      U64Flag(64 << 10, 1ull << 36, [](BenchConfig* c, uint64_t v) { c->write_buffer_bytes = v; },
              "write_buffer_size");
  t["rate_limiter_bytes_per_sec"] = U64Flag(
      0, 1ull << 40, [](BenchConfig* c, uint64_t v) { c->rate_limiter_bytes_per_sec = v; },
      "rate_limiter_bytes_per_sec");
  t["cache_size"] = U64Flag(0, 1ull << 40,
                            [](BenchConfig* c, uint64_t v) { c->cache_bytes = v; }, "cache_size");
  t["bloom_bits"] = U64Flag(0, 64, [](BenchConfig* c, uint64_t v) { c->bloom_bits = v; },
                            "bloom_bits");
  t["duration"] = {false, [](std::string_view v, BenchConfig* c) {
                     return ParseDouble("duration", v, 0, 1e9, &c->duration_seconds);
                   }};
  t["compressibility"] = {false, [](std::string_view v, BenchConfig* c) {
                            return ParseDouble("compressibility", v, 0, 1, &c->compressibility);
                          }};
  // db_bench's name for the same knob: the fraction a value compresses *to*.
  t["compression_ratio"] = {false, [](std::string_view v, BenchConfig* c) {
                              double ratio = 0;
                              STRATA_RETURN_IF_ERROR(
                                  ParseDouble("compression_ratio", v, 0, 1, &ratio));
                              c->compressibility = 1 - ratio;
                              return Status::Ok();
                            }};
  return t;
}

const FlagTable& Flags() {
  static const FlagTable* table = [] {
    auto* t = new FlagTable();
    NumericFlags(*t);
    (*t)["benchmarks"] = StringFlag([](BenchConfig* c, std::string_view v) {
      c->benchmarks = SplitList(v);
    });
    (*t)["engines"] = StringFlag([](BenchConfig* c, std::string_view v) {
      c->engines = SplitList(v);
    });
    (*t)["db"] = StringFlag([](BenchConfig* c, std::string_view v) { c->db = v; });
    (*t)["property_file"] = StringFlag([](BenchConfig* c, std::string_view v) {
      c->property_file = v;
    });
    (*t)["baseline"] = StringFlag([](BenchConfig* c, std::string_view v) { c->baseline = v; });
    (*t)["plot"] = StringFlag([](BenchConfig* c, std::string_view v) { c->plot_dir = v; });
    (*t)["child_result"] = StringFlag([](BenchConfig* c, std::string_view v) {
      c->child_result = v;
    });
    (*t)["workload"] = {false, [](std::string_view v, BenchConfig* c) {
                          return ParseChoice("workload", v, {"a", "b", "c", "d", "e", "f"},
                                             &c->workload);
                        }};
    (*t)["profile"] = {false, [](std::string_view v, BenchConfig* c) {
                         return ParseChoice("profile", v, {"ssd", "hdd", "auto"}, &c->profile);
                       }};
    (*t)["device-model"] = {false, [](std::string_view v, BenchConfig* c) {
                              return ParseChoice("device-model", v, {"hdd", "ssd"},
                                                 &c->device_model);
                            }};
    (*t)["json"] = OutputFlag(&BenchConfig::json);
    (*t)["csv"] = OutputFlag(&BenchConfig::csv);
    (*t)["pace"] = BoolFlag([](BenchConfig* c, bool v) { c->pace = v; }, "pace");
    (*t)["matrix"] = BoolFlag([](BenchConfig* c, bool v) { c->matrix = v; }, "matrix");
    (*t)["sync"] = BoolFlag([](BenchConfig* c, bool v) { c->sync = v; }, "sync");
    (*t)["use_existing_db"] =
        BoolFlag([](BenchConfig* c, bool v) { c->use_existing_db = v; }, "use_existing_db");
    (*t)["quick"] = BoolFlag([](BenchConfig* c, bool v) { c->quick = v; }, "quick");
    (*t)["isolate"] = BoolFlag([](BenchConfig* c, bool v) { c->isolate = v; }, "isolate");
    (*t)["progress"] = BoolFlag([](BenchConfig* c, bool v) { c->progress = v; }, "progress");
    (*t)["help"] = BoolFlag([](BenchConfig* c, bool v) { c->help = v; }, "help");
    (*t)["list_engines"] =
        BoolFlag([](BenchConfig* c, bool v) { c->list_engines = v; }, "list_engines");
    return t;
  }();
  return *table;
}

Status CheckEngine(std::string_view flag, const std::string& engine,
                   const std::vector<std::string>& known) {
  if (std::find(known.begin(), known.end(), engine) != known.end()) return Status::Ok();
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  return Status::InvalidArgument("--" + std::string(flag) + ": unknown or unbuilt engine '" +
                                 engine + "' (built: " + (list.empty() ? "none" : list) + ")");
}

// Cross-flag rules and defaults that depend on several flags.
Status Finish(const std::vector<std::string>& seen, BenchConfig* c,
              const std::vector<std::string>& known_engines) {
  auto given = [&](std::string_view name) {
    return std::find(seen.begin(), seen.end(), name) != seen.end();
  };
  if (c->matrix) {
    if (!given("benchmarks")) c->benchmarks = SplitList(kMatrixBenchmarks);
    if (!given("num")) c->num = kMatrixNum;
    if (!given("reads")) c->reads = kMatrixReads;
    if (!given("seek_nexts")) c->seek_nexts = kMatrixSeekNexts;
    if (!given("write_buffer_size")) c->write_buffer_bytes = kMatrixWriteBufferBytes;
    if (!given("cache_size")) c->cache_bytes = kMatrixCacheBytes;
    c->matrix_devices = c->device_model.empty() ? std::vector<std::string>{"hdd", "ssd"}
                                                : std::vector<std::string>{c->device_model};
    if (given("profile") && c->child_result.empty()) {
      return Status::InvalidArgument("--matrix runs both profiles; drop --profile");
    }
  }
  if (c->pace && c->device_model.empty() && !c->matrix) {
    return Status::InvalidArgument("--pace needs --device-model or --matrix");
  }
  if (c->quick) {
    if (!given("benchmarks")) c->benchmarks = SplitList(kQuickBenchmarks);
    if (!given("num")) c->num = kQuickNum;
  }
  if (!given("benchmarks") && !c->quick && !c->matrix) {
    if (c->workload.empty() && c->property_file.empty()) {
      c->benchmarks = SplitList(kDefaultBenchmarks);
    } else {
      c->benchmarks.clear();
    }
  }
  if (!c->workload.empty()) c->benchmarks.push_back("ycsb-" + c->workload);
  if (!c->property_file.empty()) c->benchmarks.push_back("ycsb-custom");
  if (c->benchmarks.empty()) return Status::InvalidArgument("--benchmarks: no workload given");
  const auto& known = KnownBenchmarks();
  for (const auto& b : c->benchmarks) {
    if (std::find(known.begin(), known.end(), b) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ",") + k;
      return Status::InvalidArgument("--benchmarks: unknown workload '" + b + "' (known: " +
                                     list + ")");
    }
    if (b == "ycsb-custom" && c->property_file.empty()) {
      return Status::InvalidArgument("--benchmarks: ycsb-custom needs --property_file");
    }
  }
  for (const auto& e : c->engines) STRATA_RETURN_IF_ERROR(CheckEngine("engines", e, known_engines));
  if (c->engines.empty()) c->engines = known_engines;
  if (c->engines.empty()) return Status::InvalidArgument("--engines: no engine is built");
  if (c->matrix && c->child_result.empty()) {
    std::vector<std::string> strata_engines;
    for (const auto& e : c->engines) {
      if (IsStrataEngine(e)) strata_engines.push_back(e);
    }
    if (strata_engines.empty()) {
      return Status::InvalidArgument("--matrix: no strata engine in --engines");
    }
    c->engines = std::move(strata_engines);
  }
  // A child runs one engine; the baseline is the parent's business.
  if (!c->baseline.empty() && c->child_result.empty()) {
    STRATA_RETURN_IF_ERROR(CheckEngine("baseline", c->baseline, known_engines));
    if (std::find(c->engines.begin(), c->engines.end(), c->baseline) == c->engines.end()) {
      return Status::InvalidArgument("--baseline=" + c->baseline + " is not in --engines");
    }
  }
  if (c->db.empty()) c->db = "/tmp/strata-bench";
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& KnownBenchmarks() {
  static const std::vector<std::string> names = {
      "fillseq",   "fillrandom", "overwrite",        "fillsync", "readrandom",
      "readseq",   "seekrandom", "readwhilewriting", "deleterandom", "ycsb-load",
      "ycsb-a",    "ycsb-b",     "ycsb-c",           "ycsb-d",   "ycsb-e",
      "ycsb-f",    "ycsb-custom"};
  return names;
}

Result<BenchConfig> ParseBenchFlags(const std::vector<std::string>& args,
                                    const std::vector<std::string>& known_engines) {
  BenchConfig config;
  std::vector<std::string> seen;
  const FlagTable& flags = Flags();
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h") arg = "--help";
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      return Status::InvalidArgument("unexpected argument '" + std::string(arg) +
                                     "' (flags look like --name=value; see --help)");
    }
    arg.remove_prefix(2);
    const size_t eq = arg.find('=');
    std::string_view name = arg.substr(0, eq);
    auto it = flags.find(name);
    if (it == flags.end()) {
      return Status::InvalidArgument("unknown flag --" + std::string(name) + " (see --help)");
    }
    std::string value;
    if (eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
    } else if (it->second.is_bool) {
      value = (name == "json" || name == "csv") ? "-" : "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Status::InvalidArgument("flag --" + std::string(name) + " needs a value");
    }
    STRATA_RETURN_IF_ERROR(it->second.set(value, &config));
    seen.emplace_back(name);
  }
  if (config.help || config.list_engines) return config;
  STRATA_RETURN_IF_ERROR(Finish(seen, &config, known_engines));
  return config;
}

std::string BenchUsage() {
  return R"(strata bench: the same workload on strata's engines and their peers, side by side.

Usage: strata bench [--flag=value ...]

Workloads
  --benchmarks=LIST     comma-separated, run in order (default: fillseq,fillrandom,
                        overwrite,readrandom,readseq,seekrandom). Known: fillseq,
                        fillrandom, overwrite, fillsync, readrandom, readseq,
                        seekrandom, readwhilewriting, deleterandom, ycsb-load,
                        ycsb-a .. ycsb-f, ycsb-custom
  --workload=a..f       append YCSB core workload A-F (loads the records if needed)
  --property_file=FILE  append a YCSB-style custom mix (readproportion=...,
                        updateproportion, insertproportion, scanproportion,
                        readmodifywriteproportion, requestdistribution=
                        uniform|zipfian|latest, maxscanlength, scanlengthdistribution)
  --quick               the quick suite: fillrandom,readrandom,seekrandom,ycsb-a,
                        ycsb-c with --num=200000 unless given
  --num=N               keys in the key space (default 1000000)
  --reads=N             operations of read and YCSB workloads (default --num)
  --key_size=B          bytes per key, 8..511 (default 16)
  --value_size=B        bytes per value (default 100)
  --compressibility=F   fraction of each value that compresses away (default 0.5);
                        db_bench's --compression_ratio=R means 1-R
  --threads=N           client threads (default 1)
  --sync                fdatasync every write (fillsync always does)
  --seek_nexts=N        Next() calls after each seek in seekrandom (default 0)
  --duration=S          stop each workload after S seconds (default: no limit)
  --seed=N              key order and values are a function of the seed (default 301)

Engines
  --engines=LIST        lsm,btree,rocksdb,leveldb,lmdb (default: every one built)
  --db=DIR              parent directory; each engine uses DIR/<engine>
                        (default /tmp/strata-bench)
  --use_existing_db     keep what is in DIR/<engine> and skip nothing else
  --write_buffer_size=B memtable budget of every engine (default 64 MiB)
  --cache_size=B        block cache budget of every engine (default 64 MiB)
  --bloom_bits=N        bloom filter bits per key (default 10)
  --rate_limiter_bytes_per_sec=B
                        strata lsm: flush and compaction write rate limit
                        (Options::background_write_bytes_per_second; 0 = off)
  --profile=P           ssd|hdd|auto: disk profile of strata's engines (default auto)
  --device-model=M      hdd|ssd: run strata's engines through the io cost model
  --pace                the device model sleeps each request's modeled time (one
                        device queue), so the run experiences the modeled disk
  --matrix              the profile x device matrix: each strata engine with
                        profile hdd and ssd on device models hdd and ssd (only
                        the one --device-model names, if given); prints the
                        matrix and the issue-13 bars. Defaults unless given:
                        --benchmarks=fillrandom,readrandom,seekrandom
                        --num=20000 --reads=1000 --seek_nexts=100
                        --write_buffer_size=262144 --cache_size=1048576
  --isolate=false       run every engine in this process (peak RSS then mixes)

Output
  --baseline=ENGINE     add the throughput ratio of each engine to ENGINE
  --json[=FILE]         JSON results (bare: on stdout instead of the table)
  --csv[=FILE]          CSV results (bare: on stdout instead of the table)
  --plot=DIR            SVG charts: throughput over time, latency CDFs
  --progress=BOOL       progress bar on stderr (default: when stderr is a terminal)
  --list_engines        print the engines this binary can run, one per line
)";
}

}  // namespace strata::bench
