// compare_command: `childsim compare` — the briefing page, made by the Python analysis package.
#include "sim/cli/command.hpp"
#include "sim/cli/python_launcher.hpp"  // run_python_main

#include <memory>  // std::make_shared
#include <string>  // std::string
#include <vector>  // std::vector

namespace childsim::cli {
namespace {

struct CompareArgs {
  std::vector<std::string> files;
  std::string out, title, names, from, to, discount_rate;
};

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
  return {compare, [a] {
            std::vector<std::string> args = a->files;
            args.insert(args.end(), {"-o", a->out});
            if (!a->title.empty()) args.insert(args.end(), {"--title", a->title});
            if (!a->names.empty()) args.insert(args.end(), {"--names", a->names});
            if (!a->from.empty()) args.insert(args.end(), {"--from", a->from});
            if (!a->to.empty()) args.insert(args.end(), {"--to", a->to});
            if (!a->discount_rate.empty())
              args.insert(args.end(), {"--discount-rate", a->discount_rate});
            return run_python_main("briefing", args);
          }};
}

}  // namespace childsim::cli
