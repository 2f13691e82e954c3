// list_edits: resolving `remove:` and `replace:` in inherited lists.
#include "sim/scenario/list_edits.hpp"

#include <fmt/format.h>  // fmt::format

#include <algorithm>  // std::find_if

namespace childsim {
namespace {

std::string where(const config::ConfigNode& node) {
  return fmt::format("{}:{}", node.origin.file, node.origin.line);
}

}  // namespace

std::string id_or_name(const config::ConfigNode& item) {
  if (!item.is_map()) return "";
  for (const char* key : {"id", "name"})
    if (const auto* n = item.find(key); n && n->is_scalar()) return n->scalar;
  return "";
}

std::vector<const config::ConfigNode*> edited_items(const config::ConfigNode& list,
                                                    const std::string& what, const ItemId& id_of) {
  if (!list.is_sequence()) list.fail(fmt::format("expected a list of {}s", what));
  std::vector<const config::ConfigNode*> out;
  auto position = [&](const std::string& id) {
    return std::find_if(out.begin(), out.end(),
                        [&](const config::ConfigNode* n) { return id_of(*n) == id; });
  };
  auto unknown = [&](const config::ConfigNode& at, const std::string& id) {
    std::string ids;
    for (const auto* n : out)
      if (const auto i = id_of(*n); !i.empty()) ids += (ids.empty() ? "" : ", ") + i;
    at.fail(fmt::format("no {} with id '{}' to {} in the list so far (ids: {})", what, id,
                        at.path.substr(at.path.rfind('.') + 1), ids.empty() ? "none" : ids));
  };
  for (const auto& item : list.items) {
    if (const auto* rm = item.is_map() ? item.find("remove") : nullptr) {
      if (item.entries.size() != 1)
        item.fail(
            "expected only 'remove: ID' in an item that removes (to change an item, "
            "write 'replace: ID' with the new item's keys)");
      const std::string id = config::as_string(*rm);
      const auto it = position(id);
      if (it == out.end()) unknown(*rm, id);
      out.erase(it);
      continue;
    }
    if (const auto* rp = item.is_map() ? item.find("replace") : nullptr) {
      const std::string id = config::as_string(*rp);
      const auto it = position(id);
      if (it == out.end()) unknown(*rp, id);
      const std::string new_id = id_of(item);
      if (!new_id.empty() && new_id != id && position(new_id) != out.end())
        item.fail(fmt::format("{} id '{}' is already in the list", what, new_id));
      *it = &item;
      continue;
    }
    const std::string id = id_of(item);
    if (!id.empty())
      if (const auto it = position(id); it != out.end())
        item.fail(fmt::format(
            "{} '{}' is already in the list (written at {}); a what-if that extends another "
            "adds to its list, so a copy would apply it twice: delete the copy, or write "
            "'replace: {}' to change it, or 'remove: {}' to drop it",
            what, id, where(**it), id, id));
    out.push_back(&item);
  }
  return out;
}

}  // namespace childsim
