// strata_io_bench: the io layer against fio on the same files, same run.
//
// Patterns (each run through strata's io layer and through fio's io_uring
// engine with the same block size, queue depth and O_DIRECT setting):
//   sync    4 KiB buffered appends to a new file, fdatasync after each, QD1
//           (strata: Append + Sync, and WriteAtAndSync as one linked submission;
//            fio: --rw=write --fdatasync=1 --fallocate=none --file_append=1)
//   noise   fio against fio in the same alternation: the noise floor
//   overwrite  the same over an existing, fully written file (a preallocated
//           WAL segment): fdatasync flushes data only, no journal commit
//           (fio: --overwrite=1 on the same file)
//   qd1     4 KiB O_DIRECT random reads over a preallocated file, QD1 (Read)
//   qd32    the same at queue depth 32: strata keeps 32 reads in flight with
//           ReadBatch over large batches on a 32-deep ring (fio --iodepth=32);
//           and ReadBatch of exactly 32 per call, which drains the queue
//           between calls (fio with --iodepth_batch_submit=32
//           --iodepth_batch_complete_min=32, the same pattern)
// Each pattern alternates strata and fio (AB BA AB ...) so that drift on a
// shared machine affects both sides alike; the table shows medians over the
// rounds, and the ratio column is the median of the per-round ratios.
#include <fmt/core.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/aligned_buffer.h"
#include "io/file_system.h"
#include "io/uring_file_system.h"

namespace strata::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kBlockBytes = 4096;
constexpr size_t kFillChunkBytes = size_t{1} << 20;
// Fewer alternations than this say more about the neighbours than about us.
constexpr int kRoundsToJudge = 4;

struct Config {
  std::string dir = STRATA_BENCH_DEFAULT_DIR;
  std::string fio = "/usr/bin/fio";
  uint64_t file_mib = 1024;
  // Many short alternating runs rather than a few long ones: the disk is shared,
  // and its speed drifts from one second to the next.
  int syncs = 50;            // appends per run (each commits the journal: slow)
  int overwrite_syncs = 50;  // overwrites per run (no size change to commit)
  double read_seconds = 0.5;
  int rounds = 12;  // strata/fio alternations: AB BA AB BA ...
  unsigned queue_depth = 32;
  size_t window_batch = 1024;  // reads per ReadBatch call in the sliding-window pattern
  bool quick = false;
  bool verbose = false;
  uint64_t seed = 1;
  std::string patterns = "sync,noise,overwrite,qd1,qd32,batch";  // which rows to run
  bool Wants(std::string_view pattern) const { return patterns.find(pattern) != std::string::npos; }
};

