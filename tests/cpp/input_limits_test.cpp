// input_limits_test: what a hostile or mistaken configuration file may cost (issue #15, P3/P5):
// only regular files of at most max_file_bytes are read, alias expansion is bounded in values,
// bytes and time, text must be UTF-8 without NUL, and every refusal is located.
#include <catch2/catch.hpp>

#include <sys/stat.h>  // mkfifo

#include <chrono>      // std::chrono::steady_clock
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ofstream
#include <string>      // std::string

#include "sim/config/config_tree.hpp"

namespace fs = std::filesystem;
using childsim::config::ConfigError;
using childsim::config::ConfigNode;
using childsim::config::load_config_file;
using childsim::config::load_config_text;

namespace {

/// A fresh directory for one test.
struct Dir {
  fs::path path;
  Dir() {
    path = fs::temp_directory_path() /
           ("childsim_limits_" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(path);
  }
  ~Dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return path / name;
  }
};

/// The message of the ConfigError `f` throws ("" if none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("input_limits, a named pipe in extends is refused at once, not waited on") {
  Dir d;
  REQUIRE(::mkfifo((d.path / "pipe").c_str(), 0600) == 0);
  const auto file = d.write("a.yaml", "name: a\nextends: pipe\n");
  const auto start = std::chrono::steady_clock::now();
  const std::string message = error_of([&] { load_config_file(file); });
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK_THAT(message, Catch::Contains("a.yaml:2:10: key 'extends': cannot read 'pipe'") &&
                          Catch::Contains("named pipe, not a regular file"));
}

TEST_CASE("input_limits, devices are refused without reading them") {
  Dir d;
  const auto file = d.write("a.yaml", "extends: /dev/zero\n");
  CHECK_THAT(error_of([&] { load_config_file(file); }),
             Catch::Contains("a.yaml:1:10: key 'extends'") &&
                 Catch::Contains("character device, not a regular file"));
  CHECK_THAT(error_of([&] { load_config_file("/dev/null"); }),
             Catch::Contains("cannot read scenario file '/dev/null'") &&
                 Catch::Contains("character device"));
}

TEST_CASE("input_limits, a file over the size cap is refused before it is parsed") {
  Dir d;
  // Valid YAML just over the cap (a comment line), so that only the size can be at fault.
  std::string big = "name: a\n#";
  big.append(childsim::config::max_file_bytes, 'x');
  const auto file = d.write("big.yaml", big);
  d.write("a.yaml", "extends: big.yaml\n");
  CHECK_THAT(error_of([&] { load_config_file(d.path / "a.yaml"); }),
             Catch::Contains("a.yaml:1:10: key 'extends'") &&
                 Catch::Contains("more than the limit of 4 MiB"));
  // Exactly at the cap is read.
  big.resize(childsim::config::max_file_bytes);
  d.write("big.yaml", big);
  CHECK(load_config_file(file).find("name")->scalar == "a");
}

