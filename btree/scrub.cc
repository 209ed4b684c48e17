// BtreeImpl::ScrubOnce and the background scrubber's pass (io/scrub.h).
//
// The pass walks the newest durable checkpoint from the file (CheckFile:
// every reachable page's checksum, number, type and key order, overflow
// chains, the free list) through a rate-limited reader. Pages a durable
// checkpoint reaches are never overwritten, but once a newer checkpoint is
// durable the older one's pages may be reused while the pass still reads
// them: a violation counts only if no checkpoint completed during the pass
// (otherwise the next pass looks again).
#include <memory>

#include "btree/btree_impl.h"
#include "btree/check.h"

namespace strata::btree {

Status BtreeImpl::ScrubOnce(io::ByteRateLimiter* limiter, const io::ScrubReportFn& report,
                            io::ScrubCounters* counters) {
  uint64_t gen = 0;
  {
    std::lock_guard lock(apply_mu_);
    gen = durable_gen_;
  }
  std::unique_ptr<io::RandomAccessFile> file;
  STRATA_RETURN_IF_ERROR(io::OpenRateLimitedFile(fs_.get(), data_file(), limiter, &file));
  CheckReport check;
  const Status s = CheckFile(*file, &check);
  if (s.IsBusy()) return s;
  ++counters->files;
  if (s.ok()) return s;
  {
    std::lock_guard lock(apply_mu_);
    if (durable_gen_ != gen) return Status::Ok();
  }
  if (s.IsCorruption()) {
    report(s);
  } else {
    ++counters->errors;
    if (options_.info_log != nullptr) options_.info_log->Log("scrub: " + s.ToString());
  }
  return Status::Ok();
}

void BtreeImpl::StartScrubber() {
  if (options_.scrub_bytes_per_second == 0) return;
  scrubber_ = std::make_unique<io::BackgroundScrubber>(
      options_, options_.info_log.get(),
      [this](io::ByteRateLimiter* limiter, const io::ScrubReportFn& report,
             io::ScrubCounters* counters) { return ScrubOnce(limiter, report, counters); });
}

}  // namespace strata::btree
