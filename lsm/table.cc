#include "lsm/table.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <span>

#include "core/assert.h"
#include "lsm/bloom.h"

namespace strata::lsm {

namespace {

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Status Table::Open(const TableOptions& options, std::unique_ptr<io::RandomAccessFile> file,
                   uint64_t file_bytes, uint64_t file_number, BlockCache* cache,
                   std::unique_ptr<Table>* table) {
  STRATA_ASSERT(file != nullptr);
  std::unique_ptr<Table> t(new Table());
  t->options_ = options;
  t->name_ = BaseName(file->path());
  t->file_ = std::move(file);
  t->file_bytes_ = file_bytes;
  t->file_number_ = file_number;
  t->cache_ = cache;

  if (file_bytes < kFooterBytes) {
    return TableCorruption(t->name_, 0,
                           "file too short for an sstable (" + std::to_string(file_bytes) +
                               " bytes, footer needs " + std::to_string(kFooterBytes) + ")");
  }
  std::string footer_bytes(kFooterBytes, '\0');
  size_t n = 0;
  STRATA_RETURN_IF_ERROR(
      t->file_->Read(file_bytes - kFooterBytes, kFooterBytes, footer_bytes.data(), &n));
  footer_bytes.resize(n);
  STRATA_RETURN_IF_ERROR(DecodeFooter(footer_bytes, file_bytes, t->name_, &t->footer_));
  STRATA_RETURN_IF_ERROR(t->ReadMetaBlocks());
  if (cache != nullptr) {
    t->pinned_bytes_ = t->index_->bytes() + t->filter_.size();
    cache->ChargePinned(t->pinned_bytes_);
  }
  *table = std::move(t);
  return Status::Ok();
}

Table::~Table() {
  if (cache_ != nullptr && pinned_bytes_ > 0) cache_->ReleasePinned(pinned_bytes_);
}

// Index, filter and properties in one batch (one io_uring submission).
Status Table::ReadMetaBlocks() {
  data_end_ = std::min(footer_.index.offset, footer_.properties.offset);
  if (!footer_.filter.empty()) data_end_ = std::min(data_end_, footer_.filter.offset);

  const BlockHandle* handles[] = {&footer_.index, &footer_.properties, &footer_.filter};
  const size_t count = footer_.filter.empty() ? 2 : 3;
  std::string blocks[3];
  io::ReadRequest requests[3];
  for (size_t i = 0; i < count; ++i) {
    blocks[i].resize(handles[i]->bytes + kBlockTrailerBytes);
    requests[i].offset = handles[i]->offset;
    requests[i].length = blocks[i].size();
    requests[i].buffer = blocks[i].data();
  }
  STRATA_RETURN_IF_ERROR(file_->ReadBatch(std::span(requests, count)));
  for (size_t i = 0; i < count; ++i) {
    blocks[i].resize(requests[i].bytes_read);
    STRATA_RETURN_IF_ERROR(DecodeStoredBlock(*handles[i], name_, &blocks[i]));
  }
  STRATA_RETURN_IF_ERROR(Block::Parse(std::move(blocks[0]), name_, footer_.index.offset, &index_));
  STRATA_RETURN_IF_ERROR(
      DecodeTableProperties(std::move(blocks[1]), name_, footer_.properties.offset, &props_));
  if (count == 3) {
    filter_ = std::move(blocks[2]);
    if (!BloomValid(filter_)) {
      return TableCorruption(name_, footer_.filter.offset, "malformed bloom filter");
    }
  }
  STRATA_RETURN_IF_ERROR(ReadRangeDelBlock());
  return CheckIndex();
}

// Only tables of format version 2 have one, and they always do. The block
// lies between the data blocks and the properties block.
Status Table::ReadRangeDelBlock() {
  const bool has_block = props_.range_del_count > 0;
  if (has_block != (footer_.format_version == kTableFormatVersionRangeDel)) {
    return TableCorruption(name_, footer_.properties.offset,
                           fmt::format("format version {} with {} range tombstones",
                                       footer_.format_version, props_.range_del_count));
  }
  if (!has_block) return Status::Ok();
  BlockHandle handle{props_.range_del_offset, props_.range_del_bytes};
  if (handle.offset < data_end_ || handle.bytes == 0 || handle.bytes > footer_.properties.offset ||
      handle.offset > footer_.properties.offset - handle.bytes - kBlockTrailerBytes) {
    return TableCorruption(name_, footer_.properties.offset,
                           fmt::format("range-deletion block [{}, +{}) outside the meta area",
                                       handle.offset, handle.bytes));
  }
  std::string block;
  STRATA_RETURN_IF_ERROR(ReadBlock(*file_, handle, name_, &block));
  std::vector<RangeTombstone> tombstones;
  STRATA_RETURN_IF_ERROR(DecodeRangeDelBlock(block, name_, handle.offset, &tombstones));
  if (tombstones.size() != props_.range_del_count) {
    return TableCorruption(name_, handle.offset,
                           fmt::format("range-deletion block holds {} tombstones, the "
                                       "properties say {}",
                                       tombstones.size(), props_.range_del_count));
  }
  range_dels_ = std::make_shared<const RangeDelIndex>(std::move(tombstones));
  return Status::Ok();
}

// Once at open, so that lookups can trust the index: every entry is a
// well-formed internal key, keys increase, and each handle decodes exactly
// and lies in the data area after the block before it; one entry per data
// block the properties count.
Status Table::CheckIndex() const {
  BlockIterator index(index_.get(), CompareInternalKeys);
  std::string previous;
  uint64_t data_end = 0;
  uint64_t block_count = 0;
  for (index.SeekToFirst(); index.Valid(); index.Next()) {
    const std::string where = "index entry " + std::to_string(block_count) + ": ";
    ParsedInternalKey parsed;
    if (!ParseInternalKey(index.key(), &parsed)) {
      return TableCorruption(name_, footer_.index.offset, where + "malformed internal key");
    }
    if (block_count > 0 && CompareInternalKeys(previous, index.key()) >= 0) {
      return TableCorruption(name_, footer_.index.offset, where + "keys out of order");
    }
    BlockHandle handle;
    STRATA_RETURN_IF_ERROR(DecodeDataHandle(index.value(), &handle));
    if (handle.offset < data_end) {
      return TableCorruption(name_, footer_.index.offset,
                             where + "data block overlaps the one before it");
    }
    data_end = handle.offset + handle.bytes + kBlockTrailerBytes;
    previous.assign(index.key());
    ++block_count;
  }
  STRATA_RETURN_IF_ERROR(index.status());
  if (block_count != props_.data_block_count) {
    return TableCorruption(name_, footer_.index.offset,
                           "index lists " + std::to_string(block_count) +
                               " data blocks, the properties say " +
                               std::to_string(props_.data_block_count));
  }
  return Status::Ok();
}

bool Table::KeyMayMatch(std::string_view user_key) const {
  if (filter_.empty()) return true;
  return BloomMayMatch(filter_, BloomHash(user_key));
}

Status Table::DecodeDataHandle(std::string_view index_value, BlockHandle* handle) const {
  if (!DecodeBlockHandle(&index_value, handle) || !index_value.empty()) {
    return TableCorruption(name_, footer_.index.offset, "bad block handle in index");
  }
  if (handle->offset > data_end_ || handle->bytes > data_end_ - handle->offset ||
      data_end_ - handle->offset - handle->bytes < kBlockTrailerBytes) {
    return TableCorruption(name_, footer_.index.offset,
                           "index points outside the data area (block @ " +
                               std::to_string(handle->offset) + ")");
  }
  return Status::Ok();
}

Status Table::GetDataBlock(const BlockHandle& handle, bool fill_cache, ReadaheadBuffer* readahead,
                           std::shared_ptr<const Block>* block) const {
  if (cache_ != nullptr) {
    *block = cache_->Lookup(file_number_, handle.offset);
    if (*block != nullptr) return Status::Ok();
  }
  BlockBuffer stored;
  bool have_stored = false;
  if (readahead != nullptr) {
    STRATA_RETURN_IF_ERROR(ReadThroughReadahead(handle, readahead, &stored, &have_stored));
  }
  if (!have_stored) {
    STRATA_RETURN_IF_ERROR(ReadBlock(*file_, handle, name_, &stored));
  }
  STRATA_RETURN_IF_ERROR(Block::Parse(std::move(stored), name_, handle.offset, block));
  if (cache_ != nullptr && fill_cache) cache_->Insert(file_number_, handle.offset, *block);
  return Status::Ok();
}

// A cache miss of a scan: counts sequential misses, reads ahead once there
// are enough, and takes the block from the read-ahead bytes when they hold
// it (*have_stored; the block is then verified and decompressed).
Status Table::ReadThroughReadahead(const BlockHandle& handle, ReadaheadBuffer* readahead,
                                   BlockBuffer* stored, bool* have_stored) const {
  ReadaheadBuffer& ra = *readahead;
  const uint64_t length = handle.bytes + kBlockTrailerBytes;
  if (handle.offset == ra.last_block_end) {
    ++ra.sequential_misses;
  } else {
    ra.sequential_misses = 0;
    ra.next_read_bytes = ReadaheadBuffer::kReadaheadBytesMin;
  }
  ra.last_block_end = handle.offset + length;
  if (!ra.Contains(handle.offset, length) &&
      (ra.fixed_bytes > 0 || ra.sequential_misses >= ReadaheadBuffer::kSequentialMissesMin)) {
    const uint64_t want = std::max<uint64_t>(length, ra.fixed_bytes > 0 ? ra.fixed_bytes
                                                                        : ra.next_read_bytes);
    ra.next_read_bytes = std::min(2 * ra.next_read_bytes, ReadaheadBuffer::kReadaheadBytesMax);
    const size_t read_bytes = static_cast<size_t>(std::min(want, data_end_ - handle.offset));
    if (read_bytes > ra.capacity) {
      ra.storage.reset(new char[read_bytes]);  // not zeroed: the read overwrites it
      ra.capacity = read_bytes;
    }
    ra.offset = handle.offset;
    ra.size = 0;
    STRATA_RETURN_IF_ERROR(file_->Read(handle.offset, read_bytes, ra.storage.get(), &ra.size));
  }
  if (!ra.Contains(handle.offset, length)) return Status::Ok();
  *stored = BlockBuffer(length);
  std::memcpy(stored->data(), ra.storage.get() + (handle.offset - ra.offset), length);
  STRATA_RETURN_IF_ERROR(DecodeStoredBlock(handle, name_, stored));
  *have_stored = true;
  return Status::Ok();
}

Status Table::Get(const ReadOptions& options, std::string_view lookup_internal_key, bool* found,
                  std::string* internal_key, std::string* value, bool* bloom_negative) const {
  STRATA_ASSERT(lookup_internal_key.size() >= kInternalKeyTrailerBytes);
  *found = false;
  if (bloom_negative != nullptr) *bloom_negative = false;
  if (!KeyMayMatch(ExtractUserKey(lookup_internal_key))) {
    if (bloom_negative != nullptr) *bloom_negative = true;
    return Status::Ok();
  }
  // Iterators on the stack: a point lookup allocates nothing but the value.
  BlockIterator index(index_.get(), CompareInternalKeys);
  index.Seek(lookup_internal_key);
  if (!index.Valid()) return index.status();
  BlockHandle handle;
  STRATA_RETURN_IF_ERROR(DecodeDataHandle(index.value(), &handle));
  std::shared_ptr<const Block> block;
  STRATA_RETURN_IF_ERROR(GetDataBlock(handle, options.fill_cache, nullptr, &block));
  BlockIterator it(block.get(), CompareInternalKeys);
  it.Seek(lookup_internal_key);
  if (!it.Valid()) {
    // The index promised an entry >= the key in this block.
    if (!it.status().ok()) return it.status();
    return TableCorruption(name_, handle.offset, "block ends before its index key");
  }
  if (ExtractUserKey(it.key()) == ExtractUserKey(lookup_internal_key)) {
    ParsedInternalKey parsed;
    if (!ParseInternalKey(it.key(), &parsed)) {
      return TableCorruption(name_, handle.offset, "bad internal key");
    }
    *found = true;
    internal_key->assign(it.key());
    value->assign(it.value());
  }
  return Status::Ok();
}

uint64_t Table::ApproximateOffsetOf(std::string_view internal_key) const {
  auto index = index_->NewIterator();
  index->Seek(internal_key);
  if (index->Valid()) {
    BlockHandle handle;
    if (DecodeDataHandle(index->value(), &handle).ok()) return handle.offset;
  }
  return data_end_;
}

Status Table::VerifyChecksums() const {
  auto index = index_->NewIterator();
  std::string previous;
  uint64_t entry_count = 0;
  for (index->SeekToFirst(); index->Valid(); index->Next()) {
    BlockHandle handle;
    STRATA_RETURN_IF_ERROR(DecodeDataHandle(index->value(), &handle));
    std::string stored;
    STRATA_RETURN_IF_ERROR(ReadBlock(*file_, handle, name_, &stored));
    std::shared_ptr<const Block> block;
    STRATA_RETURN_IF_ERROR(Block::Parse(std::move(stored), name_, handle.offset, &block));
    auto it = block->NewIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ParsedInternalKey parsed;
      if (!ParseInternalKey(it->key(), &parsed)) {
        return TableCorruption(name_, handle.offset, "bad internal key");
      }
      if (!previous.empty() && CompareInternalKeys(previous, it->key()) >= 0) {
        return TableCorruption(name_, handle.offset, "keys out of order");
      }
      previous.assign(it->key());
      ++entry_count;
    }
    STRATA_RETURN_IF_ERROR(it->status());
    if (!previous.empty() && CompareInternalKeys(previous, index->key()) != 0) {
      return TableCorruption(name_, handle.offset, "block's last key differs from its index key");
    }
  }
  STRATA_RETURN_IF_ERROR(index->status());
  if (entry_count != props_.entry_count) {
    return TableCorruption(name_, footer_.properties.offset,
                           "properties say " + std::to_string(props_.entry_count) +
                               " entries, data blocks hold " + std::to_string(entry_count));
  }
  return Status::Ok();
}

}  // namespace strata::lsm
