#include "io/scrub.h"

#include <string_view>

#include "core/assert.h"

namespace strata::io {

ByteRateLimiter::ByteRateLimiter(uint64_t bytes_per_second)
    : bytes_per_second_(bytes_per_second), start_(std::chrono::steady_clock::now()) {
  STRATA_ASSERT(bytes_per_second_ > 0);
}

std::chrono::microseconds ByteRateLimiter::booked_time() const {
  // 128-bit arithmetic: bytes * 1e6 overflows 64 bits past 18 TB.
  const unsigned __int128 micros =
      static_cast<unsigned __int128>(bytes_acquired_.load()) * 1'000'000 / bytes_per_second_;
  return std::chrono::microseconds(static_cast<int64_t>(micros));
}

Status ByteRateLimiter::Acquire(uint64_t bytes) {
  bytes_acquired_.fetch_add(bytes);
  const auto due = start_ + booked_time();
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, due, [&] { return stopped_; });
  return stopped_ ? Status::Busy("scrub stopped") : Status::Ok();
}

bool ByteRateLimiter::WaitFor(std::chrono::microseconds duration) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, duration, [&] { return stopped_; });
  return !stopped_;
}

void ByteRateLimiter::Stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  cv_.notify_all();
}

Status RateLimitedFile::Read(uint64_t offset, size_t n, char* buf, size_t* bytes_read) const {
  STRATA_RETURN_IF_ERROR(limiter_->Acquire(n));
  return base_->Read(offset, n, buf, bytes_read);
}

Status OpenRateLimitedFile(FileSystem* fs, const std::string& path, ByteRateLimiter* limiter,
                           std::unique_ptr<RandomAccessFile>* file) {
  std::unique_ptr<RandomAccessFile> base;
  STRATA_RETURN_IF_ERROR(fs->NewRandomAccessFile(path, FileOptions{}, &base));
  *file = std::make_unique<RateLimitedFile>(std::move(base), limiter);
  return Status::Ok();
}

BackgroundScrubber::BackgroundScrubber(const Options& options, InfoLogger* info_log,
                                       ScrubPassFn pass)
    : callback_(options.on_scrub_corruption),
      info_log_(info_log),
      pass_(std::move(pass)),
      limiter_(options.scrub_bytes_per_second) {
  thread_ = std::thread([this] { Run(); });
}

BackgroundScrubber::~BackgroundScrubber() { Stop(); }

void BackgroundScrubber::Stop() {
  limiter_.Stop();
  if (thread_.joinable()) thread_.join();
}

ScrubCounters BackgroundScrubber::counters() const {
  std::lock_guard lock(mu_);
  ScrubCounters c = counters_;
  c.bytes = limiter_.bytes_acquired();
  return c;
}

void BackgroundScrubber::AppendProperties(
    std::vector<std::pair<std::string, uint64_t>>* properties) const {
  const ScrubCounters c = counters();
  properties->emplace_back("scrub.passes", c.passes);
  properties->emplace_back("scrub.files", c.files);
  properties->emplace_back("scrub.bytes", c.bytes);
  properties->emplace_back("scrub.corruptions", c.corruptions);
  properties->emplace_back("scrub.errors", c.errors);
}

void BackgroundScrubber::Report(const Status& corruption) {
  {
    std::lock_guard lock(mu_);
    ++counters_.corruptions;
  }
  if (info_log_ != nullptr) info_log_->Log("scrub: " + corruption.ToString());
  if (callback_) callback_(corruption);
}

void BackgroundScrubber::Run() {
  const ScrubReportFn report = [this](const Status& s) { Report(s); };
  while (true) {
    ScrubCounters pass_counters;
    const Status s = pass_(&limiter_, report, &pass_counters);
    if (s.IsBusy()) return;  // stopped
    {
      std::lock_guard lock(mu_);
      counters_.files += pass_counters.files;
      counters_.errors += pass_counters.errors;
      if (s.ok()) {
        ++counters_.passes;
      } else {
        ++counters_.errors;
      }
    }
    if (!s.ok() && info_log_ != nullptr) info_log_->Log("scrub: pass failed: " + s.ToString());
    if (!limiter_.WaitFor(kScrubPassPause)) return;
  }
}

}  // namespace strata::io