void Check(const Status& s, const char* what) {
  if (!s.ok()) throw std::runtime_error(fmt::format("{}: {}", what, s.ToString()));
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// --- fio ------------------------------------------------------------------

// The number after "key" : in `json`, searching from `from`.
double JsonNumber(const std::string& json, size_t from, const std::string& key) {
  const size_t at = json.find("\"" + key + "\"", from);
  if (at == std::string::npos) throw std::runtime_error("fio json: no " + key);
  const size_t colon = json.find(':', at);
  return std::strtod(json.c_str() + colon + 1, nullptr);
}

// Runs fio with `args` plus json output; returns jobs[0].<dir>.iops, or 0
// when there is no fio to run (the table then shows strata alone).
double RunFio(const Config& config, const std::string& args, const std::string& dir) {
  if (::access(config.fio.c_str(), X_OK) != 0) return 0;
  const std::string cmd = fmt::format(
      "'{}' --name=strata_io_bench --ioengine=io_uring --bs=4k --output-format=json {} 2>&1",
      config.fio, args);
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int rc = ::pclose(pipe);
  const size_t json = out.find('{');
  if (rc != 0 || json == std::string::npos) {
    throw std::runtime_error(fmt::format("fio failed ({}): {}\n{}", rc, cmd, out));
  }
  const size_t jobs = out.find("\"jobs\"", json);
  const size_t section = out.find("\"" + dir + "\" :", jobs);
  if (jobs == std::string::npos || section == std::string::npos) {
    throw std::runtime_error("fio json without jobs[0]." + dir + ": " + out);
  }
  return JsonNumber(out, section, "iops");
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// --- strata ---------------------------------------------------------------

// 4 KiB writes with fdatasync after each; returns syncs/s. `overwrite`
// rewrites the blocks of an existing, fully written file (a preallocated WAL
// segment: the sync flushes data only); otherwise the file is new and grows
// with each append (the sync also commits the size change to the journal).
double StrataSync(io::FileSystem* fs, const std::string& path, int count, bool linked,
                  bool overwrite) {
  std::unique_ptr<io::WritableFile> file;
  if (overwrite) {
    Check(fs->ReopenWritableFile(path, io::FileOptions{}, &file), "reopen");
  } else {
    Check(fs->NewWritableFile(path, io::FileOptions{}, &file), "create");
  }
  std::string block(kBlockBytes, 's');
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    block[0] = static_cast<char>(i);
    const uint64_t offset = overwrite ? i * kBlockBytes : file->size();
    if (linked) {
      const std::pair<uint64_t, std::string_view> write(offset, block);
      Check(file->WriteAtAndSync(std::span(&write, 1)), "WriteAtAndSync");
    } else {
      Check(file->WriteAt(offset, block), "WriteAt");
      Check(file->Sync(), "Sync");
    }
  }
  const double seconds = Seconds(start);
  Check(file->Close(), "close");
  if (!overwrite) Check(fs->RemoveFile(path), "remove");
  return count / seconds;
}

// Writes `bytes` of zeros to a new file and syncs it, so that later
// overwrites change no metadata.
void PrepareOverwriteFile(io::FileSystem* fs, const std::string& path, uint64_t bytes) {
  std::unique_ptr<io::WritableFile> file;
  Check(fs->NewWritableFile(path, io::FileOptions{}, &file), "create");
  const std::string chunk(kFillChunkBytes, '\0');
  for (uint64_t offset = 0; offset < bytes; offset += chunk.size()) {
    Check(file->Append(
              std::string_view(chunk).substr(0, std::min<uint64_t>(chunk.size(), bytes - offset))),
          "fill");
  }
  Check(file->SyncAll(), "sync");
  Check(file->Close(), "close");
}

// Random aligned 4 KiB O_DIRECT reads for `seconds`, `batch` per ReadBatch
// call on a file system with queue depth `depth`; returns reads/s.
double StrataRandRead(const Config& config, const std::string& path, unsigned depth, size_t batch) {
  auto fs = io::NewUringFileSystem(io::UringOptions{depth});
  std::unique_ptr<io::RandomAccessFile> file;
  Check(fs->NewRandomAccessFile(path, io::FileOptions{.direct = true}, &file), "open");
  const uint64_t blocks = config.file_mib * (1 << 20) / kBlockBytes;
  io::AlignedBuffer buffers(batch * kBlockBytes);
  std::vector<io::ReadRequest> requests(batch);
  std::mt19937_64 rng(config.seed);
  uint64_t reads = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < config.read_seconds) {
    for (size_t i = 0; i < batch; ++i) {
      requests[i] = io::ReadRequest{.offset = (rng() % blocks) * kBlockBytes,
                                    .length = kBlockBytes,
                                    .buffer = buffers.data() + i * kBlockBytes};
    }
    if (batch == 1) {
      size_t n = 0;
      Check(file->Read(requests[0].offset, kBlockBytes, requests[0].buffer, &n), "read");
    } else {
      Check(file->ReadBatch(requests), "ReadBatch");
    }
    reads += batch;
    elapsed = Seconds(start);
  }
  return reads / elapsed;
}

// The file the read patterns use: filled with random bytes through strata's
// O_DIRECT writes (unwritten extents would read as zeros without any I/O).
// Reused across runs when its size already matches.
void PrepareReadFile(io::FileSystem* fs, const Config& config, const std::string& path) {
  const uint64_t bytes = config.file_mib << 20;
  Result<uint64_t> size = fs->FileSize(path);
  if (size.ok() && *size == bytes) return;
  fmt::print("preparing {} ({} MiB)...\n", path, config.file_mib);
  std::fflush(stdout);
  std::unique_ptr<io::WritableFile> file;
  Check(fs->NewWritableFile(path, io::FileOptions{.direct = true}, &file), "create");
  io::AlignedBuffer chunk(kFillChunkBytes);
  std::mt19937_64 rng(config.seed);
  for (uint64_t offset = 0; offset < bytes; offset += kFillChunkBytes) {
    chunk.Clear();
    for (size_t i = 0; i < kFillChunkBytes / sizeof(uint64_t); ++i) {
      const uint64_t word = rng();
      chunk.Append(std::string_view(reinterpret_cast<const char*>(&word), sizeof(word)));
    }
    Check(file->Append(chunk.view()), "fill");
  }
  Check(file->Sync(), "sync");
  Check(file->Close(), "close");
}

// --- the run ----------------------------------------------------------------

