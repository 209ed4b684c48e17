// DeviceModelFileSystem: a FileSystem wrapper that charges every request the
// time a modeled disk would take, so a benchmark run on one machine can report
// what its I/O pattern would cost on a 7200 rpm HDD or a TLC SSD. By default
// it only accounts; with `pace` it also makes every request take its modeled
// time (one device queue: a request waits until the device is free, then
// occupies it for its cost), so a whole engine run experiences the modeled
// disk's latencies. The data goes to the base file system unchanged. io/DEVICE_MODEL.md explains the model, its formulas and the
// sources of the default constants.
//
//   auto fs = std::make_shared<io::DeviceModelFileSystem>(io::DefaultFileSystem(),
//                                                          io::DeviceModelConfig::Hdd());
//   options.file_system = fs;  ...  fs->stats().modeled_time()
//
// Placement: each file gets a slot of `file_slot_bytes` on the modeled disk
// the first time it is opened, in order of first open; byte `offset` of the
// file sits at address slot_index * file_slot_bytes + offset (modulo the HDD
// capacity). A rename keeps the slot; a removed file's slot is not reused.
//
// Ownership: holds the base. Handles point back at the file system and must
// not outlive it. Threading: thread safe; one mutex guards the model (the
// device has one head / one queue: requests are charged in the order they
// complete). The base I/O, and a paced request's sleep, run outside the mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/thread_annotations.h"
#include "io/file_system.h"

namespace strata::io {

// A 7200 rpm hard disk. Defaults: io/DEVICE_MODEL.md.
struct HddModel {
  uint64_t capacity_bytes = 1'000'000'000'000;  // 1 TB
  uint32_t rpm = 7200;                          // half a turn: 4.17 ms
  // Seek time grows with the square root of the distance, from a
  // track-to-track seek to a full-stroke seek (average ~8.5 ms for random
  // addresses over the whole disk).
  std::chrono::nanoseconds track_to_track_seek{1'000'000};
  std::chrono::nanoseconds full_stroke_seek{15'000'000};
  uint64_t transfer_bytes_per_second = 150'000'000;
  uint64_t file_slot_bytes = uint64_t{64} << 20;