TEST_CASE("input_limits, an alias bomb stops at the value limit, quickly") {
  // Ten times ten times ... : 10^30 values once expanded, a few hundred bytes written.
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 30; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) text += (k ? ", *a" : "*a") + std::to_string(i - 1);
    text += "]\n";
  }
  const auto start = std::chrono::steady_clock::now();
  CHECK_THAT(error_of([&] { load_config_text(text, "bomb.yaml"); }),
             Catch::Contains("bomb.yaml:") &&
                 Catch::Contains("document too large once its aliases are expanded"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

TEST_CASE("input_limits, aliases of one large string stop at the byte limit") {
  // 10,000 aliases of a 1 MB string: few values, 10 GB of text once expanded.
  std::string text = "s: &s " + std::string(1'000'000, 'x') + "\nl: [";
  for (int k = 0; k < 10'000; ++k) text += k ? ", *s" : "*s";
  text += "]\n";
  const std::string message = error_of([&] { load_config_text(text, "strings.yaml"); });
  CHECK_THAT(message, Catch::Contains("key 'l[") && Catch::Contains("64 MiB"));
  // The limit is reached after about 64 copies, not after all 10,000.
  CHECK_THAT(message, !Catch::Contains("l[9999]"));
}

TEST_CASE("input_limits, text that is not UTF-8 is refused at its line and column") {
  // "上海" in GBK: a planner's editor default in Shanghai.
  const std::string gbk = "name: ok\ndescription: \xC9\xCF\xBA\xA3\n";
  CHECK(error_of([&] { load_config_text(gbk, "gbk.yaml"); }) ==
        "gbk.yaml:2:14: byte 0xC9 is not UTF-8 (GBK or another encoding?); save the file as "
        "UTF-8");
  // The column counts characters: two Chinese characters (six bytes) before the bad byte.
  CHECK_THAT(error_of([&] { load_config_text("name: 上海\xFF\n", "x.yaml"); }),
             Catch::StartsWith("x.yaml:1:9: byte 0xFF"));
  // Overlong encodings and UTF-16 surrogates are not UTF-8 either.
  CHECK_THAT(error_of([&] { load_config_text("a: \xC0\xAF\n", "x.yaml"); }),
             Catch::StartsWith("x.yaml:1:4: byte 0xC0"));
  CHECK_THAT(error_of([&] { load_config_text("a: \xED\xA0\x80\n", "x.yaml"); }),
             Catch::StartsWith("x.yaml:1:4: byte 0xED"));
  // Well-formed UTF-8 passes.
  CHECK(load_config_text("name: 长宁区 ✓ 𝄞\n", "ok.yaml").find("name")->scalar == "长宁区 ✓ 𝄞");
}

TEST_CASE("input_limits, a NUL byte is refused at its line") {
  const std::string text = std::string("name: a\nb: c\0d\n", 15);
  CHECK_THAT(error_of([&] { load_config_text(text, "nul.yaml"); }),
             Catch::StartsWith("nul.yaml:2:5: a NUL byte"));
}

TEST_CASE("input_limits, an explicit !!str is text, not a number or a boolean") {
  const auto root = load_config_text("n: !!str 3\nb: !!str true\nm: 3\n", "t.yaml");
  CHECK_THAT(error_of([&] { childsim::config::as_int(*root.find("n")); }),
             Catch::Contains("t.yaml:1:4: key 'n': expected an integer, got the text '3'"));
  CHECK_THAT(error_of([&] { childsim::config::as_double(*root.find("n")); }),
             Catch::Contains("expected a number, got the text '3'"));
  CHECK_THAT(error_of([&] { childsim::config::as_bool(*root.find("b")); }),
             Catch::Contains("expected true or false"));
  CHECK(childsim::config::as_string(*root.find("n")) == "3");
  CHECK(childsim::config::as_int(*root.find("m")) == 3);
}

TEST_CASE("input_limits, syntax errors and deep nesting name the key being written") {
  CHECK(error_of([&] {
          load_config_text("name: a\ndemography:\n  new_housing: [1\n", "syn.yaml");
        }) == "syn.yaml:4:1: key 'demography.new_housing': end of sequence flow not found");
  const std::string deep = "a: 1\nb:\n  c: " + std::string(5000, '[') + "\n";
  CHECK_THAT(
      error_of([&] { load_config_text(deep, "deep.yaml"); }),
      Catch::StartsWith("deep.yaml:4:1: key 'b.c'") && Catch::Contains("nesting deeper than"));
}

TEST_CASE("input_limits, a stray comma is an error, not an endless loop (fuzz finding)") {
  // yaml-cpp 0.7's LoadAll loops forever on these, allocating (jbeder/yaml-cpp#1040); found by
  // tests/fuzz/config_fuzz in its first minute.
  CHECK(error_of([] { load_config_text(",", "c.yaml"); }) ==
        "c.yaml:1:1: unexpected ',' (a stray comma outside brackets?)");
  CHECK(error_of([] { load_config_text("[a],", "c.yaml"); }) ==
        "c.yaml:1:4: unexpected ',' (a stray comma outside brackets?)");
  CHECK_THAT(error_of([] { load_config_text("a: 1\n,\n", "c.yaml"); }),
             Catch::StartsWith("c.yaml:2:1: key 'a':"));
}

TEST_CASE("input_limits, a value with bare carriage returns reads back as written (fuzz finding)") {
  // Found by tests/fuzz/config_fuzz after 665,086 executions: written plain, the last '\r'
  // was lost when the stored scenario text was read again.
  const std::string text = "a: -s" + std::string(55, '\r') + "   # c";
  const ConfigNode first = load_config_text(text, "cr.yaml");
  const ConfigNode again = load_config_text(childsim::config::to_yaml(first), "again.yaml");
  REQUIRE(first.find("a")->scalar == "-s" + std::string(55, '\r'));
  CHECK(again.find("a")->scalar == first.find("a")->scalar);
}
