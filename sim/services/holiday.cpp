// holiday: summer and winter holiday classes for primary pupils (placeholder until the
// submodel lands; declares no outputs).
#include "sim/services/services.hpp"  // ServiceContext

namespace childsim {
namespace io {
std::vector<OutputSpec> holiday_outputs() { return {}; }
}  // namespace io
void step_holiday(const ServiceContext&, State&, io::Recorder&) {}
}  // namespace childsim
