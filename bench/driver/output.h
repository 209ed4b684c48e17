// Writers for the results: the aligned table, JSON and CSV, with the
// settings every engine ran with and, with --baseline, each engine's
// throughput relative to the baseline on the same workload.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/driver/flags.h"
#include "bench/driver/results.h"

namespace strata::bench {

// Throughput of `r` over the baseline engine's on the same workload.
std::optional<double> BaselineRatio(const std::vector<EngineRun>& runs,
                                    const std::string& baseline, const WorkloadResult& r);

std::string FormatTable(const BenchConfig& config, const std::vector<EngineRun>& runs);
std::string FormatJson(const BenchConfig& config, const std::vector<EngineRun>& runs);
std::string FormatCsv(const BenchConfig& config, const std::vector<EngineRun>& runs);

// Escapes a string for a JSON string literal (without the quotes).
std::string JsonEscape(std::string_view text);
// Quotes a CSV field when it holds a comma, quote or newline.
std::string CsvField(std::string_view text);

}  // namespace strata::bench
