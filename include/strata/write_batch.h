// WriteBatch: an ordered group of updates applied atomically.
//
// A batch is a byte string (its "rep"), the same bytes the engines log in the
// WAL. Serialize() appends an XXH3-64 checksum; Parse() verifies it and every
// entry's framing, so a corrupted batch is rejected whole.
//
// Rep layout (little-endian; see batch/FORMAT.md):
//   fixed64 sequence | fixed32 count | entry*
//   entry = u8 type | varint32 key_bytes | key
//           [fixed64 version, for kPutVersioned] [varint32 value_bytes | value]
//   (kDeleteRange: key = begin, value = end; begin < end bytewise)
//
// Thread safety: not thread-safe; one owner at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "strata/status.h"

namespace strata {

// On-disk values: never renumbered or reused; 0 is never valid.
enum class BatchEntryType : uint8_t {
  kPut = 1,
  kDelete = 2,
  kPutVersioned = 3,  // an unconditional put that also stores a version
  kDeleteRange = 4,   // deletes every key in [begin, end); begin < end bytewise
};

class WriteBatch {
 public:
  static constexpr size_t kHeaderBytes = 12;    // sequence + count
  static constexpr size_t kChecksumBytes = 8;   // XXH3-64 trailer of Serialize()

  WriteBatch();

  // Each returns InvalidArgument (and leaves the batch unchanged) when a key,
  // value or the batch as a whole exceeds the limits in strata/limits.h.
  Status Put(std::string_view key, std::string_view value);
  Status Delete(std::string_view key);
  Status PutVersioned(std::string_view key, uint64_t version, std::string_view value);
  // Deletes every key k with begin <= k < end (bytewise), atomically with the
  // rest of the batch; it takes one sequence number, like a Delete. An empty
  // or inverted range (begin >= end) is InvalidArgument: the batch records
  // the error (status()), and every engine refuses to write such a batch, so
  // nothing of it is applied even if the caller ignores this return value.
  Status DeleteRange(std::string_view begin, std::string_view end);
  // Appends every entry of `other` (InvalidArgument if the result is too big).
  Status Append(const WriteBatch& other);

  // Ok unless an update was refused as invalid (see DeleteRange); engines
  // return it from Write before applying anything. Clear() resets it.
  const Status& status() const { return status_; }

  void Clear();
  uint32_t Count() const;
  // Bytes of the rep, a close upper bound of what logging it costs.
  size_t ApproximateSize() const { return rep_.size(); }

  // The starting sequence number is assigned by the engine that applies it.
  uint64_t sequence() const;
  void set_sequence(uint64_t sequence);

  // Visits entries in order. `value` is empty and `version` 0 where absent.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual Status OnPut(std::string_view key, std::string_view value) = 0;
    virtual Status OnDelete(std::string_view key) = 0;
    virtual Status OnPutVersioned(std::string_view key, uint64_t version,
                                  std::string_view value) = 0;
    // begin < end (bytewise), checked by the decoder.
    virtual Status OnDeleteRange(std::string_view begin, std::string_view end) = 0;
  };
  Status Iterate(Handler* handler) const;

  // rep + checksum. Parse() accepts exactly what Serialize() produced.
  std::string Serialize() const;
  static Result<WriteBatch> Parse(std::string_view data);

  // Raw rep access for engines that log and replay the rep themselves.
  const std::string& rep() const { return rep_; }
  // Verifies the framing of `rep` (no checksum) and adopts it.
  static Result<WriteBatch> FromRep(std::string rep);

 private:
  Status CheckLimits(size_t key_bytes, size_t value_bytes) const;
  void SetCount(uint32_t count);

  std::string rep_;
  Status status_;
};

}  // namespace strata
