// calibrate_command: what `childsim calibrate` prints, shared with `childsim-mpi calibrate`
// (sim/mpi_main.cpp), so that both commands report a calibration in the same words.
#pragma once

#include "sim/calibration/abc_smc.hpp"  // AbcResult, GenerationReport

#include <filesystem>  // std::filesystem::path

namespace childsim::cli {

/// One line per generation on stderr (tolerance, acceptance, simulations, ESS), only when
/// stderr is a terminal.
void print_generation(const calibration::GenerationReport& g);

/// The posterior in a few lines on stdout: weighted mean, sd and 90 % interval of each
/// parameter, then "Wrote OUT".
void print_posterior(const calibration::AbcResult& res, const std::filesystem::path& out);

}  // namespace childsim::cli
