// core_module: the pybind11 module `childsim._core` — all of the Python front door's C++.
//
// This file is the only binding code (STYLE.md, google/benchmark): a thin, private layer
// that the pure-Python package `childsim` (analysis/childsim) wraps in a pleasant API. It
// holds no model logic (DESIGN.md decision 5): it calls the same library functions as the
// CLI in sim/main.cpp, in the same order — load → validate → override → run → write.
//
// What crosses the boundary is plain data, so that the Python side never depends on C++
// types beyond the opaque `Scenario`:
//
//   raw dataset = {"dims":      [{"name": str, "values": array | [str], "attrs": {...}}, ...],
//                  "variables": [{"name": str, "dims": [str], "data": array | [str],
//                                 "attrs": {...}}, ...],   # auxiliary coordinates first
//                  "attrs":     {...}}
//
// Numeric arrays are NumPy arrays of the C++ element type (int32, int64, float64), shaped by
// their dimensions; text arrays are flat lists of str in row-major order. Attribute values are
// str, int (HDF5 int64), float (double) or list of float. `run` returns this structure and
// `write_dataset` accepts it; childsim/_convert.py turns it into an xarray.Dataset and back.
//
// Errors: config::ConfigError (any scenario problem) becomes `childsim.ScenarioError`, a
// ValueError whose message is exactly `what()` — the text the CLI prints after "error: ".
// io::OutputError (the file system refused an output file) becomes `childsim.OutputError`, an
// OSError. Other std::exceptions become RuntimeError (pybind11's default).
//
// Threads: `run` copies the scenario, releases the GIL for the whole simulation and asks for
// the GIL back at most twice a second, only to let Ctrl-C (KeyboardInterrupt) stop a long
// run. Writing keeps the GIL: Debian's HDF5 is not thread-safe, and the GIL serialises all
// writes made from Python.
#include "childsim/version.hpp"        // version, git_commit
#include "sim/config/config_tree.hpp"  // ConfigError, ConfigNode, load_config_*
#include "sim/io/dataset.hpp"          // Dataset, write_dataset
#include "sim/io/output_catalog.hpp"   // output_catalog, dimension_catalog
#include "sim/io/output_error.hpp"     // OutputError
#include "sim/model/rates.hpp"         // initial_counts, make_rates
#include "sim/run/ensemble.hpp"        // run_scenario, RunOptions
#include "sim/run/footprint.hpp"       // check_footprint, ResourceError
#include "sim/run/stream.hpp"          // run_to_file, StreamOptions
#include "sim/scenario/scenario.hpp"   // Scenario, scenario_from_tree

#include <pybind11/numpy.h>           // py::array_t
#include <pybind11/pybind11.h>        // PYBIND11_MODULE, py::class_
#include <pybind11/stl.h>             // std::optional, std::vector <-> Python
#include <pybind11/stl/filesystem.h>  // std::filesystem::path <-> str / os.PathLike

#include <algorithm>   // std::find_if
#include <chrono>      // std::chrono::steady_clock
#include <cstdint>     // std::int32_t, std::int64_t
#include <filesystem>  // std::filesystem::path
#include <map>         // std::map
#include <optional>    // std::optional
#include <stdexcept>   // std::logic_error
#include <string>      // std::string
#include <utility>     // std::move
#include <variant>     // std::visit
#include <vector>      // std::vector

namespace py = pybind11;

