// strata_wal_bench: what wal::Log costs next to the physical limit and a peer,
// measured in one run on the same disk.
//
//   sync appends of 100-byte records, 1 / 8 / 64 threads, vs
//     (a) a plain pwrite + fdatasync loop (one thread's physical limit)
//     (b) RocksDB sync Puts with 8 threads (Debian's librocksdb)
//   segment preparation: fallocate-only vs pre-zeroed vs recycled segments,
//     steady-state sync-append latency across rollovers
//   recovery: Open + Replay of a 1 GiB log after dropping the page cache,
//     against reading the same files sequentially (O_DIRECT, 4 MiB requests)
//
// Usage: strata_wal_bench [--dir DIR] [--seconds S] [--recovery-mib N]
//        [--only appends|prep|recovery] [--direct] [--keep]
#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "wal/buffer.h"
#include "wal/log.h"

#ifdef STRATA_HAVE_ROCKSDB
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#endif

namespace strata::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kRecordBytes = 100;

struct Config {
  std::string dir = STRATA_BENCH_DEFAULT_DIR;
  double seconds = 3;
  uint64_t recovery_mib = 1024;
  std::string only;
  bool direct = false;
  bool keep = false;  // keep (and reuse) the recovery log between runs
};

struct Rate {
  double ops_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
};

Rate Summarise(std::vector<double>& lat_us, double elapsed_s) {
  Rate r;
  r.ops_per_s = lat_us.size() / elapsed_s;
  if (lat_us.empty()) return r;
  std::sort(lat_us.begin(), lat_us.end());
  r.p50_us = lat_us[lat_us.size() / 2];
  r.p99_us = lat_us[std::min(lat_us.size() - 1, lat_us.size() * 99 / 100)];
  return r;
}

void Check(const Status& s, std::string_view what) {
  if (!s.ok()) {
    fmt::print(stderr, "{}: {}\n", what, s.ToString());
    std::exit(1);
  }
}

void Fresh(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
}

