// BlockBuilder: builds one block of sorted key/value entries with key prefix
// compression and restart points (lsm/FORMAT.md, "Block contents").
//
// Every `restart_interval`-th entry stores its whole key and is listed in the
// restart array, so a reader can binary-search restarts and then scan at most
// restart_interval entries. Ownership: the builder owns its buffer; Finish()
// returns a view into it valid until Reset() or destruction.
// Threading: one user.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::lsm {

class BlockBuilder {
 public:
  explicit BlockBuilder(int restart_interval);

  // REQUIRES: Finish() not called since the last Reset(); the caller adds keys
  // in increasing order (the table builder asserts it).
  void Add(std::string_view key, std::string_view value);
  // Appends the restart array and its count; returns the whole block.
  std::string_view Finish();
  void Reset();

  // Size of the block if Finish() were called now.
  size_t EstimatedBytes() const;
  bool empty() const { return entry_count_ == 0; }
  uint32_t entry_count() const { return entry_count_; }
  std::string_view last_key() const { return last_key_; }

 private:
  const int restart_interval_;
  std::string buffer_;
  std::vector<uint32_t> restarts_;
  int since_restart_ = 0;
  uint32_t entry_count_ = 0;
  bool finished_ = false;
  std::string last_key_;
};

}  // namespace strata::lsm
