// libFuzzer target: WriteBatch decoding (batch/FORMAT.md): Serialize()d
// bytes through WriteBatch::Parse, or (mode bit 1) an LSM WAL record payload
// through lsm::DecodeWalPayload (raw or zstd) and WriteBatch::FromRep.
// Every accepted batch is iterated and rebuilt entry by entry through the
// public Put/Delete/PutVersioned: the rebuilt rep must equal the decoded one.
// Fixup mode rewrites the trailing checksum of the Parse form.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/checksum.h"
#include "core/coding.h"
#include "fuzz/fuzz_util.h"
#include "lsm/wal_payload.h"
#include "strata/write_batch.h"

namespace strata::fuzz {
namespace {

class Rebuild final : public WriteBatch::Handler {
 public:
  Status OnPut(std::string_view key, std::string_view value) override {
    return batch.Put(key, value);
  }
  Status OnDelete(std::string_view key) override { return batch.Delete(key); }
  Status OnPutVersioned(std::string_view key, uint64_t version,
                        std::string_view value) override {
    return batch.PutVersioned(key, version, value);
  }
  WriteBatch batch;
};

void Check(const WriteBatch& batch) {
  Rebuild rebuild;
  if (!batch.Iterate(&rebuild).ok()) __builtin_trap();  // FromRep/Parse verified it
  rebuild.batch.set_sequence(batch.sequence());
  if (rebuild.batch.rep() != batch.rep() || rebuild.batch.Count() != batch.Count()) {
    __builtin_trap();
  }
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
