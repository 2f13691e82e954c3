// config_tree_test: loading, extends merging, error locations and MapReader of config_tree.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>  // std::istreambuf_iterator
#include <limits>
#include <string>

#include <yaml-cpp/yaml.h>  // YAML::Load (the reference for the one-pass loader)

#include "sim/config/config_tree.hpp"
#include "test_support.hpp"  // source_dir

namespace fs = std::filesystem;
using childsim::config::ConfigError;
using childsim::config::ConfigNode;
using childsim::config::MapReader;

namespace {

/// A fresh directory per test, so that tests running in parallel never see each other's files.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    dir_ = fs::temp_directory_path() /
           ("childsim_config_" + std::to_string(stamp) + "_" + std::to_string(counter++));
    fs::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path file = dir_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
  /// The name load_config_file uses in messages for a file written here.
  std::string name(const std::string& relative) const {
    return (dir_ / relative).lexically_normal().string();
  }
  const fs::path& path() const { return dir_; }

 private:
  fs::path dir_;
};

std::string load_error(const fs::path& file) {
  try {
    childsim::config::load_config_file(file);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

std::string text_error(const std::string& text) {
  try {
    childsim::config::load_config_text(text, "s.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

ConfigNode parse(const std::string& text) {
  return childsim::config::load_config_text(text, "s.yaml");
}

const ConfigNode& at(const ConfigNode& node, const std::string& key) {
  const ConfigNode* found = node.find(key);
  REQUIRE(found != nullptr);
  return *found;
}

/// Equal values, ignoring origins: what a round trip through text must preserve.
bool same_values(const ConfigNode& a, const ConfigNode& b) {
  if (a.kind != b.kind || a.scalar != b.scalar || a.items.size() != b.items.size() ||
      a.entries.size() != b.entries.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    if (!same_values(a.items[i], b.items[i])) return false;
  }
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    if (a.entries[i].first != b.entries[i].first) return false;
    if (!same_values(a.entries[i].second, b.entries[i].second)) return false;
  }
  return true;
}

template <typename Read>
std::string reader_error(const ConfigNode& node, Read read) {
  try {
    MapReader reader(node);
    read(reader);
    reader.finish();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("config_tree, nodes carry 1-based origins and dotted paths") {
  const ConfigNode root = parse(
      "seed: 12\n"
      "demography:\n"
      "  streets:\n"
      "    - name: Elm\n"
      "      homes: [3, 4, 5]\n"
      "  empty:\n"
      "  none: null\n");
  const ConfigNode& seed = at(root, "seed");
  CHECK(seed.scalar == "12");
  CHECK(seed.origin.file == "s.yaml");
  CHECK(seed.origin.line == 1);
  CHECK(seed.origin.column == 7);
  CHECK(seed.key_origin.line == 1);
  CHECK(seed.key_origin.column == 1);

  const ConfigNode& street = at(root, "demography").find("streets")->items.at(0);
  CHECK(street.path == "demography.streets[0]");
  const ConfigNode& homes = at(street, "homes");
  CHECK(homes.path == "demography.streets[0].homes");
  REQUIRE(homes.items.size() == 3);
  CHECK(homes.items[2].path == "demography.streets[0].homes[2]");
  CHECK(homes.items[2].scalar == "5");
  CHECK(homes.items[2].origin.line == 5);
  CHECK(homes.items[2].origin.column == 21);

  // An empty value has no position of its own; it is placed at its key, not the next line.
  const ConfigNode& empty = at(at(root, "demography"), "empty");
  CHECK(empty.kind == ConfigNode::Kind::null);
  CHECK(empty.origin.line == 6);
  CHECK(empty.origin.column == 3);
  const ConfigNode& none = at(at(root, "demography"), "none");
  CHECK(none.kind == ConfigNode::Kind::null);
  CHECK(none.origin.line == 7);
  CHECK(none.origin.column == 9);
}

TEST_CASE("config_tree, three-file extends chain merges maps and replaces the rest") {
  TempDir tmp;
  tmp.write("base/grand.yaml",
            "seed: 1\n"
            "replicates: 10\n"
            "demography:\n"
            "  growth: 0.01\n"
            "  streets: [a, b, c]\n"
            "  schools:\n"
            "    count: 2\n"
            "    size: 300\n"
            "output: out.h5\n");
  tmp.write("layers/mid.yaml",
            "extends: ../base/grand.yaml\n"
            "replicates: 20\n"
            "demography:\n"
            "  streets: [d]\n"
            "  schools:\n"
            "    size: 250\n"
            "policy: none\n");
  const fs::path top = tmp.write("top.yaml",
                                 "extends: layers/mid.yaml\n"
                                 "seed: 3\n"
                                 "demography:\n"
                                 "  schools:\n"
                                 "    count: 4\n"
                                 "  growth: [1, 2]\n");
  const ConfigNode root = childsim::config::load_config_file(top);
  const std::string grand = tmp.name("base/grand.yaml");
  const std::string mid = tmp.name("layers/mid.yaml");
  const std::string topname = tmp.name("top.yaml");

  CHECK(root.find("extends") == nullptr);
  std::vector<std::string> keys;
  for (const auto& entry : root.entries) keys.push_back(entry.first);
  CHECK(keys == std::vector<std::string>{"seed", "replicates", "demography", "output", "policy"});

  CHECK(at(root, "seed").scalar == "3");
  CHECK(at(root, "seed").origin.file == topname);
  CHECK(at(root, "seed").origin.line == 2);
  CHECK(at(root, "replicates").scalar == "20");
  CHECK(at(root, "replicates").origin.file == mid);
  CHECK(at(root, "output").scalar == "out.h5");
  CHECK(at(root, "output").origin.file == grand);
  CHECK(at(root, "output").origin.line == 9);
  CHECK(at(root, "policy").origin.file == mid);

  const ConfigNode& demography = at(root, "demography");
  CHECK(demography.origin.file == topname);
  // A sequence replaces a scalar whole, and a sequence replaces a longer sequence whole.
  const ConfigNode& growth = at(demography, "growth");
  REQUIRE(growth.is_sequence());
  CHECK(growth.items.size() == 2);
  CHECK(growth.origin.file == topname);
  const ConfigNode& streets = at(demography, "streets");
  REQUIRE(streets.items.size() == 1);
  CHECK(streets.items[0].scalar == "d");
  CHECK(streets.items[0].origin.file == mid);
  CHECK(streets.items[0].path == "demography.streets[0]");

  const ConfigNode& schools = at(demography, "schools");
  CHECK(at(schools, "count").scalar == "4");
  CHECK(at(schools, "count").origin.file == topname);
  CHECK(at(schools, "count").origin.line == 5);
  CHECK(at(schools, "size").scalar == "250");
  CHECK(at(schools, "size").origin.file == mid);
  CHECK(at(schools, "size").origin.line == 6);
  CHECK(at(schools, "size").path == "demography.schools.size");
}

TEST_CASE("config_tree, circular extends lists the chain") {
  TempDir tmp;
  const std::string a = tmp.name("a.yaml");
  const std::string b = tmp.name("b.yaml");
  const std::string c = tmp.name("c.yaml");

  SECTION("two files") {
    tmp.write("a.yaml", "extends: b.yaml\nx: 1\n");
    tmp.write("b.yaml", "y: 2\nextends: a.yaml\n");
    CHECK(load_error(tmp.path() / "a.yaml") ==
          b + ":2:10: key 'extends': circular 'extends': " + a + " -> " + b + " -> " + a);
  }
  SECTION("three files") {
    tmp.write("a.yaml", "extends: b.yaml\n");
    tmp.write("b.yaml", "extends: c.yaml\n");
    tmp.write("c.yaml", "extends: ./a.yaml\n");
    CHECK(load_error(tmp.path() / "a.yaml") == c + ":1:10: key 'extends': circular 'extends': " +
                                                   a + " -> " + b + " -> " + c + " -> " + a);
  }
  SECTION("a file extending itself") {
    tmp.write("a.yaml", "x: 1\nextends:   'a.yaml'\n");
    CHECK(load_error(tmp.path() / "a.yaml") ==
          a + ":2:12: key 'extends': circular 'extends': " + a + " -> " + a);
  }
}

TEST_CASE("config_tree, unreadable files are named with the extends line that named them") {
  TempDir tmp;
  SECTION("missing extended file") {
    const fs::path base = tmp.write("base.yaml", "extends: nope.yaml\n");
    CHECK(load_error(base) == tmp.name("base.yaml") +
                                  ":1:10: key 'extends': cannot read 'nope.yaml' (No such file "
                                  "or directory)");
  }
  SECTION("missing scenario file") {
    const fs::path missing = tmp.path() / "x.yaml";
    CHECK(load_error(missing) ==
          "cannot read scenario file '" + missing.string() + "': No such file or directory");
  }
  SECTION("extending a directory") {
    fs::create_directories(tmp.path() / "sub");
    const fs::path top = tmp.write("top.yaml", "a: 1\nextends: sub\n");
    CHECK(load_error(top) ==
          tmp.name("top.yaml") + ":2:10: key 'extends': cannot read 'sub' (Is a directory)");
  }
  SECTION("extends that is not a file name") {
    const fs::path top = tmp.write("top.yaml", "extends: [a.yaml]\n");
    CHECK(load_error(top) ==
          tmp.name("top.yaml") + ":1:10: key 'extends': expected a file name, got a list");
  }
}

TEST_CASE("config_tree, YAML syntax errors carry yaml-cpp's line and column") {
  // Each names the key being written where the error was found (issue #15): for an unclosed
  // bracket, the key that opened it.
  CHECK(text_error("a: 1\n  b: 2\n") == "s.yaml:2:4: key 'a.b': illegal map value");
  CHECK(text_error("a: [1, 2\nb: 3\n") == "s.yaml:2:2: key 'a': end of sequence flow not found");

  TempDir tmp;
  tmp.write("base.yaml", "ok: 1\n  nested: 2\n");
  const fs::path top = tmp.write("top.yaml", "extends: base.yaml\n");
  CHECK(load_error(top) == tmp.name("base.yaml") + ":2:9: key 'ok.nested': illegal map value");
}

TEST_CASE("config_tree, structural errors point at the offending text") {
  CHECK(text_error("a: 1\nb:\n  c: 2\n  c: 3\n") ==
        "s.yaml:4:3: key 'b.c': duplicate key (first written at line 3)");
  CHECK(text_error("- 1\n- 2\n") == "s.yaml:1:1: the top level must be a map, got a list");
  CHECK(text_error("# only a comment\n") == "s.yaml:1:1: the top level must be a map, got nothing");
  CHECK(text_error("a: 1\n---\nb: 2\n") ==
        "s.yaml:2:1: expected a single YAML document, found a second one");
  CHECK(text_error("a: &x [1, *x]\n").find("nesting deeper than 200 levels") != std::string::npos);
}

TEST_CASE("config_tree, scalar conversions are strict") {
  const ConfigNode root = parse(
      "int: -42\nplus: +7\nbad: 12abc\nfloat: 1e3\nhalf: .5\nhex: 0x10\nhuge: "
      "99999999999999999999\nyes: yes\nt: true\nF: False\nnothing:\nlist: [1]\n"
      "inf: -.inf\n");
  using namespace childsim::config;
  CHECK(as_int(at(root, "int")) == -42);
  CHECK(as_int(at(root, "plus")) == 7);
  CHECK(as_double(at(root, "float")) == 1000.0);
  CHECK(as_double(at(root, "half")) == 0.5);
  CHECK(as_double(at(root, "int")) == -42.0);
  CHECK(as_double(at(root, "inf")) == -std::numeric_limits<double>::infinity());
  CHECK(as_bool(at(root, "t")));
  CHECK_FALSE(as_bool(at(root, "F")));
  CHECK(as_string(at(root, "float")) == "1e3");

  CHECK_THROWS_WITH(as_int(at(root, "bad")),
                    "s.yaml:3:6: key 'bad': expected an integer, got '12abc'");
  CHECK_THROWS_WITH(as_int(at(root, "float")), Catch::Contains("expected an integer, got '1e3'"));
  CHECK_THROWS_WITH(as_int(at(root, "huge")), Catch::Contains("(out of range)"));
  CHECK_THROWS_WITH(as_double(at(root, "bad")), Catch::Contains("expected a number, got '12abc'"));
  CHECK_THROWS_WITH(as_double(at(root, "hex")), Catch::Contains("expected a number, got '0x10'"));
  CHECK_THROWS_WITH(as_bool(at(root, "yes")),
                    Catch::Contains("key 'yes': expected true or false, got 'yes'"));
  CHECK_THROWS_WITH(as_double(at(root, "nothing")),
                    "s.yaml:11:1: key 'nothing': expected a number, got nothing");
  CHECK_THROWS_WITH(as_string(at(root, "list")), Catch::Contains("expected a string, got a list"));
}

TEST_CASE("config_tree, MapReader suggests the nearest known key") {
  const ConfigNode root = parse("seed: 1\nreplicats: 4\nOutput: x\n");
  CHECK(reader_error(root, [](MapReader& r) {
          r.get_int("seed", 0, 0, 100);
          r.get_int("replicates", 4, 1, 10000);
        }) == "s.yaml:2:1: key 'replicats': unknown key (did you mean 'replicates'?)");
  CHECK(reader_error(root, [](MapReader& r) {
          r.allow("seed");
          r.allow("replicats");
          r.get_string("output", "");
        }) == "s.yaml:3:1: key 'Output': unknown key (did you mean 'output'?)");
  CHECK(reader_error(root, [](MapReader& r) {
          r.allow("seed");
          r.optional("alpha");
          r.optional("beta");
        }) == "s.yaml:2:1: key 'replicats': unknown key (expected one of: seed, alpha, beta)");
  CHECK(reader_error(root, [](MapReader& r) {
          r.allow("seed");
          r.allow("replicats");
          r.allow("Output");
        }) == "no error");
}

TEST_CASE("config_tree, MapReader reports range, missing and null errors") {
  const ConfigNode root = parse(
      "replicates: 0\n"
      "parent:\n"
      "  rate: 1.5\n"
      "  mode: fast\n"
      "  empty:\n");
  CHECK(reader_error(root, [](MapReader& r) { r.get_int("replicates", 4, 1, 10000); }) ==
        "s.yaml:1:13: key 'replicates': expected a value in [1, 10000], got 0");
  const ConfigNode& parent = at(root, "parent");
  CHECK(reader_error(parent, [](MapReader& r) { r.require_double("rate", 0, 1); }) ==
        "s.yaml:3:9: key 'parent.rate': expected a value in [0, 1], got 1.5");
  CHECK(reader_error(parent, [](MapReader& r) { r.required("child"); }) ==
        "s.yaml:3:3: key 'parent.child': missing required key");
  CHECK(reader_error(parent, [](MapReader& r) { r.get_double("empty", 0.5, 0, 1); }) ==
        "s.yaml:5:3: key 'parent.empty': expected a number, got nothing");
  CHECK(reader_error(parent, [](MapReader& r) {
          r.get_choice("mode", "slow", {"slow", "exact"});
        }) == "s.yaml:4:9: key 'parent.mode': expected one of 'slow', 'exact', got 'fast'");
  CHECK_THROWS_WITH(MapReader(at(parent, "rate")),
                    "s.yaml:3:9: key 'parent.rate': expected a map, got '1.5'");

  MapReader reader(parent);
  CHECK(reader.has("rate"));
  CHECK_FALSE(reader.has("missing"));
  CHECK(reader.get_double("rate", 0, 0, 2) == 1.5);
  CHECK(reader.get_int("absent", 7, 0, 10) == 7);
  CHECK(reader.get_choice("mode", "slow", {"slow", "fast"}) == "fast");
  CHECK(reader.optional("empty") != nullptr);
  CHECK_NOTHROW(reader.finish());
}

TEST_CASE("config_tree, find and fail use the node's origin and path") {
  const ConfigNode root = parse("a:\n  b: 1\n");
  CHECK(root.find("a") != nullptr);
  CHECK(root.find("b") == nullptr);
  const ConfigNode& b = *root.find("a")->find("b");
  try {
    b.fail("too small");
    FAIL("fail() returned");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == "s.yaml:2:6: key 'a.b': too small");
    CHECK(e.key() == "a.b");
    CHECK(e.origin().line == 2);
  }
  CHECK_THROWS_WITH(root.fail("whole file"), "s.yaml:1:1: whole file");
}

TEST_CASE("config_tree, to_yaml round-trips values and keeps numbers plain") {
  const ConfigNode root = parse(
      "seed: 12\n"
      "rate: 1e3\n"
      "name: 'null'\n"
      "empty: ''\n"
      "nothing:\n"
      "flag: true\n"
      "country: 'NO'\n"
      "text: \"a: b # c\\nsecond line\"\n"
      "z_first: 1\n"
      "nested:\n"
      "  list: [1, -2.5, [x, y], {k: v}]\n"
      "  none: []\n"
      "  map: {}\n"
      "'key with: colon': ok\n");
  const std::string text = childsim::config::to_yaml(root);
  CHECK(text.find("seed: 12\n") != std::string::npos);
  CHECK(text.find("rate: 1e3\n") != std::string::npos);
  CHECK(text.find("- -2.5") != std::string::npos);
  CHECK(text.find("country: \"NO\"") != std::string::npos);
  CHECK(text.find("seed") < text.find("z_first"));
  CHECK(text.find("z_first") < text.find("nested"));

  const ConfigNode again = childsim::config::load_config_text(text, "again.yaml");
  CHECK(same_values(root, again));
  CHECK(at(again, "name").kind == ConfigNode::Kind::scalar);
  CHECK(at(again, "nothing").kind == ConfigNode::Kind::null);
  CHECK(at(again, "text").scalar == "a: b # c\nsecond line");
}

TEST_CASE("config_tree, load_config_text resolves extends against base_dir") {
  TempDir tmp;
  tmp.write("base.yaml", "a: 1\nb: 2\n");
  const ConfigNode root =
      childsim::config::load_config_text("extends: base.yaml\nb: 3\n", "inline", tmp.path());
  CHECK(at(root, "a").scalar == "1");
  CHECK(at(root, "a").origin.file == tmp.name("base.yaml"));
  CHECK(at(root, "b").scalar == "3");
  CHECK(at(root, "b").origin.file == "inline");
}

namespace {

/// The plain reference for the one-pass loader: yaml-cpp's own YAML::Load of the same text,
/// walked node by node beside the ConfigNode tree (kinds, scalars, `!!str` tags, paths, the
/// origin of every non-null value and of every key, order of items and entries).
void check_same_tree(const YAML::Node& ref, const ConfigNode& node, const std::string& path) {
  INFO("at '" << path << "'");
  CHECK(node.path == path);
  switch (ref.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      CHECK(node.kind == ConfigNode::Kind::null);
      return;
    case YAML::NodeType::Scalar:
      REQUIRE(node.kind == ConfigNode::Kind::scalar);
      CHECK(node.scalar == ref.Scalar());
      CHECK(node.tagged_string == (ref.Tag() == "tag:yaml.org,2002:str"));
      break;
    case YAML::NodeType::Sequence: {
      REQUIRE(node.kind == ConfigNode::Kind::sequence);
      REQUIRE(node.items.size() == ref.size());
      for (std::size_t i = 0; i < ref.size(); ++i)
        check_same_tree(ref[i], node.items[i], path + "[" + std::to_string(i) + "]");
      break;
    }
    case YAML::NodeType::Map: {
      REQUIRE(node.kind == ConfigNode::Kind::map);
      REQUIRE(node.entries.size() == ref.size());
      std::size_t i = 0;
      for (auto it = ref.begin(); it != ref.end(); ++it, ++i) {
        const auto& [key, value] = node.entries[i];
        CHECK(key == it->first.Scalar());
        CHECK(value.key_origin.line == it->first.Mark().line + 1);
        CHECK(value.key_origin.column == it->first.Mark().column + 1);
        check_same_tree(it->second, value, path.empty() ? key : path + "." + key);
      }
      break;
    }
  }
  CHECK(node.origin.line == ref.Mark().line + 1);
  CHECK(node.origin.column == ref.Mark().column + 1);
}

}  // namespace

TEST_CASE("config_tree, one-pass loading equals YAML::Load on every scenario and data file") {
  // The loader builds its tree from the parser's events in the pass that checks for a second
  // document (issue #14); this compares it with yaml-cpp's own tree of the committed files.
  const fs::path root = childsim::test::source_dir() / "scenarios";
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path().string());
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    check_same_tree(YAML::Load(text), childsim::config::load_config_file_unmerged(entry.path()),
                    "");
    ++files;
  }
  CHECK(files >= 20);
}

TEST_CASE("config_tree, one-pass loading keeps anchors, aliases, tags and nulls as YAML::Load") {
  const std::string text =
      "base: &b {x: 1, y: [a, 'b', \"c\"]}\n"
      "copy: *b\n"
      "list: &l\n"
      "  - &s plain\n"
      "  - *s\n"
      "  - !!str 12\n"
      "  - ~\n"
      "  -\n"
      "  - {k: null, j: }\n"
      "again: *l\n"
      "block: |\n"
      "  two\n"
      "  lines\n"
      "tagged: !custom value\n"
      "empty:\n";
  check_same_tree(YAML::Load(text), parse(text), "");
  // An alias inside its own anchor is still a located error, not a crash.
  CHECK_THAT(text_error("a: &x [1, *x]\n"),
             Catch::Contains("s.yaml:1:") && Catch::Contains("key 'a[1][1][1]") &&
                 Catch::Contains("nesting deeper than 200 levels (a recursive alias?)"));
}
