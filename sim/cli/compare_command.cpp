// compare_command: `childsim compare` — the briefing page, made by the Python analysis package.
#include "sim/cli/command.hpp"
#include "sim/cli/python_launcher.hpp"  // run_python_main

#include <fmt/format.h>  // fmt::print

#include <cstdio>        // stderr
#include <filesystem>    // std::filesystem::equivalent
#include <memory>        // std::make_shared
#include <string>        // std::string
#include <system_error>  // std::error_code
#include <vector>        // std::vector

namespace childsim::cli {
namespace {

struct CompareArgs {
  std::vector<std::string> files;
  std::string out, title, names, from, to, discount_rate, sensitivity_output, siting;
  std::vector<std::string> sensitivity;
};

// The same run given twice (under one name or two, e.g. a link) compares to zero everywhere:
// allowed, since it is harmless, but almost always a slip of the shell.
void warn_repeated_files(const std::vector<std::string>& files) {
  for (std::size_t j = 1; j < files.size(); ++j)
    for (std::size_t i = 0; i < j; ++i) {
      std::error_code ec;
      if (!std::filesystem::equivalent(files[i], files[j], ec) || ec) continue;
      fmt::print(stderr,
                 "warning: files {} and {} ('{}' and '{}') are the same file: their "
                 "differences will all be zero\n",
                 i + 1, j + 1, files[i], files[j]);
      break;
    }
}

}  // namespace

Command add_compare_command(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  auto* compare = app.add_subcommand(
      "compare", "Compare runs in a self-contained HTML briefing page (the first is the baseline)");
  compare->add_option("files", a->files, "Result files (.h5): the baseline, then what-ifs")
      ->required()
      ->expected(2, 1000);
  compare->add_option("-o,--output", a->out, "The HTML page to write")->required();
  compare->add_option("--title", a->title, "Title of the page");
  compare->add_option("--names", a->names,
                      "Comma-separated scenario labels, one per file (default: scenario names)");
  // Checked in Python (one line, no file), so that every bad value gets the same message.
  compare->add_option("--from", a->from,
                      "First year of the decision table's costs and child-years (default 2026)");
  compare->add_option("--to", a->to, "Last year of that period (default 2030)");
  compare->add_option("--discount-rate", a->discount_rate,
                      "Yearly discount rate for costs and child-years (default 0.08)");
  // Sweeps of `childsim sweep` (issue #13): checked in Python, one file per --sensitivity.
  compare
      ->add_option("--sensitivity", a->sensitivity,
                   "A sweep file (saltelli or morris design; repeatable): adds the section "
                   "'What drives the result'")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  compare->add_option("--sensitivity-output", a->sensitivity_output,
                      "VARIABLE[:YEAR] summarised per sample (default nursery_unmet:2030)");
  // The output directory of `childsim site` (issue #12): checked in Python.
  compare->add_option("--siting", a->siting,
                      "Output directory of 'childsim site': adds the section 'Siting'");
  return {compare, [a] {
            warn_repeated_files(a->files);
            std::vector<std::string> args = a->files;
            args.insert(args.end(), {"-o", a->out});
            if (!a->title.empty()) args.insert(args.end(), {"--title", a->title});
            if (!a->names.empty()) args.insert(args.end(), {"--names", a->names});
            if (!a->from.empty()) args.insert(args.end(), {"--from", a->from});
            if (!a->to.empty()) args.insert(args.end(), {"--to", a->to});
            if (!a->discount_rate.empty())
              args.insert(args.end(), {"--discount-rate", a->discount_rate});
            for (const auto& sweep : a->sensitivity)
              args.insert(args.end(), {"--sensitivity", sweep});
            if (!a->sensitivity_output.empty())
              args.insert(args.end(), {"--sensitivity-output", a->sensitivity_output});
            if (!a->siting.empty()) args.insert(args.end(), {"--siting", a->siting});
            return run_python_main("briefing", args);
          }};
}

}  // namespace childsim::cli
