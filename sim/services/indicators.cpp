// indicators: the plan's targets, yearly (placeholder until the submodel lands).
#include "sim/services/services.hpp"  // ServiceContext

namespace childsim {
namespace io {
std::vector<OutputSpec> indicator_outputs() { return {}; }
}  // namespace io
void record_indicators(const ServiceContext&, const State&, io::Recorder&) {}
}  // namespace childsim
