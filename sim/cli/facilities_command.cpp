// facilities_command: `childsim facilities` — the facilities of a scenario (ids for
// investments), optionally of one street or kind.
#include "sim/cli/command.hpp"
#include "sim/config/config_tree.hpp"  // ConfigNode, ConfigError
#include "sim/scenario/scenario.hpp"   // load_scenario

#include <fmt/format.h>  // fmt::print

#include <memory>  // std::make_shared
#include <string>  // std::string

namespace childsim::cli {

Command add_facilities_command(CLI::App& app) {
  struct Args {
    std::string scenario = std::string(CHILDSIM_SOURCE_DIR) + "/scenarios/baseline.yaml";
    std::string street, kind;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "facilities", "List a scenario's facilities (id, kind, street, capacity, price, name)");
  cmd->add_option("scenario", a->scenario,
                  "Scenario file (default scenarios/baseline.yaml): its investments are applied");
  cmd->add_option("--street", a->street, "Only this street (id, Chinese or English name)");
  cmd->add_option("--kind", a->kind, "Only this kind (e.g. nursery_class)");
  return {cmd, [a] {
            const Scenario sc = load_scenario(a->scenario);
            const Facilities& F = sc.facilities;
            int street = -2;  // all
            if (!a->street.empty()) {
              config::ConfigNode node;
              node.kind = config::ConfigNode::Kind::scalar;
              node.scalar = a->street;
              node.origin = {"--street", 0, 0};
              node.path = "street";
              street = sc.base.read_street(node);
            }
            int kind = -1;
            if (!a->kind.empty()) {
              kind = F.kind_index(a->kind);
              if (kind < 0) {
                std::string kinds;
                for (const auto& k : F.kinds) kinds += (kinds.empty() ? "" : ", ") + k.id;
                throw config::ConfigError({"--kind", 0, 0}, "kind",
                                          fmt::format("unknown facility kind '{}' (expected one "
                                                      "of: {})",
                                                      a->kind, kinds));
              }
            }
            const int last = sc.n_months() - 1;
            fmt::print("{:<28} {:<20} {:<14} {:>9} {:>9} {:>8}  {}\n", "id", "kind", "street",
                       sc.start.to_string(), sc.end.to_string(), "price", "name");
            int shown = 0;
            for (std::size_t f = 0; f < F.size(); ++f) {
              if (street != -2 && F.street[f] != street) continue;
              if (kind >= 0 && F.kind[f] != kind) continue;
              const std::string st =
                  F.street[f] < 0 ? "outside"
                                  : sc.base.streets[static_cast<std::size_t>(F.street[f])].id;
              fmt::print("{:<28} {:<20} {:<14} {:>9} {:>9} {:>8g}  {}\n", F.id[f], F.kind_of(f).id,
                         st, F.capacity(f, 0), F.capacity(f, last), F.price[f], F.name[f]);
              ++shown;
            }
            fmt::print("{} facilities; capacity in the kind's unit in the first and last month\n",
                       shown);
            return 0;
          }};
}

}  // namespace childsim::cli
