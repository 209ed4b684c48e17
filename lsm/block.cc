#include "lsm/block.h"

#include "io/coding.h"
#include "lsm/format.h"

namespace strata::lsm {

int CompareBytewise(std::string_view a, std::string_view b) {
  const int r = a.compare(b);
  return r < 0 ? -1 : (r > 0 ? 1 : 0);
}

Status Block::Parse(std::string contents, const std::string& name, uint64_t offset,
                    std::shared_ptr<const Block>* block) {
  const size_t n = contents.size();
  if (n < sizeof(uint32_t)) return TableCorruption(name, offset, "block too short");
  const uint32_t restart_count = io::DecodeFixed32(contents.data() + n - sizeof(uint32_t));
  const uint64_t restarts_bytes = (uint64_t{restart_count} + 1) * sizeof(uint32_t);
  if (restart_count == 0 || restarts_bytes > n) {
    return TableCorruption(name, offset, "bad restart count " + std::to_string(restart_count));
  }
  std::shared_ptr<Block> b(new Block(std::move(contents), name, offset));
  b->restart_count_ = restart_count;
  b->restarts_offset_ = static_cast<uint32_t>(n - restarts_bytes);
  // Every restart must point at an entry inside the entry area, in order.
  uint32_t previous = 0;
  for (uint32_t i = 0; i < restart_count; ++i) {
    const uint32_t r = io::DecodeFixed32(b->data_.data() + b->restarts_offset_ + 4 * i);
    const bool bad = i == 0 ? r != 0 : (r <= previous || r >= b->restarts_offset_);
    if (bad) return TableCorruption(name, offset, "bad restart point " + std::to_string(i));
    previous = r;
  }
  *block = std::move(b);
  return Status::Ok();
}

// Walks entries: shared varint | non_shared varint | value_bytes varint | key delta | value.
class BlockIterator final : public InternalIterator {
 public:
  BlockIterator(const Block* block, KeyComparator cmp)
      : block_(block), cmp_(cmp), data_(block->data_), limit_(block->restarts_offset_) {}

  bool Valid() const override { return valid_; }
  Status status() const override { return status_; }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }

  void SeekToFirst() override {
    if (!status_.ok()) return;
    SeekToRestart(0);
    ParseNext();
  }

  void Next() override {
    if (!valid_) return;
    ParseNext();
  }

  void Seek(std::string_view target) override {
    if (!status_.ok()) return;
    // Last restart whose key is < target; scan forward from there.
    uint32_t left = 0;
    uint32_t right = block_->restart_count_ - 1;
    while (left < right) {
      const uint32_t mid = left + (right - left + 1) / 2;
      std::string_view mid_key;
      if (!RestartKey(mid, &mid_key)) return;
      if (cmp_(mid_key, target) < 0) {
        left = mid;
      } else {
        right = mid - 1;
      }
    }
    SeekToRestart(left);
    while (ParseNext()) {
      if (cmp_(key_, target) >= 0) return;
    }
  }

 private:
  uint32_t RestartOffset(uint32_t index) const {
    return io::DecodeFixed32(data_.data() + block_->restarts_offset_ + 4 * index);
  }

  void SeekToRestart(uint32_t index) {
    key_.clear();
    next_ = RestartOffset(index);
    valid_ = false;
  }

  void Fail(std::string_view what) {
    valid_ = false;
    status_ = TableCorruption(block_->name_, block_->offset_, what);
  }

  // Decodes the header of the entry at `offset`.
  bool DecodeEntry(uint32_t offset, uint32_t* shared, uint32_t* non_shared,
                   uint32_t* value_bytes, std::string_view* rest) {
    std::string_view in = data_.substr(offset, limit_ - offset);
    if (!io::GetVarint32(&in, shared) || !io::GetVarint32(&in, non_shared) ||
        !io::GetVarint32(&in, value_bytes) ||
        uint64_t{*non_shared} + *value_bytes > in.size()) {
      Fail("bad block entry at block offset " + std::to_string(offset));
      return false;
    }
    *rest = in;
    return true;
  }

  // The full key stored at a restart point (its shared length must be 0).
  bool RestartKey(uint32_t index, std::string_view* key) {
    uint32_t shared = 0, non_shared = 0, value_bytes = 0;
    std::string_view rest;
    if (!DecodeEntry(RestartOffset(index), &shared, &non_shared, &value_bytes, &rest)) {
      return false;
    }
    if (shared != 0) {
      Fail("restart entry shares a prefix");
      return false;
    }
    *key = rest.substr(0, non_shared);
    return true;
  }

  // Parses the entry at next_; false at the end or on corruption.
  bool ParseNext() {
    valid_ = false;
    if (next_ >= limit_) return false;
    uint32_t shared = 0, non_shared = 0, value_bytes = 0;
    std::string_view rest;
    if (!DecodeEntry(next_, &shared, &non_shared, &value_bytes, &rest)) return false;
    if (shared > key_.size()) {
      Fail("entry shares more bytes than the previous key has");
      return false;
    }
    key_.resize(shared);
    key_.append(rest.substr(0, non_shared));
    if (cmp_ == CompareInternalKeys && key_.size() < kInternalKeyTrailerBytes) {
      Fail("internal key shorter than its trailer");
      return false;
    }
    value_ = rest.substr(non_shared, value_bytes);
    next_ = static_cast<uint32_t>(value_.data() + value_.size() - data_.data());
    valid_ = true;
    return true;
  }

  const Block* block_;
  KeyComparator cmp_;
  std::string_view data_;
  uint32_t limit_;
  uint32_t next_ = 0;
  std::string key_;
  std::string_view value_;
  bool valid_ = false;
  Status status_;
};

std::unique_ptr<InternalIterator> Block::NewIterator(KeyComparator cmp) const {
  return std::make_unique<BlockIterator>(this, cmp);
}

}  // namespace strata::lsm
