// Helpers shared by the libFuzzer targets in fuzz/ (docs/FUZZING.md).
//
// Input convention of every target: byte 0 is the mode, the rest is the
// bytes under test. Mode bit 0 set ("fixup") recomputes every checksum the
// format carries after the fuzzer mutated the bytes, so the decoders behind
// the checksums see the mutation; clear ("raw"), the bytes are read as they
// are (what a flipped bit on disk looks like). Higher mode bits are
// target-specific knobs.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.h"
#include "io/file_system.h"
#include "io/posix_file_system.h"

namespace strata::fuzz {

struct Input {
  uint8_t mode = 0;
  std::string bytes;
  bool fixup() const { return (mode & 1) != 0; }
};

inline bool SplitInput(const uint8_t* data, size_t size, Input* in) {
  if (size == 0) return false;
  in->mode = data[0];
  in->bytes.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  return true;
}

// A RandomAccessFile over bytes in memory (the SSTable target reads no disk).
class StringFile final : public io::RandomAccessFile {
 public:
  explicit StringFile(std::string bytes) : bytes_(std::move(bytes)) {}
  Status Read(uint64_t offset, size_t n, char* buf, size_t* bytes_read) const override {
    *bytes_read = 0;
    if (offset >= bytes_.size()) return Status::Ok();
    const size_t take = std::min<uint64_t>(n, bytes_.size() - offset);
    std::memcpy(buf, bytes_.data() + offset, take);
    *bytes_read = take;
    return Status::Ok();
  }
  Result<uint64_t> Size() const override { return static_cast<uint64_t>(bytes_.size()); }
  const std::string& path() const override { return path_; }

 private:
  std::string bytes_;
  std::string path_ = "fuzz.sst";
};

// The POSIX file system: the targets that read directories (WAL recovery,
// manifest, log store) write their input to a scratch directory under
// $STRATA_FUZZ_TMPDIR (default /dev/shm, a tmpfs, else /tmp) first.
inline io::FileSystem* PosixFs() {
  static const std::shared_ptr<io::FileSystem> fs = io::NewPosixFileSystem();
  return fs.get();
}

// One scratch directory per process, emptied before each input.
class ScratchDir {
 public:
  ScratchDir() {
    (void)PosixFs();  // constructed first, so it outlives a static ScratchDir
    const char* base = std::getenv("STRATA_FUZZ_TMPDIR");
    std::string root = base != nullptr ? base : (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    path_ = root + "/strata-fuzz-" + std::to_string(getpid());
  }
  ~ScratchDir() { Clear(); }
  const std::string& path() const { return path_; }
  std::string Join(std::string_view name) const { return path_ + "/" + std::string(name); }
  // Removes everything (one level of subdirectories) and recreates the directory.
  void Reset() {
    Clear();
    STRATA_ASSERT(PosixFs()->CreateDir(path_).ok());
  }
  void Write(std::string_view name, std::string_view bytes) {
    std::unique_ptr<io::WritableFile> f;
    STRATA_ASSERT(PosixFs()->NewWritableFile(Join(name), io::FileOptions{}, &f).ok());
    STRATA_ASSERT(f->Append(bytes).ok());
    STRATA_ASSERT(f->Close().ok());
  }

 private:
  void Clear() {
    std::vector<std::string> names;
    if (!PosixFs()->ListDir(path_, &names).ok()) return;
    for (const std::string& n : names) {
      const std::string p = Join(n);
      std::vector<std::string> sub;
      if (PosixFs()->ListDir(p, &sub).ok()) {
        for (const std::string& s : sub) (void)PosixFs()->RemoveFile(p + "/" + s);
        (void)PosixFs()->RemoveDir(p);
      } else {
        (void)PosixFs()->RemoveFile(p);
      }
    }
    (void)PosixFs()->RemoveDir(path_);
  }
  std::string path_;
};

}  // namespace strata::fuzz
