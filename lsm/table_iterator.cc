// Table::NewIterator: the two-level iterator (index block -> data blocks).
#include <memory>

#include "lsm/table.h"

namespace strata::lsm {

namespace {

// Walks the index; for each index entry loads the data block (through the
// cache, or the readahead buffer during sequential scans) and walks it.
class TableIterator final : public InternalIterator {
 public:
  TableIterator(const Table* table, const ReadOptions& options, size_t readahead_bytes,
                std::shared_ptr<const Table> pin = nullptr)
      : pin_(std::move(pin)), table_(table), fill_cache_(options.fill_cache),
        index_(table->index_block(), CompareInternalKeys) {
    readahead_.fixed_bytes = readahead_bytes;
  }

  bool Valid() const override { return has_data_ && data_.Valid(); }
  std::string_view key() const override { return data_.key(); }
  std::string_view value() const override { return data_.value(); }

  Status status() const override {
    if (!status_.ok()) return status_;
    if (!index_.status().ok()) return index_.status();
    if (has_data_) return data_.status();
    return Status::Ok();
  }

  void SeekToFirst() override {
    index_.SeekToFirst();
    LoadBlock();
    if (has_data_) data_.SeekToFirst();
    SkipEmptyBlocks();
  }

  void SeekToLast() override {
    index_.SeekToLast();
    LoadBlock();
    if (has_data_) data_.SeekToLast();
    SkipEmptyBlocksBackward();
  }

  void Seek(std::string_view target) override {
    index_.Seek(target);
    LoadBlock();
    if (has_data_) data_.Seek(target);
    SkipEmptyBlocks();
  }

  void Next() override {
    if (!Valid()) return;
    data_.Next();
    SkipEmptyBlocks();
  }

  // Backward block loads miss the read-ahead (it only follows forward
  // scans) and read block by block through the cache.
  void Prev() override {
    if (!Valid()) return;
    data_.Prev();
    SkipEmptyBlocksBackward();
  }

 private:
  // Points data_ at the block of the current index entry (has_data_ false
  // when the index is exhausted or on error). The data iterator is reused
  // from block to block, so walking a table allocates nothing per block.
  void LoadBlock() {
    has_data_ = false;
    if (!status_.ok() || !index_.Valid()) return;
    BlockHandle handle;
    Status s = table_->DecodeDataHandle(index_.value(), &handle);
    if (s.ok() && block_ != nullptr && block_->offset() == handle.offset) {
      data_.Reset(block_.get());
      has_data_ = true;
      return;
    }
    if (s.ok()) s = table_->GetDataBlock(handle, fill_cache_, &readahead_, &block_);
    if (!s.ok()) {
      status_ = s;
      data_.Reset(nullptr);
      block_.reset();
      return;
    }
    data_.Reset(block_.get());
    has_data_ = true;
  }

  // Moves to the next block while the current one is exhausted. A data
  // iterator that failed stops the walk (status() reports it).
  void SkipEmptyBlocks() {
    while (has_data_ && !data_.Valid()) {
      if (!data_.status().ok()) return;
      index_.Next();
      LoadBlock();
      if (has_data_) data_.SeekToFirst();
    }
  }

  // SkipEmptyBlocks for the backward direction: moves to earlier blocks.
  void SkipEmptyBlocksBackward() {
    while (has_data_ && !data_.Valid()) {
      if (!data_.status().ok()) return;
      index_.Prev();
      LoadBlock();
      if (has_data_) data_.SeekToLast();
    }
  }

  const std::shared_ptr<const Table> pin_;  // keeps a cached table open; may be null
  const Table* table_;
  const bool fill_cache_;
  BlockIterator index_;
  std::shared_ptr<const Block> block_;  // keeps the block alive while data_ reads it
  BlockIterator data_;
  bool has_data_ = false;
  ReadaheadBuffer readahead_;
  Status status_;
};

}  // namespace

std::unique_ptr<InternalIterator> Table::NewIterator(const ReadOptions& options,
                                                    size_t readahead_bytes) const {
  return std::make_unique<TableIterator>(this, options, readahead_bytes);
}

std::unique_ptr<InternalIterator> NewPinnedTableIterator(std::shared_ptr<const Table> table,
                                                         const ReadOptions& options,
                                                         size_t readahead_bytes) {
  const Table* raw = table.get();
  return std::make_unique<TableIterator>(raw, options, readahead_bytes, std::move(table));
}

}  // namespace strata::lsm
