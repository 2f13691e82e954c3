// catalog_commands: `childsim outputs` and `childsim parameters` — the output variables and a
// place's named parameters, as plain text or as the Markdown tables of docs/.
#include "sim/cli/command.hpp"
#include "sim/data/base_data.hpp"     // load_base_data
#include "sim/io/output_catalog.hpp"  // output_catalog, output_catalog_markdown

#include <fmt/format.h>  // fmt::print

#include <memory>  // std::make_shared
#include <string>  // std::string

namespace childsim::cli {

Command add_outputs_command(CLI::App& app) {
  auto markdown = std::make_shared<bool>(false);
  auto* outputs = app.add_subcommand("outputs", "List the output variables");
  outputs->add_flag("--markdown", *markdown, "As Markdown tables (for docs/output-format.md)");
  return {outputs, [markdown] {
            if (*markdown) {
              fmt::print("{}", io::output_catalog_markdown());
              return 0;
            }
            for (const auto& o : io::output_catalog()) {
              std::string dims;
              for (const auto& d : o.dims) dims += (dims.empty() ? "" : ", ") + d;
              fmt::print("{:<34} ({}) [{}]\n    {}\n", o.name, dims, o.units, o.long_name);
            }
            return 0;
          }};
}

Command add_parameters_command(CLI::App& app) {
  struct Args {
    std::string dir = "scenarios/changning";
    bool markdown = false;
  };
  auto a = std::make_shared<Args>();
  auto* params = app.add_subcommand(
      "parameters", "List the named parameters of a place (value, unit, range, source)");
  params->add_option("place", a->dir, "Base data directory (default scenarios/changning)");
  params->add_flag("--markdown", a->markdown, "As a Markdown table (for docs/parameters.md)");
  return {params, [a] {
            const auto base = load_base_data(a->dir);
            if (a->markdown) {
              fmt::print(
                  "| parameter | value | unit | range | description | source or assumption |\n"
                  "|---|---|---|---|---|---|\n");
              for (const auto& p : base.parameters.rows())
                fmt::print("| `{}` | {:g} | {} | {:g} – {:g} | {} | {}{} |\n", p.name, p.value,
                           p.unit, p.lo, p.hi, p.description, p.assumed ? "**assumed:** " : "",
                           p.source);
            } else {
              for (const auto& p : base.parameters.rows())
                fmt::print("{:<40} {:>12g} {:<18} [{:g}, {:g}]{}\n", p.name, p.value, p.unit, p.lo,
                           p.hi, p.assumed ? "  (assumed)" : "");
            }
            return 0;
          }};
}

}  // namespace childsim::cli
