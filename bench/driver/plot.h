// SVG charts, written directly: throughput over time (adaptive buckets, so
// write stalls show as dips in runs of any length), latency CDFs, and a
// summary of ops/s per engine per workload. Each chart has a
// title, labelled axes with units, tick marks and a legend; every series is
// one <polyline> carrying data-series="NAME" so tools and tests can find it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/driver/results.h"
#include "strata/status.h"

namespace strata::bench {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y)
};

struct LineChart {
  std::string title;
  std::string x_label;  // with unit: "time (s)"
  std::string y_label;
  bool x_log = false;  // log10 x axis; points with x <= 0 are dropped
  std::vector<Series> series;
};

std::string RenderSvg(const LineChart& chart);

// `text` with <, >, & and " escaped for SVG text and attributes.
std::string XmlEscape(std::string_view text);

// Grouped bars: one group per workload, one bar per engine (each a <rect>
// with data-engine and data-workload), its value on top and, when
// `baseline` names one of the engines, its ratio to the baseline's bar.
struct BarChart {
  std::string title;
  std::string y_label;
  std::vector<std::string> groups;  // workloads
  std::vector<std::string> bars;    // engines
  std::vector<std::vector<double>> values;  // [bar][group]; < 0: no result
  std::string baseline;             // an engine, or empty
};

std::string RenderBarSvg(const BarChart& chart);

// Throughput over time from WorkloadResult::progress, re-bucketed so that any
// run draws a line: buckets of seconds / kThroughputBuckets, never shorter
// than the 100 ms sampling interval, at least two (a run without progress
// samples falls back to its one-second series). Points are (bucket end in
// seconds, k ops/s).
inline constexpr int kThroughputBuckets = 60;
std::vector<std::pair<double, double>> ThroughputPoints(const WorkloadResult& r);

// ops/s per engine per workload, with ratios to `baseline`.
BarChart BuildSummaryChart(const std::vector<EngineRun>& runs, const std::string& baseline);

// The charts for a set of runs: throughput-<workload>.svg and
// latency-<workload>.svg, one series per engine.
std::vector<std::pair<std::string, LineChart>> BuildCharts(const std::vector<EngineRun>& runs);

// Writes every chart into dir (created if missing), summary.svg first;
// *written lists the paths.
Status WritePlots(const std::string& dir, const std::vector<EngineRun>& runs,
                  std::vector<std::string>* written, const std::string& baseline = "");

}  // namespace strata::bench
