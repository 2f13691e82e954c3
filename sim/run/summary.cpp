// summary: a few lines that tell a planner what the run says.
#include "sim/run/summary.hpp"

#include <fmt/format.h>  // fmt::format

#include <algorithm>  // std::min, std::copy_n
#include <cstdint>    // std::int32_t
#include <map>        // std::map
#include <variant>    // std::get_if
#include <vector>     // std::vector

namespace childsim {

std::string summary_text(const io::Dataset& ds) {
  // Replicate r of an array with a leading replicate dimension is its r-th equal part.
  const std::size_t R = ds.find_dim("replicate")->size();
  return summary_text(ds, [&](const io::Variable& v, std::size_t r, void* out) {
    std::visit(
        [&](const auto& data) {
          using T = typename std::decay_t<decltype(data)>::value_type;
          if constexpr (!std::is_same_v<T, std::string>) {
            const std::size_t n = data.size() / R;
            std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(r * n), n, static_cast<T*>(out));
          }
        },
        v.data);
  });
}

std::string summary_text(const io::Dataset& ds, const io::ReplicateReader& read) {
  const auto& ids = std::get<std::vector<std::string>>(ds.find_dim("street")->values);
  const auto& names = std::get<std::vector<std::string>>(ds.find_variable("street_name")->data);
  const std::size_t R = ds.find_dim("replicate")->size(), T = ds.find_dim("time")->size(),
                    S = ids.size(), A = ds.find_dim("age")->size();
  const std::string start = std::get<std::string>(ds.attrs.at("start"));
  const int year0 = std::stoi(start.substr(0, 4)), month0 = std::stoi(start.substr(5, 2));

  // Last month of the first and last calendar year in the run.
  const std::size_t t_first = std::min<std::size_t>(T - 1, static_cast<std::size_t>(12 - month0));
  const std::size_t t_last = T - 1;
  // Replicate by replicate, so that a streamed ensemble is never all in memory.
  std::vector<double> first(S), last(S);
  std::map<int, double> by_year;
  {
    std::vector<std::int32_t> pop(T * S * A), births(T * S);
    for (std::size_t r = 0; r < R; ++r) {
      read(*ds.find_variable("population"), r, pop.data());
      read(*ds.find_variable("births"), r, births.data());
      for (std::size_t s = 0; s < S; ++s)
        for (std::size_t a = 0; a < A; ++a) {
          first[s] += pop[(t_first * S + s) * A + a];
          last[s] += pop[(t_last * S + s) * A + a];
        }
      for (std::size_t t = 0; t < T; ++t)
        for (std::size_t s = 0; s < S; ++s)
          by_year[year0 + static_cast<int>((month0 - 1 + t) / 12)] +=
              births[t * S + s] / static_cast<double>(R);
    }
  }
  auto children = [&](std::size_t t, std::size_t s) {
    return (t == t_first ? first[s] : last[s]) / static_cast<double>(R);
  };
  const int y_first = year0, y_last = year0 + static_cast<int>((month0 - 1 + T - 1) / 12);
  std::string out = fmt::format("Children aged 0–17 (mean of {} replicate(s)), end of year:\n", R);
  out += fmt::format("  {:<16}{:<12}{:>10}{:>10}\n", "street", "", y_first, y_last);
  double tot0 = 0, tot1 = 0;
  for (std::size_t s = 0; s < S; ++s) {
    const double a = children(t_first, s), b = children(t_last, s);
    tot0 += a;
    tot1 += b;
    // Chinese names are double width; pad by characters, not bytes.
    out += fmt::format(
        "  {:<16}{}{:>10.0f}{:>10.0f}\n", ids[s],
        names[s] + std::string(12 - std::min<std::size_t>(12, names[s].size() / 3 * 2), ' '), a, b);
  }
  out += fmt::format("  {:<16}{:<12}{:>10.0f}{:>10.0f}\n", "district", "", tot0, tot1);

  out += "Births per year (district, mean):\n ";
  for (const auto& [y, b] : by_year) out += fmt::format(" {}: {:.0f}", y, b);
  out += "\n";
  (void)y_last;

  // The plan's targets in the first years, when the run has them.
  const auto* met_var = ds.find_variable("indicator_target_met");
  const auto* target_dim = ds.find_dim("target");
  const auto* year_dim = ds.find_dim("year");
  if (met_var && target_dim && year_dim && target_dim->size() > 0) {
    const auto& targets = std::get<std::vector<std::string>>(target_dim->values);
    const auto& years = std::get<std::vector<std::int64_t>>(year_dim->values);
    const std::size_t Y = years.size(), K = targets.size();
    const std::size_t shown = std::min<std::size_t>(Y, 2);
    // A target is judged only from its first year in force ("-" before it): a 2025 target
    // that shows "0%" in 2024 would read as missed.
    std::vector<std::int32_t> first_year(K, 0);
    if (const auto* fy = ds.find_variable("target_first_year"))
      if (const auto* v = std::get_if<std::vector<std::int32_t>>(&fy->data))
        if (v->size() == K) first_year = *v;
    std::vector<double> share(Y * K);
    std::vector<char> evaluated(Y * K, 1);
    std::vector<std::int32_t> met(Y * K);
    for (std::size_t r = 0; r < R; ++r) {
      read(*met_var, r, met.data());
      for (std::size_t i = 0; i < Y * K; ++i) {
        evaluated[i] = evaluated[i] && met[i] >= 0;
        share[i] += met[i] > 0 ? 1.0 : 0.0;
      }
    }
    out += "Plan targets met (share of replicates; - : not yet in force):\n";
    out += fmt::format("  {:<42}", "target");
    for (std::size_t y = 0; y < shown; ++y) out += fmt::format("{:>8}", years[y]);
    out += "\n";
    for (std::size_t k = 0; k < K; ++k) {
      out += fmt::format("  {:<42}", targets[k]);
      for (std::size_t y = 0; y < shown; ++y) {
        if (years[y] < first_year[k]) {
          out += fmt::format("{:>8}", "-");
          continue;
        }
        out += evaluated[y * K + k]
                   ? fmt::format("{:>7.0f}%", 100 * share[y * K + k] / static_cast<double>(R))
                   : fmt::format("{:>8}", "n/a");
      }
      out += "\n";
    }
  }
  return out;
}

void print_summary(const io::Dataset& ds, const std::filesystem::path& out) {
  fmt::print("{}", summary_text(ds));
  fmt::print("Wrote {}\n", out.string());
}

}  // namespace childsim
