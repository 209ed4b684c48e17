// Iterator: an ordered cursor over keys (bytewise order).
//
// An iterator reads a consistent view: the snapshot in its ReadOptions, or the
// state when it was created. It stays valid across flushes and compactions.
// Thread safety: one thread at a time per iterator; many iterators may run
// concurrently with writers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "strata/status.h"

namespace strata {

class Iterator {
 public:
  virtual ~Iterator() = default;

  // REQUIRES for key()/value()/Next(): Valid().
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  // Positions at the first key >= target.
  virtual void Seek(std::string_view target) = 0;
  virtual void Next() = 0;
  // Views stay valid until the iterator moves.
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // The version PutIfNewer stored with the current entry (0 for a plain
  // Put), or nullopt where this engine's iterators do not carry it (then ask
  // GetVersioned). Snapshot streams use it to ship versions with values.
  virtual std::optional<uint64_t> version() const { return std::nullopt; }
  // Not ok if iteration stopped because of an error (e.g. Corruption);
  // Valid() is then false.
  virtual Status status() const = 0;
};

}  // namespace strata
