// Internal keys: how the LSM orders versions of a user key.
//
// internal_key = user_key | fixed64(sequence << 8 | type)   (little-endian)
// Order: user key ascending (bytewise), then sequence descending, then type
// descending, so the newest version of a key comes first.
//
// Shared by the memtable, SSTables, compaction and the engine. See
// lsm/FORMAT.md for the on-disk use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/coding.h"
#include "strata/status.h"

namespace strata::lsm {

using SequenceNumber = uint64_t;
// Sequence numbers use 56 bits; the low 8 bits of the tag hold the type.
inline constexpr SequenceNumber kMaxSequenceNumber = (uint64_t{1} << 56) - 1;
inline constexpr size_t kInternalKeyTrailerBytes = 8;

// On-disk values: never renumbered or reused; 0 is never valid.
enum class ValueType : uint8_t {
  kDeletion = 1,
  kValue = 2,
  // value = fixed64 version | user value (written by PutIfNewer/PutVersioned).
  kVersionedValue = 3,
};
// Seeks use the highest type so that a lookup key sorts before every entry
// with the same user key and sequence.
inline constexpr ValueType kValueTypeForSeek = ValueType::kVersionedValue;

inline bool IsValidValueType(uint8_t t) { return t >= 1 && t <= 3; }

inline uint64_t PackTag(SequenceNumber seq, ValueType type) {
  return (seq << 8) | static_cast<uint8_t>(type);
}

inline void AppendInternalKey(std::string* dst, std::string_view user_key, SequenceNumber seq,
                              ValueType type) {
  dst->append(user_key);
  PutFixed64(dst, PackTag(seq, type));
}

struct ParsedInternalKey {
  std::string_view user_key;
  SequenceNumber sequence = 0;
  ValueType type = ValueType::kValue;
};

// False when the key is too short or the type byte is invalid (caller makes
// it Corruption with file and offset).
inline bool ParseInternalKey(std::string_view internal_key, ParsedInternalKey* out) {
  if (internal_key.size() < kInternalKeyTrailerBytes) return false;
  const uint64_t tag =
      DecodeFixed64(internal_key.data() + internal_key.size() - kInternalKeyTrailerBytes);
  const uint8_t type = static_cast<uint8_t>(tag & 0xff);
  if (!IsValidValueType(type)) return false;
  out->user_key = internal_key.substr(0, internal_key.size() - kInternalKeyTrailerBytes);
  out->sequence = tag >> 8;
  out->type = static_cast<ValueType>(type);
  return true;
}

inline std::string_view ExtractUserKey(std::string_view internal_key) {
  return internal_key.substr(0, internal_key.size() - kInternalKeyTrailerBytes);
}

// Three-way comparison of internal keys (see the order above).
inline int CompareInternalKeys(std::string_view a, std::string_view b) {
  const int r = ExtractUserKey(a).compare(ExtractUserKey(b));
  if (r != 0) return r < 0 ? -1 : 1;
  const uint64_t ta = DecodeFixed64(a.data() + a.size() - kInternalKeyTrailerBytes);
  const uint64_t tb = DecodeFixed64(b.data() + b.size() - kInternalKeyTrailerBytes);
  if (ta > tb) return -1;
  if (ta < tb) return 1;
  return 0;
}

// A key for seeking to the newest version of user_key visible at `seq`.
inline std::string LookupKey(std::string_view user_key, SequenceNumber seq) {
  std::string key;
  AppendInternalKey(&key, user_key, seq, kValueTypeForSeek);
  return key;
}

// Iterator over internal keys (memtable, SSTable block, table, merging).
// Thread safety: one thread at a time.
class InternalIterator {
 public:
  virtual ~InternalIterator() = default;
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  // First entry whose internal key is >= target (CompareInternalKeys).
  virtual void Seek(std::string_view target) = 0;
  virtual void Next() = 0;
  // The entry before the current one; Valid() is false after the first.
  // REQUIRES for Next()/Prev(): Valid().
  virtual void Prev() = 0;
  virtual std::string_view key() const = 0;    // internal key
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

}  // namespace strata::lsm
