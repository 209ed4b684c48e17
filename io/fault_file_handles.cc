#include "io/fault_file_handles.h"

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

namespace strata::io {

// --- FaultWritableFile ------------------------------------------------------------

Status FaultWritableFile::Usable() const {
  if (!fs_->CheckEpoch(epoch_)) return fs_->DeadHandle(path());
  return failed_;
}

Status FaultWritableFile::Append(std::string_view data) {
  std::lock_guard lock(fs_->mu_);
  return WriteLocked(base_->size(), data);
}

Status FaultWritableFile::WriteAt(uint64_t offset, std::string_view data) {
  std::lock_guard lock(fs_->mu_);
  return WriteLocked(offset, data);
}

Status FaultWritableFile::WriteLocked(uint64_t offset, std::string_view data) {
  STRATA_RETURN_IF_ERROR(Usable());
  STRATA_RETURN_IF_ERROR(fs_->MaybeFail(FaultOp::kWrite, path()));
  std::optional<TearSpec> tear;
  if (fs_->tear_ && path().find(fs_->tear_->path_contains) != std::string::npos) {
    tear = std::move(fs_->tear_);
    fs_->tear_.reset();
  }
  STRATA_RETURN_IF_ERROR(fs_->BeforeWrite(node_id_, offset, data.size()));
  const uint64_t prefix = tear ? std::min<uint64_t>(tear->prefix_bytes, data.size()) : 0;
  if (tear && !tear->silent) {
    fs_->stats_.torn_writes++;
    if (prefix > 0) {
      STRATA_RETURN_IF_ERROR(base_->WriteAt(offset, data.substr(0, prefix)));
      fs_->AfterWrite(node_id_, prefix);
    }
    return Status::IOError(path() + " @ " + std::to_string(offset) + ": injected torn write (" +
                           std::to_string(prefix) + " of " + std::to_string(data.size()) +
                           " bytes written)");
  }
  STRATA_RETURN_IF_ERROR(base_->WriteAt(offset, data));
  fs_->AfterWrite(node_id_, data.size());
  if (tear) {
    fs_->stats_.torn_writes++;
    auto& end = fs_->nodes_.at(node_id_).silent_tear_end;
    end = std::min(end.value_or(UINT64_MAX), offset + prefix);
  }
  return Status::Ok();
}

Status FaultWritableFile::WriteAtAndSync(
    std::span<const std::pair<uint64_t, std::string_view>> writes) {
  std::lock_guard lock(fs_->mu_);
  for (const auto& [offset, data] : writes) STRATA_RETURN_IF_ERROR(WriteLocked(offset, data));
  return SyncLocked(/*all=*/false);
}

Status FaultWritableFile::DoSync(bool all) {
  std::lock_guard lock(fs_->mu_);
  return SyncLocked(all);
}

Status FaultWritableFile::SyncLocked(bool all) {
  STRATA_RETURN_IF_ERROR(Usable());
  Status s = fs_->MaybeFail(FaultOp::kSync, path());
  if (s.ok()) s = all ? base_->SyncAll() : base_->Sync();
  if (!s.ok()) {
    // The data is not durable and may never be: the file is failed for good.
    failed_ = s.WithContext("sync failed, file now failed");
    return failed_;
  }
  fs_->AfterSync(node_id_, base_->size());
  return Status::Ok();
}

Status FaultWritableFile::Allocate(uint64_t offset, uint64_t bytes) {
  std::lock_guard lock(fs_->mu_);
  STRATA_RETURN_IF_ERROR(Usable());
  STRATA_RETURN_IF_ERROR(fs_->MaybeFail(FaultOp::kWrite, path()));
  // Allocation keeps existing bytes; a crash cuts the size back, which is all
  // there is to undo.
  return base_->Allocate(offset, bytes);
}

Status FaultWritableFile::Truncate(uint64_t size) {
  std::lock_guard lock(fs_->mu_);
  STRATA_RETURN_IF_ERROR(Usable());
  STRATA_RETURN_IF_ERROR(fs_->MaybeFail(FaultOp::kWrite, path()));
  STRATA_RETURN_IF_ERROR(fs_->SaveOriginal(fs_->nodes_.at(node_id_), size, UINT64_MAX));
  return base_->Truncate(size);
}

// --- FaultRandomAccessFile ---------------------------------------------------------

Status FaultRandomAccessFile::BeforeRead() const {
  std::lock_guard lock(fs_->mu_);
  if (!fs_->CheckEpoch(epoch_)) return fs_->DeadHandle(path());
  return fs_->MaybeFail(FaultOp::kRead, path());
}

Status FaultRandomAccessFile::Read(uint64_t offset, size_t n, char* buf,
                                   size_t* bytes_read) const {
  STRATA_RETURN_IF_ERROR(BeforeRead());
  STRATA_RETURN_IF_ERROR(base_->Read(offset, n, buf, bytes_read));
  fs_->CountRead(*bytes_read);
  fs_->ApplyFlips(path(), offset, buf, *bytes_read);
  return Status::Ok();
}

Status FaultRandomAccessFile::ReadBatch(std::span<ReadRequest> requests) const {
  Status first;
  std::vector<size_t> passed;  // indexes of requests that go to the base
  for (size_t i = 0; i < requests.size(); i++) {
    requests[i].status = BeforeRead();
    requests[i].bytes_read = 0;
    if (requests[i].status.ok()) {
      passed.push_back(i);
    } else if (first.ok()) {
      first = requests[i].status;
    }
  }
  std::vector<ReadRequest> batch;
  batch.reserve(passed.size());
  for (size_t i : passed) batch.push_back(requests[i]);
  Status s = base_->ReadBatch(batch);
  if (!s.ok() && first.ok()) first = s;
  for (size_t j = 0; j < passed.size(); j++) {
    ReadRequest& req = requests[passed[j]];
    req.status = batch[j].status;
    req.bytes_read = batch[j].bytes_read;
    if (!req.status.ok()) continue;
    fs_->CountRead(req.bytes_read);
    fs_->ApplyFlips(path(), req.offset, req.buffer, req.bytes_read);
  }
  return first;
}

// --- FaultSequentialFile -------------------------------------------------------------

Status FaultSequentialFile::Read(size_t n, char* buf, size_t* bytes_read) {
  {
    std::lock_guard lock(fs_->mu_);
    if (!fs_->CheckEpoch(epoch_)) return fs_->DeadHandle(path());
    STRATA_RETURN_IF_ERROR(fs_->MaybeFail(FaultOp::kRead, path()));
  }
  STRATA_RETURN_IF_ERROR(base_->Read(n, buf, bytes_read));
  fs_->CountRead(*bytes_read);
  fs_->ApplyFlips(path(), offset_, buf, *bytes_read);
  offset_ += *bytes_read;
  return Status::Ok();
}

Status FaultSequentialFile::Skip(uint64_t n) {
  {
    std::lock_guard lock(fs_->mu_);
    if (!fs_->CheckEpoch(epoch_)) return fs_->DeadHandle(path());
  }
  STRATA_RETURN_IF_ERROR(base_->Skip(n));
  offset_ += n;
  return Status::Ok();
}

}  // namespace strata::io