  // Average rotational latency: half a revolution.
  std::chrono::nanoseconds RotationalLatency() const;
  // 0 for distance 0; else track_to_track + (full - track_to_track) *
  // sqrt(min(1, distance / capacity)).
  std::chrono::nanoseconds SeekTime(uint64_t distance_bytes) const;
  std::chrono::nanoseconds TransferTime(uint64_t bytes) const;
};

// A TLC NAND SSD seen through its flash translation layer. Defaults:
// io/DEVICE_MODEL.md.
struct SsdModel {
  uint64_t page_bytes = 4096;          // 16 KiB for many current TLC parts
  uint64_t erase_block_pages = 256;
  std::chrono::nanoseconds read_page{60'000};
  std::chrono::nanoseconds program_page{200'000};
  std::chrono::nanoseconds erase_block{3'000'000};
  std::chrono::nanoseconds flush{20'000};  // cache flush command, data already programmed
  uint32_t channels = 8;                    // pages of one request run in parallel
  uint64_t file_slot_bytes = uint64_t{64} << 20;
};

enum class DeviceKind : uint8_t { kHdd = 1, kSsd = 2 };

struct DeviceModelConfig {
  DeviceKind kind = DeviceKind::kSsd;
  HddModel hdd;
  SsdModel ssd;
  // Paced mode: a request returns no earlier than the end of its service on
  // the modeled device. The device serves one request at a time: a request
  // starts when it arrives or when the device is free (the "busy until"
  // clock), whichever is later, and occupies the device for its modeled
  // cost; the caller then sleeps until that end. So background flush and
  // compaction I/O delays foreground reads as on a real disk.
  bool pace = false;
  // Paced mode: a request arriving at most this long after the device went
  // idle starts when the device went idle, as if it had been queued. This
  // absorbs the kernel's sleep overshoot (tens of microseconds per sleep) so
  // that a long chain of tiny requests is not slowed by it; the device time
  // charged is unchanged. 0: every request starts no earlier than its arrival.
  std::chrono::nanoseconds pace_idle_credit{200'000};

  static DeviceModelConfig Hdd(const HddModel& model = HddModel{});
  static DeviceModelConfig Ssd(const SsdModel& model = SsdModel{});
  // InvalidArgument naming the bad field (zero sizes, slot not a multiple of
  // the erase block, full stroke shorter than track-to-track, ...).
  Status Validate() const;
};

struct DeviceModelStats {
  uint64_t requests = 0;  // reads + writes + syncs
  uint64_t read_requests = 0;
  uint64_t write_requests = 0;
  uint64_t sync_requests = 0;  // Sync, SyncAll, the sync of WriteAtAndSync, SyncDir
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t seeks = 0;  // HDD: requests that did not start where the head was
  uint64_t modeled_nanos = 0;
  // SSD only.
  uint64_t pages_read = 0;
  uint64_t pages_programmed = 0;
  uint64_t erase_blocks_touched = 0;  // distinct erase blocks written since reset
  uint64_t erases = 0;                // estimate: one per erase_block_pages programmed
  // Paced mode only.
  uint64_t paced_requests = 0;    // requests that occupied the modeled device
  uint64_t queued_nanos = 0;      // time requests waited for the device to be free

  std::chrono::nanoseconds modeled_time() const { return std::chrono::nanoseconds(modeled_nanos); }
  // One line for benchmark output: "modeled=1.234567s requests=10 (r=4 w=5 s=1) ...".
  std::string ToString() const;
};

class DeviceModelFileSystem : public FileSystem {
 public:
  // REQUIRES: config.Validate().ok() (asserted).
  DeviceModelFileSystem(std::shared_ptr<FileSystem> base, const DeviceModelConfig& config);
  DeviceModelFileSystem(const DeviceModelFileSystem&) = delete;
  DeviceModelFileSystem& operator=(const DeviceModelFileSystem&) = delete;

  DeviceModelStats stats() const;
  // Zeroes the counters. The head position and open SSD pages stay: they are
  // the device's state, not counters.
  void ResetStats();
  const DeviceModelConfig& config() const { return config_; }

  // Paced mode test hooks: the clock the queue reads and the sleep a request
  // ends with (default: steady_clock::now and sleep_until).
  using Clock = std::chrono::steady_clock;
  void SetClockForTesting(std::function<Clock::time_point()> now);
  void SetSleepForTesting(std::function<void(Clock::time_point)> sleep_until);
  const std::shared_ptr<FileSystem>& base() const { return base_; }

  // Accounting entry points used by this file system's handles. `slot` comes
  // from SlotFor().
  uint64_t SlotFor(const std::string& path);
  void ChargeRead(uint64_t slot, uint64_t offset, uint64_t bytes);
  void ChargeWrite(uint64_t slot, uint64_t offset, uint64_t bytes);
  // A sync of one file (slot) or of a directory (no slot).
  void ChargeSync(const uint64_t* slot);
  // A writable file closed: the SSD programs its open page (writeback).
  void ChargeClose(uint64_t slot);

  // --- FileSystem ---------------------------------------------------------
  Status NewWritableFile(const std::string& path, const FileOptions& options,
                         std::unique_ptr<WritableFile>* file) override;
  Status ReopenWritableFile(const std::string& path, const FileOptions& options,
                            std::unique_ptr<WritableFile>* file) override;
  Status NewRandomAccessFile(const std::string& path, const FileOptions& options,
                             std::unique_ptr<RandomAccessFile>* file) override;
  Status NewSequentialFile(const std::string& path, const FileOptions& options,
                           std::unique_ptr<SequentialFile>* file) override;
  Status CreateDir(const std::string& path) override { return base_->CreateDir(path); }
  Status ListDir(const std::string& path, std::vector<std::string>* names) override {
    return base_->ListDir(path, names);
  }
  Status SyncDir(const std::string& path) override;
  Status RemoveDir(const std::string& path) override { return base_->RemoveDir(path); }
  Status Rename(const std::string& from, const std::string& to) override;
  Status LinkFile(const std::string& from, const std::string& to) override;
  Status RenameExchange(const std::string& a, const std::string& b) override;
  Status RemoveFile(const std::string& path) override;
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Status Lock(const std::string& path, std::unique_ptr<FileLock>* lock) override {
    return base_->Lock(path, lock);
  }
  std::string_view name() const override { return name_; }

 private:
  // The modeled time of the charge that ran since `before` (a copy of
  // stats_.modeled_nanos): in paced mode, queues it on the device and returns
  // when it ends; else nullopt. REQUIRES: mu_ held.
  std::optional<Clock::time_point> Schedule(uint64_t modeled_before);
  // Sleeps until `end` if set. REQUIRES: mu_ not held.
  void SleepUntil(const std::optional<Clock::time_point>& end) const;
  // The charges themselves. REQUIRES: mu_ held.
  void ChargeReadLocked(uint64_t slot, uint64_t offset, uint64_t bytes);
  void ChargeWriteLocked(uint64_t slot, uint64_t offset, uint64_t bytes);
  void ChargeSyncLocked(const uint64_t* slot);
  // REQUIRES: mu_ held.
  uint64_t Address(uint64_t slot, uint64_t offset) const;
  void ChargeHddTransfer(uint64_t address, uint64_t bytes);
  // Programs pages (global page numbers) as one parallel step: charges time,
  // the erase-block set and the erase estimate.
  void ProgramPages(std::span<const uint64_t> pages);
  void ProgramOpenPage(uint64_t slot);

  std::shared_ptr<FileSystem> base_;
  const DeviceModelConfig config_;
  const std::string name_;

  // mu_ guards the whole device state below (one device, one queue).
  mutable std::mutex mu_;
  DeviceModelStats stats_ STRATA_GUARDED_BY(mu_);
  uint64_t head_address_ STRATA_GUARDED_BY(mu_) = 0;  // HDD: where the last request ended
  uint64_t next_slot_ STRATA_GUARDED_BY(mu_) = 0;
  // normalized path -> slot
  std::unordered_map<std::string, uint64_t> slots_ STRATA_GUARDED_BY(mu_);
  // SSD: per slot, the partly written page held in the write buffer.
  std::unordered_map<uint64_t, uint64_t> open_pages_ STRATA_GUARDED_BY(mu_);
  std::unordered_set<uint64_t> touched_erase_blocks_ STRATA_GUARDED_BY(mu_);
  uint64_t pages_since_erase_ STRATA_GUARDED_BY(mu_) = 0;
  // Paced mode: when the device finishes the last request it accepted.
  Clock::time_point busy_until_ STRATA_GUARDED_BY(mu_){};
  std::function<Clock::time_point()> now_ STRATA_GUARDED_BY(mu_);
  std::function<void(Clock::time_point)> sleep_until_;  // set before use, then read-only
};

}  // namespace strata::io
