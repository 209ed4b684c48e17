// Process and disk measurements, and the amplification arithmetic.
//
// Write amplification has two sources: the kernel's count of bytes this
// process sent towards storage (/proc/self/io write_bytes, which includes
// every thread, also the engine's background flushes and compactions) and
// the engine's own counters where it keeps them. The kernel charges a page
// when it becomes dirty, so a page rewritten before writeback (LMDB's hot
// pages) counts once, as the device would see it. The bytes handed to
// write system calls (wchar) are reported too: they show what an engine asks
// for (LMDB writes whole pages per commit) before the page cache absorbs it. Both are divided by the
// logical bytes (keys + values) the workload wrote. Space amplification is
// the bytes the database directory holds on disk (see DirDiskBytes) over
// the logical bytes of the live keys.
//
// Peak RSS is per process (VmHWM); the driver runs each engine in its own
// process and resets the mark before each workload (/proc/self/clear_refs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "strata/status.h"

namespace strata::bench {

struct ProcIo {
  uint64_t wchar = 0;  // bytes passed to write-like system calls
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
  uint64_t cancelled_write_bytes = 0;
};

// Parses the text of /proc/<pid>/io.
Result<ProcIo> ParseProcIo(std::string_view text);
Result<ProcIo> ReadProcIo();

// VmHWM and VmRSS from the text of /proc/<pid>/status, in bytes.
Result<uint64_t> ParseStatusField(std::string_view text, std::string_view field);
uint64_t PeakRssBytes();
// Resets VmHWM to the current RSS; false if the kernel does not allow it.
bool ResetPeakRss();

// Bytes the files under `dir` hold on disk: per file the smaller of its
// allocated blocks and its apparent size.
uint64_t DirDiskBytes(const std::string& dir);

// numerator / denominator, or nothing when the denominator is 0.
std::optional<double> Ratio(uint64_t numerator, uint64_t denominator);
std::optional<double> Ratio(double numerator, double denominator);

// The count after minus before, or 0 if the counter went backwards.
inline uint64_t Delta(uint64_t before, uint64_t after) {
  return after >= before ? after - before : 0;
}

}  // namespace strata::bench