struct Row {
  std::string pattern;
  double strata = 0;  // median ops/s over the rounds
  double fio = 0;
  double ratio = 0;  // median over the rounds of strata/fio
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// Runs strata and fio in alternating order (AB BA AB ...) `rounds` times so
// that drift on a shared machine hits both sides alike; reports medians.
template <typename StrataFn, typename FioFn>
Row Measure(const Config& config, std::string pattern, StrataFn strata, FioFn fio) {
  std::vector<double> strata_runs, fio_runs, ratios;
  for (int round = 0; round < config.rounds; ++round) {
    double s, f;
    if (round % 2 == 0) {
      s = strata();
      f = fio();
    } else {
      f = fio();
      s = strata();
    }
    if (config.verbose) fmt::print("    round {}: strata {:.0f}/s  fio {:.0f}/s\n", round, s, f);
    strata_runs.push_back(s);
    fio_runs.push_back(f);
    ratios.push_back(f > 0 ? s / f : 0);
  }
  Row row{.pattern = std::move(pattern),
          .strata = Median(strata_runs),
          .fio = Median(fio_runs),
          .ratio = Median(ratios)};
  fmt::print("  {:<52} strata {:>9.0f}/s  fio {:>9.0f}/s  ratio {:.2f}\n", row.pattern, row.strata,
             row.fio, row.ratio);
  std::fflush(stdout);
  return row;
}

int Run(const Config& config) {
  auto fs = io::NewUringFileSystem(io::UringOptions{config.queue_depth});
  std::error_code ec;
  std::filesystem::create_directories(config.dir, ec);
  Check(fs->CreateDir(config.dir), "mkdir");
  fmt::print(
      "strata_io_bench: dir {}  file system {}  file {} MiB  syncs {}  reads {:.1f} s  "
      "rounds {}\n",
      config.dir, fs->name(), config.file_mib, config.syncs, config.read_seconds, config.rounds);
  std::vector<Row> rows;
  const std::string sync_path = io::JoinPath(config.dir, "sync.dat");
  const std::string fio_sync = fmt::format(
      "--filename={} --rw=write --size={} --fdatasync=1 --iodepth=1 --direct=0 "
      "--fallocate=none --file_append=1",
      Quote(sync_path), config.syncs * kBlockBytes);
  auto fio_sync_fn = [&] {
    ::unlink(sync_path.c_str());
    const double iops = RunFio(config, fio_sync, "write");
    ::unlink(sync_path.c_str());
    return iops;
  };
  if (config.Wants("sync")) {
    rows.push_back(Measure(
        config, "4 KiB append + fdatasync, QD1 (Append+Sync)",
        [&] { return StrataSync(fs.get(), sync_path, config.syncs, false, false); }, fio_sync_fn));
    rows.push_back(Measure(
        config, "4 KiB append + fdatasync, QD1 (WriteAtAndSync)",
        [&] { return StrataSync(fs.get(), sync_path, config.syncs, true, false); }, fio_sync_fn));
  }
  if (config.Wants("noise")) {
    // fio against itself, in the same alternation: how far a ratio strays
    // from 1.0 on this machine with nothing but noise to explain it.
    rows.push_back(
        Measure(config, "noise floor: fio vs fio, append + fdatasync", fio_sync_fn, fio_sync_fn));
  }
  if (config.Wants("overwrite")) {
    const std::string path = io::JoinPath(config.dir, "overwrite.dat");
    const uint64_t bytes = uint64_t{kBlockBytes} * config.overwrite_syncs;
    PrepareOverwriteFile(fs.get(), path, bytes);
    const std::string fio_args = fmt::format(
        "--filename={} --rw=write --size={} --fdatasync=1 --iodepth=1 --direct=0 "
        "--overwrite=1 --fallocate=none",
        Quote(path), bytes);
    auto fio_fn = [&] { return RunFio(config, fio_args, "write"); };
    rows.push_back(Measure(
        config, "4 KiB overwrite + fdatasync, QD1 (WriteAt+Sync)",
        [&] { return StrataSync(fs.get(), path, config.overwrite_syncs, false, true); }, fio_fn));
    rows.push_back(Measure(
        config, "4 KiB overwrite + fdatasync, QD1 (WriteAtAndSync)",
        [&] { return StrataSync(fs.get(), path, config.overwrite_syncs, true, true); }, fio_fn));
    Check(fs->RemoveFile(path), "remove");
  }

  const std::string read_path =
      io::JoinPath(config.dir, fmt::format("read-{}mib.dat", config.file_mib));
  if (config.Wants("qd1") || config.Wants("qd32") || config.Wants("batch")) {
    PrepareReadFile(fs.get(), config, read_path);
  }
  const std::string fio_read = fmt::format(
      "--filename={} --size={}M --rw=randread --direct=1 --norandommap "
      "--randrepeat=0 --time_based --runtime={}ms",
      Quote(read_path), config.file_mib, static_cast<int>(config.read_seconds * 1000));
  const unsigned qd = config.queue_depth;
  if (config.Wants("qd1")) {
    rows.push_back(Measure(
        config, "4 KiB O_DIRECT random read, QD1 (Read)",
        [&] { return StrataRandRead(config, read_path, 1, 1); },
        [&] { return RunFio(config, fio_read + " --iodepth=1", "read"); }));
  }
  if (config.Wants("qd32")) {
    rows.push_back(Measure(
        config, fmt::format("4 KiB O_DIRECT random read, QD{} (ReadBatch window)", qd),
        [&] { return StrataRandRead(config, read_path, qd, config.window_batch); },
        [&] { return RunFio(config, fio_read + fmt::format(" --iodepth={}", qd), "read"); }));
  }
  if (config.Wants("batch")) {
    rows.push_back(Measure(
        config, fmt::format("4 KiB O_DIRECT random read, QD{} (ReadBatch of {})", qd, qd),
        [&] { return StrataRandRead(config, read_path, qd, qd); },
        [&] {
          return RunFio(config,
                        fio_read + fmt::format(" --iodepth={0} --iodepth_batch_submit={0} "
                                               "--iodepth_batch_complete_min={0}",
                                               qd),
                        "read");
        }));
  }

  fmt::print("\n{:<52} {:>12} {:>12} {:>11}\n", "pattern (median ops/s)", "strata", "fio",
             "strata/fio");
  bool all_meet_bar = true;
  for (const Row& row : rows) {
    const double ratio = row.ratio;
    all_meet_bar = all_meet_bar && ratio >= 0.9;
    fmt::print("{:<52} {:>12.0f} {:>12.0f} {:>11.2f}\n", row.pattern, row.strata, row.fio, ratio);
  }
  if (::access(config.fio.c_str(), X_OK) != 0) {
    fmt::print("no fio at {}: strata figures only (install fio for the comparison)\n", config.fio);
  } else {
    if (config.rounds < kRoundsToJudge) {
      fmt::print(
          "bar (every ratio >= 0.90): not judged: {} round(s) per pattern is mostly noise "
          "on a shared disk; run without --quick for medians of {} rounds\n",
          config.rounds, Config{}.rounds);
    } else {
      fmt::print("bar (every ratio >= 0.90): {}\n", all_meet_bar ? "met" : "NOT met");
    }
  }
  return 0;
}

}  // namespace
}  // namespace strata::bench

