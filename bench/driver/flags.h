// BenchConfig and its command-line parser: the flags of `strata bench`.
//
// Flag names follow db_bench where they overlap (--benchmarks, --num,
// --key_size, --value_size, --threads, --sync, --db, --use_existing_db,
// --seed, --reads, --duration, --seek_nexts, --write_buffer_size,
// --cache_size, --bloom_bits, --compression_ratio), so scripts written for
// db_bench keep working. Every flag is `--name=value` or `--name value`;
// booleans also accept a bare `--name`. A later occurrence overrides an
// earlier one, which is how the parent hands a child process its engine.
//
// The parser never throws: bad input is InvalidArgument with a message that
// names the flag, and the CLI maps it to exit status 2.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "strata/status.h"

namespace strata::bench {

// Where an output goes: nowhere, stdout ("-"), or a file.
struct OutputTarget {
  bool enabled = false;
  std::string path;  // "-" means stdout
  bool to_stdout() const { return enabled && path == "-"; }
};

struct BenchConfig {
  std::vector<std::string> benchmarks;  // workload names, in run order
  std::vector<std::string> engines;     // empty until resolved: all built engines
  uint64_t num = 1000000;               // keys in the key space
  int64_t reads = -1;                   // read/request ops; -1 means num
  uint32_t key_size = 16;
  uint32_t value_size = 100;
  uint32_t threads = 1;
  bool sync = false;
  std::string db;  // parent directory; each engine uses db/<engine>
  bool use_existing_db = false;
  uint64_t seed = 301;
  double compressibility = 0.5;  // fraction of a value that compresses away
  uint32_t seek_nexts = 0;
  double duration_seconds = 0;  // 0: no time limit per workload
  std::string workload;         // YCSB core workload a..f
  std::string property_file;    // YCSB-style properties for a custom mix
  std::string profile = "auto";  // ssd|hdd|auto, for strata's engines
  std::string device_model;      // ""|hdd|ssd, for strata's engines
  bool pace = false;             // the device model sleeps its modeled time
  // The profile x device matrix: each strata engine with profile hdd and ssd
  // on the device models in matrix_devices (hdd,ssd; or the one
  // --device-model names).
  bool matrix = false;
  std::vector<std::string> matrix_devices;
  std::string baseline;          // engine the ratios are relative to
  uint64_t write_buffer_bytes = 64ull << 20;
  uint64_t cache_bytes = 64ull << 20;
  uint32_t bloom_bits = 10;
  // strata lsm: Options::background_write_bytes_per_second (0: no limit).
  uint64_t rate_limiter_bytes_per_sec = 0;
  OutputTarget json;
  OutputTarget csv;
  std::string plot_dir;
  bool quick = false;
  bool isolate = true;     // one child process per engine
  int progress = -1;       // -1: when stderr is a terminal
  bool help = false;
  bool list_engines = false;  // print the built engines, one per line, and exit
  std::string child_result;  // internal: a child writes its results here

  uint64_t read_ops() const { return reads < 0 ? num : static_cast<uint64_t>(reads); }
};

// Every workload name --benchmarks accepts.
const std::vector<std::string>& KnownBenchmarks();

// Parses argv-style flags (without the program and subcommand names).
// `known_engines` are the engines built into this binary: --engines and
// --baseline must name one of them. Returns InvalidArgument on an unknown
// flag, a malformed number, an unknown engine or workload.
Result<BenchConfig> ParseBenchFlags(const std::vector<std::string>& args,
                                    const std::vector<std::string>& known_engines);

// The --help text.
std::string BenchUsage();

}  // namespace strata::bench
