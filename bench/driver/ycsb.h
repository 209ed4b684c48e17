// YCSB core workloads A-F and custom mixes from a property file.
//
// Proportions, request distributions and scan lengths follow YCSB's
// CoreWorkload and its workloads/workload[a-f] files:
//   A: 50% read, 50% update, zipfian          (session store)
//   B: 95% read, 5% update, zipfian           (photo tagging)
//   C: 100% read, zipfian                     (user profile cache)
//   D: 95% read, 5% insert, latest            (status updates)
//   E: 95% scan, 5% insert, zipfian, scan length uniform in [1, 100]
//   F: 50% read, 50% read-modify-write, zipfian
// A record is one key of --key_size bytes and one value of --value_size
// bytes (YCSB's ten fields collapsed into one value); reads and updates
// always touch the whole record.
#pragma once

#include <cstdint>
#include <string>

#include "strata/status.h"

namespace strata::bench {

enum class RequestDistribution : uint8_t { kUniform, kZipfian, kLatest };

struct YcsbSpec {
  std::string name;  // "ycsb-a", ..., "ycsb-custom"
  double read = 0;
  double update = 0;
  double insert = 0;
  double scan = 0;
  double read_modify_write = 0;
  RequestDistribution distribution = RequestDistribution::kZipfian;
  uint64_t scan_length_max = 100;
  bool scan_length_zipfian = false;  // else uniform in [1, max]
  double zipfian_theta = 0.99;

  double total() const { return read + update + insert + scan + read_modify_write; }
};

// The spec of core workload 'a'..'f'; InvalidArgument for another letter.
Result<YcsbSpec> CoreWorkload(char letter);

// Parses a YCSB-style property file (key=value lines, '#' comments). Keys:
// readproportion, updateproportion, insertproportion, scanproportion,
// readmodifywriteproportion, requestdistribution (uniform|zipfian|latest),
// maxscanlength, scanlengthdistribution (uniform|zipfian), zipfianconstant.
// YCSB keys with no meaning here (workload, fieldcount, ...) are ignored;
// *ignored lists them so the driver can say so.
Result<YcsbSpec> ParseYcsbProperties(std::string_view text, std::string* ignored);
Result<YcsbSpec> LoadYcsbPropertyFile(const std::string& path, std::string* ignored);

}  // namespace strata::bench
