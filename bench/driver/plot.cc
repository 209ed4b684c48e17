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

// The document, white background and title every chart starts with.
std::string SvgHeader(std::string_view title) {
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<title>{2}</title>\n<rect x=\"0\" y=\"0\" width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
      "<text x=\"{3}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">{2}</text>\n",
      kWidth, kHeight, XmlEscape(title), (kLeft + kWidth - kRight) / 2);
}

// Horizontal grid lines and labels of the y axis.
void AppendYTicks(const Axis& ya, std::string* out) {
  const double px0 = kLeft, px1 = kWidth - kRight, py0 = kHeight - kBottom, py1 = kTop;
  for (double t : ya.ticks) {
    const double y = ya.Map(t, py0, py1);
    *out += fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>\n"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        px0, y, px1, px0 - 6, y + 4, TickLabel(t));
  }
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

  std::string out = SvgHeader(chart.title);
  for (double t : xa.ticks) {
    const double x = xa.Map(t, px0, px1);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        x, py0, py1, py0 + 18, TickLabel(t));
  }
  AppendYTicks(ya, &out);
  out += fmt::format(
      "<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" fill=\"none\" stroke=\"black\"/>\n"
      "<text x=\"{4}\" y=\"{5}\" text-anchor=\"middle\">{6}</text>\n"
      "<text x=\"18\" y=\"{7}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {7})\">{8}</text>\n",
      px0, py1, px1 - px0, py0 - py1, (px0 + px1) / 2, kHeight - 15, XmlEscape(chart.x_label),
      (py0 + py1) / 2, XmlEscape(chart.y_label));
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
        XmlEscape(s.name), color, points);
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
        px1 + 15, ly, px1 + 40, color, px1 + 46, ly + 4, XmlEscape(s.name));
  }
  out += "</svg>\n";
  return out;
}

std::string RenderBarSvg(const BarChart& chart) {
  double y_hi = 0;
  for (const auto& row : chart.values) {
    for (double v : row) y_hi = std::max(y_hi, v);
  }
  const Axis ya = MakeAxis(0, y_hi > 0 ? y_hi * 1.1 : 1, false, true);
  const double px0 = kLeft, px1 = kWidth - kRight, py0 = kHeight - kBottom, py1 = kTop;
  std::string out = SvgHeader(chart.title);
  AppendYTicks(ya, &out);
  out += fmt::format(
      "<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" fill=\"none\" stroke=\"black\"/>\n"
      "<text x=\"18\" y=\"{4}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {4})\">{5}</text>\n",
      px0, py1, px1 - px0, py0 - py1, (py0 + py1) / 2, XmlEscape(chart.y_label));
  const size_t groups = std::max<size_t>(chart.groups.size(), 1);
  const size_t bars = std::max<size_t>(chart.bars.size(), 1);
  const double group_w = (px1 - px0) / static_cast<double>(groups);
  const double bar_w = group_w * 0.8 / static_cast<double>(bars);
  const auto base = std::find(chart.bars.begin(), chart.bars.end(), chart.baseline);
  const size_t base_index = static_cast<size_t>(base - chart.bars.begin());
  for (size_t g = 0; g < chart.groups.size(); ++g) {
    const double gx = px0 + group_w * static_cast<double>(g);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                       gx + group_w / 2, py0 + 18, XmlEscape(chart.groups[g]));
    for (size_t b = 0; b < chart.bars.size(); ++b) {
      const double v = b < chart.values.size() && g < chart.values[b].size() ? chart.values[b][g]
                                                                            : -1;
      if (v < 0) continue;
      const double x = gx + group_w * 0.1 + bar_w * static_cast<double>(b);
      const double y = ya.Map(v, py0, py1);
      out += fmt::format(
          "<rect data-engine=\"{}\" data-workload=\"{}\" x=\"{:.1f}\" y=\"{:.1f}\" "
          "width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"/>\n",
          XmlEscape(chart.bars[b]), XmlEscape(chart.groups[g]), x, y, bar_w * 0.95, py0 - y,
          kColors[b % std::size(kColors)]);
      std::string label = TickLabel(std::round(v * 10) / 10);
      if (base != chart.bars.end() && b != base_index && g < chart.values[base_index].size() &&
          chart.values[base_index][g] > 0) {
        label += fmt::format(" ({:.2f}x)", v / chart.values[base_index][g]);
      }
      out += fmt::format(
          "<text x=\"{0:.1f}\" y=\"{1:.1f}\" text-anchor=\"start\" font-size=\"10\" "
          "transform=\"rotate(-90 {0:.1f} {1:.1f})\">{2}</text>\n",
          x + bar_w * 0.6, y - 4, XmlEscape(label));
    }
  }
  for (size_t b = 0; b < chart.bars.size(); ++b) {
    const double ly = py1 + 10 + 20 * static_cast<double>(b);
    std::string name = chart.bars[b];
    if (b == base_index && base != chart.bars.end()) name += " (baseline)";
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"20\" height=\"10\" fill=\"{}\"/>\n"
        "<text x=\"{}\" y=\"{}\">{}</text>\n",
        px1 + 15, ly - 5, kColors[b % std::size(kColors)], px1 + 40, ly + 4, XmlEscape(name));
  }
  out += "</svg>\n";
  return out;
}