namespace {

using childsim::Scenario;
using childsim::config::ConfigError;
using childsim::config::ConfigNode;
namespace io = childsim::io;
namespace fs = std::filesystem;

// --- scenarios -------------------------------------------------------------------------------

// Merge `parameters_yaml` ("parameters:\n  name: value\n...", written by childsim/_scenario.py)
// into the scenario tree before validation, so that an override is checked exactly as an
// entry of the scenario's own `parameters:` map would be (same range checks, same messages;
// the message names "<parameters>" and the override's line). A name already in the map is
// replaced in place; a new one is appended. The result is also what the output file stores as
// the resolved scenario, so the overrides are part of the run's provenance.
ConfigNode with_parameters(ConfigNode root, const std::string& parameters_yaml) {
  if (parameters_yaml.empty()) return root;
  ConfigNode overlay = childsim::config::load_config_text(parameters_yaml, "<parameters>");
  const ConfigNode* over = overlay.find("parameters");
  if (over == nullptr || !over->is_map()) return root;  // nothing to override
  auto it = std::find_if(root.entries.begin(), root.entries.end(),
                         [](const auto& entry) { return entry.first == "parameters"; });
  if (it == root.entries.end()) {
    root.entries.emplace_back("parameters", *over);
    return root;
  }
  // A `parameters:` that is not a map is the scenario's own error: leave it for validation.
  if (!it->second.is_map()) return root;
  for (const auto& [name, value] : over->entries) {
    auto& entries = it->second.entries;
    auto existing = std::find_if(entries.begin(), entries.end(),
                                 [&](const auto& entry) { return entry.first == name; });
    if (existing == entries.end()) {
      entries.emplace_back(name, value);
    } else {
      existing->second = value;
    }
  }
  return root;
}

Scenario load_scenario_file(const fs::path& file, const std::string& parameters_yaml) {
  return childsim::scenario_from_tree(
      with_parameters(childsim::config::load_config_file(file), parameters_yaml), file);
}

// Mirrors childsim::load_scenario_text, with the parameter overlay in between.
Scenario load_scenario_text(const std::string& text, const fs::path& base_dir,
                            const std::string& name, const std::string& parameters_yaml) {
  return childsim::scenario_from_tree(
      with_parameters(childsim::config::load_config_text(text, name, base_dir), parameters_yaml),
      base_dir / name);
}

// Raise childsim.ScenarioError (defined in Python, childsim/_errors.py, so that it exists
// even where this module is not built) with the message and where it points.
// Text for a message: bytes that are not UTF-8 (a file name, say) become U+FFFD, so that
// building the exception can never fail and leave a bare ValueError() without a message.
py::str message_text(const std::string& text) {
  return py::reinterpret_steal<py::str>(
      PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace"));
}

void raise_scenario_error(const ConfigError& e) {
  try {
    const py::object cls = py::module_::import("childsim._errors").attr("ScenarioError");
    const auto& o = e.origin();
    const py::object error = cls(message_text(e.what()), py::arg("file") = message_text(o.file),
                                 py::arg("line") = o.line, py::arg("column") = o.column,
                                 py::arg("key") = message_text(e.key()));
    PyErr_SetObject(cls.ptr(), error.ptr());
  } catch (py::error_already_set&) {
    // The package is not importable (the module loaded on its own): keep the message.
    PyErr_SetObject(PyExc_ValueError, message_text(e.what()).ptr());
  }
}

// A run that cannot fit becomes childsim.ResourceError (a MemoryError).
void raise_resource_error(const childsim::ResourceError& e) {
  try {
    const py::object cls = py::module_::import("childsim._errors").attr("ResourceError");
    const py::object error = cls(e.what());
    PyErr_SetObject(cls.ptr(), error.ptr());
  } catch (py::error_already_set&) {
    PyErr_SetString(PyExc_MemoryError, e.what());
  }
}

// An output file the file system refused becomes childsim.OutputError (an OSError).
void raise_output_error(const io::OutputError& e) {
  try {
    const py::object cls = py::module_::import("childsim._errors").attr("OutputError");
    const py::object error = cls(e.what());
    PyErr_SetObject(cls.ptr(), error.ptr());
  } catch (py::error_already_set&) {
    PyErr_SetString(PyExc_OSError, e.what());
  }
}

// --- io::Dataset -> plain Python -------------------------------------------------------------

py::dict attributes_to_python(const io::Attributes& attrs) {
  py::dict out;
  for (const auto& [name, value] : attrs) {
    std::visit([&](const auto& v) { out[py::str(name)] = py::cast(v); }, value);
  }
  return out;
}

// A NumPy array that takes over the vector's memory (no copy), freed with the array.
template <class T>
py::array take_array(std::vector<T>&& values, const std::vector<py::ssize_t>& shape) {
  auto* owner = new std::vector<T>(std::move(values));
  py::capsule free_owner(owner, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(shape, owner->data(), free_owner);
}

py::object array_to_python(io::ArrayData&& data, const std::vector<py::ssize_t>& shape) {
  return std::visit(
      [&](auto&& values) -> py::object {
        using T = typename std::decay_t<decltype(values)>::value_type;
        if constexpr (std::is_same_v<T, std::string>) {
          py::list out;  // flat, row-major; the Python side reshapes
          for (const auto& s : values) out.append(py::str(s));
          return out;
        } else {
          return take_array(std::move(values), shape);
        }
      },
      std::move(data));
}

py::dict dataset_to_python(io::Dataset&& ds) {
  std::map<std::string, py::ssize_t> sizes;  // before the values are moved out
  for (const auto& d : ds.dims) sizes[d.name] = static_cast<py::ssize_t>(d.size());
  py::list dims;
  for (auto& d : ds.dims) {
    py::dict entry;
    entry["name"] = d.name;
    entry["values"] = array_to_python(std::move(d.values), {sizes.at(d.name)});
    entry["attrs"] = attributes_to_python(d.attrs);
    dims.append(entry);
  }
  py::list variables;
  for (auto& v : ds.variables) {
    std::vector<py::ssize_t> shape;
    for (const auto& name : v.dims) {
      const auto it = sizes.find(name);
      if (it == sizes.end())
        throw std::logic_error("variable " + v.name + ": no dimension " + name);
      shape.push_back(it->second);
    }
    py::dict entry;
    entry["name"] = v.name;
    entry["dims"] = v.dims;
    entry["data"] = array_to_python(std::move(v.data), shape);
    entry["attrs"] = attributes_to_python(v.attrs);
    variables.append(entry);
  }
  py::dict out;
  out["dims"] = dims;
  out["variables"] = variables;
  out["attrs"] = attributes_to_python(ds.attrs);
  return out;
}

// --- plain Python -> io::Dataset -------------------------------------------------------------

// Attribute values as childsim/_convert.py normalises them: exactly str, int, float or a list
// of float (never bool, which HDF5 attributes here cannot represent).
io::AttributeValue attribute_from_python(const std::string& name, const py::handle& value) {
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (PyLong_CheckExact(value.ptr())) return value.cast<std::int64_t>();
  if (PyFloat_CheckExact(value.ptr())) return value.cast<double>();
  if (PyList_CheckExact(value.ptr())) return value.cast<std::vector<double>>();
  throw py::type_error("attribute '" + name + "': expected str, int, float or list of float, got " +
                       std::string(py::str(py::type::of(value).attr("__name__"))));
}

io::Attributes attributes_from_python(const py::dict& attrs) {
  io::Attributes out;
  for (const auto& [key, value] : attrs) {
    const auto name = key.cast<std::string>();
    out[name] = attribute_from_python(name, value);
  }
  return out;
}

template <class T>
std::vector<T> vector_from_array(const py::array& a) {
  const auto c = py::array_t<T, py::array::c_style>::ensure(a);
  if (!c) throw py::type_error("cannot read the array as a contiguous array");
  return std::vector<T>(c.data(), c.data() + c.size());
}

// Numeric arrays must already have one of the element types of io::ArrayData; text comes as
// a list of str.
io::ArrayData array_from_python(const std::string& name, const py::handle& obj) {
  if (PyList_CheckExact(obj.ptr())) return obj.cast<std::vector<std::string>>();
  if (!py::isinstance<py::array>(obj))
    throw py::type_error("'" + name + "': expected a NumPy array or a list of str");
  const auto a = py::reinterpret_borrow<py::array>(obj);
  const py::dtype dt = a.dtype();
  if (dt.kind() == 'i' && dt.itemsize() == 4) return vector_from_array<std::int32_t>(a);
  if (dt.kind() == 'i' && dt.itemsize() == 8) return vector_from_array<std::int64_t>(a);
  if (dt.kind() == 'f' && dt.itemsize() == 8) return vector_from_array<double>(a);
  throw py::type_error("'" + name + "': arrays of dtype " + std::string(py::str(py::handle(dt))) +
                       " cannot be written (int32, int64, float64 or str only)");
}

io::Dataset dataset_from_python(const py::dict& raw) {
  io::Dataset ds;
  for (const auto& d : raw["dims"].cast<py::list>()) {
    const auto name = d["name"].cast<std::string>();
    ds.dims.push_back({name, array_from_python(name, d["values"]),
                       attributes_from_python(d["attrs"].cast<py::dict>())});
  }
  for (const auto& v : raw["variables"].cast<py::list>()) {
    const auto name = v["name"].cast<std::string>();
    ds.variables.push_back({name, v["dims"].cast<std::vector<std::string>>(),
                            array_from_python(name, v["data"]),
                            attributes_from_python(v["attrs"].cast<py::dict>())});
  }
  ds.attrs = attributes_from_python(raw["attrs"].cast<py::dict>());
  return ds;
}

// --- running ---------------------------------------------------------------------------------

// Run options whose progress callback, every half second of simulation, takes the GIL back
// for a moment to notice Ctrl-C (a KeyboardInterrupt stops the run).
childsim::RunOptions interruptible_options(int threads) {
  childsim::RunOptions options;
  options.threads = threads;
  options.progress = [last_check = std::chrono::steady_clock::now()](int, int, int, int) mutable {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_check < std::chrono::milliseconds(500)) return;
    last_check = now;
    py::gil_scoped_acquire acquire;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  };
  return options;
}

py::dict run(const Scenario& scenario, std::optional<int> replicates,
             std::optional<std::int64_t> seed, int threads) {
  Scenario sc = scenario;  // the caller's object stays as loaded, as in the CLI
  override_run(sc, replicates ? *replicates : -1, seed ? *seed : -1);
  childsim::check_footprint(sc);  // before any allocation: ResourceError, not a dead kernel
  const childsim::RunOptions options = interruptible_options(threads);
  io::Dataset ds;
  {
    py::gil_scoped_release release;
    ds = childsim::run_scenario(sc, options);
  }
  return dataset_to_python(std::move(ds));
}

// The same run streamed to `output` as `childsim run -o` does (sim/run/stream.hpp): memory
// holds one replicate's outputs whatever the ensemble size, and the file is the CLI's, byte
// for byte. Returns the notes for the user (resuming, replacing a partial file).
std::vector<std::string> run_to_file(const Scenario& scenario, std::optional<int> replicates,
                                     std::optional<std::int64_t> seed, int threads,
                                     const fs::path& output, bool resume) {
  Scenario sc = scenario;
  override_run(sc, replicates ? *replicates : -1, seed ? *seed : -1);
  childsim::check_footprint(sc, output, /*streamed=*/true);
  const childsim::RunOptions options = interruptible_options(threads);
  std::vector<std::string> notes;
  childsim::StreamOptions stream;
  stream.resume = resume;
  stream.note = [&notes](const std::string& text) { notes.push_back(text); };
  {
    py::gil_scoped_release release;
    childsim::run_to_file(sc, options, output, stream);
  }
  return notes;
}

py::list output_catalog() {
  py::list out;
  for (const auto& o : io::output_catalog()) {
    py::dict row;
    row["name"] = o.name;
    row["dims"] = py::tuple(py::cast(o.dims));
    row["units"] = o.units;
    row["long_name"] = o.long_name;
    row["description"] = o.description;
    out.append(row);
  }
  return out;
}

py::list dimension_catalog() {
  py::list out;
  for (const auto& d : io::dimension_catalog()) {
    py::dict row;
    row["name"] = d.name;
    row["units"] = d.units;
    row["description"] = d.description;
    out.append(row);
  }
  return out;
}

py::dict parameter_values(const Scenario& sc) {
  py::dict out;
  for (const auto& p : sc.base.parameters.rows()) out[py::str(p.name)] = p.value;
  return out;
}

// The packed demographic inputs of a scenario (the starting counts and the monthly rates the
// demography uses: sim/model/rates.hpp), for outside re-implementations of the same demography
// (bench/mesa/demography_mesa.py) and cross-checks; not part of the package's API.
template <class T>
py::array_t<T> table_to_python(const std::vector<std::vector<T>>& rows) {
  const auto n = static_cast<py::ssize_t>(rows.size());
  const auto m = static_cast<py::ssize_t>(rows.empty() ? 0 : rows.front().size());
  py::array_t<T> out({n, m});
  auto v = out.template mutable_unchecked<2>();
  for (py::ssize_t i = 0; i < n; ++i)
    for (py::ssize_t j = 0; j < m; ++j)
      v(i, j) = rows[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
  return out;
}

py::dict demography_inputs(const Scenario& sc) {
  const childsim::InitialCounts counts = childsim::initial_counts(sc);
  const childsim::Rates r = childsim::make_rates(sc, counts);
  constexpr auto n_women_ages = static_cast<py::ssize_t>(childsim::Rates::n_women_ages);
  py::dict out;
  out["n_months"] = r.n_months;
  out["n_streets"] = r.n_streets;
  out["children"] = table_to_python(counts.children);  // [street][age 0..17]
  out["women"] = table_to_python(counts.women);        // [street][age 18..49]
  out["birth_prob"] = py::array_t<double>({static_cast<py::ssize_t>(r.n_months), n_women_ages},
                                          r.birth_prob.data());
  out["twins_per_delivery"] = r.twins_per_delivery;
  out["child_death_hazard"] = py::array_t<double>(py::cast(r.child_death_hazard));
  out["women_death_hazard"] = r.women_death_hazard;
  out["out_hazard_by_age"] = py::array_t<double>(py::cast(r.out_hazard_by_age));
  out["between_hazard"] = r.between_hazard;
  out["p_boy"] = r.p_boy;
  out["destination_cdf"] = table_to_python(r.destination_cdf);
  out["inflow_households"] = py::array_t<double>(py::cast(r.inflow_households));
  out["in_age_cdf"] = py::array_t<double>(py::cast(r.in_age_cdf));
  out["in_birth_prob"] = py::array_t<double>(py::cast(r.in_birth_prob));
  out["asfr_cdf"] = py::array_t<double>(py::cast(r.asfr_cdf));
  out["housing_households"] = table_to_python(r.housing_households);  // [month][street]
  return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "childsim's compiled core (private): use the `childsim` package instead.";
  m.attr("version") = childsim::version;
  m.attr("git_commit") = childsim::git_commit;

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConfigError& e) {
      raise_scenario_error(e);
    } catch (const io::OutputError& e) {
      raise_output_error(e);
    } catch (const childsim::ResourceError& e) {
      raise_resource_error(e);
    } catch (const io::ResumeError& e) {
      PyErr_SetObject(PyExc_ValueError, message_text(e.what()).ptr());
    }
  });

