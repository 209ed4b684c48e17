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
#include "strata/status.h"

namespace strata::lsm {

// Three-way comparison used to order a block's keys.
using KeyComparator = int (*)(std::string_view, std::string_view);
int CompareBytewise(std::string_view a, std::string_view b);

class Block {
 public:
  // `name` and `offset` identify the block in error messages.
  static Status Parse(std::string contents, const std::string& name, uint64_t offset,
                      std::shared_ptr<const Block>* block);

  // Bytes held (for cache charging).
  size_t bytes() const { return data_.size(); }
  std::string_view data() const { return data_; }
  uint32_t restart_count() const { return restart_count_; }
  uint64_t offset() const { return offset_; }
  const std::string& file_name() const { return name_; }

  // Iterator over internal keys (data and index blocks), or any keys with `cmp`.
  std::unique_ptr<InternalIterator> NewIterator(KeyComparator cmp = CompareInternalKeys) const;

 private:
  Block(std::string contents, std::string name, uint64_t offset)
      : data_(std::move(contents)), name_(std::move(name)), offset_(offset) {}

  std::string data_;
  std::string name_;
  uint64_t offset_ = 0;
  uint32_t restarts_offset_ = 0;  // where the restart array begins
  uint32_t restart_count_ = 0;
  friend class BlockIterator;
};

}  // namespace strata::lsm
