#include "replica/register_store.h"

#include <fmt/core.h>

namespace strata::replica {

Status RegisterStore::LocalRead(std::string_view key, RegisterValue* out) {
  std::string stored;
  uint64_t version = 0;
  STRATA_RETURN_IF_ERROR(engine_->GetVersioned(ReadOptions(), key, &stored, &version));
  if (stored.empty() || (stored[0] != kValueTag && stored[0] != kTombstoneTag) ||
      (stored[0] == kTombstoneTag && stored.size() != 1) || version == 0) {
    return Status::Corruption(fmt::format(
        "register {:?}: value of {} bytes with version {} is not a register value (written by "
        "a plain Put?)",
        key, stored.size(), version));
  }
  out->timestamp = version;
  out->deleted = stored[0] == kTombstoneTag;
  out->value = out->deleted ? std::string() : stored.substr(1);
  return Status::Ok();
}

Status RegisterStore::LocalWrite(std::string_view key, std::string_view value, uint64_t timestamp,
                                 bool* applied) {
  std::string tagged;
  tagged.reserve(value.size() + 1);
  tagged.push_back(kValueTag);
  tagged.append(value);
  return Store(key, tagged, timestamp, applied);
}

Status RegisterStore::LocalDelete(std::string_view key, uint64_t timestamp, bool* applied) {
  return Store(key, std::string_view(&kTombstoneTag, 1), timestamp, applied);
}

Status RegisterStore::Store(std::string_view key, std::string_view tagged, uint64_t timestamp,
                            bool* applied) {
  *applied = false;
  if (timestamp == 0) {
    return Status::InvalidArgument("register timestamp 0 is reserved (plain Put's version)");
  }
  return engine_->PutIfNewer(write_options_, key, timestamp, tagged, applied);
}

}  // namespace strata::replica
