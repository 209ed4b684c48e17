#include "bench/driver/plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "bench/driver/output.h"

namespace strata::bench {

namespace {

constexpr double kWidth = 860;
constexpr double kHeight = 500;
constexpr double kLeft = 80;
constexpr double kRight = 180;  // room for the legend
constexpr double kTop = 50;
constexpr double kBottom = 60;
constexpr int kTicksWanted = 6;
constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                   "#9467bd", "#8c564b", "#e377c2", "#17becf"};
constexpr double kNanosPerMicro = 1000.0;

std::string Xml(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A "nice" step (1, 2 or 5 times a power of ten) for about kTicksWanted ticks.
double NiceStep(double range) {
  if (!(range > 0)) return 1;
  const double raw = range / kTicksWanted;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / magnitude;
  return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * magnitude;
}

std::string TickLabel(double v) {
  if (v != 0 && (std::fabs(v) >= 1e6 || std::fabs(v) < 1e-3)) return fmt::format("{:.0e}", v);
  return fmt::format("{:g}", v);
}

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<double> ticks;

  double Map(double v, double from, double to) const {
    const double a = log ? std::log10(lo) : lo;
    const double b = log ? std::log10(hi) : hi;
    const double x = log ? std::log10(v) : v;
    return from + (x - a) / (b - a) * (to - from);
  }
};

Axis MakeAxis(double lo, double hi, bool log, bool from_zero) {
  Axis axis;
  axis.log = log;
  if (log) {
    axis.lo = std::pow(10.0, std::floor(std::log10(lo)));
    axis.hi = std::pow(10.0, std::ceil(std::log10(hi)));
    if (axis.hi <= axis.lo) axis.hi = axis.lo * 10;
    for (double t = axis.lo; t <= axis.hi * 1.0001; t *= 10) axis.ticks.push_back(t);
    return axis;
  }
  if (from_zero) lo = std::min(lo, 0.0);
  if (hi <= lo) hi = lo + 1;
  const double step = NiceStep(hi - lo);
  axis.lo = std::floor(lo / step) * step;
  axis.hi = std::ceil(hi / step) * step;
  for (double t = axis.lo; t <= axis.hi + step / 2; t += step) axis.ticks.push_back(t);
  return axis;
}

}  // namespace

std::string RenderSvg(const LineChart& chart) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const Series& s : chart.series) {
    for (auto [x, y] : s.points) {
      if (chart.x_log && x <= 0) continue;
      x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    }
  }
  if (!(x_lo <= x_hi)) x_lo = chart.x_log ? 1 : 0, x_hi = chart.x_log ? 10 : 1, y_lo = 0, y_hi = 1;
  const Axis xa = MakeAxis(x_lo, x_hi, chart.x_log, !chart.x_log);
  const Axis ya = MakeAxis(y_lo, y_hi, false, true);
  const double px0 = kLeft, px1 = kWidth - kRight, py0 = kHeight - kBottom, py1 = kTop;

  std::string out = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<title>{2}</title>\n<rect x=\"0\" y=\"0\" width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
      "<text x=\"{3}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">{2}</text>\n",
      kWidth, kHeight, Xml(chart.title), (px0 + px1) / 2);
  for (double t : xa.ticks) {
    const double x = xa.Map(t, px0, px1);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        x, py0, py1, py0 + 18, TickLabel(t));
  }
  for (double t : ya.ticks) {
    const double y = ya.Map(t, py0, py1);
    out += fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>\n"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        px0, y, px1, px0 - 6, y + 4, TickLabel(t));
  }
  out += fmt::format(
      "<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" fill=\"none\" stroke=\"black\"/>\n"
      "<text x=\"{4}\" y=\"{5}\" text-anchor=\"middle\">{6}</text>\n"
      "<text x=\"18\" y=\"{7}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {7})\">{8}</text>\n",
      px0, py1, px1 - px0, py0 - py1, (px0 + px1) / 2, kHeight - 15, Xml(chart.x_label),
      (py0 + py1) / 2, Xml(chart.y_label));
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const Series& s = chart.series[i];
    const char* color = kColors[i % std::size(kColors)];
    std::string points;
    for (auto [x, y] : s.points) {
      if (chart.x_log && x <= 0) continue;
      points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", xa.Map(x, px0, px1),
                            ya.Map(y, py0, py1));
    }
    out += fmt::format(
        "<polyline data-series=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
        "points=\"{}\"/>\n",
        Xml(s.name), color, points);
    // A run shorter than one sampling interval has a single point, which a
    // polyline does not draw: mark it so the engine does not vanish.
    if (s.points.size() == 1 && !(chart.x_log && s.points[0].first <= 0)) {
      out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\"/>\n",
                         xa.Map(s.points[0].first, px0, px1), ya.Map(s.points[0].second, py0, py1),
                         color);
    }
    const double ly = py1 + 10 + 20 * static_cast<double>(i);
    out += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-width=\"3\"/>\n"
        "<text x=\"{4}\" y=\"{5}\">{6}</text>\n",
        px1 + 15, ly, px1 + 40, color, px1 + 46, ly + 4, Xml(s.name));
  }
  out += "</svg>\n";
  return out;
}

std::vector<std::pair<std::string, LineChart>> BuildCharts(const std::vector<EngineRun>& runs) {
  std::vector<std::string> workloads;
  for (const EngineRun& run : runs) {
    for (const WorkloadResult& r : run.results) {
      if (std::find(workloads.begin(), workloads.end(), r.workload) == workloads.end()) {
        workloads.push_back(r.workload);
      }
    }
  }
  std::vector<std::pair<std::string, LineChart>> charts;
  for (const std::string& w : workloads) {
    LineChart tput{w + ": throughput over time", "time (s)", "throughput (k ops/s)", false, {}};
    LineChart cdf{w + ": latency CDF", "latency (us, log scale)", "fraction of operations <= x",
                  true, {}};
    for (const EngineRun& run : runs) {
      for (const WorkloadResult& r : run.results) {
        if (r.workload != w) continue;
        Series t{run.engine, {}};
        for (size_t i = 0; i < r.ops_per_second.size(); ++i) {
          // The last point may cover a partial second: it sits at the end of the run.
          const double x = std::min(static_cast<double>(i + 1), std::max(r.seconds, double(i)));
          t.points.emplace_back(r.seconds > 0 ? x : static_cast<double>(i + 1),
                                r.ops_per_second[i] / 1000);
        }
        tput.series.push_back(std::move(t));
        Series c{run.engine, {}};
        for (auto [nanos, fraction] : r.latency.Cdf()) {
          c.points.emplace_back(nanos / kNanosPerMicro, fraction);
        }
        cdf.series.push_back(std::move(c));
      }
    }
    charts.emplace_back("throughput-" + w + ".svg", std::move(tput));
    charts.emplace_back("latency-" + w + ".svg", std::move(cdf));
  }
  return charts;
}

Status WritePlots(const std::string& dir, const std::vector<EngineRun>& runs,
                  std::vector<std::string>* written) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("--plot=" + dir + ": " + ec.message());
  for (const auto& [name, chart] : BuildCharts(runs)) {
    const std::string path = dir + "/" + name;
    std::ofstream out(path, std::ios::trunc);
    out << RenderSvg(chart);
    out.close();
    if (!out) return Status::IOError(path + ": write failed");
    written->push_back(path);
  }
  return Status::Ok();
}

}  // namespace strata::bench
