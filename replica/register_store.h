// RegisterStore: the local storage of an ABD-style replicated register
// replica, over Engine::PutIfNewer / GetVersioned.
//
// Each register is one engine key whose PutIfNewer version is the register's
// timestamp. ABD timestamps must be unique per write: pack (counter, writer
// id) into the uint64 (e.g. counter << 16 | writer). Timestamp 0 is refused:
// an absent key accepts any version, and a plain Put stores version 0.
//
// Deletes carry a timestamp too: LocalDelete stores a versioned TOMBSTONE
// (the one-byte value kTombstoneTag) with PutIfNewer, so a write with an
// older timestamp that arrives later is rejected exactly like any stale
// write, and a deleted register never comes back to life. Stored values are
// tagged: kValueTag + value for a live register, kTombstoneTag alone for a
// deleted one (layout in replica/FORMAT.md). Tombstones are never purged in
// this version (purging needs every replica to have seen the delete).
//
// Plain Engine::Put and Engine::Delete on a register key RESET ITS VERSION:
// after Put the key has version 0 and an untagged value (LocalRead reports
// Corruption), after Delete the key is absent and accepts any timestamp, so
// a stale write can then resurrect it. Write registers only through this
// class.
//
// Thread safety: as the engine (PutIfNewer is atomic per key).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "strata/engine.h"

namespace strata::replica {

inline constexpr char kTombstoneTag = '\0';
inline constexpr char kValueTag = '\1';

struct RegisterValue {
  uint64_t timestamp = 0;
  bool deleted = false;  // a tombstone: no value, but a timestamp
  std::string value;
};

class RegisterStore {
 public:
  explicit RegisterStore(Engine* engine, WriteOptions write_options = WriteOptions())
      : engine_(engine), write_options_(write_options) {}

  // NotFound: the register was never written (or was reset by a plain
  // Delete). A deleted register is Ok with deleted = true and the delete's
  // timestamp, which ABD readers need to write back.
  Status LocalRead(std::string_view key, RegisterValue* out);

  // Stores `value` if `timestamp` is newer than the register's (a live
  // value's or a tombstone's). *applied says whether it stored.
  Status LocalWrite(std::string_view key, std::string_view value, uint64_t timestamp,
                    bool* applied);

  // Stores a tombstone with `timestamp` if it is newer.
  Status LocalDelete(std::string_view key, uint64_t timestamp, bool* applied);

 private:
  Status Store(std::string_view key, std::string_view tagged, uint64_t timestamp, bool* applied);

  Engine* engine_;
  WriteOptions write_options_;
};

}  // namespace strata::replica
