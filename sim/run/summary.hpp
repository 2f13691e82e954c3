// summary: the short human summary printed after a run (children by street, births by year).
#pragma once

#include "sim/io/dataset.hpp"  // Dataset

#include <filesystem>  // std::filesystem::path
#include <string>      // std::string

namespace childsim {

/// The summary as text: children 0–17 by street at the end of the first and last year, and
/// births per year, as means over replicates.
std::string summary_text(const io::Dataset& ds);
/// The same for a run read replicate by replicate (a streamed ensemble): `layout` gives the
/// dimensions and coordinates, `read` each replicate's values (io::ReplicateReader).
std::string summary_text(const io::Dataset& layout, const io::ReplicateReader& read);
void print_summary(const io::Dataset& ds, const std::filesystem::path& out);

}  // namespace childsim
