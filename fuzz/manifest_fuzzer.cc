// libFuzzer target: a manifest file (lsm/FORMAT.md, "Manifest file") through
// ReadManifest and VersionEdit::DecodeFrom, then through
// VersionSet::RecoverReadOnly in a directory whose CURRENT names it (which
// applies the edits: removals, additions, numbers). Each decoded edit must
// encode and decode back to the same bytes. Fixup mode rewrites the file
// header checksum and every record's length check and checksum.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/checksum.h"
#include "core/coding.h"
#include "fuzz/fuzz_util.h"
#include "lsm/manifest.h"
#include "lsm/version_edit.h"
#include "lsm/version_set.h"

namespace strata::fuzz {
namespace {

void Fixup(std::string* f) {
  if (f->size() < lsm::kManifestHeaderBytes) return;
  EncodeFixed32(f->data() + 12, static_cast<uint32_t>(Checksum64(std::string_view(*f).substr(0, 12))));
  uint64_t offset = lsm::kManifestHeaderBytes;
  while (f->size() - offset >= lsm::kManifestRecordHeaderBytes) {
    char* p = f->data() + offset;
    uint32_t length = DecodeFixed32(p);
    const uint64_t room = f->size() - offset - lsm::kManifestRecordHeaderBytes;
    if (length > room) {  // make the last record fit: the tail is what the fuzzer wrote
      length = static_cast<uint32_t>(room);
      EncodeFixed32(p, length);
    }
    EncodeFixed32(p + 4, static_cast<uint32_t>(Checksum64(std::string_view(p, 4))));
    std::string covered(p, 4);
    covered.append(p + lsm::kManifestRecordHeaderBytes, length);
    EncodeFixed64(p + 8, Checksum64(covered));
    offset += lsm::kManifestRecordHeaderBytes + length;
  }
}

}  // namespace
}  // namespace strata::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  static fuzz::ScratchDir scratch;  // removed at exit
  fuzz::ScratchDir* dir = &scratch;
  fuzz::Input in;
  if (!fuzz::SplitInput(data, size, &in)) return 0;
  if (in.fixup()) fuzz::Fixup(&in.bytes);
  dir->Reset();
  const std::string name = lsm::ManifestFileName(1);
  dir->Write(name, in.bytes);
  lsm::ManifestReadReport report;
  (void)lsm::ReadManifest(
      fuzz::PosixFs(), dir->Join(name),
      [](uint64_t, std::string_view payload) {
        lsm::VersionEdit edit;
        Status s = edit.DecodeFrom(payload, "fuzz");
        if (!s.ok()) return s;
        std::string once;
        edit.EncodeTo(&once);
        lsm::VersionEdit again;
        if (!again.DecodeFrom(once, "re-encoded").ok()) __builtin_trap();
        std::string twice;
        again.EncodeTo(&twice);
        if (once != twice) __builtin_trap();
        return Status::Ok();
      },
      &report);
  dir->Write("CURRENT", name + "\n");
  std::shared_ptr<io::FileSystem> fs(fuzz::PosixFs(), [](io::FileSystem*) {});
  lsm::VersionSet versions(fs, dir->path(), lsm::TableOptions{}, nullptr);
  (void)versions.RecoverReadOnly();
  return 0;
}
