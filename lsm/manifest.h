// Manifest files: the framed, checksummed log of VersionEdits, and CURRENT,
// which names the live manifest. Byte layout: lsm/FORMAT.md (Manifest).
//
// ManifestWriter appends records and syncs; ManifestReader walks them and
// tells a torn tail (record cut off by a crash before its sync returned:
// ignored, that edit was never acknowledged) from damage (checksum mismatch,
// bad length, bad header: Corruption naming file and offset).
//
// Threading: one user at a time per object.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "strata/status.h"

namespace strata::lsm {

inline constexpr char kManifestMagic[8] = {'s', 't', 'r', 'a', 't', 'a', 'M', 'F'};
// Version 2 added the kept_file field (lsm/FORMAT.md); version 1 files are
// still read (they have no such field).
inline constexpr uint32_t kManifestFormatVersion = 2;
inline constexpr uint32_t kManifestFormatVersionMin = 1;
inline constexpr size_t kManifestHeaderBytes = 16;       // magic | version | checksum
inline constexpr size_t kManifestRecordHeaderBytes = 16;  // length | length check | checksum
// One edit lists at most every file of the database; far below this.
inline constexpr uint32_t kManifestRecordBytesMax = 64 * 1024 * 1024;

std::string ManifestFileName(uint64_t number);  // "MANIFEST-000005"
std::string TableFileName(uint64_t number);     // "000042.sst"
inline constexpr std::string_view kCurrentFileName = "CURRENT";
inline constexpr std::string_view kLockFileName = "LOCK";
inline constexpr std::string_view kWalDirName = "wal";

// The engine's own files in a database directory, told apart strictly by
// name: "000042.sst" and "MANIFEST-000005" (digits only, at most 19).
enum class DbFileKind : uint8_t { kTable, kManifest, kOther };
DbFileKind ParseDbFileName(std::string_view name, uint64_t* number);

class ManifestWriter {
 public:
  // Creates (truncates) `path` and writes the file header.
  static Status Create(io::FileSystem* fs, const std::string& path,
                       std::unique_ptr<ManifestWriter>* writer);
  // Appends one record and fdatasyncs it.
  Status AddRecord(std::string_view payload);
  uint64_t file_bytes() const { return file_->size(); }
  Status Close() { return file_->Close(); }

 private:
  explicit ManifestWriter(std::unique_ptr<io::WritableFile> file) : file_(std::move(file)) {}
  std::unique_ptr<io::WritableFile> file_;
};

struct ManifestReadReport {
  uint64_t record_count = 0;
  bool torn_tail = false;
  uint64_t torn_offset = 0;
};

// Calls fn(offset, payload) for every intact record in order.
Status ReadManifest(io::FileSystem* fs, const std::string& path,
                    const std::function<Status(uint64_t offset, std::string_view payload)>& fn,
                    ManifestReadReport* report);

// Reads CURRENT in `dir`: NotFound if absent, Corruption if malformed.
Status ReadCurrentFile(io::FileSystem* fs, const std::string& dir, std::string* manifest_name);
// Points CURRENT at manifest_name atomically (temp file, fsync, rename, fsync dir).
Status SetCurrentFile(io::FileSystem* fs, const std::string& dir, std::string_view manifest_name);

}  // namespace strata::lsm
