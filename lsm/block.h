// Block: an immutable, parsed block (data, index or properties) and its
// iterator. The format is in lsm/FORMAT.md ("Block contents").
//
// Ownership: a Block owns its bytes; iterators borrow the Block and must not
// outlive it (the table iterator keeps a shared_ptr to the Block it reads).
// Threading: a Block is immutable and may be shared; each iterator has one user.
// Every decode is bounds-checked: a bad entry makes the iterator invalid with
// a Corruption status naming the file and the block's offset.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lsm/dbformat.h"
#include "lsm/format.h"
#include "strata/status.h"

namespace strata::lsm {

// Three-way comparison used to order a block's keys.
using KeyComparator = int (*)(std::string_view, std::string_view);
int CompareBytewise(std::string_view a, std::string_view b);

class Block {
 public:
  // `name` and `offset` identify the block in error messages. `keys` is the
  // comparator the block's keys are ordered by: with CompareInternalKeys
  // (data and index blocks) every restart entry is checked here, once, to
  // hold a whole, well-formed internal key, in increasing order, so that
  // Seek's binary search compares only well-formed keys without checking
  // each one. Keys between restarts are checked as the iterator decodes them.
  static Status Parse(std::string contents, const std::string& name, uint64_t offset,
                      std::shared_ptr<const Block>* block,
                      KeyComparator keys = CompareInternalKeys);
  // The same for contents in a BlockBuffer (data blocks read on demand).
  static Status Parse(BlockBuffer contents, const std::string& name, uint64_t offset,
                      std::shared_ptr<const Block>* block,
                      KeyComparator keys = CompareInternalKeys);

  // Not copyable: data_ views the block's own storage.
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  // Bytes held (for cache charging).
  size_t bytes() const { return data_.size(); }
  std::string_view data() const { return data_; }
  uint32_t restart_count() const { return restart_count_; }
  uint64_t offset() const { return offset_; }
  const std::string& file_name() const { return name_; }

  // Iterator over internal keys (data and index blocks), or any keys with `cmp`.
  std::unique_ptr<InternalIterator> NewIterator(KeyComparator cmp = CompareInternalKeys) const;

 private:
  Block(std::string name, uint64_t offset) : name_(std::move(name)), offset_(offset) {}
  // Checks the restart array of data_ and fills in restart_count_ and
  // restarts_offset_; with internal keys, the restart entries too.
  Status ParseRestarts(KeyComparator keys);
  Status CheckRestartKeys() const;

  // The contents live in one of the two owners; data_ views them.
  std::string string_contents_;
  BlockBuffer buffer_contents_;
  std::string_view data_;
  std::string name_;
  uint64_t offset_ = 0;
  uint32_t restarts_offset_ = 0;  // where the restart array begins
  uint32_t restart_count_ = 0;
  KeyComparator keys_ = CompareInternalKeys;  // what Parse checked the keys for
  friend class BlockIterator;
};

// Walks a block's entries: shared varint | non_shared varint | value_bytes
// varint | key delta | value. Declared here (not only behind NewIterator) so
// that hot paths keep one on the stack or inside another iterator and point
// it at block after block with Reset, without an allocation per block.
class BlockIterator final : public InternalIterator {
 public:
  BlockIterator() = default;
  BlockIterator(const Block* block, KeyComparator cmp) { Reset(block, cmp); }

  // Points the iterator at `block` (not yet positioned); null detaches it.
  void Reset(const Block* block, KeyComparator cmp = CompareInternalKeys);

  bool Valid() const override { return valid_; }
  Status status() const override { return status_; }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  void SeekToFirst() override;
  void SeekToLast() override;
  void Next() override;
  // Entries are delta-encoded forward, so Prev rescans from the last restart
  // point before the current entry (at most a restart interval of entries).
  void Prev() override;
  void Seek(std::string_view target) override;

 private:
  uint32_t RestartOffset(uint32_t index) const;
  uint32_t LastRestartBefore(uint32_t offset) const;
  void SeekToRestart(uint32_t index);
  void Fail(std::string_view what);
  bool DecodeEntry(uint32_t offset, uint32_t* shared, uint32_t* non_shared,
                   uint32_t* value_bytes, std::string_view* rest);
  bool RestartKey(uint32_t index, std::string_view* key);
  bool ParseNext();
  int Compare(std::string_view a, std::string_view b) const {
    // The common comparator called directly, so that it inlines.
    return cmp_ == CompareInternalKeys ? CompareInternalKeys(a, b) : cmp_(a, b);
  }

  const Block* block_ = nullptr;
  KeyComparator cmp_ = CompareInternalKeys;
  std::string_view data_;
  uint32_t limit_ = 0;
  uint32_t current_ = 0;  // offset of the entry at the position (when valid_)
  uint32_t next_ = 0;
  std::string key_;
  std::string_view value_;
  bool valid_ = false;
  Status status_;
};

}  // namespace strata::lsm
