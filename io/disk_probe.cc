// The disk probe: random against sequential O_DIRECT 4 KiB reads of a
// scratch file (io/disk_detect.h).
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "io/aligned_buffer.h"
#include "io/disk_detect.h"

namespace strata::io {

namespace {

constexpr size_t kProbeReadBytes = 4096;
constexpr size_t kProbeWriteBytes = 1 << 20;
constexpr uint64_t kProbeFileBytesMin = 64 * 1024;

uint64_t NextRandom(uint64_t* state) {  // xorshift64*
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

uint64_t Median(std::vector<uint64_t> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Writes `bytes` of pseudo-random data (never zeros: a thin virtual disk may
// store zero blocks as holes) with O_DIRECT and fdatasyncs them.
Status WriteScratch(FileSystem* fs, const std::string& path, uint64_t bytes, uint64_t seed) {
  FileOptions direct;
  direct.direct = true;
  std::unique_ptr<WritableFile> file;
  Status s = fs->NewWritableFile(path, direct, &file);
  if (!s.ok()) return Status::NotSupported("O_DIRECT refused: " + std::string(s.message()));
  AlignedBuffer buffer(kProbeWriteBytes);
  uint64_t state = seed | 1;
  while (buffer.remaining() >= sizeof(uint64_t)) {
    const uint64_t word = NextRandom(&state) | 1;
    buffer.Append(std::string_view(reinterpret_cast<const char*>(&word), sizeof(word)));
  }
  for (uint64_t written = 0; written < bytes; written += buffer.size()) {
    STRATA_RETURN_IF_ERROR(file->Append(buffer.view().substr(0, std::min<uint64_t>(
                                                                   buffer.size(), bytes - written))));
  }
  STRATA_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

// Times up to `count` reads at the offsets `next_offset` gives, within
// `budget`; the latencies in ns.
template <typename NextOffset>
Status TimeReads(const RandomAccessFile& file, uint32_t count, std::chrono::milliseconds budget,
                 NextOffset next_offset, std::vector<uint64_t>* latencies) {
  AlignedBuffer buffer(kProbeReadBytes);
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < count && std::chrono::steady_clock::now() - start < budget; ++i) {
    const uint64_t offset = next_offset(i);
    const auto t0 = std::chrono::steady_clock::now();
    size_t n = 0;
    STRATA_RETURN_IF_ERROR(file.Read(offset, kProbeReadBytes, buffer.data(), &n));
    const auto t1 = std::chrono::steady_clock::now();
    if (n != kProbeReadBytes) {
      return Status::IOError(fmt::format("{} @ {}: short probe read ({} bytes)", file.path(),
                                         offset, n));
    }
    latencies->push_back(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
  }
  return Status::Ok();
}

Status ProbeFile(FileSystem* fs, const std::string& path, const DiskProbeOptions& options,
                 uint64_t file_bytes, DiskProbeFigures* figures) {
  STRATA_RETURN_IF_ERROR(WriteScratch(fs, path, file_bytes, options.seed));
  FileOptions direct;
  direct.direct = true;
  std::unique_ptr<RandomAccessFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewRandomAccessFile(path, direct, &file));
  const uint64_t blocks = file_bytes / kProbeReadBytes;
  uint64_t state = options.seed | 1;
  std::vector<uint64_t> random, sequential;
  STRATA_RETURN_IF_ERROR(TimeReads(
      *file, options.reads_per_pattern, options.budget_per_pattern,
      [&](uint32_t) { return NextRandom(&state) % blocks * kProbeReadBytes; }, &random));
  STRATA_RETURN_IF_ERROR(TimeReads(
      *file, std::min<uint64_t>(options.reads_per_pattern, blocks), options.budget_per_pattern,
      [&](uint32_t i) { return static_cast<uint64_t>(i) * kProbeReadBytes; }, &sequential));
  if (random.size() < options.reads_min || sequential.size() < options.reads_min) {
    return Status::IOError(fmt::format(
        "{}: only {} random and {} sequential reads within the budget of {} ms (need {})", path,
        random.size(), sequential.size(), options.budget_per_pattern.count(), options.reads_min));
  }
  figures->random_reads = static_cast<uint32_t>(random.size());
  figures->sequential_reads = static_cast<uint32_t>(sequential.size());
  figures->random_read_ns = Median(std::move(random));
  figures->sequential_read_ns = Median(std::move(sequential));
  return Status::Ok();
}

}  // namespace

Status ProbeDisk(FileSystem* fs, const std::string& dir, const DiskProbeOptions& options,
                 DiskProbeFigures* figures) {
  const auto start = std::chrono::steady_clock::now();
  const uint64_t file_bytes = AlignUp(std::max(options.file_bytes, kProbeFileBytesMin));
  const std::string path = JoinPath(dir, kProbeFileName);
  DiskProbeFigures f;
  Status s = ProbeFile(fs, path, options, file_bytes, &f);
  if (fs->FileExists(path)) {
    const Status removed = fs->RemoveFile(path);
    if (s.ok()) s = removed;
  }
  STRATA_RETURN_IF_ERROR(s);
  f.elapsed_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                           std::chrono::steady_clock::now() - start)
                                           .count());
  *figures = f;
  return Status::Ok();
}

}  // namespace strata::io
