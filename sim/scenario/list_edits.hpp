// list_edits: the items of an inherited list after a what-if's explicit edits.
//
// Under `extends`, the lists of config::accumulating_lists() (investments, new housing,
// subsidies) are concatenated: the base scenario's items first, then the what-if's own. So a
// what-if cannot drop a commitment by accident; it removes or replaces one only by naming its
// id:
//
//     investments:
//       - remove: jiangsulu-summer-2           # drop an inherited item
//       - replace: xinjing-kg-3-nc-2024        # put this item in its place
//         action: add_capacity
//         ...
//       - {action: open, id: new-nursery, ...}  # add
//
// An item that repeats the id of an earlier one is an error (a copied base list would
// otherwise apply each commitment twice); an edit naming an id that is not in the list is an
// error that lists the ids there are.
#pragma once

#include "sim/config/config_tree.hpp"  // ConfigNode

#include <functional>  // std::function
#include <string>      // std::string
#include <vector>      // std::vector

namespace childsim {

/// The id of a list item (e.g. an investment's `id`, else its `name`); "" when it has none.
using ItemId = std::function<std::string(const config::ConfigNode&)>;

/// The effective items of `list` in order, after `remove:` and `replace:` edits; `what` names
/// an item in messages ("investment"). Throws config::ConfigError at the offending item.
/// A `replace:` item is returned with its other keys (the reader must `allow("replace")`).
std::vector<const config::ConfigNode*> edited_items(const config::ConfigNode& list,
                                                    const std::string& what, const ItemId& id_of);

/// The id of an investment, housing project or subsidy: its `id` if written, else its `name`.
std::string id_or_name(const config::ConfigNode& item);

}  // namespace childsim