  py::class_<Scenario>(m, "Scenario", "A validated scenario (see childsim.load_scenario).")
      .def_readonly("name", &Scenario::name)
      .def_readonly("description", &Scenario::description)
      .def_property_readonly("file", [](const Scenario& s) { return s.file.string(); })
      .def_readonly("resolved_yaml", &Scenario::resolved_yaml)
      .def_property_readonly("start", [](const Scenario& s) { return s.start.to_string(); })
      .def_property_readonly("end", [](const Scenario& s) { return s.end.to_string(); })
      .def_property_readonly("n_months", &Scenario::n_months)
      .def_readonly("replicates", &Scenario::replicates)
      .def_readonly("seed", &Scenario::seed)
      .def_readonly("population_scale", &Scenario::population_scale)
      .def_readonly("fertility_variant", &Scenario::fertility_variant)
      .def_property_readonly("streets",
                             [](const Scenario& s) {
                               std::vector<std::string> ids;
                               for (const auto& st : s.base.streets) ids.push_back(st.id);
                               return ids;
                             })
      .def_property_readonly("parameters", &parameter_values);

  m.def("load_scenario_file", &load_scenario_file, py::arg("path"), py::arg("parameters_yaml"),
        "Read, merge (`extends`) and validate a scenario file, with parameter overrides.");
  m.def("load_scenario_text", &load_scenario_text, py::arg("text"), py::arg("base_dir"),
        py::arg("name"), py::arg("parameters_yaml"),
        "The same from YAML text; relative paths resolve against `base_dir`.");
  m.def("run", &run, py::arg("scenario"), py::arg("replicates"), py::arg("seed"),
        py::arg("threads"),
        "Run every replicate (GIL released) and return the raw dataset structure.");
  m.def("run_to_file", &run_to_file, py::arg("scenario"), py::arg("replicates"), py::arg("seed"),
        py::arg("threads"), py::arg("output"), py::arg("resume"),
        "Run every replicate streamed to an HDF5 file as `childsim run -o` does; the notes.");
  m.def(
      "write_dataset",
      [](const py::dict& raw, const fs::path& path) {
        io::write_dataset(dataset_from_python(raw), path);
      },
      py::arg("raw"), py::arg("path"),
      "Write a raw dataset structure through the C++ HDF5 writer (the CLI's writer).");
  m.def("demography_inputs", &demography_inputs, py::arg("scenario"),
        "The starting counts and monthly demographic rates of a scenario (for benchmarks).");
  m.def("output_catalog", &output_catalog, "The declared output variables.");
  m.def("dimension_catalog", &dimension_catalog, "The declared dimensions.");
}
