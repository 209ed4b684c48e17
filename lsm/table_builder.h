// TableBuilder: writes one SSTable (lsm/FORMAT.md) from internal keys added in
// strictly increasing order.
//
// Ownership: writes to a WritableFile it does not own; the caller syncs and
// closes the file after Finish(). Errors from the file are sticky: once an
// Append fails, every later call returns that status.
// Threading: one user.
#pragma once

#include <zstd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/file_system.h"
#include "lsm/block_builder.h"
#include "lsm/bloom.h"
#include "lsm/format.h"
#include "lsm/range_del.h"
#include "lsm/table_options.h"
#include "lsm/table_properties.h"

namespace strata::lsm {

class TableBuilder {
 public:
  // REQUIRES: `file` is empty.
  TableBuilder(const TableOptions& options, io::WritableFile* file);
  ~TableBuilder();
  TableBuilder(const TableBuilder&) = delete;
  TableBuilder& operator=(const TableBuilder&) = delete;

  // REQUIRES: internal_key is a valid internal key, strictly greater than the
  // previous one (CompareInternalKeys); Finish()/Abandon() not called.
  Status Add(std::string_view internal_key, std::string_view value);
  // Range tombstones for the range-deletion block, in any order; may be
  // called any number of times before Finish().
  void AddRangeTombstone(const RangeTombstone& tombstone);
  // Writes the last data block, filter, index, properties and footer.
  Status Finish();
  // Stops without writing the tail; the caller deletes the file.
  void Abandon();

  uint64_t entry_count() const { return props_.entry_count; }
  // Data blocks compression was tried on (see failed_runs_).
  uint64_t compression_attempts() const { return compression_attempts_; }
  // Bytes written so far plus the open data block: exact after Finish().
  uint64_t file_bytes() const;
  const TableProperties& properties() const { return props_; }

 private:
  Status FlushDataBlock();
  // Writes `contents` plus its trailer, compressed if allowed and worth it.
  Status WriteBlock(std::string_view contents, bool may_compress, BlockHandle* handle);
  Status WriteRaw(std::string_view bytes);
  Status FlushWriteBuffer();

  const TableOptions options_;
  io::WritableFile* const file_;
  Status status_;
  bool closed_ = false;  // Finish() or Abandon() called

  BlockBuilder data_block_;
  BlockBuilder index_block_;
  std::unique_ptr<BloomBuilder> bloom_;  // null without a filter
  std::string last_key_;
  std::string last_user_key_;

  uint64_t offset_ = 0;        // bytes handed to WriteRaw
  std::string write_buffer_;   // batches small appends into fewer file writes
  std::string compressed_;     // scratch for zstd or lz4 output
  std::string stored_;         // scratch for contents + trailer
  ZSTD_CCtx* cctx_ = nullptr;
  // Incompressible data (encrypted or already compressed values) would pay
  // a full compression attempt per block for nothing: after `failed_runs_`
  // blocks in a row did not shrink enough, the next 2^failed_runs_ - 1
  // blocks (at most kCompressionSkipMax) are stored raw without trying.
  // One success resets it, so compressible data is found again within
  // kCompressionSkipMax + 1 blocks.
  static constexpr uint32_t kCompressionSkipMax = 63;
  uint32_t failed_runs_ = 0;
  uint32_t skip_compression_ = 0;
  uint64_t compression_attempts_ = 0;
  TableProperties props_;
  std::vector<RangeTombstone> range_dels_;
};

}  // namespace strata::lsm
