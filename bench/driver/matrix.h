// The profile x device matrix (`strata bench --matrix [--pace]`): each strata
// engine run with the hdd and the ssd profile on the hdd and the ssd device
// model, the ratios of the matched profile to the other one on each device,
// and the bars issue 13 sets for them:
//   hdd model: hdd profile >= 1.5x the ssd profile on fillrandom and on
//              seekrandom (seek + N nexts); >= 0.9x on readrandom;
//   ssd model: ssd profile >= 1.0x the hdd profile on every workload, and a
//              lower write amplification on every workload that writes.
// Write amplification here is the modeled device's: bytes the modeled disk
// wrote (SSD: whole pages programmed) per logical byte written.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/driver/flags.h"
#include "bench/driver/results.h"

namespace strata::bench {

struct MatrixBar {
  std::string engine;
  std::string device;    // hdd|ssd: the device model
  std::string workload;  // as run (seekrandom, not its label)
  std::string what;      // "ops/s" or "write amp"
  // ops/s: matched profile / other profile (higher is better);
  // write amp: matched profile's WA / other's (lower is better).
  std::optional<double> ratio;
  double need = 0;       // ops/s: ratio >= need; write amp: ratio < need
  bool pass = false;
};

// The bars the runs can be judged on (a cell that failed or is missing
// gives a bar without a ratio, which does not pass).
std::vector<MatrixBar> EvaluateMatrixBars(const std::vector<EngineRun>& runs);

// "seek+100" for seekrandom with 100 nexts; other workloads as named.
std::string MatrixWorkloadLabel(const BenchConfig& config, const std::string& workload);

std::string FormatMatrixTable(const BenchConfig& config, const std::vector<EngineRun>& runs);
std::string FormatMatrixJson(const BenchConfig& config, const std::vector<EngineRun>& runs);
// One panel per engine and workload: a 2 x 2 grid (rows: profile, columns:
// device model) of ops/s, each device column with its matched/other ratio,
// green where the bar holds and red where it misses. Every cell is a <rect>
// with data-engine, data-workload, data-profile and data-device.
std::string RenderMatrixSvg(const BenchConfig& config, const std::vector<EngineRun>& runs);

}  // namespace strata::bench
