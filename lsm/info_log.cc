#include "lsm/info_log.h"

#include <sys/time.h>

#include <ctime>

#include "core/assert.h"

namespace strata::lsm {

Status FileInfoLogger::Open(std::shared_ptr<io::FileSystem> fs, const std::string& dir,
                            size_t bytes_max, std::shared_ptr<InfoLogger>* logger) {
  STRATA_ASSERT(bytes_max > 0);
  std::unique_ptr<FileInfoLogger> l(new FileInfoLogger(std::move(fs), dir, bytes_max));
  {
    std::lock_guard lock(l->mu_);
    STRATA_RETURN_IF_ERROR(l->RotateLocked());
  }
  *logger = std::move(l);
  return Status::Ok();
}

FileInfoLogger::FileInfoLogger(std::shared_ptr<io::FileSystem> fs, std::string dir,
                               size_t bytes_max)
    : fs_(std::move(fs)), dir_(std::move(dir)), bytes_max_(bytes_max) {}

FileInfoLogger::~FileInfoLogger() {
  if (file_ != nullptr) (void)file_->Close();
}

Status FileInfoLogger::RotateLocked() {
  if (file_ != nullptr) {
    (void)file_->Close();
    file_.reset();
  }
  const std::string path = io::JoinPath(dir_, kInfoLogFileName);
  if (fs_->FileExists(path)) {
    STRATA_RETURN_IF_ERROR(fs_->Rename(path, io::JoinPath(dir_, kInfoLogOldFileName)));
  }
  bytes_ = 0;
  return fs_->NewWritableFile(path, io::FileOptions{}, &file_);
}

void FileInfoLogger::Log(std::string_view line) {
  std::lock_guard lock(mu_);
  if (file_ != nullptr && bytes_ > 0 && bytes_ + line.size() + 1 > bytes_max_) {
    // Best effort: a failed rotation leaves file_ null and drops lines.
    (void)RotateLocked();
  }
  if (file_ == nullptr) return;
  std::string text(line);
  text.push_back('\n');
  if (file_->Append(text).ok()) bytes_ += text.size();
}

void InfoLogLine(InfoLogger* logger, std::string_view message) {
  if (logger == nullptr) return;
  struct timeval now;
  ::gettimeofday(&now, nullptr);
  struct tm t;
  ::localtime_r(&now.tv_sec, &t);
  logger->Log(fmt::format("{:04}/{:02}/{:02}-{:02}:{:02}:{:02}.{:06} {}", t.tm_year + 1900,
                          t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                          static_cast<long>(now.tv_usec), message));
}

}  // namespace strata::lsm
