#include "io/device_model.h"

#include <cmath>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/assert.h"

namespace strata::io {

using std::chrono::nanoseconds;

namespace {

constexpr uint64_t kNanosPerSecond = 1'000'000'000;
constexpr uint64_t kSecondsPerMinute = 60;

std::string NormalizePath(const std::string& path) {
  std::string out = std::filesystem::path(path).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

uint64_t CeilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

}  // namespace

// --- Models ---------------------------------------------------------------------

nanoseconds HddModel::RotationalLatency() const {
  const uint64_t revolution_nanos = kSecondsPerMinute * kNanosPerSecond / rpm;
  return nanoseconds(revolution_nanos / 2);
}

nanoseconds HddModel::SeekTime(uint64_t distance_bytes) const {
  if (distance_bytes == 0) return nanoseconds(0);
  const double fraction =
      std::min(1.0, static_cast<double>(distance_bytes) / static_cast<double>(capacity_bytes));
  const double span = static_cast<double>((full_stroke_seek - track_to_track_seek).count());
  return track_to_track_seek + nanoseconds(static_cast<int64_t>(span * std::sqrt(fraction)));
}

nanoseconds HddModel::TransferTime(uint64_t bytes) const {
  const double seconds = static_cast<double>(bytes) / static_cast<double>(transfer_bytes_per_second);
  return nanoseconds(static_cast<int64_t>(seconds * static_cast<double>(kNanosPerSecond)));
}

DeviceModelConfig DeviceModelConfig::Hdd(const HddModel& model) {
  DeviceModelConfig config;
  config.kind = DeviceKind::kHdd;
  config.hdd = model;
  return config;
}

DeviceModelConfig DeviceModelConfig::Ssd(const SsdModel& model) {
  DeviceModelConfig config;
  config.kind = DeviceKind::kSsd;
  config.ssd = model;
  return config;
}

Status DeviceModelConfig::Validate() const {
  auto bad = [](const char* what) {
    return Status::InvalidArgument(std::string("device model: ") + what);
  };
  if (pace_idle_credit.count() < 0) return bad("pace_idle_credit must be >= 0");
  if (kind == DeviceKind::kHdd) {
    if (hdd.capacity_bytes == 0) return bad("hdd.capacity_bytes must be > 0");
    if (hdd.rpm == 0) return bad("hdd.rpm must be > 0");
    if (hdd.transfer_bytes_per_second == 0) return bad("hdd.transfer_bytes_per_second must be > 0");
    if (hdd.file_slot_bytes == 0) return bad("hdd.file_slot_bytes must be > 0");
    if (hdd.track_to_track_seek.count() < 0) return bad("hdd.track_to_track_seek must be >= 0");
    if (hdd.full_stroke_seek < hdd.track_to_track_seek) {
      return bad("hdd.full_stroke_seek must be >= hdd.track_to_track_seek");
    }
    return Status::Ok();
  }
  if (kind != DeviceKind::kSsd) return bad("kind must be kHdd or kSsd");
  if (ssd.page_bytes == 0) return bad("ssd.page_bytes must be > 0");
  if (ssd.erase_block_pages == 0) return bad("ssd.erase_block_pages must be > 0");
  if (ssd.channels == 0) return bad("ssd.channels must be > 0");
  if (ssd.file_slot_bytes == 0 || ssd.file_slot_bytes % (ssd.page_bytes * ssd.erase_block_pages)) {
    return bad("ssd.file_slot_bytes must be a positive multiple of the erase block");
  }
  return Status::Ok();
}

std::string DeviceModelStats::ToString() const {
  const uint64_t micros = modeled_nanos / 1000;
  std::string seconds = std::to_string(micros / 1'000'000) + ".";
  const std::string fraction = std::to_string(micros % 1'000'000);
  seconds += std::string(6 - fraction.size(), '0') + fraction;
  return "modeled=" + seconds + "s requests=" + std::to_string(requests) +
         " (r=" + std::to_string(read_requests) + " w=" + std::to_string(write_requests) +
         " s=" + std::to_string(sync_requests) + ") bytes_read=" + std::to_string(bytes_read) +
         " bytes_written=" + std::to_string(bytes_written) + " seeks=" + std::to_string(seeks) +
         " pages_read=" + std::to_string(pages_read) +
         " pages_programmed=" + std::to_string(pages_programmed) +
         " erase_blocks_touched=" + std::to_string(erase_blocks_touched) +
         " erases=" + std::to_string(erases) +
         (paced_requests == 0 ? std::string()
                              : " paced=" + std::to_string(paced_requests) +
                                    " queued_us=" + std::to_string(queued_nanos / 1000));
}

// --- Accounting -------------------------------------------------------------------

DeviceModelFileSystem::DeviceModelFileSystem(std::shared_ptr<FileSystem> base,
                                             const DeviceModelConfig& config)
    : base_(std::move(base)),
      config_(config),
      name_(std::string(config.kind == DeviceKind::kHdd ? "hdd-model(" : "ssd-model(") +
            std::string(base_->name()) + ")") {
  STRATA_ASSERT(config_.Validate().ok());
  now_ = [] { return Clock::now(); };
  sleep_until_ = [](Clock::time_point t) { std::this_thread::sleep_until(t); };
}

void DeviceModelFileSystem::SetClockForTesting(std::function<Clock::time_point()> now) {
  std::lock_guard lock(mu_);
  now_ = std::move(now);
}

void DeviceModelFileSystem::SetSleepForTesting(std::function<void(Clock::time_point)> sleep_until) {
  sleep_until_ = std::move(sleep_until);
}

std::optional<DeviceModelFileSystem::Clock::time_point> DeviceModelFileSystem::Schedule(
    uint64_t modeled_before) {
  if (!config_.pace) return std::nullopt;
  const nanoseconds cost(stats_.modeled_nanos - modeled_before);
  const Clock::time_point arrival = now_();
  // One queue: start when the device is free. A request that arrives just
  // after the device went idle is treated as queued (pace_idle_credit).
  Clock::time_point start = arrival;
  if (busy_until_ >= arrival) {
    start = busy_until_;
    stats_.queued_nanos += static_cast<uint64_t>(nanoseconds(busy_until_ - arrival).count());
  } else if (arrival - busy_until_ <= config_.pace_idle_credit) {
    start = busy_until_;
  }
  busy_until_ = start + cost;
  stats_.paced_requests++;
  return busy_until_;
}

void DeviceModelFileSystem::SleepUntil(const std::optional<Clock::time_point>& end) const {
  if (end.has_value()) sleep_until_(*end);
}

DeviceModelStats DeviceModelFileSystem::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void DeviceModelFileSystem::ResetStats() {
  std::lock_guard lock(mu_);
  stats_ = DeviceModelStats{};
  touched_erase_blocks_.clear();
}

uint64_t DeviceModelFileSystem::SlotFor(const std::string& path) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = slots_.try_emplace(NormalizePath(path), next_slot_);
  if (inserted) next_slot_++;
  return it->second;
}

uint64_t DeviceModelFileSystem::Address(uint64_t slot, uint64_t offset) const {
  if (config_.kind == DeviceKind::kHdd) {
    return (slot * config_.hdd.file_slot_bytes + offset) % config_.hdd.capacity_bytes;
  }
  return slot * config_.ssd.file_slot_bytes + offset;
}

void DeviceModelFileSystem::ChargeHddTransfer(uint64_t address, uint64_t bytes) {
  const HddModel& hdd = config_.hdd;
  nanoseconds cost = hdd.TransferTime(bytes);
  if (address != head_address_) {
    // Move the arm, then wait on average half a turn for the sector.
    const uint64_t distance =
        address > head_address_ ? address - head_address_ : head_address_ - address;
    cost += hdd.SeekTime(distance) + hdd.RotationalLatency();
    stats_.seeks++;
  }
  stats_.modeled_nanos += static_cast<uint64_t>(cost.count());
  head_address_ = address + bytes;
}

void DeviceModelFileSystem::ProgramPages(std::span<const uint64_t> pages) {
  const SsdModel& ssd = config_.ssd;
  if (pages.empty()) return;
  const uint64_t steps = CeilDiv(pages.size(), ssd.channels);
  stats_.modeled_nanos += steps * static_cast<uint64_t>(ssd.program_page.count());
  stats_.pages_programmed += pages.size();
  for (uint64_t page : pages) touched_erase_blocks_.insert(page / ssd.erase_block_pages);
  stats_.erase_blocks_touched = touched_erase_blocks_.size();
  // The FTL writes pages log-structured into erased blocks: one erase per
  // erase block's worth of programmed pages (no garbage-collection copies).
  pages_since_erase_ += pages.size();
  while (pages_since_erase_ >= ssd.erase_block_pages) {
    pages_since_erase_ -= ssd.erase_block_pages;
    stats_.erases++;
    stats_.modeled_nanos += static_cast<uint64_t>(ssd.erase_block.count());
  }
}

void DeviceModelFileSystem::ProgramOpenPage(uint64_t slot) {
  auto it = open_pages_.find(slot);
  if (it == open_pages_.end()) return;
  const uint64_t page = it->second;
  open_pages_.erase(it);
  ProgramPages(std::span<const uint64_t>(&page, 1));
}

void DeviceModelFileSystem::ChargeRead(uint64_t slot, uint64_t offset, uint64_t bytes) {
  std::optional<Clock::time_point> end;
  {
    std::lock_guard lock(mu_);
    const uint64_t before = stats_.modeled_nanos;
    ChargeReadLocked(slot, offset, bytes);
    end = Schedule(before);
  }
  SleepUntil(end);
}

void DeviceModelFileSystem::ChargeReadLocked(uint64_t slot, uint64_t offset, uint64_t bytes) {
  stats_.requests++;
  stats_.read_requests++;
  stats_.bytes_read += bytes;
  const uint64_t address = Address(slot, offset);
  if (config_.kind == DeviceKind::kHdd) {
    ChargeHddTransfer(address, bytes);
    return;
  }
  const SsdModel& ssd = config_.ssd;
  if (bytes == 0) return;
  const uint64_t pages = (address + bytes - 1) / ssd.page_bytes - address / ssd.page_bytes + 1;
  stats_.pages_read += pages;
  stats_.modeled_nanos += CeilDiv(pages, ssd.channels) * static_cast<uint64_t>(ssd.read_page.count());
}

void DeviceModelFileSystem::ChargeWrite(uint64_t slot, uint64_t offset, uint64_t bytes) {
  std::optional<Clock::time_point> end;
  {
    std::lock_guard lock(mu_);
    const uint64_t before = stats_.modeled_nanos;
    ChargeWriteLocked(slot, offset, bytes);
    end = Schedule(before);
  }
  SleepUntil(end);
}

void DeviceModelFileSystem::ChargeWriteLocked(uint64_t slot, uint64_t offset, uint64_t bytes) {
  stats_.requests++;
  stats_.write_requests++;
  stats_.bytes_written += bytes;
  const uint64_t address = Address(slot, offset);
  if (config_.kind == DeviceKind::kHdd) {
    ChargeHddTransfer(address, bytes);
    return;
  }
  const SsdModel& ssd = config_.ssd;
  if (bytes == 0) return;
  // Every page the write touches is programmed now, except a partly written
  // last page: it waits in the write buffer (the file's open page) for the
  // rest of its bytes, a sync, or the close.
  const uint64_t first = address / ssd.page_bytes;
  const uint64_t end = address + bytes;
  const bool partial_last = end % ssd.page_bytes != 0;
  const uint64_t last = (end - 1) / ssd.page_bytes;
  std::vector<uint64_t> pages;
  for (uint64_t page = first; page <= last; page++) {
    if (page != last || !partial_last) pages.push_back(page);
  }
  auto open = open_pages_.find(slot);
  if (open != open_pages_.end() && (open->second < first || open->second > last)) {
    pages.push_back(open->second);  // the write left the buffered page behind
  }
  if (partial_last) {
    open_pages_[slot] = last;
  } else {
    open_pages_.erase(slot);
  }
  ProgramPages(pages);
}

void DeviceModelFileSystem::ChargeSync(const uint64_t* slot) {
  std::optional<Clock::time_point> end;
  {
    std::lock_guard lock(mu_);
    const uint64_t before = stats_.modeled_nanos;
    ChargeSyncLocked(slot);
    end = Schedule(before);
  }
  SleepUntil(end);
}

void DeviceModelFileSystem::ChargeSyncLocked(const uint64_t* slot) {
  stats_.requests++;
  stats_.sync_requests++;
  if (config_.kind == DeviceKind::kHdd) {
    // The drive writes its cache out: on average half a turn.
    stats_.modeled_nanos += static_cast<uint64_t>(config_.hdd.RotationalLatency().count());
    return;
  }
  if (slot != nullptr) ProgramOpenPage(*slot);
  stats_.modeled_nanos += static_cast<uint64_t>(config_.ssd.flush.count());
}

void DeviceModelFileSystem::ChargeClose(uint64_t slot) {
  std::optional<Clock::time_point> end;
  {
    std::lock_guard lock(mu_);
    if (config_.kind != DeviceKind::kSsd || !open_pages_.contains(slot)) return;
    const uint64_t before = stats_.modeled_nanos;
    ProgramOpenPage(slot);
    end = Schedule(before);
  }
  SleepUntil(end);
}

}  // namespace strata::io
