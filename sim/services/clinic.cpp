// clinic: paediatric outpatient visits (placeholder until the submodel lands).
#include "sim/services/services.hpp"  // ServiceContext

namespace childsim {
namespace io {
std::vector<OutputSpec> clinic_outputs() { return {}; }
}  // namespace io
void step_clinic(const ServiceContext&, State&, io::Recorder&) {}
}  // namespace childsim
