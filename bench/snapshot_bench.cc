// strata_snapshot_bench: what checkpoints and snapshot streams cost next to
// the disk's own sequential write rate, measured in the same run.
//
//   disk: one file of --mib MiB written in 1 MiB pwrites + fdatasync (the
//     physical limit a copy of the state is held to)
//   for each engine kind (--engines=lsm,btree), a state of --mib MiB of
//     incompressible values (--value-bytes) under sequential keys:
//     checkpoint: Engine::CreateCheckpoint of the whole state, its time and
//       the bytes it wrote against a full copy's (the database's size)
//     stream: WriteSnapshotStream piped through a bounded in-memory queue
//       into InstallSnapshot (the bulk install path) in a second thread,
//       i.e. ship + install on one machine; its rate against the disk's
//
// Usage: strata_snapshot_bench [--dir DIR] [--mib N] [--value-bytes N]
//        [--engines lsm,btree]
#include <fcntl.h>
#include <sys/resource.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/disk_rate.h"
#include "snapshot/install.h"
#include "snapshot/stream_writer.h"
#include "strata/engine.h"

namespace strata::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::string dir = STRATA_BENCH_DEFAULT_DIR;
  uint64_t mib = 1024;
  size_t value_bytes = 400;  // inline in a 4 KiB btree page (a quarter page is the cell limit)
  std::vector<std::string> engines = {"lsm", "btree"};
};

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
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

// CPU seconds (user + system) this process has used: a phase's cost that a
// busy machine does not inflate the way it does wall-clock time.
double CpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// A bounded queue of byte pieces between the stream writer and the
// installer (what a socket would be between two nodes).
class Pipe {
 public:
  Status Write(std::string_view bytes) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return pieces_.size() < kPieces || closed_; });
    if (closed_) return Status::IOError("the reader is gone");
    pieces_.emplace_back(bytes);
    cv_.notify_all();
    return Status::Ok();
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  Status Read(char* buf, size_t n, size_t* got) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !pieces_.empty() || closed_; });
    *got = 0;
    if (pieces_.empty()) return Status::Ok();
    std::string& front = pieces_.front();
    *got = std::min(n, front.size() - offset_);
    std::memcpy(buf, front.data() + offset_, *got);
    offset_ += *got;
    if (offset_ == front.size()) {
      pieces_.pop_front();
      offset_ = 0;
      cv_.notify_all();
    }
    return Status::Ok();
  }

 private:
  static constexpr size_t kPieces = 8;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> pieces_;
  size_t offset_ = 0;
  bool closed_ = false;
};