// (a) One thread: pwrite of one record-sized block at the next offset of a
// pre-zeroed file, then fdatasync. No metadata changes in steady state.
Rate PlainLoop(const Config& cfg) {
  const std::string dir = cfg.dir + "/plain";
  Fresh(dir);
  const std::string path = dir + "/plain.dat";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  const size_t file_bytes = 64 * kMiB;
  std::string zeros(kMiB, '\0');
  for (size_t at = 0; at < file_bytes; at += zeros.size()) {
    if (::pwrite(fd, zeros.data(), zeros.size(), at) < 0) std::exit(1);
  }
  ::fdatasync(fd);
  const size_t block = wal::RecordBytes(kRecordBytes);
  std::string rec(block, 'r');
  std::vector<double> lat;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(cfg.seconds);
  uint64_t offset = 0;
  while (Clock::now() < deadline && offset + block <= file_bytes) {
    const auto t0 = Clock::now();
    if (::pwrite(fd, rec.data(), block, offset) != static_cast<ssize_t>(block)) std::exit(1);
    if (::fdatasync(fd) != 0) std::exit(1);
    lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    offset += block;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  return Summarise(lat, elapsed);
}

// `threads` threads each loop Append(100 bytes, sync) for cfg.seconds.
Rate WalAppends(const Config& cfg, int threads, wal::SegmentPreparation prep,
                uint64_t segment_bytes, bool release, wal::LogStats* stats_out = nullptr) {
  const std::string dir = cfg.dir + "/wal";
  Fresh(dir);
  wal::LogOptions options;
  options.segment_bytes = segment_bytes;
  options.preparation = prep;
  options.direct_io = cfg.direct;
  std::unique_ptr<wal::Log> log;
  Check(wal::Log::Open(options, dir, &log), "open");
  std::vector<std::vector<double>> lat(threads);
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  const std::string payload(kRecordBytes, 'w');
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      while (!stop.load(std::memory_order_relaxed)) {
        const auto t0 = Clock::now();
        auto lsn = log->Append(payload, /*sync=*/true);
        Check(lsn.status().ok() ? Status::Ok() : lsn.status(), "append");
        lat[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        // Keep about four segments, so recycling has segments to reuse.
        if (release && t == 0 && *lsn % 4096 == 0) {
          const uint64_t keep = 4 * segment_bytes / wal::RecordBytes(kRecordBytes);
          if (*lsn > keep) Check(log->ReleaseBefore(*lsn - keep), "release");
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(cfg.seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  if (stats_out) *stats_out = log->stats();
  return Summarise(all, elapsed);
}

#ifdef STRATA_HAVE_ROCKSDB
Rate RocksDbSyncPuts(const Config& cfg, int threads) {
  const std::string dir = cfg.dir + "/rocksdb";
  Fresh(dir);
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    fmt::print(stderr, "rocksdb open: {}\n", s.ToString());
    return Rate{};
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  std::vector<std::vector<double>> lat(threads);
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  const std::string value(kRecordBytes, 'v');
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const std::string key = fmt::format("{:04}{:012}", t, i);
        const auto t0 = Clock::now();
        if (!db->Put(wo, key, value).ok()) std::exit(1);
        lat[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(cfg.seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  return Summarise(all, elapsed);
}
#endif

bool DropCaches() {
  ::sync();
  int fd = ::open("/proc/sys/vm/drop_caches", O_WRONLY);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "3", 1) == 1;
  ::close(fd);
  return ok;
}

// Sequential read of every file in dir with O_DIRECT, 4 MiB requests: MB/s.
double SequentialReadMBps(const std::string& dir) {
  constexpr size_t kChunk = 4 * kMiB;
  wal::AlignedBytes buf;
  buf.Reserve(kChunk);
  uint64_t bytes = 0;
  const auto start = Clock::now();
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".wal") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    int fd = ::open(f.c_str(), O_RDONLY | O_DIRECT);
    if (fd < 0) continue;
    ssize_t n;
    while ((n = ::read(fd, buf.data(), kChunk)) > 0) bytes += static_cast<uint64_t>(n);
    ::close(fd);
  }
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  return bytes / s / 1e6;
}

void Recovery(const Config& cfg) {
  const std::string dir = cfg.dir + "/recovery";
  const bool reuse = cfg.keep && std::filesystem::exists(dir);
  if (!reuse) Fresh(dir);
  constexpr size_t kRecoveryRecordBytes = 400;
  constexpr int kWriters = 4;
  const uint64_t target = cfg.recovery_mib * kMiB;
  if (!reuse) {
    wal::LogOptions options;
    options.preparation = wal::SegmentPreparation::kFallocate;  // quicker to build
    std::unique_ptr<wal::Log> log;
    Check(wal::Log::Open(options, dir, &log), "open");
    const uint64_t per_writer = target / wal::RecordBytes(kRecoveryRecordBytes) / kWriters;
    std::vector<std::thread> writers;
    const std::string payload(kRecoveryRecordBytes, 'q');
    for (int t = 0; t < kWriters; ++t) {
      writers.emplace_back([&] {
        for (uint64_t i = 0; i < per_writer; ++i) Check(log->Append(payload, false).status(), "a");
      });
    }
    for (auto& w : writers) w.join();
    Check(log->Sync(), "sync");
  }
  if (!DropCaches()) fmt::print("  (could not drop caches: numbers include the page cache)\n");
  const double disk_mbps = SequentialReadMBps(dir);
  uint64_t records = 0;
  auto count = [&](uint64_t, std::string_view) {
    ++records;
    return Status::Ok();
  };
  // One pass: the recovery scan delivers the records.
  DropCaches();
  auto t0 = Clock::now();
  std::unique_ptr<wal::Log> log;
  wal::RecoveryReport report;
  Check(wal::Log::OpenAndReplay(wal::LogOptions{}, dir, 1, count, &log, &report), "reopen");
  const double one_pass_s = std::chrono::duration<double>(Clock::now() - t0).count();
  log.reset();
  // Open, then Replay: the log is read twice.
  DropCaches();
  t0 = Clock::now();
  Check(wal::Log::Open(wal::LogOptions{}, dir, &log, &report), "reopen");
  const double open_s = std::chrono::duration<double>(Clock::now() - t0).count();
  records = 0;
  Check(log->Replay(1, count), "replay");
  const double two_pass_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double log_mb = report.bytes / 1e6;
  fmt::print("recovery: {:.0f} MB log, {} records of {} B in {} segments\n", log_mb, records,
             kRecoveryRecordBytes, report.segment_count);
  fmt::print("  sequential read (O_DIRECT, 4 MiB)      {:8.0f} MB/s\n", disk_mbps);
  fmt::print("  OpenAndReplay (one pass)               {:8.0f} MB/s  ({:.2f}x disk)\n",
             log_mb / one_pass_s, log_mb / one_pass_s / disk_mbps);
  fmt::print("  Open alone (verifies every record)     {:8.0f} MB/s  ({:.2f}x disk)\n",
             log_mb / open_s, log_mb / open_s / disk_mbps);
  fmt::print("  Open, then Replay (two passes)         {:8.0f} MB/s  ({:.2f}x disk)\n",
             log_mb / two_pass_s, log_mb / two_pass_s / disk_mbps);
  log.reset();
  if (!cfg.keep) Fresh(dir);
}

void Print(std::string_view name, const Rate& r, double base) {
  fmt::print("  {:<38} {:9.0f} ops/s  p50 {:7.1f} us  p99 {:7.1f} us", name, r.ops_per_s,
             r.p50_us, r.p99_us);
  if (base > 0) fmt::print("  {:5.2f}x", r.ops_per_s / base);
  fmt::print("\n");
}

void Appends(const Config& cfg) {
  fmt::print("sync appends of {} B records ({} s each{})\n", kRecordBytes, cfg.seconds,
             cfg.direct ? ", O_DIRECT" : "");
  const Rate plain = PlainLoop(cfg);
  Print("plain pwrite+fdatasync, 1 thread", plain, 0);
  const auto prep = wal::SegmentPreparation::kRecycle;
  const Rate w1 = WalAppends(cfg, 1, prep, 64 * kMiB, false);
  Print("strata wal, 1 thread (vs plain)", w1, plain.ops_per_s);
  const Rate w8 = WalAppends(cfg, 8, prep, 64 * kMiB, false);
  const Rate w64 = WalAppends(cfg, 64, prep, 64 * kMiB, false);
#ifdef STRATA_HAVE_ROCKSDB
  const Rate r8 = RocksDbSyncPuts(cfg, 8);
  Print("rocksdb sync put, 8 threads", r8, 0);
  Print("strata wal, 8 threads (vs rocksdb)", w8, r8.ops_per_s);
  Print("strata wal, 64 threads (vs rocksdb 8)", w64, r8.ops_per_s);
#else
  Print("strata wal, 8 threads", w8, 0);
  Print("strata wal, 64 threads", w64, 0);
  fmt::print("  (RocksDB not found at build time: no peer comparison)\n");
#endif
  fmt::print("  bars: 1 thread >= 0.90x plain: {}; 8 threads >= 2x rocksdb: {}\n",
             w1.ops_per_s >= 0.9 * plain.ops_per_s ? "met" : "MISSED",
#ifdef STRATA_HAVE_ROCKSDB
             w8.ops_per_s >= 2 * r8.ops_per_s ? "met" : "MISSED"
#else
             "n/a"
#endif
  );
}

// Small segments so that a run crosses many rollovers; one thread.
void Preparation(const Config& cfg) {
  constexpr uint64_t kPrepSegmentBytes = 1 * kMiB;
  fmt::print("segment preparation: 1 thread sync appends, {} MiB segments ({} s each)\n",
             kPrepSegmentBytes / kMiB, cfg.seconds);
  struct Mode {
    const char* name;
    wal::SegmentPreparation prep;
  };
  for (const Mode& m : {Mode{"fallocate only", wal::SegmentPreparation::kFallocate},
                        Mode{"pre-zeroed", wal::SegmentPreparation::kZeroFill},
                        Mode{"recycled", wal::SegmentPreparation::kRecycle}}) {
    wal::LogStats stats;
    const Rate r = WalAppends(cfg, 1, m.prep, kPrepSegmentBytes, true, &stats);
    Print(m.name, r, 0);
    fmt::print("    segments prepared {}, recycled {}, writer waited for one {} times\n",
               stats.segments_prepared, stats.segments_recycled, stats.prepare_waits);
  }
}

}  // namespace
}  // namespace strata::bench

int main(int argc, char** argv) {
  strata::bench::Config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "{} needs a value\n", arg);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--dir") {
      cfg.dir = next();
    } else if (arg == "--seconds") {
      cfg.seconds = std::atof(next().c_str());
    } else if (arg == "--recovery-mib") {
      cfg.recovery_mib = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--only") {
      cfg.only = next();
    } else if (arg == "--direct") {
      cfg.direct = true;
    } else if (arg == "--keep") {
      cfg.keep = true;
    } else {
      fmt::print("usage: strata_wal_bench [--dir DIR] [--seconds S] [--recovery-mib N] "
                 "[--only appends|prep|recovery] [--direct] [--keep]\n");
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  fmt::print("strata_wal_bench: dir {}\n", cfg.dir);
  if (cfg.only.empty() || cfg.only == "appends") strata::bench::Appends(cfg);
  if (cfg.only.empty() || cfg.only == "prep") strata::bench::Preparation(cfg);
  if (cfg.only.empty() || cfg.only == "recovery") strata::bench::Recovery(cfg);
  std::error_code ec;
  if (!cfg.keep) std::filesystem::remove_all(cfg.dir, ec);
  return 0;
}
