// python_launcher: run `childsim.<module>.main` in Debian's Python.
#include "sim/cli/python_launcher.hpp"

#include <fmt/format.h>  // fmt::print, fmt::format

#include <sys/wait.h>  // waitpid, WIFEXITED
#include <unistd.h>    // access, fork, execve

#include <cerrno>      // errno, EINTR
#include <cstdio>      // stderr, std::fflush
#include <cstdlib>     // std::getenv
#include <filesystem>  // std::filesystem
#include <utility>     // std::move

extern char** environ;  // the environment passed on to Python

namespace childsim::cli {
namespace {

namespace fs = std::filesystem;

// Python runs this instead of `-m childsim.<module>` so that a missing package is one clear
// line (with -m, Python prints a traceback-like message) and the exit code passes through.
// The module name is argv[1].
constexpr const char* kBootstrap = R"(import importlib, sys
module = sys.argv.pop(1)
try:
    entry = importlib.import_module("childsim." + module)
except ImportError as error:
    sys.stderr.write("error: this command needs the childsim Python package (analysis/childsim) "
                     "and its Debian packages (python3-xarray, python3-h5netcdf, "
                     "python3-matplotlib): import failed: %s; run tools/install-python-path.sh "
                     "BUILD_DIR or set CHILDSIM_ANALYSIS_DIR to the checkout's analysis/ "
                     "directory\n" % error)
    sys.exit(1)
sys.exit(entry.main(sys.argv[1:]))
)";

bool has_package(const fs::path& dir) {
  std::error_code ec;
  return !dir.empty() && fs::is_regular_file(dir / "childsim" / "__init__.py", ec);
}

// The `analysis/` directory holding the Python package: $CHILDSIM_ANALYSIS_DIR, else the
// first `analysis/` above the executable (a build tree inside the checkout), else the
// checkout this program was built from; empty when none has it (then Python's own path,
// e.g. the .pth file of tools/install-python-path.sh, must provide the package).
fs::path find_analysis_dir() {
  if (const char* env = std::getenv("CHILDSIM_ANALYSIS_DIR"); env && *env) return fs::path(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
         dir = dir.parent_path())
      if (has_package(dir / "analysis")) return dir / "analysis";
#ifdef CHILDSIM_SOURCE_DIR
  if (has_package(fs::path(CHILDSIM_SOURCE_DIR) / "analysis"))
    return fs::path(CHILDSIM_SOURCE_DIR) / "analysis";
#endif
  return {};
}

// The directory holding this build's compiled module (`<build>/python/childsim/_core*.so`,
// beside `<build>/sim/childsim`); empty when there is none (an installed program). Put on
// the path before anything else, so that a command (sweep) runs the model of the program
// that was called and not another build's found through a .pth file.
fs::path find_core_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const fs::path dir = exe.parent_path().parent_path() / "python";
  if (!fs::is_directory(dir / "childsim", ec)) return {};
  for (const auto& entry : fs::directory_iterator(dir / "childsim", ec))
    if (entry.path().filename().string().rfind("_core", 0) == 0) return dir;
  return {};
}

// The command line and environment of `childsim.<module>.main(args)` in Debian's Python;
// empty (after printing why) when there is no Python to run.
struct PythonCommand {
  std::vector<std::string> argv, env;
};

PythonCommand python_command(const std::string& module, const std::vector<std::string>& args) {
  const char* env_python = std::getenv("CHILDSIM_PYTHON");
  const std::string python = env_python && *env_python ? env_python : "/usr/bin/python3";
  if (access(python.c_str(), X_OK) != 0) {
    fmt::print(stderr,
               "error: this command needs Python 3 at {} (Debian's python3 package; "
               "tools/install-deps.sh installs it)\n",
               python);
    return {};
  }
  const fs::path analysis = find_analysis_dir();
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    if (entry.rfind("PYTHONPATH=", 0) == 0 || entry.rfind("MPLBACKEND=", 0) == 0) continue;
    env_strings.push_back(entry);
  }
  std::string pythonpath = analysis.string();
  if (const fs::path core = find_core_dir(); !core.empty())
    pythonpath += (pythonpath.empty() ? "" : ":") + core.string();
  if (const char* old = std::getenv("PYTHONPATH"); old && *old)
    pythonpath += (pythonpath.empty() ? "" : ":") + std::string(old);
  if (!pythonpath.empty()) env_strings.push_back("PYTHONPATH=" + pythonpath);
  env_strings.push_back("MPLBACKEND=Agg");  // no display: figures are rendered to PNG

  std::vector<std::string> argv_strings = {python, "-c", kBootstrap, module};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  return {std::move(argv_strings), std::move(env_strings)};
}

// execve's arrays: pointers into `strings`, then a null pointer.
std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

int run_python_main(const std::string& module, const std::vector<std::string>& args) {
  PythonCommand command = python_command(module, args);
  if (command.argv.empty()) return 1;
  const std::vector<char*> child_argv = c_strings(command.argv);
  const std::vector<char*> child_env = c_strings(command.env);
  const std::string& python = command.argv.front();

  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    fmt::print(stderr, "error: cannot start {}\n", python);
    return 1;
  }
  if (pid == 0) {
    execve(python.c_str(), child_argv.data(), child_env.data());
    fmt::print(stderr, "error: cannot run {}\n", python);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  fmt::print(stderr, "error: {} was stopped by signal {}\n", python, WTERMSIG(status));
  return 1;
}
int exec_python_main(const std::string& module, const std::vector<std::string>& args) {
  PythonCommand command = python_command(module, args);
  if (command.argv.empty()) return 1;
  const std::vector<char*> argv = c_strings(command.argv);
  const std::vector<char*> env = c_strings(command.env);
  std::fflush(stdout);
  std::fflush(stderr);
  execve(argv.front(), argv.data(), env.data());
  fmt::print(stderr, "error: cannot run {}\n", command.argv.front());
  return 1;
}

}  // namespace childsim::cli