void RunEngine(const Config& c, const std::string& kind, double disk_mbps) {
  const std::string root = c.dir + "/" + kind;
  Fresh(root);
  Options options;
  options.engine = kind;
  options.profile = DiskProfile::kSsd;
  std::unique_ptr<Engine> db;
  Check(strata::Open(options, root + "/db", &db), "open");

  // Fill: sequential keys, incompressible values, unsynced batches of 1000.
  std::mt19937_64 rng(7);
  std::string value(c.value_bytes, '\0');
  const uint64_t target = c.mib << 20;
  uint64_t logical = 0;
  uint64_t n = 0;
  auto t0 = Clock::now();
  while (logical < target) {
    WriteBatch batch;
    for (int i = 0; i < 1000; ++i, ++n) {
      for (size_t j = 0; j + 8 <= value.size(); j += 8) {
        const uint64_t r = rng();
        std::memcpy(value.data() + j, &r, 8);
      }
      const std::string key = fmt::format("key{:012}", n);
      Check(batch.Put(key, value), "batch");
      logical += key.size() + value.size();
    }
    Check(db->Write(WriteOptions{}, batch), "write");
  }
  Status flushed = db->Flush();
  if (!flushed.ok() && !flushed.IsNotSupported()) Check(flushed, "flush");
  const double fill_s = Seconds(t0);
  const uint64_t db_bytes = TreeBytes(root + "/db");
  fmt::print("{:<6} fill           {:>9.1f} s   {} keys, {:.0f} MiB logical, {:.0f} MiB on disk\n",
             kind, fill_s, n, logical / 1048576.0, db_bytes / 1048576.0);

  // Checkpoint of the whole state.
  CheckpointOptions co;
  co.dir = root + "/checkpoint";
  CheckpointInfo info;
  t0 = Clock::now();
  double cpu0 = CpuSeconds();
  Check(db->CreateCheckpoint(co, &info), "checkpoint");
  const double ckpt_s = Seconds(t0);
  fmt::print("{:<6} checkpoint     {:>9.3f} s   cpu {:.2f} s, wrote {:.1f} MiB = {:.2f}% of a full "
             "copy ({} files linked, {} copied)\n",
             kind, ckpt_s, CpuSeconds() - cpu0, info.bytes_written / 1048576.0,
             100.0 * static_cast<double>(info.bytes_written) / static_cast<double>(db_bytes),
             info.files_linked, info.files_copied);

  // Stream create -> pipe -> install, concurrently.
  std::unique_ptr<Snapshot> snap = db->GetSnapshot();
  Pipe pipe;
  snapshot::StreamInfo sent;
  Status writer_status;
  t0 = Clock::now();
  cpu0 = CpuSeconds();
  std::thread writer([&] {
    writer_status = snapshot::WriteSnapshotStream(
        db.get(), *snap, snapshot::StreamOptions{},
        [&](std::string_view bytes) { return pipe.Write(bytes); }, &sent);
    pipe.Close();
  });
  snapshot::InstallInfo installed;
  Options install_options;
  install_options.profile = DiskProfile::kSsd;
  Status s = snapshot::InstallSnapshot(
      [&](char* buf, size_t len, size_t* got) { return pipe.Read(buf, len, got); },
      root + "/installed", install_options, &installed);
  pipe.Close();  // a failed install stops the writer too
  writer.join();
  const double stream_s = Seconds(t0);
  const double stream_cpu = CpuSeconds() - cpu0;
  Check(writer_status, "stream");
  Check(s, "install");
  const double mbps = sent.payload_bytes / 1e6 / stream_s;
  fmt::print("{:<6} stream+install {:>9.2f} s   {:.0f} MB/s of payload = {:.2f}x the disk's "
             "sequential write rate; cpu {:.2f} s\n",
             kind, stream_s, mbps, mbps / disk_mbps, stream_cpu);
  snap.reset();
  Check(db->Close(), "close");
  db.reset();
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
}

}  // namespace
}  // namespace strata::bench

int main(int argc, char** argv) {
  using namespace strata::bench;
  Config c;
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
      c.dir = next();
    } else if (arg == "--mib") {
      c.mib = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--value-bytes") {
      c.value_bytes = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--engines") {
      c.engines.clear();
      std::string list = next();
      for (size_t pos = 0; pos <= list.size();) {
        const size_t comma = std::min(list.find(',', pos), list.size());
        if (comma > pos) c.engines.push_back(list.substr(pos, comma - pos));
        pos = comma + 1;
      }
    } else {
      fmt::print(stderr,
                 "usage: strata_snapshot_bench [--dir DIR] [--mib N] [--value-bytes N] "
                 "[--engines lsm,btree]\n");
      return 2;
    }
  }
  if (c.mib == 0 || c.value_bytes < 8) {
    fmt::print(stderr, "--mib must be > 0 and --value-bytes >= 8\n");
    return 2;
  }
  Fresh(c.dir);
  const double disk = SequentialWriteRate(c.dir, c.mib);
  fmt::print("disk   sequential write {:.0f} MB/s ({} MiB, 1 MiB pwrites + fdatasync)\n", disk,
             c.mib);
  for (const std::string& kind : c.engines) RunEngine(c, kind, disk);
  return 0;
}
