#include "lsm/block.h"

#include "core/assert.h"
#include "core/coding.h"
#include "lsm/format.h"

namespace strata::lsm {

int CompareBytewise(std::string_view a, std::string_view b) {
  const int r = a.compare(b);
  return r < 0 ? -1 : (r > 0 ? 1 : 0);
}

namespace {

// Decodes the header of the entry at `offset` of an entry area that ends at
// `limit`: false when a length is truncated or the key and value run past
// `limit`; else *rest begins with the key delta.
bool DecodeEntryHeader(std::string_view data, uint32_t offset, uint32_t limit, uint32_t* shared,
                       uint32_t* non_shared, uint32_t* value_bytes, std::string_view* rest) {
  std::string_view in = data.substr(offset, limit - offset);
  if (!GetVarint32(&in, shared) || !GetVarint32(&in, non_shared) ||
      !GetVarint32(&in, value_bytes) || uint64_t{*non_shared} + *value_bytes > in.size()) {
    return false;
  }
  *rest = in;
  return true;
}

}  // namespace

Status Block::Parse(std::string contents, const std::string& name, uint64_t offset,
                    std::shared_ptr<const Block>* block, KeyComparator keys) {
  std::shared_ptr<Block> b(new Block(name, offset));
  b->string_contents_ = std::move(contents);
  b->data_ = b->string_contents_;  // after the move: a short string's bytes move with it
  STRATA_RETURN_IF_ERROR(b->ParseRestarts(keys));
  *block = std::move(b);
  return Status::Ok();
}

Status Block::Parse(BlockBuffer contents, const std::string& name, uint64_t offset,
                    std::shared_ptr<const Block>* block, KeyComparator keys) {
  std::shared_ptr<Block> b(new Block(name, offset));
  b->buffer_contents_ = std::move(contents);
  b->data_ = b->buffer_contents_.view();
  STRATA_RETURN_IF_ERROR(b->ParseRestarts(keys));
  *block = std::move(b);
  return Status::Ok();
}

// Every restart entry holds a whole internal key (shared 0, at least the
// trailer, a valid type), and restart keys increase: what Seek relies on.
Status Block::CheckRestartKeys() const {
  std::string_view previous;
  for (uint32_t i = 0; i < restart_count_; ++i) {
    const uint32_t r = DecodeFixed32(data_.data() + restarts_offset_ + 4 * i);
    if (r == restarts_offset_) break;  // an empty block's only restart
    uint32_t shared = 0, non_shared = 0, value_bytes = 0;
    std::string_view rest;
    const std::string where = "restart " + std::to_string(i) + " (block offset " +
                              std::to_string(r) + "): ";
    if (!DecodeEntryHeader(data_, r, restarts_offset_, &shared, &non_shared, &value_bytes,
                           &rest)) {
      return TableCorruption(name_, offset_, where + "bad block entry");
    }
    if (shared != 0) return TableCorruption(name_, offset_, where + "entry shares a prefix");
    const std::string_view key = rest.substr(0, non_shared);
    ParsedInternalKey parsed;
    if (!ParseInternalKey(key, &parsed)) {
      return TableCorruption(name_, offset_,
                             where + "malformed internal key of " + std::to_string(key.size()) +
                                 " bytes");
    }
    if (i > 0 && CompareInternalKeys(previous, key) >= 0) {
      return TableCorruption(name_, offset_, where + "keys out of order");
    }
    previous = key;
  }
  return Status::Ok();
}

Status Block::ParseRestarts(KeyComparator keys) {
  const size_t n = data_.size();
  if (n < sizeof(uint32_t)) return TableCorruption(name_, offset_, "block too short");
  const uint32_t restart_count = DecodeFixed32(data_.data() + n - sizeof(uint32_t));
  const uint64_t restarts_bytes = (uint64_t{restart_count} + 1) * sizeof(uint32_t);
  if (restart_count == 0 || restarts_bytes > n) {
    return TableCorruption(name_, offset_, "bad restart count " + std::to_string(restart_count));
  }
  restart_count_ = restart_count;
  restarts_offset_ = static_cast<uint32_t>(n - restarts_bytes);
  // Every restart must point at an entry inside the entry area, in order.
  uint32_t previous = 0;
  for (uint32_t i = 0; i < restart_count; ++i) {
    const uint32_t r = DecodeFixed32(data_.data() + restarts_offset_ + 4 * i);
    const bool bad = i == 0 ? r != 0 : (r <= previous || r >= restarts_offset_);
    if (bad) return TableCorruption(name_, offset_, "bad restart point " + std::to_string(i));
    previous = r;
  }
  keys_ = keys;
  if (keys == CompareInternalKeys) return CheckRestartKeys();
  return Status::Ok();
}

void BlockIterator::Reset(const Block* block, KeyComparator cmp) {
  // Seek compares restart keys unchecked: only those Parse checked for cmp.
  STRATA_ASSERT(block == nullptr || cmp != CompareInternalKeys || block->keys_ == cmp);
  block_ = block;
  cmp_ = cmp;
  data_ = block != nullptr ? block->data_ : std::string_view();
  limit_ = block != nullptr ? block->restarts_offset_ : 0;
  next_ = 0;
  key_.clear();  // keeps its capacity for the next block
  value_ = {};
  valid_ = false;
  status_ = Status::Ok();
}

void BlockIterator::SeekToFirst() {
  if (!status_.ok()) return;
  SeekToRestart(0);
  ParseNext();
}

void BlockIterator::SeekToLast() {
  if (!status_.ok()) return;
  SeekToRestart(block_->restart_count_ - 1);
  while (ParseNext() && next_ < limit_) {
  }
}

void BlockIterator::Next() {
  if (!valid_) return;
  ParseNext();
}

void BlockIterator::Prev() {
  if (!valid_) return;
  const uint32_t original = current_;
  if (original == 0) {  // the first entry: nothing before it
    valid_ = false;
    return;
  }
  SeekToRestart(LastRestartBefore(original));
  // Walk forward to the entry that ends where the current one begins.
  while (ParseNext() && next_ < original) {
  }
  if (valid_ && next_ != original) Fail("restart point is not at an entry boundary");
}

void BlockIterator::Seek(std::string_view target) {
  if (!status_.ok()) return;
  // Last restart whose key is < target; scan forward from there.
  uint32_t left = 0;
  uint32_t right = block_->restart_count_ - 1;
  while (left < right) {
    const uint32_t mid = left + (right - left + 1) / 2;
    std::string_view mid_key;
    if (!RestartKey(mid, &mid_key)) return;
    if (Compare(mid_key, target) < 0) {
      left = mid;
    } else {
      right = mid - 1;
    }
  }
  SeekToRestart(left);
  while (ParseNext()) {
    if (Compare(key_, target) >= 0) return;
  }
}

uint32_t BlockIterator::RestartOffset(uint32_t index) const {
  return DecodeFixed32(data_.data() + block_->restarts_offset_ + 4 * index);
}

// Restart offsets increase (Block::ParseRestarts checks it) and the first is 0.
uint32_t BlockIterator::LastRestartBefore(uint32_t offset) const {
  STRATA_DASSERT(offset > 0);
  uint32_t left = 0;
  uint32_t right = block_->restart_count_ - 1;
  while (left < right) {
    const uint32_t mid = left + (right - left + 1) / 2;
    if (RestartOffset(mid) < offset) {
      left = mid;
    } else {
      right = mid - 1;
    }
  }
  return left;
}

void BlockIterator::SeekToRestart(uint32_t index) {
  key_.clear();
  next_ = RestartOffset(index);
  valid_ = false;
}

void BlockIterator::Fail(std::string_view what) {
  valid_ = false;
  status_ = TableCorruption(block_->name_, block_->offset_, what);
}

// Decodes the header of the entry at `offset`.
bool BlockIterator::DecodeEntry(uint32_t offset, uint32_t* shared, uint32_t* non_shared,
                                uint32_t* value_bytes, std::string_view* rest) {
  const char* p = data_.data() + offset;
  const size_t available = limit_ - offset;
  // Fast path: all three lengths below 128 take one byte each (small keys
  // and values, the common case).
  if (available >= 3 && ((p[0] | p[1] | p[2]) & 0x80) == 0) {
    *shared = static_cast<uint8_t>(p[0]);
    *non_shared = static_cast<uint8_t>(p[1]);
    *value_bytes = static_cast<uint8_t>(p[2]);
    if (uint64_t{*non_shared} + *value_bytes <= available - 3) {
      *rest = std::string_view(p + 3, available - 3);
      return true;
    }
  } else {
    std::string_view in(p, available);
    if (GetVarint32(&in, shared) && GetVarint32(&in, non_shared) &&
        GetVarint32(&in, value_bytes) && uint64_t{*non_shared} + *value_bytes <= in.size()) {
      *rest = in;
      return true;
    }
  }
  Fail("bad block entry at block offset " + std::to_string(offset));
  return false;
}

// The full key stored at a restart point (its shared length must be 0).
bool BlockIterator::RestartKey(uint32_t index, std::string_view* key) {
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
bool BlockIterator::ParseNext() {
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
  key_.append(rest.data(), non_shared);
  if (cmp_ == CompareInternalKeys && key_.size() < kInternalKeyTrailerBytes) {
    Fail("internal key shorter than its trailer");
    return false;
  }
  value_ = std::string_view(rest.data() + non_shared, value_bytes);
  current_ = next_;
  next_ = static_cast<uint32_t>(value_.data() + value_.size() - data_.data());
  valid_ = true;
  return true;
}

std::unique_ptr<InternalIterator> Block::NewIterator(KeyComparator cmp) const {
  return std::make_unique<BlockIterator>(this, cmp);
}

}  // namespace strata::lsm
