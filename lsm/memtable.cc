#include "lsm/memtable.h"

#include <cstring>

#include "core/assert.h"
#include "core/coding.h"
#include "lsm/bloom.h"

namespace strata::lsm {

namespace {

// Entry layout in the arena (never on disk):
//   varint32 internal_key_bytes | internal_key | varint32 value_bytes | value
// The arena is trusted memory, so decoding does not bounds-check.
std::string_view DecodeLengthPrefixed(const char* p, const char** next) {
  uint32_t len = 0;
  int shift = 0;
  while (true) {
    const uint32_t byte = static_cast<uint8_t>(*p++);
    len |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
    shift += 7;
  }
  if (next != nullptr) *next = p + len;
  return std::string_view(p, len);
}

}  // namespace

int MemTable::KeyComparator::operator()(const char* a, const char* b) const {
  return CompareInternalKeys(DecodeLengthPrefixed(a, nullptr), DecodeLengthPrefixed(b, nullptr));
}

MemTable::MemTable(uint64_t wal_lsn_start, size_t arena_block_bytes)
    : wal_lsn_start_(wal_lsn_start), arena_(arena_block_bytes), table_(KeyComparator{}, &arena_) {}

void MemTable::Add(SequenceNumber seq, ValueType type, std::string_view user_key,
                   std::string_view value) {
  const size_t internal_key_bytes = user_key.size() + kInternalKeyTrailerBytes;
  const size_t encoded_bytes = VarintLength(internal_key_bytes) + internal_key_bytes +
                               VarintLength(value.size()) + value.size();
  char* buf = arena_.Allocate(encoded_bytes);
  char* p = buf;
  p += EncodeVarint64(p, internal_key_bytes);
  std::memcpy(p, user_key.data(), user_key.size());
  p += user_key.size();
  EncodeFixed64(p, PackTag(seq, type));
  p += kInternalKeyTrailerBytes;
  p += EncodeVarint64(p, value.size());
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  // The filter before the skiplist: a reader that finds the entry must also
  // find its bits (see MemTableFilter).
  filter_.Add(BloomHash(user_key));
  table_.Insert(buf);
  entry_count_.store(entry_count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (seq > largest_sequence_.load(std::memory_order_relaxed)) {
    largest_sequence_.store(seq, std::memory_order_relaxed);
  }
}

bool MemTable::Get(std::string_view user_key, SequenceNumber seq, ValueType* type,
                   std::string* value, SequenceNumber* found_seq) const {
  if (!filter_.MayContain(BloomHash(user_key))) return false;
  // Encode the lookup key as an arena-style entry so the comparator accepts
  // it; on the stack for the usual key sizes (a heap string cost a malloc and
  // a free per lookup).
  const size_t internal_key_bytes = user_key.size() + kInternalKeyTrailerBytes;
  const size_t lookup_bytes = VarintLength(internal_key_bytes) + internal_key_bytes;
  char stack_buf[128];
  std::unique_ptr<char[]> heap_buf;
  char* lookup = stack_buf;
  if (lookup_bytes > sizeof(stack_buf)) {
    heap_buf = std::make_unique<char[]>(lookup_bytes);
    lookup = heap_buf.get();
  }
  char* p = lookup + EncodeVarint64(lookup, internal_key_bytes);
  std::memcpy(p, user_key.data(), user_key.size());
  EncodeFixed64(p + user_key.size(), PackTag(seq, kValueTypeForSeek));
  Table::Iterator it(&table_);
  it.Seek(lookup);
  if (!it.Valid()) return false;
  const char* next = nullptr;
  const std::string_view ikey = DecodeLengthPrefixed(it.key(), &next);
  ParsedInternalKey parsed;
  if (!ParseInternalKey(ikey, &parsed) || parsed.user_key != user_key) return false;
  *type = parsed.type;
  if (found_seq != nullptr) *found_seq = parsed.sequence;
  const std::string_view v = DecodeLengthPrefixed(ikey.data() + ikey.size(), nullptr);
  value->assign(v.data(), v.size());
  return true;
}

void MemTable::AddRangeTombstone(SequenceNumber seq, std::string_view begin, std::string_view end) {
  STRATA_ASSERT(begin < end);
  {
    std::lock_guard lock(range_del_mu_);
    range_dels_.push_back(RangeTombstone{std::string(begin), std::string(end), seq});
    range_del_index_.reset();
  }
  range_del_bytes_.fetch_add(sizeof(RangeTombstone) + begin.size() + end.size(),
                             std::memory_order_relaxed);
  range_del_count_.fetch_add(1, std::memory_order_release);
  entry_count_.store(entry_count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (seq > largest_sequence_.load(std::memory_order_relaxed)) {
    largest_sequence_.store(seq, std::memory_order_relaxed);
  }
}

std::shared_ptr<const RangeDelIndex> MemTable::RangeDels() const {
  if (!has_range_dels()) return nullptr;
  std::lock_guard lock(range_del_mu_);
  if (range_del_index_ == nullptr) {
    range_del_index_ = std::make_shared<const RangeDelIndex>(range_dels_);
  }
  return range_del_index_;
}

class MemTable::Iter final : public InternalIterator {
 public:
  explicit Iter(const Table* table) : it_(table) {}
  bool Valid() const override { return it_.Valid(); }
  void SeekToFirst() override { it_.SeekToFirst(); }
  void SeekToLast() override { it_.SeekToLast(); }
  void Seek(std::string_view target) override {
    scratch_.clear();
    PutVarint32(&scratch_, static_cast<uint32_t>(target.size()));
    scratch_.append(target);
    it_.Seek(scratch_.data());
  }
  void Next() override { it_.Next(); }
  void Prev() override { it_.Prev(); }
  std::string_view key() const override { return DecodeLengthPrefixed(it_.key(), nullptr); }
  std::string_view value() const override {
    const std::string_view k = key();
    return DecodeLengthPrefixed(k.data() + k.size(), nullptr);
  }
  Status status() const override { return Status::Ok(); }

 private:
  Table::Iterator it_;
  std::string scratch_;
};

std::unique_ptr<InternalIterator> MemTable::NewIterator() const {
  return std::make_unique<Iter>(&table_);
}

}  // namespace strata::lsm
