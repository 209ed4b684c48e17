#include "lsm/table_builder.h"

#include <algorithm>

#include "core/assert.h"
#include "lsm/lz4_block.h"

namespace strata::lsm {

namespace {
// Appends reach the file in pieces of at least this size (except the last).
constexpr size_t kWriteBufferBytes = 64 * 1024;
// Index blocks restart at every entry: their keys rarely share prefixes and
// a binary search over every entry is what Seek wants.
constexpr int kIndexRestartInterval = 1;
}  // namespace

TableBuilder::TableBuilder(const TableOptions& options, io::WritableFile* file)
    : options_(options),
      file_(file),
      data_block_(options.block_restart_interval),
      index_block_(kIndexRestartInterval) {
  STRATA_ASSERT(file_ != nullptr);
  STRATA_ASSERT(options_.block_bytes > 0);
  if (options_.bloom_bits_per_key > 0) {
    bloom_ = std::make_unique<BloomBuilder>(options_.bloom_bits_per_key);
  }
  if (options_.compression == Compression::kZstd) cctx_ = ZSTD_createCCtx();
  props_.compression = options_.compression;
  // Block handles are file offsets and the reader finds the footer at the end.
  STRATA_ASSERT(file_->size() == 0);
  write_buffer_.reserve(kWriteBufferBytes);
}

TableBuilder::~TableBuilder() {
  if (cctx_ != nullptr) ZSTD_freeCCtx(cctx_);
}

uint64_t TableBuilder::file_bytes() const {
  return offset_ + (data_block_.empty() ? 0 : data_block_.EstimatedBytes() + kBlockTrailerBytes);
}

Status TableBuilder::Add(std::string_view internal_key, std::string_view value) {
  STRATA_ASSERT(!closed_);
  ParsedInternalKey parsed;
  STRATA_ASSERT(ParseInternalKey(internal_key, &parsed));
  if (props_.entry_count > 0) STRATA_ASSERT(CompareInternalKeys(last_key_, internal_key) < 0);
  if (!status_.ok()) return status_;

  if (props_.entry_count == 0) {
    props_.smallest_key.assign(internal_key);
    props_.smallest_seq = parsed.sequence;
    props_.largest_seq = parsed.sequence;
  }
  props_.smallest_seq = std::min(props_.smallest_seq, parsed.sequence);
  props_.largest_seq = std::max(props_.largest_seq, parsed.sequence);
  ++props_.entry_count;
  if (parsed.type == ValueType::kDeletion) ++props_.deletion_count;
  props_.raw_key_bytes += internal_key.size();
  props_.raw_value_bytes += value.size();

  if (bloom_ != nullptr && (bloom_->key_count() == 0 || parsed.user_key != last_user_key_)) {
    bloom_->AddHash(BloomHash(parsed.user_key));
    last_user_key_.assign(parsed.user_key);
  }
  last_key_.assign(internal_key);
  data_block_.Add(internal_key, value);
  if (data_block_.EstimatedBytes() >= options_.block_bytes) return FlushDataBlock();
  return Status::Ok();
}

Status TableBuilder::FlushDataBlock() {
  STRATA_ASSERT(!data_block_.empty());
  const std::string_view contents = data_block_.Finish();
  props_.raw_data_bytes += contents.size();
  BlockHandle handle;
  status_ = WriteBlock(contents, /*may_compress=*/true, &handle);
  if (!status_.ok()) return status_;
  props_.data_bytes += handle.bytes + kBlockTrailerBytes;
  ++props_.data_block_count;
  // The block's last key separates it from the next block: every key in
  // the block is <= it and every later key is greater.
  std::string handle_bytes;
  EncodeBlockHandle(handle, &handle_bytes);
  index_block_.Add(last_key_, handle_bytes);
  data_block_.Reset();
  return Status::Ok();
}

Status TableBuilder::WriteBlock(std::string_view contents, bool may_compress,
                                BlockHandle* handle) {
  std::string_view stored = contents;
  BlockType type = BlockType::kRaw;
  if (may_compress && cctx_ != nullptr && skip_compression_ > 0) {
    --skip_compression_;  // recent blocks did not compress: do not try
  } else if (may_compress && cctx_ != nullptr) {
    ++compression_attempts_;
    compressed_.resize(ZSTD_compressBound(contents.size()));
    const size_t n = ZSTD_compressCCtx(cctx_, compressed_.data(), compressed_.size(),
                                       contents.data(), contents.size(), options_.zstd_level);
    // Compression failing is not fatal: the block is stored raw.
    const double limit = contents.size() * (1.0 - options_.compression_min_savings);
    if (!ZSTD_isError(n) && static_cast<double>(n) <= limit) {
      stored = std::string_view(compressed_.data(), n);
      type = BlockType::kZstd;
      ++props_.compressed_block_count;
      failed_runs_ = 0;
    } else {
      failed_runs_ = std::min<uint32_t>(failed_runs_ + 1, 6);
      skip_compression_ = std::min<uint32_t>((1u << failed_runs_) - 1, kCompressionSkipMax);
    }
  } else if (may_compress && options_.compression == Compression::kLz4) {
    const double limit = contents.size() * (1.0 - options_.compression_min_savings);
    if (Lz4CompressBlock(contents, &compressed_) &&
        static_cast<double>(compressed_.size()) <= limit) {
      stored = compressed_;
      type = BlockType::kLz4;
      ++props_.compressed_block_count;
    }
  }
  handle->offset = offset_;
  handle->bytes = stored.size();
  stored_.assign(stored);
  AppendBlockTrailer(stored, type, &stored_);
  return WriteRaw(stored_);
}

Status TableBuilder::WriteRaw(std::string_view bytes) {
  offset_ += bytes.size();
  if (write_buffer_.size() + bytes.size() > kWriteBufferBytes) {
    STRATA_RETURN_IF_ERROR(FlushWriteBuffer());
    if (bytes.size() >= kWriteBufferBytes) return file_->Append(bytes);
  }
  write_buffer_.append(bytes);
  return Status::Ok();
}

Status TableBuilder::FlushWriteBuffer() {
  if (write_buffer_.empty()) return Status::Ok();
  Status s = file_->Append(write_buffer_);
  write_buffer_.clear();
  return s;
}

Status TableBuilder::Finish() {
  STRATA_ASSERT(!closed_);
  closed_ = true;
  if (!status_.ok()) return status_;
  if (!data_block_.empty()) STRATA_RETURN_IF_ERROR(FlushDataBlock());
  props_.largest_key = last_key_;

  Footer footer;
  if (bloom_ != nullptr) {
    const std::string filter = bloom_->Finish();
    status_ = WriteBlock(filter, /*may_compress=*/false, &footer.filter);
    if (!status_.ok()) return status_;
    props_.filter_bytes = footer.filter.bytes + kBlockTrailerBytes;
  }
  status_ = WriteBlock(index_block_.Finish(), /*may_compress=*/false, &footer.index);
  if (!status_.ok()) return status_;
  props_.index_bytes = footer.index.bytes + kBlockTrailerBytes;
  if (!range_dels_.empty()) {
    std::sort(range_dels_.begin(), range_dels_.end(), RangeTombstoneBefore);
    BlockHandle handle;
    status_ = WriteBlock(EncodeRangeDelBlock(range_dels_), /*may_compress=*/false, &handle);
    if (!status_.ok()) return status_;
    props_.range_del_count = range_dels_.size();
    props_.range_del_offset = handle.offset;
    props_.range_del_bytes = handle.bytes;
    footer.format_version = kTableFormatVersionRangeDel;
  }
  const std::string props_block = EncodeTableProperties(props_);
  status_ = WriteBlock(props_block, /*may_compress=*/false, &footer.properties);
  if (!status_.ok()) return status_;

  std::string footer_bytes;
  EncodeFooter(footer, &footer_bytes);
  status_ = WriteRaw(footer_bytes);
  if (status_.ok()) status_ = FlushWriteBuffer();
  return status_;
}

void TableBuilder::AddRangeTombstone(const RangeTombstone& tombstone) {
  STRATA_ASSERT(!closed_);
  STRATA_ASSERT(tombstone.begin < tombstone.end);
  range_dels_.push_back(tombstone);
}

void TableBuilder::Abandon() {
  STRATA_ASSERT(!closed_);
  closed_ = true;
  write_buffer_.clear();
}

}  // namespace strata::lsm
