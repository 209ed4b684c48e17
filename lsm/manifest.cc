#include "lsm/manifest.h"

#include <fmt/core.h>

#include <cstring>

#include "core/checksum.h"
#include "core/coding.h"

namespace strata::lsm {

namespace {

// The record checksum covers the 4 length bytes and the payload. The
// length has its own check as well, so that a flipped bit that makes the
// last record's length run past the end of the file is Corruption, not a
// torn tail that would silently drop a synced edit.
uint64_t RecordChecksum(const char* length_bytes, std::string_view payload) {
  Checksummer c;
  c.Update(std::string_view(length_bytes, 4));
  c.Update(payload);
  return c.Digest();
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

uint32_t LengthCheck(const char* length_bytes) {
  return static_cast<uint32_t>(Checksum64(std::string_view(length_bytes, 4)));
}

}  // namespace

std::string ManifestFileName(uint64_t number) { return fmt::format("MANIFEST-{:06}", number); }
std::string TableFileName(uint64_t number) { return fmt::format("{:06}.sst", number); }

namespace {

// Parses the whole of `digits` as a decimal number (1 to 19 digits).
bool ParseFileNumber(std::string_view digits, uint64_t* number) {
  constexpr size_t kDigitsMax = 19;  // below 2^64
  if (digits.empty() || digits.size() > kDigitsMax) return false;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *number = v;
  return true;
}

}  // namespace

DbFileKind ParseDbFileName(std::string_view name, uint64_t* number) {
  constexpr std::string_view kTableSuffix = ".sst";
  constexpr std::string_view kManifestPrefix = "MANIFEST-";
  if (name.ends_with(kTableSuffix) &&
      ParseFileNumber(name.substr(0, name.size() - kTableSuffix.size()), number)) {
    return DbFileKind::kTable;
  }
  if (name.starts_with(kManifestPrefix) &&
      ParseFileNumber(name.substr(kManifestPrefix.size()), number)) {
    return DbFileKind::kManifest;
  }
  return DbFileKind::kOther;
}

Status ManifestWriter::Create(io::FileSystem* fs, const std::string& path,
                              std::unique_ptr<ManifestWriter>* writer) {
  std::unique_ptr<io::WritableFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewWritableFile(path, io::FileOptions{}, &file));
  std::string header(kManifestMagic, sizeof(kManifestMagic));
  PutFixed32(&header, kManifestFormatVersion);
  PutFixed32(&header, static_cast<uint32_t>(Checksum64(header)));
  STRATA_RETURN_IF_ERROR(file->Append(header));
  writer->reset(new ManifestWriter(std::move(file)));
  return Status::Ok();
}

Status ManifestWriter::AddRecord(std::string_view payload) {
  std::string record;
  record.reserve(kManifestRecordHeaderBytes + payload.size());
  PutFixed32(&record, static_cast<uint32_t>(payload.size()));
  PutFixed32(&record, LengthCheck(record.data()));
  PutFixed64(&record, RecordChecksum(record.data(), payload));
  record.append(payload);
  STRATA_RETURN_IF_ERROR(file_->Append(record));
  return file_->Sync();
}

Status ReadManifest(io::FileSystem* fs, const std::string& path,
                    const std::function<Status(uint64_t offset, std::string_view payload)>& fn,
                    ManifestReadReport* report) {
  *report = ManifestReadReport();
  const std::string name = BaseName(path);
  std::string data;
  STRATA_RETURN_IF_ERROR(io::ReadFileToString(fs, path, &data));
  auto corrupt = [&](uint64_t offset, std::string_view what) {
    return Status::Corruption(fmt::format("{} @ {}: {}", name, offset, what));
  };
  if (data.size() < kManifestHeaderBytes) return corrupt(0, "file shorter than its header");
  if (std::memcmp(data.data(), kManifestMagic, sizeof(kManifestMagic)) != 0) {
    return corrupt(0, "bad magic (not a strata manifest)");
  }
  const uint32_t header_sum = DecodeFixed32(data.data() + 12);
  if (header_sum != static_cast<uint32_t>(Checksum64(std::string_view(data.data(), 12)))) {
    return corrupt(0, "header checksum mismatch");
  }
  const uint32_t version = DecodeFixed32(data.data() + 8);
  if (version < kManifestFormatVersionMin || version > kManifestFormatVersion) {
    return corrupt(8, fmt::format("unsupported format version {}", version));
  }
  uint64_t offset = kManifestHeaderBytes;
  while (offset < data.size()) {
    const uint64_t remaining = data.size() - offset;
    if (remaining < kManifestRecordHeaderBytes) break;  // torn tail
    const uint32_t length = DecodeFixed32(data.data() + offset);
    if (DecodeFixed32(data.data() + offset + 4) != LengthCheck(data.data() + offset)) {
      return corrupt(offset, "record length check mismatch");
    }
    if (length > kManifestRecordBytesMax) {
      return corrupt(offset, fmt::format("record length {} exceeds the limit", length));
    }
    if (remaining - kManifestRecordHeaderBytes < length) break;  // torn tail
    const std::string_view payload(data.data() + offset + kManifestRecordHeaderBytes, length);
    const uint64_t stored = DecodeFixed64(data.data() + offset + 8);
    if (stored != RecordChecksum(data.data() + offset, payload)) {
      return corrupt(offset, "record checksum mismatch");
    }
    STRATA_RETURN_IF_ERROR(fn(offset, payload));
    ++report->record_count;
    offset += kManifestRecordHeaderBytes + length;
  }
  if (offset < data.size()) {
    report->torn_tail = true;
    report->torn_offset = offset;
  }
  return Status::Ok();
}

Status ReadCurrentFile(io::FileSystem* fs, const std::string& dir, std::string* manifest_name) {
  const std::string path = io::JoinPath(dir, kCurrentFileName);
  if (!fs->FileExists(path)) return Status::NotFound(path + ": no CURRENT file");
  std::string data;
  STRATA_RETURN_IF_ERROR(io::ReadFileToString(fs, path, &data));
  constexpr std::string_view kPrefix = "MANIFEST-";
  if (data.size() < kPrefix.size() + 2 || data.size() > 64 || data.back() != '\n' ||
      data.compare(0, kPrefix.size(), kPrefix) != 0) {
    return Status::Corruption(path + " @ 0: malformed (expected 'MANIFEST-NNNNNN\\n')");
  }
  for (size_t i = kPrefix.size(); i + 1 < data.size(); ++i) {
    if (data[i] < '0' || data[i] > '9') {
      return Status::Corruption(fmt::format("{} @ {}: non-digit in manifest name", path, i));
    }
  }
  data.pop_back();
  *manifest_name = std::move(data);
  return Status::Ok();
}

Status SetCurrentFile(io::FileSystem* fs, const std::string& dir, std::string_view manifest_name) {
  return io::WriteFileAtomically(fs, io::JoinPath(dir, kCurrentFileName),
                                 std::string(manifest_name) + "\n");
}

}  // namespace strata::lsm
