#include "bench/driver/runner.h"

#include <fmt/core.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/driver/adapter.h"
#include "bench/driver/matrix.h"
#include "bench/driver/metrics.h"
#include "bench/driver/output.h"
#include "bench/driver/plot.h"
#include "bench/driver/workloads.h"
#include "bench/driver/ycsb.h"

extern char** environ;

namespace strata::bench {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitFailed = 3;

std::string EngineDir(const BenchConfig& config, const std::string& engine) {
  return config.db + "/" + engine;
}

EngineConfig MakeEngineConfig(const BenchConfig& config) {
  EngineConfig ec;
  ec.write_buffer_bytes = config.write_buffer_bytes;
  ec.cache_bytes = config.cache_bytes;
  ec.bloom_bits = config.bloom_bits;
  ec.rate_limiter_bytes_per_sec = config.rate_limiter_bytes_per_sec;
  ec.profile = config.profile;
  ec.device_model = config.device_model;
  ec.pace = config.pace;
  ec.expected_bytes = KeyCapacity(config) * (uint64_t{config.key_size} + config.value_size);
  return ec;
}

bool IsYcsbRun(const std::string& name) { return name.rfind("ycsb-", 0) == 0 && name != "ycsb-load"; }

// Runs each workload in order; a YCSB run on an empty database loads it first.
Status RunWorkloads(const BenchConfig& config, WorkloadContext* ctx, const std::string& dir,
                    EngineRun* run) {
  for (const std::string& name : config.benchmarks) {
    std::vector<std::string> steps;
    if (IsYcsbRun(name) && ctx->keys->records() == 0) steps.push_back("ycsb-load");
    steps.push_back(name);
    for (const std::string& step : steps) {
      Result<WorkloadResult> r = RunWorkload(step, ctx);
      if (!r.ok()) return r.status().WithContext(step);
      r->disk_bytes = DirDiskBytes(dir);
      run->results.push_back(std::move(r).value());
    }
  }
  return Status::Ok();
}

Status ReadFile(const std::string& path, std::string* text) {
  std::ifstream in(path);
  if (!in) return Status::IOError(path + ": cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  *text = ss.str();
  return Status::Ok();
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IOError(path + ": write failed");
  return Status::Ok();
}

// Child mode: run the one engine, hand the results over in a file.
int RunChild(const BenchConfig& config) {
  const EngineRun run = RunEngine(config, config.engines.front(), config.progress == 1);
  Status s = WriteFile(config.child_result, EncodeEngineRun(run));
  if (!s.ok()) {
    fmt::print(stderr, "strata bench: {}\n", s.ToString());
    return kExitFailed;
  }
  return run.error.empty() ? kExitOk : kExitFailed;
}

Status WriteOutputs(const BenchConfig& config, const std::vector<EngineRun>& runs) {
  const bool table_on_stdout = !config.json.to_stdout() && !config.csv.to_stdout();
  if (table_on_stdout) fmt::print("{}", FormatTable(config, runs));
  if (table_on_stdout && config.matrix) fmt::print("{}", FormatMatrixTable(config, runs));
  if (config.json.enabled) {
    // A matrix run's JSON is the matrix: its cells and the bars.
    const std::string json =
        config.matrix ? FormatMatrixJson(config, runs) : FormatJson(config, runs);
    if (config.json.to_stdout()) {
      fmt::print("{}", json);
    } else {
      STRATA_RETURN_IF_ERROR(WriteFile(config.json.path, json));
      fmt::print(stderr, "strata bench: JSON written to {}\n", config.json.path);
    }
  }
  if (config.csv.enabled) {
    const std::string csv = FormatCsv(config, runs);
    if (config.csv.to_stdout()) {
      fmt::print("{}", csv);
    } else {
      STRATA_RETURN_IF_ERROR(WriteFile(config.csv.path, csv));
      fmt::print(stderr, "strata bench: CSV written to {}\n", config.csv.path);
    }
  }
  if (!config.plot_dir.empty()) {
    std::vector<std::string> written;
    STRATA_RETURN_IF_ERROR(WritePlots(config.plot_dir, runs, &written, config.baseline));
    if (config.matrix) {
      const std::string path = config.plot_dir + "/matrix.svg";
      STRATA_RETURN_IF_ERROR(WriteFile(path, RenderMatrixSvg(config, runs)));
      written.push_back(path);
    }
    fmt::print(stderr, "strata bench: {} SVG charts written to {}\n", written.size(),
               config.plot_dir);
  }
  return Status::Ok();
}

// Problems a child would only find later: say them once, up front, as usage errors.
Status Preflight(const BenchConfig& config) {
  if (!config.property_file.empty()) {
    std::string ignored;
    Result<YcsbSpec> spec = LoadYcsbPropertyFile(config.property_file, &ignored);
    if (!spec.ok()) return spec.status();
    if (!ignored.empty()) {
      fmt::print(stderr, "strata bench: {}: ignoring properties with no meaning here: {}\n",
                 config.property_file, ignored);
    }
  }
  return Status::Ok();
}

// The profile x device matrix: every (device model, engine, profile) cell,
// each in its own directory (DB/<device>-<profile>/<engine>) and, with
// --isolate, its own process. Runs are labelled "ENGINE PROFILE-profile@DEVICE".
bool RunMatrix(const ChildCommand& command, const std::vector<std::string>& args,
               const BenchConfig& config, bool progress, std::vector<EngineRun>* runs) {
  bool all_ok = true;
  for (const std::string& device : config.matrix_devices) {
    for (const std::string& engine : config.engines) {
      for (const std::string profile : {"hdd", "ssd"}) {
        BenchConfig cell = config;
        cell.profile = profile;
        cell.device_model = device;
        cell.db = config.db + "/" + device + "-" + profile;
        std::vector<std::string> cell_args = args;
        cell_args.push_back("--profile=" + profile);
        cell_args.push_back("--device-model=" + device);
        cell_args.push_back("--db=" + cell.db);
        fmt::print(stderr, "strata bench: matrix cell {} profile={} device model={}{}\n", engine,
                   profile, device, config.pace ? " (paced)" : "");
        EngineRun run = config.isolate
                            ? RunEngineInChild(command, cell_args, cell, engine, progress)
                            : RunEngine(cell, engine, progress);
        run.engine = engine + " " + profile + "-profile@" + device;
        for (WorkloadResult& r : run.results) r.engine = run.engine;
        run.matrix_profile = profile;
        run.matrix_device = device;
        if (!run.error.empty()) {
          all_ok = false;
          fmt::print(stderr, "strata bench: {} failed: {}\n", run.engine, run.error);
        }
        runs->push_back(std::move(run));
      }
    }
  }
  return all_ok;
}

}  // namespace

EngineRun RunEngine(const BenchConfig& config, const std::string& engine, bool progress) {
  EngineRun run;
  run.engine = engine;
  const std::string dir = EngineDir(config, engine);
  std::error_code ec;
  if (!config.use_existing_db) std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(config.db, ec);
  std::unique_ptr<BenchDb> db;
  Status s = OpenBenchDb(engine, MakeEngineConfig(config), dir, &db);
  if (!s.ok()) {
    run.error = "open " + dir + ": " + s.ToString();
    return run;
  }
  run.settings = db->Describe();
  KeySpace keys(KeyCapacity(config));
  if (config.use_existing_db) {
    for (uint64_t n = 0; n < config.num; ++n) keys.MarkLive(n);
    keys.RaiseRecords(config.num);
  }
  WorkloadContext ctx{&config, engine, db.get(), &keys, progress};
  s = RunWorkloads(config, &ctx, dir, &run);
  Status closed = db->Close();
  if (!s.ok()) {
    run.error = s.ToString();
  } else if (!closed.ok()) {
    run.error = "close: " + closed.ToString();
  }
  return run;
}

EngineRun RunEngineInChild(const ChildCommand& command, const std::vector<std::string>& args,
                           const BenchConfig& config, const std::string& engine, bool progress) {
  EngineRun failed;
  failed.engine = engine;
  std::error_code ec;
  std::filesystem::create_directories(config.db, ec);
  const std::string result_path = config.db + "/" + engine + ".result";
  std::filesystem::remove(result_path, ec);

  std::vector<std::string> argv_strings = {command.executable};
  argv_strings.insert(argv_strings.end(), command.prefix_args.begin(), command.prefix_args.end());
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  argv_strings.push_back("--engines=" + engine);
  argv_strings.push_back("--child_result=" + result_path);
  argv_strings.push_back(std::string("--progress=") + (progress ? "1" : "0"));
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, command.executable.c_str(), nullptr, nullptr, argv.data(),
                               environ);
  if (rc != 0) {
    failed.error = "spawn " + command.executable + ": " + std::strerror(rc);
    return failed;
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  std::string text;
  Status s = ReadFile(result_path, &text);
  std::filesystem::remove(result_path, ec);
  if (!s.ok()) {
    failed.error = WIFSIGNALED(wstatus)
                       ? fmt::format("child process killed by signal {}", WTERMSIG(wstatus))
                       : fmt::format("child process exited with status {} and no results",
                                     WEXITSTATUS(wstatus));
    return failed;
  }
  Result<EngineRun> run = DecodeEngineRun(text);
  if (!run.ok()) {
    failed.error = run.status().ToString();
    return failed;
  }
  return std::move(run).value();
}

int RunBenchMain(const std::vector<std::string>& args, const ChildCommand& command) {
  Result<BenchConfig> parsed = ParseBenchFlags(args, BuiltEngines());
  if (!parsed.ok()) {
    fmt::print(stderr, "strata bench: {}\n", parsed.status().message());
    return kExitUsage;
  }
  BenchConfig config = std::move(parsed).value();
  if (config.help) {
    fmt::print("{}", BenchUsage());
    return kExitOk;
  }
  if (config.list_engines) {
    for (const std::string& engine : BuiltEngines()) fmt::print("{}\n", engine);
    return kExitOk;
  }
  if (!config.child_result.empty()) return RunChild(config);
  Status s = Preflight(config);
  if (!s.ok()) {
    fmt::print(stderr, "strata bench: {}\n", s.message());
    return kExitUsage;
  }
  for (const std::string& skipped : SkippedPeers()) {
    fmt::print(stderr, "strata bench: skipping {}\n", skipped);
  }
  const bool progress = config.progress == -1 ? ::isatty(STDERR_FILENO) == 1 : config.progress == 1;
  std::vector<EngineRun> runs;
  bool all_ok = true;
  if (config.matrix) {
    all_ok = RunMatrix(command, args, config, progress, &runs);
  }
  for (const std::string& engine : config.matrix ? std::vector<std::string>{} : config.engines) {
    EngineRun run = config.isolate ? RunEngineInChild(command, args, config, engine, progress)
                                   : RunEngine(config, engine, progress);
    if (!run.error.empty()) {
      all_ok = false;
      fmt::print(stderr, "strata bench: {} failed: {}\n", engine, run.error);
    }
    runs.push_back(std::move(run));
  }
  s = WriteOutputs(config, runs);
  if (!s.ok()) {
    fmt::print(stderr, "strata bench: {}\n", s.ToString());
    return kExitFailed;
  }
  return all_ok ? kExitOk : kExitFailed;
}

}  // namespace strata::bench
