// SVG line charts, written directly: throughput over time (one point per
// second, so write stalls show as dips) and latency CDFs. Each chart has a
// title, labelled axes with units, tick marks and a legend; every series is
// one <polyline> carrying data-series="NAME" so tools and tests can find it.
#pragma once

#include <string>
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

// The charts for a set of runs: throughput-<workload>.svg and
// latency-<workload>.svg, one series per engine.
std::vector<std::pair<std::string, LineChart>> BuildCharts(const std::vector<EngineRun>& runs);

// Writes every chart into dir (created if missing); *written lists the paths.
Status WritePlots(const std::string& dir, const std::vector<EngineRun>& runs,
                  std::vector<std::string>* written);

}  // namespace strata::bench
