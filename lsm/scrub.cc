// DBImpl::ScrubOnce and the background scrubber's pass (io/scrub.h): every
// live SSTable of the current Version is opened afresh (no block cache) and
// every block re-read from the file and verified.
#include <memory>

#include "io/scrub.h"
#include "lsm/db_impl.h"
#include "lsm/info_log.h"
#include "lsm/manifest.h"
#include "lsm/table.h"

namespace strata::lsm {

namespace {

// Verifies one table: footer, index, filter and properties (Table::Open),
// then every data block (VerifyChecksums), all read through `limiter`.
Status ScrubTable(io::FileSystem* fs, const std::string& dir, const TableOptions& options,
                  const FileMetaData& f, io::ByteRateLimiter* limiter) {
  std::unique_ptr<io::RandomAccessFile> file;
  STRATA_RETURN_IF_ERROR(
      io::OpenRateLimitedFile(fs, io::JoinPath(dir, TableFileName(f.number)), limiter, &file));
  std::unique_ptr<Table> table;
  STRATA_RETURN_IF_ERROR(
      Table::Open(options, std::move(file), f.file_bytes, f.number, nullptr, &table));
  return table->VerifyChecksums();
}

}  // namespace

Status DBImpl::ScrubOnce(io::ByteRateLimiter* limiter, const io::ScrubReportFn& report,
                         io::ScrubCounters* counters) {
  // The SuperVersion keeps the Version, and so its files, on disk until the
  // pass is done with them.
  const std::shared_ptr<const SuperVersion> sv = GetSuperVersion();
  for (int level = 0; level < kLevelCount; ++level) {
    for (const auto& f : sv->version->files(level)) {
      const Status s = ScrubTable(fs_.get(), path_, table_options_, *f, limiter);
      if (s.IsBusy()) return s;
      ++counters->files;
      if (s.IsCorruption()) {
        report(s);
      } else if (!s.ok()) {
        ++counters->errors;
        InfoLog(info_log_.get(), "scrub: {}: {}", TableFileName(f->number), s.ToString());
      }
    }
  }
  return Status::Ok();
}

void DBImpl::StartScrubber() {
  if (options_.scrub_bytes_per_second == 0 || read_only_) return;
  scrubber_ = std::make_unique<io::BackgroundScrubber>(
      options_, info_log_.get(),
      [this](io::ByteRateLimiter* limiter, const io::ScrubReportFn& report,
             io::ScrubCounters* counters) { return ScrubOnce(limiter, report, counters); });
}

}  // namespace strata::lsm
