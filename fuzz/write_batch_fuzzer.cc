// libFuzzer target: WriteBatch decoding (batch/FORMAT.md): Serialize()d
// bytes through WriteBatch::Parse, or (mode bit 1) an LSM WAL record payload
// through lsm::DecodeWalPayload (raw or zstd) and WriteBatch::FromRep.
// Every accepted batch is iterated and rebuilt entry by entry through the
// public Put/Delete/PutVersioned: the rebuilt batch must hold the same entries.
// Fixup mode rewrites the trailing checksum of the Parse form.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/checksum.h"
#include "core/coding.h"
#include "fuzz/fuzz_util.h"
#include "lsm/wal_payload.h"
#include "strata/write_batch.h"

namespace strata::fuzz {
namespace {

// Records every entry and rebuilds the batch through the public API.
class Rebuild final : public WriteBatch::Handler {
 public:
  Status OnPut(std::string_view key, std::string_view value) override {
    entries.push_back({1, std::string(key), 0, std::string(value)});
    return batch.Put(key, value);
  }
  Status OnDelete(std::string_view key) override {
    entries.push_back({2, std::string(key), 0, ""});
    return batch.Delete(key);
  }
  Status OnPutVersioned(std::string_view key, uint64_t version,
                        std::string_view value) override {
    entries.push_back({3, std::string(key), version, std::string(value)});
    return batch.PutVersioned(key, version, value);
  }
  Status OnDeleteRange(std::string_view begin, std::string_view end) override {
    entries.push_back({4, std::string(begin), 0, std::string(end)});
    return batch.DeleteRange(begin, end);
  }
  struct Entry {
    int type;
    std::string key;
    uint64_t version;
    std::string value;
    bool operator==(const Entry&) const = default;
  };
  std::vector<Entry> entries;
  WriteBatch batch;
};

// The decoded batch and its rebuild hold the same entries. (Not the same
// bytes: a varint may be stored in more bytes than it needs, which the
// checksum covers and the decoder accepts, as LevelDB's does.)
void Check(const WriteBatch& batch) {
  Rebuild decoded;
  if (!batch.Iterate(&decoded).ok()) __builtin_trap();  // FromRep/Parse verified it
  if (decoded.entries.size() != batch.Count()) __builtin_trap();
  Rebuild rebuilt;
  if (!decoded.batch.Iterate(&rebuilt).ok()) __builtin_trap();
  if (rebuilt.entries != decoded.entries) __builtin_trap();
}

}  // namespace
}  // namespace strata::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  fuzz::Input in;
  if (!fuzz::SplitInput(data, size, &in)) return 0;
  if ((in.mode & 2) != 0) {
    std::string rep;
    if (!lsm::DecodeWalPayload(in.bytes, "fuzz.wal @ 4096", &rep).ok()) return 0;
    Result<WriteBatch> batch = WriteBatch::FromRep(std::move(rep));
    if (batch.ok()) fuzz::Check(*batch);
    return 0;
  }
  if (in.fixup() && in.bytes.size() >= WriteBatch::kChecksumBytes) {
    const size_t rep = in.bytes.size() - WriteBatch::kChecksumBytes;
    EncodeFixed64(in.bytes.data() + rep, Checksum64(std::string_view(in.bytes).substr(0, rep)));
  }
  Result<WriteBatch> batch = WriteBatch::Parse(in.bytes);
  if (batch.ok()) fuzz::Check(*batch);
  return 0;
}
