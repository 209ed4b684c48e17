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
#include <sys/resource.h>
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

bool DropCaches() {
  ::sync();
  int fd = ::open("/proc/sys/vm/drop_caches", O_WRONLY);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "3", 1) == 1;
  ::close(fd);
  return ok;
}

double CpuSeconds() {
  rusage u;
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Sequential read of every file in dir with O_DIRECT, 4 MiB requests: seconds.
double SequentialReadSeconds(const std::string& dir, uint64_t* bytes_read) {
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
  *bytes_read = bytes;
  return std::chrono::duration<double>(Clock::now() - start).count();
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
    // The default preparation: segments hold real bytes (zeros or records)
    // all the way, so recovery and the sequential read both read the disk.
    options.preparation = wal::SegmentPreparation::kRecycle;
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
  // Recovery reads every segment file whole (it cannot know where records
  // end), so the physical limit is reading those same files sequentially.
  uint64_t file_bytes = 0;
  const double disk_s = SequentialReadSeconds(dir, &file_bytes);
  uint64_t records = 0;
  auto count = [&](uint64_t, std::string_view) {
    ++records;
    return Status::Ok();
  };
  // One pass: the recovery scan delivers the records.
  DropCaches();
  auto t0 = Clock::now();
  const double cpu0 = CpuSeconds();
  std::unique_ptr<wal::Log> log;
  wal::RecoveryReport report;
  Check(wal::Log::OpenAndReplay(wal::LogOptions{}, dir, 1, count, &log, &report), "reopen");
  const double one_pass_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double one_pass_cpu_s = CpuSeconds() - cpu0;
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
  // Ratios are time ratios over the same files: 1.00x = as fast as the disk.
  const double file_mb = file_bytes / 1e6;
  fmt::print("  sequential read of the {:.0f} MB of segment files (O_DIRECT, 4 MiB): {:.3f} s, "
             "{:.0f} MB/s\n", file_mb, disk_s, file_mb / disk_s);
  fmt::print("  OpenAndReplay (one pass)            {:.3f} s  {:6.0f} MB/s of files  ({:.2f}x disk)"
             "  cpu {:.3f} s\n",
             one_pass_s, file_mb / one_pass_s, disk_s / one_pass_s, one_pass_cpu_s);
  fmt::print("  Open alone (verifies every record)  {:.3f} s  {:6.0f} MB/s of files  ({:.2f}x disk)\n",
             open_s, file_mb / open_s, disk_s / open_s);
  fmt::print("  Open, then Replay (two passes)      {:.3f} s  ({:.2f}x the disk reading the files "
             "twice)\n", two_pass_s, 2 * disk_s / two_pass_s);
  log.reset();
  if (!cfg.keep) Fresh(dir);
}

void Print(std::string_view name, const Rate& r, double base) {
  fmt::print("  {:<38} {:9.0f} ops/s  p50 {:7.1f} us  p99 {:7.1f} us", name, r.ops_per_s,
             r.p50_us, r.p99_us);
  if (base > 0) fmt::print("  {:5.2f}x", r.ops_per_s / base);
  fmt::print("\n");
}

// Latencies and op count of one contender over all its slices.
struct Tally {
  std::vector<double> lat_us;
  double seconds = 0;
  Rate rate() {
    return Summarise(lat_us, seconds);
  }
};

// Runs `threads` threads calling op(thread) for `seconds`, adding to *tally.
template <typename Op>
void Slice(int threads, double seconds, Op op, Tally* tally) {
  std::vector<std::vector<double>> lat(threads);
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const auto t0 = Clock::now();
        op(t, i);
        lat[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  tally->seconds += std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& v : lat) tally->lat_us.insert(tally->lat_us.end(), v.begin(), v.end());
}

// The contenders run in interleaved slices (kSlices rounds of each), so that
// the disk's drift on a shared machine hits all of them alike.
void Appends(const Config& cfg) {
  constexpr int kSlices = 6;
  const double slice_s = cfg.seconds / kSlices;
  fmt::print("sync appends of {} B records ({} s each, in {} interleaved slices{})\n", kRecordBytes,
             cfg.seconds, kSlices, cfg.direct ? ", O_DIRECT" : "");
  // (a) the plain loop's file: pre-zeroed, like a prepared segment.
  const std::string plain_dir = cfg.dir + "/plain";
  Fresh(plain_dir);
  const std::string plain_path = plain_dir + "/plain.dat";
  int fd = ::open(plain_path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  const uint64_t plain_bytes = 256 * kMiB;
  const std::string zeros(kMiB, '\0');
  for (uint64_t at = 0; at < plain_bytes; at += zeros.size()) {
    if (::pwrite(fd, zeros.data(), zeros.size(), at) < 0) std::exit(1);
  }
  ::fdatasync(fd);
  const size_t block = wal::RecordBytes(kRecordBytes);
  const std::string rec(block, 'r');
  uint64_t plain_offset = 0;
  auto plain_op = [&](int, uint64_t) {
    if (plain_offset + block > plain_bytes) plain_offset = 0;
    if (::pwrite(fd, rec.data(), block, plain_offset) != static_cast<ssize_t>(block)) std::exit(1);
    if (::fdatasync(fd) != 0) std::exit(1);
    plain_offset += block;
  };
  // strata: one log for all thread counts.
  const std::string wal_dir = cfg.dir + "/wal";
  Fresh(wal_dir);
  wal::LogOptions options;
  options.direct_io = cfg.direct;
  std::unique_ptr<wal::Log> log;
  Check(wal::Log::Open(options, wal_dir, &log), "open");
  const std::string payload(kRecordBytes, 'w');
  auto wal_op = [&](int, uint64_t) { Check(log->Append(payload, true).status(), "append"); };
  // The same without the group-commit wait (LogOptions::group_wait_micros_max).
  const std::string nowait_dir = cfg.dir + "/wal-nowait";
  Fresh(nowait_dir);
  wal::LogOptions nowait_options = options;
  nowait_options.group_wait_micros_max = 0;
  std::unique_ptr<wal::Log> nowait_log;
  Check(wal::Log::Open(nowait_options, nowait_dir, &nowait_log), "open");
  auto nowait_op = [&](int, uint64_t) {
    Check(nowait_log->Append(payload, true).status(), "append");
  };
#ifdef STRATA_HAVE_ROCKSDB
  const std::string rocks_dir = cfg.dir + "/rocksdb";
  Fresh(rocks_dir);
  rocksdb::Options rocks_options;
  rocks_options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(rocks_options, rocks_dir, &raw).ok()) std::exit(1);
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const std::string value(kRecordBytes, 'v');
  std::atomic<uint64_t> rocks_seq{0};
  auto rocks_op = [&](int t, uint64_t) {
    const std::string key = fmt::format("{:04}{:012}", t, rocks_seq.fetch_add(1));
    if (!db->Put(wo, key, value).ok()) std::exit(1);
  };
#endif
  Tally plain, w1, w8, w64, r8, n8, n64;
  wal::LogStats after8, after64;
  for (int k = 0; k < kSlices; ++k) {
    Slice(1, slice_s, plain_op, &plain);
    Slice(1, slice_s, wal_op, &w1);
#ifdef STRATA_HAVE_ROCKSDB
    Slice(8, slice_s, rocks_op, &r8);
#endif
    const wal::LogStats s0 = log->stats();
    Slice(8, slice_s, wal_op, &w8);
    const wal::LogStats s1 = log->stats();
    Slice(64, slice_s, wal_op, &w64);
    const wal::LogStats s2 = log->stats();
    Slice(8, slice_s, nowait_op, &n8);
    Slice(64, slice_s, nowait_op, &n64);
    after8.records += s1.records - s0.records;
    after8.syncs += s1.syncs - s0.syncs;
    after8.group_waits += s1.group_waits - s0.group_waits;
    after8.group_wait_timeouts += s1.group_wait_timeouts - s0.group_wait_timeouts;
    after64.records += s2.records - s1.records;
    after64.syncs += s2.syncs - s1.syncs;
  }
  ::close(fd);
  const Rate rp = plain.rate();
  const Rate r1 = w1.rate();
  const Rate r8w = w8.rate();
  const Rate r64 = w64.rate();
  Print("plain pwrite+fdatasync, 1 thread", rp, 0);
  Print("strata wal, 1 thread (vs plain)", r1, rp.ops_per_s);
  fmt::print("  strata wal records per fdatasync: 8 threads {:.1f}, 64 threads {:.1f}\n",
             double(after8.records) / std::max<uint64_t>(after8.syncs, 1),
             double(after64.records) / std::max<uint64_t>(after64.syncs, 1));
  fmt::print("  strata wal, 8 threads: {} group waits, {} ended at the deadline\n",
             after8.group_waits, after8.group_wait_timeouts);
  Print("strata wal, 8 threads, no group wait", n8.rate(), 0);
  Print("strata wal, 64 threads, no group wait", n64.rate(), 0);
#ifdef STRATA_HAVE_ROCKSDB
  const Rate rr = r8.rate();
  Print("rocksdb sync put, 8 threads", rr, 0);
  Print("strata wal, 8 threads (vs rocksdb)", r8w, rr.ops_per_s);
  Print("strata wal, 64 threads (vs rocksdb 8)", r64, rr.ops_per_s);
  fmt::print("  bars: 1 thread >= 0.90x plain: {}; 8 threads >= 2x rocksdb: {}\n",
             r1.ops_per_s >= 0.9 * rp.ops_per_s ? "met" : "MISSED",
             r8w.ops_per_s >= 2 * rr.ops_per_s ? "met" : "MISSED");
#else
  Print("strata wal, 8 threads", r8w, 0);
  Print("strata wal, 64 threads", r64, 0);
  fmt::print("  (RocksDB not found at build time: no peer comparison)\n");
  fmt::print("  bars: 1 thread >= 0.90x plain: {}\n",
             r1.ops_per_s >= 0.9 * rp.ops_per_s ? "met" : "MISSED");
#endif
}

// Small segments and 1 KiB records so that a run crosses many rollovers; one
// thread per mode, the modes in interleaved slices; old segments are
// released as it goes (so recycling has some to reuse).
void Preparation(const Config& cfg) {
  constexpr uint64_t kPrepSegmentBytes = 256 * kKiB;
  constexpr size_t kPrepRecordBytes = 1024;
  constexpr int kSlices = 6;
  fmt::print("segment preparation: 1 thread sync appends of {} B, {} KiB segments ({} s each, "
             "{} interleaved slices)\n",
             kPrepRecordBytes, kPrepSegmentBytes / kKiB, cfg.seconds, kSlices);
  struct Mode {
    const char* name;
    wal::SegmentPreparation prep;
    std::unique_ptr<wal::Log> log;
    Tally tally;
  };
  Mode modes[] = {{"fallocate only", wal::SegmentPreparation::kFallocate, nullptr, {}},
                  {"pre-zeroed", wal::SegmentPreparation::kZeroFill, nullptr, {}},
                  {"recycled", wal::SegmentPreparation::kRecycle, nullptr, {}},
                  {"recycled, else fallocated", wal::SegmentPreparation::kRecycleElseFallocate,
                   nullptr, {}}};
  const std::string payload(kPrepRecordBytes, 'p');
  const uint64_t keep = 2 * kPrepSegmentBytes / wal::RecordBytes(kPrepRecordBytes);
  for (size_t m = 0; m < std::size(modes); ++m) {
    const std::string dir = fmt::format("{}/prep{}", cfg.dir, m);
    Fresh(dir);
    wal::LogOptions options;
    options.segment_bytes = kPrepSegmentBytes;
    options.preparation = modes[m].prep;
    options.direct_io = cfg.direct;
    Check(wal::Log::Open(options, dir, &modes[m].log), "open");
  }
  for (int k = 0; k < kSlices; ++k) {
    for (Mode& m : modes) {
      wal::Log* log = m.log.get();
      Slice(1, cfg.seconds / kSlices,
            [&](int, uint64_t) {
              auto lsn = log->Append(payload, true);
              Check(lsn.status().ok() ? Status::Ok() : lsn.status(), "append");
              if (*lsn % 16 == 0 && *lsn > keep) Check(log->ReleaseBefore(*lsn - keep), "release");
            },
            &m.tally);
    }
  }
  for (Mode& m : modes) {
    Print(m.name, m.tally.rate(), 0);
    const wal::LogStats stats = m.log->stats();
    fmt::print("    segments prepared {}, recycled {}, writer waited for one {} times\n",
               stats.segments_prepared, stats.segments_recycled, stats.prepare_waits);
    m.log.reset();
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