int main(int argc, char** argv) {
  using strata::bench::Config;
  Config config;
  CLI::App app{"strata_io_bench: strata's io layer vs fio (io_uring) on the same files"};
  app.add_option("--dir", config.dir, "Scratch directory (files are created and reused here)");
  app.add_option("--fio", config.fio, "fio binary");
  app.add_option("--file-mib", config.file_mib, "Size of the random-read file")
      ->check(CLI::PositiveNumber);
  app.add_option("--syncs", config.syncs, "Appends + fdatasync per run")
      ->check(CLI::PositiveNumber);
  app.add_option("--overwrite-syncs", config.overwrite_syncs, "Overwrites + fdatasync per run")
      ->check(CLI::PositiveNumber);
  app.add_option("--read-seconds", config.read_seconds, "Duration of each random-read run")
      ->check(CLI::PositiveNumber);
  app.add_option("--rounds", config.rounds, "strata/fio alternations per pattern (ABBA...)")
      ->check(CLI::PositiveNumber);
  app.add_option("--queue-depth", config.queue_depth, "Queue depth of the deep read patterns")
      ->check(CLI::Range(2, 1024));
  app.add_option("--window-batch", config.window_batch,
                 "Reads per ReadBatch call in the sliding-window pattern")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--seed", config.seed, "Seed of the random offsets");
  app.add_option("--patterns", config.patterns,
                 "Rows to run: any of sync,noise,overwrite,qd1,qd32,batch");
  app.add_flag("--verbose", config.verbose, "Print every round");
  app.add_flag("--quick", config.quick,
               "A few seconds in all: 256 MiB, 30 syncs, 0.3 s reads, one round");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (config.quick) {
    config.file_mib = std::min<uint64_t>(config.file_mib, 256);
    config.syncs = std::min(config.syncs, 30);
    config.read_seconds = std::min(config.read_seconds, 0.3);
    config.rounds = 1;
    config.overwrite_syncs = std::min(config.overwrite_syncs, 30);
    if (app.count("--patterns") == 0) config.patterns = "sync,overwrite,qd1,qd32,batch";
  }
  try {
    return strata::bench::Run(config);
  } catch (const std::exception& e) {
    fmt::print(stderr, "strata_io_bench: {}\n", e.what());
    return 1;
  }
}