std::vector<std::pair<double, double>> ThroughputPoints(const WorkloadResult& r) {
  std::vector<std::pair<double, double>> points;
  const auto& p = r.progress;
  const double total = p.size() >= 2 ? p.back().first - p.front().first : 0;
  if (!(total > 0)) {
    for (size_t i = 0; i < r.ops_per_second.size(); ++i) {
      // The last point may cover a partial second: it sits at the end of the run.
      const double x = std::min(static_cast<double>(i + 1), std::max(r.seconds, double(i)));
      points.emplace_back(r.seconds > 0 ? x : static_cast<double>(i + 1),
                          r.ops_per_second[i] / 1000);
    }
    return points;
  }
  constexpr double kSampleSeconds = 0.1;
  const double wanted = std::max(kSampleSeconds, total / kThroughputBuckets);
  const size_t n = std::max<size_t>(2, static_cast<size_t>(std::ceil(total / wanted - 1e-9)));
  const double bucket = total / static_cast<double>(n);
  // Operations done at time t, interpolated between samples.
  size_t at = 0;
  auto done_at = [&](double t) {
    while (at + 1 < p.size() && p[at + 1].first < t) ++at;
    if (at + 1 >= p.size()) return static_cast<double>(p.back().second);
    const auto [t0, n0] = p[at];
    const auto [t1, n1] = p[at + 1];
    const double f = t1 > t0 ? std::clamp((t - t0) / (t1 - t0), 0.0, 1.0) : 1.0;
    return static_cast<double>(n0) + f * (static_cast<double>(n1) - static_cast<double>(n0));
  };
  double prev = done_at(p.front().first);
  for (size_t i = 1; i <= n; ++i) {
    const double t = p.front().first + bucket * static_cast<double>(i);
    const double done = done_at(t);
    points.emplace_back(t, (done - prev) / bucket / 1000);
    prev = done;
  }
  return points;
}

BarChart BuildSummaryChart(const std::vector<EngineRun>& runs, const std::string& baseline) {
  BarChart chart;
  chart.title = "throughput per workload";
  chart.y_label = "throughput (k ops/s)";
  chart.baseline = baseline;
  for (const EngineRun& run : runs) {
    for (const WorkloadResult& r : run.results) {
      if (std::find(chart.groups.begin(), chart.groups.end(), r.workload) == chart.groups.end()) {
        chart.groups.push_back(r.workload);
      }
    }
  }
  for (const EngineRun& run : runs) {
    chart.bars.push_back(run.engine);
    std::vector<double> row(chart.groups.size(), -1);
    for (const WorkloadResult& r : run.results) {
      const size_t g = static_cast<size_t>(
          std::find(chart.groups.begin(), chart.groups.end(), r.workload) - chart.groups.begin());
      row[g] = r.ops_per_sec() / 1000;
    }
    chart.values.push_back(std::move(row));
  }
  return chart;
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
        tput.series.push_back(Series{run.engine, ThroughputPoints(r)});
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
                  std::vector<std::string>* written, const std::string& baseline) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("--plot=" + dir + ": " + ec.message());
  auto write = [&](const std::string& name, const std::string& svg) {
    const std::string path = dir + "/" + name;
    std::ofstream out(path, std::ios::trunc);
    out << svg;
    out.close();
    if (!out) return Status::IOError(path + ": write failed");
    written->push_back(path);
    return Status::Ok();
  };
  STRATA_RETURN_IF_ERROR(write("summary.svg", RenderBarSvg(BuildSummaryChart(runs, baseline))));
  for (const auto& [name, chart] : BuildCharts(runs)) {
    STRATA_RETURN_IF_ERROR(write(name, RenderSvg(chart)));
  }
  return Status::Ok();
}

std::string XmlEscape(std::string_view text) {
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

}  // namespace strata::bench
