// access: the 15-minute walk (placeholder until the submodel lands).
#include "sim/services/services.hpp"  // ServiceContext

namespace childsim {
namespace io {
std::vector<OutputSpec> access_outputs() { return {}; }
}  // namespace io
void step_access(const ServiceContext&, State&, io::Recorder&) {}
}  // namespace childsim
