// Table::NewIterator: the two-level iterator (index block -> data blocks).
#include <memory>

#include "lsm/table.h"

namespace strata::lsm {

namespace {

// Walks the index; for each index entry loads the data block (through the
// cache, or the readahead buffer during sequential scans) and walks it.
class TableIterator final : public InternalIterator {
 public:
  TableIterator(const Table* table, const ReadOptions& options)
      : table_(table), fill_cache_(options.fill_cache), index_(table->NewIndexIterator()) {}

  bool Valid() const override { return data_ != nullptr && data_->Valid(); }
  std::string_view key() const override { return data_->key(); }
  std::string_view value() const override { return data_->value(); }

  Status status() const override {
    if (!status_.ok()) return status_;
    if (!index_->status().ok()) return index_->status();
    if (data_ != nullptr) return data_->status();
    return Status::Ok();
  }

  void SeekToFirst() override {
    index_->SeekToFirst();
    LoadBlock();
    if (data_ != nullptr) data_->SeekToFirst();
    SkipEmptyBlocks();
  }

  void Seek(std::string_view target) override {
    index_->Seek(target);
    LoadBlock();
    if (data_ != nullptr) data_->Seek(target);
    SkipEmptyBlocks();
  }

  void Next() override {
    if (!Valid()) return;
    data_->Next();
    SkipEmptyBlocks();
  }

 private:
  // Points data_ at the block of the current index entry (null when the
  // index is exhausted or on error).
  void LoadBlock() {
    data_.reset();
    if (!status_.ok() || !index_->Valid()) return;
    BlockHandle handle;
    Status s = table_->DecodeDataHandle(index_->value(), &handle);
    if (s.ok() && block_ != nullptr && block_->offset() == handle.offset) {
      data_ = block_->NewIterator();
      return;
    }
    if (s.ok()) s = table_->GetDataBlock(handle, fill_cache_, &readahead_, &block_);
    if (!s.ok()) {
      status_ = s;
      block_.reset();
      return;
    }
    data_ = block_->NewIterator();
  }

  // Moves to the next block while the current one is exhausted. A data
  // iterator that failed stops the walk (status() reports it).
  void SkipEmptyBlocks() {
    while (data_ != nullptr && !data_->Valid()) {
      if (!data_->status().ok()) return;
      index_->Next();
      LoadBlock();
      if (data_ != nullptr) data_->SeekToFirst();
    }
  }

  const Table* table_;
  const bool fill_cache_;
  std::unique_ptr<InternalIterator> index_;
  std::shared_ptr<const Block> block_;  // keeps the block alive while data_ reads it
  std::unique_ptr<InternalIterator> data_;
  ReadaheadBuffer readahead_;
  Status status_;
};

}  // namespace

std::unique_ptr<InternalIterator> Table::NewIterator(const ReadOptions& options) const {
  return std::make_unique<TableIterator>(this, options);
}

}  // namespace strata::lsm
