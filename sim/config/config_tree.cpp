// config_tree: loading, merging, emitting and reading YAML configuration trees with origins.
#include "sim/config/config_tree.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>    // YAML::DeepRecursion
#include <yaml-cpp/eventhandler.h>  // YAML::EventHandler (building and counting documents)
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>  // std::clock (the time bound on alias expansion)
#include <limits>
#include <sstream>  // std::istringstream
#include <system_error>

#include <fcntl.h>     // open, O_NONBLOCK (a FIFO must not block the open)
#include <sys/stat.h>  // fstat, S_ISREG
#include <unistd.h>    // read, close

namespace childsim::config {

namespace {

namespace fs = std::filesystem;

std::string compose_message(const Origin& origin, const std::string& key,
                            const std::string& message) {
  std::string out;
  if (!origin.file.empty()) {
    out = origin.line > 0 ? fmt::format("{}:{}:{}: ", origin.file, origin.line, origin.column)
                          : fmt::format("{}: ", origin.file);
  }
  if (!key.empty()) out += fmt::format("key '{}': ", key);
  out += message;
  return out;
}

std::string child_path(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

/// How a value is shown after "got": scalars quoted as written, other kinds by name.
std::string describe(const ConfigNode& node) {
  switch (node.kind) {
    case ConfigNode::Kind::null:
      return "nothing";
    case ConfigNode::Kind::scalar:
      return "'" + node.scalar + "'";
    case ConfigNode::Kind::sequence:
      return "a list";
    case ConfigNode::Kind::map:
      return "a map";
  }
  return "?";
}

/// Reads a whole file; on failure `reason` gets the system's words for it, because "cannot
/// read" alone does not tell a planner whether the name or the permissions are wrong.
bool read_file(const fs::path& file, std::string& text, std::string& reason) {
  return read_text_file(file, text, reason);
}

/// What kind of file `mode` is, in a planner's words.
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a named pipe";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

/// The first byte of `text` that is not well-formed UTF-8 (or is NUL), or npos. Overlong
/// forms, surrogates and code points above U+10FFFF are refused, as RFC 3629 says.
std::size_t first_bad_byte(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return i;
    i += len;
  }
  return std::string_view::npos;
}

/// The identity used to detect circular `extends`: two spellings of one file must compare
/// equal, and a file that does not exist yet still needs some stable name.
std::string file_identity(const fs::path& file) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(file, ec);
  if (ec) canonical = fs::absolute(file, ec).lexically_normal();
  return canonical.string();
}

bool starts_with_word(std::string_view text, std::string_view word) {
  if (text.substr(0, word.size()) != word) return false;
  if (text.size() == word.size()) return true;
  const unsigned char next = static_cast<unsigned char>(text[word.size()]);
  return !std::isalnum(next) && next != '_';
}

// Hostile or mistaken documents (a recursive alias, an alias bomb) must end in an error, not
// in a stack overflow or an exhausted machine.
constexpr int kMaxDepth = 200;
// Processor time, not wall time: on a loaded machine (load 14 on 2 cores) the 2 MB facilities
// file of the whole-Shanghai pack took over 10 s of wall time for 1 s of processor time.
constexpr long kMaxExpansionSeconds = 10;

/// One parsed document as yaml-cpp's parser reports it, in flat storage: what YAML::Load
/// would build (type, mark, tag, scalar, children in order; an alias is the anchored node
/// itself, so aliases stay shared), without yaml-cpp's node graph of shared pointers. Built
/// by TreeBuilder in the same pass that checks for a second document: the text used to be
/// parsed twice, once to find the document starts and once by YAML::Load (about half of a
/// scenario's load time, issue #14).
struct RawTree {
  static constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  struct Node {
    YAML::NodeType::value type = YAML::NodeType::Null;
    YAML::Mark mark;
    std::string tag;
    std::string scalar;
    /// A sequence's items, or a map's keys and values alternately (key, value, key, ...).
    std::vector<std::size_t> children;
  };
  std::vector<Node> nodes;
  std::size_t root = none;
};

/// Builds a RawTree from the parser's events, as yaml-cpp's own NodeBuilder builds a
/// YAML::Node (src/nodebuilder.cpp, 0.7): each node takes the mark and tag of its event, an
/// anchor names the node whose event carried it, an alias adds that node again.
class TreeBuilder : public YAML::EventHandler {
 public:
  RawTree tree;
  YAML::Mark document_start;

  void OnDocumentStart(const YAML::Mark& mark) override { document_start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    add(begin(mark, anchor, YAML::NodeType::Null, std::string()));
  }
  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override {
    // The parser has checked that the anchor exists (an unknown one is a ParserException).
    add(anchor < anchors_.size() ? anchors_[anchor] : RawTree::none);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    const std::size_t index = begin(mark, anchor, YAML::NodeType::Scalar, tag);
    tree.nodes[index].scalar = value;
    add(index);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open_.push_back(begin(mark, anchor, YAML::NodeType::Sequence, tag));
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open_.push_back(begin(mark, anchor, YAML::NodeType::Map, tag));
  }
  void OnMapEnd() override { close(); }

 private:
  std::size_t begin(const YAML::Mark& mark, YAML::anchor_t anchor, YAML::NodeType::value type,
                    const std::string& tag) {
    const std::size_t index = tree.nodes.size();
    RawTree::Node& node = tree.nodes.emplace_back();
    node.type = type;
    node.mark = mark;
    node.tag = tag;
    if (anchor != YAML::NullAnchor) {
      // Registered when the node starts, so an alias inside it (a recursive alias) refers to
      // it, as in yaml-cpp; the converter's depth limit then reports it.
      if (anchors_.size() <= anchor) anchors_.resize(anchor + 1, RawTree::none);
      anchors_[anchor] = index;
    }
    return index;
  }
  /// A finished node goes into the collection being built, or becomes the root.
  void add(std::size_t index) {
    if (open_.empty()) {
      tree.root = index;
    } else {
      tree.nodes[open_.back()].children.push_back(index);
    }
  }
  void close() {
    if (open_.empty()) return;  // (the parser never ends a collection it did not start)
    const std::size_t index = open_.back();
    open_.pop_back();
    add(index);
  }

  std::vector<std::size_t> open_;     // collections started and not yet ended
  std::vector<std::size_t> anchors_;  // node of each anchor id (ids count from 1)
};

/// Turns one parsed document into ConfigNodes.
class Converter {
 public:
  Converter(const std::string& text, std::string file) : text_(text), file_(std::move(file)) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text_.size(); ++i) {
      if (text_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  Origin origin_of(const YAML::Mark& mark) const {
    if (mark.is_null()) return Origin{file_, 0, 0};
    return Origin{file_, mark.line + 1, mark.column + 1};
  }

  ConfigNode convert(const RawTree& tree, std::size_t at, const std::string& path,
                     const Origin& fallback, int depth) {
    const RawTree::Node& in = node_at(tree, at);
    ConfigNode out;
    out.path = path;
    out.origin = origin_of(in.mark);
    if (depth > kMaxDepth) {
      throw ConfigError(
          out.origin, path,
          fmt::format("nesting deeper than {} levels (a recursive alias?)", kMaxDepth));
    }
    // Aliases are shared in yaml-cpp's tree but copied here, so a small file can expand to
    // any size: count values and bytes as they are made, and the time taken.
    bytes_ += sizeof(ConfigNode) + path.size() + 2 * file_.size();
    if (in.type == YAML::NodeType::Scalar) bytes_ += in.scalar.size();
    if (++count_ > max_document_values || bytes_ > max_document_bytes ||
        ((count_ & 0xFFF) == 0 &&
         std::clock() - start_ >
             static_cast<std::clock_t>(kMaxExpansionSeconds * CLOCKS_PER_SEC))) {
      throw ConfigError(
          out.origin, path,
          fmt::format("document too large once its aliases are expanded (limits: {} values, {} "
                      "MiB, {} s; an alias bomb?)",
                      max_document_values, max_document_bytes >> 20, kMaxExpansionSeconds));
    }
    switch (in.type) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out.kind = ConfigNode::Kind::null;
        // yaml-cpp marks an empty value with the position of the token after it, often on
        // the next line, so only a written null keeps its own mark.
        if (!is_written_null(in.mark)) out.origin = fallback;
        break;
      case YAML::NodeType::Scalar:
        out.kind = ConfigNode::Kind::scalar;
        out.scalar = in.scalar;
        out.tagged_string = in.tag == "tag:yaml.org,2002:str";
        break;
      case YAML::NodeType::Sequence: {
        out.kind = ConfigNode::Kind::sequence;
        std::size_t index = 0;
        for (const std::size_t item : in.children) {
          out.items.push_back(
              convert(tree, item, fmt::format("{}[{}]", path, index), out.origin, depth + 1));
          ++index;
        }
        break;
      }
      case YAML::NodeType::Map:
        out.kind = ConfigNode::Kind::map;
        for (std::size_t k = 0; k + 1 < in.children.size(); k += 2) {
          const RawTree::Node& key_node = node_at(tree, in.children[k]);
          const Origin key_origin = origin_of(key_node.mark);
          if (key_node.type != YAML::NodeType::Scalar) {
            throw ConfigError(key_origin, path, "map keys must be plain text");
          }
          const std::string& key = key_node.scalar;
          const std::string entry_path = child_path(path, key);
          for (const auto& [seen, node] : out.entries) {
            if (seen == key) {
              throw ConfigError(
                  key_origin, entry_path,
                  fmt::format("duplicate key (first written at line {})", node.key_origin.line));
            }
          }
          ConfigNode value = convert(tree, in.children[k + 1], entry_path, key_origin, depth + 1);
          value.key_origin = key_origin;
          out.entries.emplace_back(key, std::move(value));
        }
        break;
    }
    return out;
  }

 private:
  /// The node at `at`, or an undefined one (converted as null) for an index that names none:
  /// not made by the parser's events, but a hostile file must never read out of bounds.
  static const RawTree::Node& node_at(const RawTree& tree, std::size_t at) {
    static const RawTree::Node undefined{
        YAML::NodeType::Undefined, YAML::Mark::null_mark(), {}, {}, {}};
    return at < tree.nodes.size() ? tree.nodes[at] : undefined;
  }

  bool is_written_null(const YAML::Mark& mark) const {
    if (mark.is_null() || mark.line < 0 ||
        static_cast<std::size_t>(mark.line) >= line_starts_.size()) {
      return false;
    }
    const std::size_t at =
        line_starts_[static_cast<std::size_t>(mark.line)] + static_cast<std::size_t>(mark.column);
    if (at >= text_.size()) return false;
    const std::string_view rest = std::string_view(text_).substr(at);
    return rest.front() == '~' || starts_with_word(rest, "null") ||
           starts_with_word(rest, "Null") || starts_with_word(rest, "NULL");
  }

  const std::string& text_;
  std::string file_;
  std::vector<std::size_t> line_starts_;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
  std::clock_t start_ = std::clock();
};

ConfigNode merge(ConfigNode base, ConfigNode over) {
  if (base.is_sequence() && over.is_sequence() &&
      std::find(accumulating_lists().begin(), accumulating_lists().end(), over.path) !=
          accumulating_lists().end()) {
    // Inherited items first; each keeps the origin (file, line) where it was written.
    for (auto& item : over.items) base.items.push_back(std::move(item));
    base.origin = over.origin;
    base.key_origin = over.key_origin;
    return base;
  }
  if (base.is_sequence() && over.is_sequence() &&
      std::find(keyed_lists().begin(), keyed_lists().end(), over.path) != keyed_lists().end()) {
    auto id_of = [](const ConfigNode& item) -> const ConfigNode* {
      const ConfigNode* id = item.is_map() ? item.find("id") : nullptr;
      return id && id->is_scalar() ? id : nullptr;
    };
    for (auto& item : over.items) {
      const ConfigNode* id = id_of(item);
      auto inherited = id ? std::find_if(base.items.begin(), base.items.end(),
                                         [&](const ConfigNode& b) {
                                           const ConfigNode* bid = id_of(b);
                                           return bid && bid->scalar == id->scalar;
                                         })
                          : base.items.end();
      if (inherited != base.items.end()) {
        *inherited = merge(std::move(*inherited), std::move(item));
      } else {
        base.items.push_back(std::move(item));
      }
    }
    base.origin = over.origin;
    base.key_origin = over.key_origin;
    return base;
  }
  if (!base.is_map() || !over.is_map()) return over;
  for (auto& [key, value] : over.entries) {
    auto it = std::find_if(base.entries.begin(), base.entries.end(),
                           // (by name: clang 14 cannot capture a structured binding in C++17)
                           [&name = key](const auto& entry) { return entry.first == name; });
    if (it == base.entries.end()) {
      base.entries.emplace_back(key, std::move(value));
    } else {
      it->second = merge(std::move(it->second), std::move(value));
    }
  }
  base.origin = over.origin;
  base.key_origin = over.key_origin;
  return base;
}

/// The dotted path of the block-style key being written at 1-based `line` of `text`, for a
/// syntax error, where no tree exists yet: the last `key:` on or before the line, then the
/// keys of less indentation above it. "" when there is none (or the text is flow style).
std::string key_before(std::string_view text, int line) {
  std::vector<std::string_view> lines;
  for (std::size_t from = 0; from <= text.size();) {
    const std::size_t end = std::min(text.find('\n', from), text.size());
    lines.push_back(text.substr(from, end - from));
    from = end + 1;
  }
  std::string path;
  std::size_t indent = std::string_view::npos;
  const std::size_t last = std::min(lines.size(), static_cast<std::size_t>(std::max(line, 0)));
  for (std::size_t i = last; i-- > 0;) {
    const std::string_view l = lines[i];
    const std::size_t at = l.find_first_not_of(" -");
    if (at == std::string_view::npos || l[at] == '#' || at >= indent) continue;
    const std::size_t colon = l.find(':', at);
    if (colon == std::string_view::npos || colon == at ||
        (colon + 1 < l.size() && l[colon + 1] != ' ')) {
      continue;
    }
    const std::string_view key = l.substr(at, colon - at);
    if (key.find_first_of("{}[],&*!|>'\"%@`") != std::string_view::npos) continue;
    path = path.empty() ? std::string(key) : std::string(key) + "." + path;
    indent = at;
    if (indent == 0 || path.size() > 200) break;
  }
  return path;
}

/// The 1-based line of the outermost `[` or `{` still open at 1-based (line, column) of
/// `text`, or `line` when none is: an unclosed flow collection is reported where yaml-cpp
/// gives up, often lines later, but was opened by the key that has to be fixed.
int line_of_open_flow(std::string_view text, int line, int column) {
  std::size_t end = 0;
  for (int l = 1; l < line && end < text.size(); ++l)
    end = std::min(text.find('\n', end), text.size()) + 1;
  end = std::min(text.size(), end + static_cast<std::size_t>(std::max(column - 1, 0)));
  int depth = 0, current = 1, opened_at = 0;
  char quote = 0;
  bool comment = false;
  for (std::size_t i = 0; i < end; ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++current;
      comment = false;
      if (depth == 0) quote = 0;  // a quote in plain block text is not a string
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if ((c == '"' || c == '\'') && depth > 0) {
      quote = c;
    } else if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t')) {
      comment = true;
    } else if (c == '[' || c == '{') {
      if (depth++ == 0) opened_at = current;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return depth > 0 ? opened_at : line;
}

/// One file in the chain of `extends` being loaded.
struct ChainLink {
  std::string identity;
  std::string display;
};

/// Where each document of a stream starts, without building any.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

/// The first document of `text`, after checking that it is the only one. Not YAML::LoadAll:
/// in yaml-cpp 0.7 it loops forever, allocating, on a stray ',' outside brackets (found by
/// tests/fuzz/config_fuzz; jbeder/yaml-cpp#1040, fixed upstream after 0.8 by #1319): the
/// parser returns an empty document again and again without consuming the ','. Here at most
/// three documents are parsed, and one that starts where the previous one started is that loop.
/// The first is built as it is parsed (TreeBuilder); the others are only looked at.
RawTree load_single_document(const std::string& text, const Converter& converter) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  TreeBuilder builder;
  DocumentStarts documents;
  if (parser.HandleNextDocument(builder)) {
    documents.starts.push_back(builder.document_start);
    // Three, so that a loop after a first real document ("[a],") is seen too.
    while (documents.starts.size() < 3 && parser.HandleNextDocument(documents)) {
    }
  }
  const auto& starts = documents.starts;
  for (std::size_t k = 1; k < starts.size(); ++k) {
    if (starts[k].pos != starts[k - 1].pos) continue;
    const std::size_t at = static_cast<std::size_t>(std::max(starts[k].pos, 0));
    throw ConfigError(converter.origin_of(starts[k]), "",
                      fmt::format("unexpected '{}' (a stray comma outside brackets?)",
                                  at < text.size() ? text.substr(at, 1) : std::string()));
  }
  if (starts.size() > 1) {
    throw ConfigError(converter.origin_of(starts[1]), "",
                      "expected a single YAML document, found a second one");
  }
  return std::move(builder.tree);
}

ConfigNode load_document(const std::string& text, const std::string& display,
                         const fs::path& base_dir, std::vector<ChainLink>& chain,
                         bool follow_extends = true) {
  check_text(text, display);
  Converter converter(text, display);
  RawTree document;
  try {
    document = load_single_document(text, converter);
  } catch (const YAML::DeepRecursion& e) {
    Origin origin{display, 0, 0};
    if (!e.mark.is_null()) origin = Origin{display, e.mark.line + 1, e.mark.column + 1};
    throw ConfigError(origin, key_before(text, line_of_open_flow(text, origin.line, origin.column)),
                      fmt::format("nesting deeper than {} levels", e.depth()));
  } catch (const YAML::Exception& e) {
    Origin origin{display, 0, 0};
    if (!e.mark.is_null()) origin = Origin{display, e.mark.line + 1, e.mark.column + 1};
    throw ConfigError(origin, key_before(text, line_of_open_flow(text, origin.line, origin.column)),
                      e.msg);
  }
  const Origin top{display, 1, 1};
  if (document.root == RawTree::none ||
      document.nodes[document.root].type == YAML::NodeType::Null) {
    // An empty file, or only comments (a written `~` or `null` is also nothing).
    throw ConfigError(top, "", "the top level must be a map, got nothing");
  }
  ConfigNode root = converter.convert(document, document.root, "", top, 0);
  if (!root.is_map()) {
    throw ConfigError(top, "", "the top level must be a map, got " + describe(root));
  }

  auto extends = std::find_if(root.entries.begin(), root.entries.end(),
                              [](const auto& entry) { return entry.first == "extends"; });
  if (extends == root.entries.end() || !follow_extends) return root;
  const ConfigNode named = std::move(extends->second);
  root.entries.erase(extends);
  if (!named.is_scalar() || named.scalar.empty()) {
    named.fail("expected a file name, got " + describe(named));
  }

  const fs::path file = (base_dir / named.scalar).lexically_normal();
  const ChainLink link{file_identity(file), file.string()};
  for (auto it = chain.begin(); it != chain.end(); ++it) {
    if (it->identity != link.identity) continue;
    std::string listed;
    for (const ChainLink& step : chain) listed += step.display + " -> ";
    named.fail("circular 'extends': " + listed + link.display);
  }
  std::string base_text;
  std::string reason;
  if (!read_file(file, base_text, reason)) {
    named.fail(fmt::format("cannot read '{}' ({})", named.scalar, reason));
  }
  chain.push_back(link);
  ConfigNode base = load_document(base_text, link.display, file.parent_path(), chain);
  chain.pop_back();
  return merge(std::move(base), std::move(root));
}

void emit(YAML::Emitter& out, const std::string& text) {
  // PyYAML and other YAML 1.1 readers of the stored scenario would turn these into booleans;
  // here they are text, so they must stay text there too.
  static const char* const kYaml11Booleans[] = {"y",  "Y",   "yes", "Yes", "YES", "n",
                                                "N",  "no",  "No",  "NO",  "on",  "On",
                                                "ON", "off", "Off", "OFF"};
  for (const char* word : kYaml11Booleans) {
    if (text == word) {
      out << YAML::DoubleQuoted << text;
      return;
    }
  }
  // A control character (a bare carriage return, say) written plain does not read back as
  // it was: quoted, it is escaped (found by tests/fuzz/config_fuzz). Newlines and tabs keep
  // yaml-cpp's own choice of style.
  if (std::any_of(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') || c == 0x7f;
      })) {
    out << YAML::DoubleQuoted << text;
    return;
  }
  out << text;
}

void emit(YAML::Emitter& out, const ConfigNode& node) {
  switch (node.kind) {
    case ConfigNode::Kind::null:
      out << YAML::Null;
      break;
    case ConfigNode::Kind::scalar:
      emit(out, node.scalar);
      break;
    case ConfigNode::Kind::sequence:
      out << YAML::BeginSeq;
      for (const ConfigNode& item : node.items) emit(out, item);
      out << YAML::EndSeq;
      break;
    case ConfigNode::Kind::map:
      out << YAML::BeginMap;
      for (const auto& [key, value] : node.entries) {
        out << YAML::Key;
        emit(out, key);
        out << YAML::Value;
        emit(out, value);
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// The known key a misspelt `key` most likely meant, or "" when none is close. A distance
/// must also be shorter than the key, or every two-letter key would "mean" every other one.
std::string suggest(std::string_view key, const std::vector<std::string>& known) {
  const std::string key_lower = lower(key);
  for (const std::string& candidate : known) {
    if (lower(candidate) == key_lower) return candidate;
  }
  std::string best;
  std::size_t best_distance = 3;
  for (const std::string& candidate : known) {
    const std::size_t distance = edit_distance(key, candidate);
    if (distance < best_distance && distance < key.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string join(const std::vector<std::string>& words, const char* quote) {
  std::string out;
  for (const std::string& word : words) {
    if (!out.empty()) out += ", ";
    out += quote + word + quote;
  }
  return out;
}

/// The text of a number as the standard library parses it: YAML allows a leading '+',
/// std::from_chars does not.
std::string_view without_plus(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  return text;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

/// YAML 1.2 core schema float syntax, so that "1e3" and ".5" are numbers and "0x10",
/// "1_000", " 3" and "nan" are not (strtod would accept some of those).
bool is_yaml_float(std::string_view text) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) text.remove_prefix(1);
  const std::size_t e = text.find_first_of("eE");
  std::string_view mantissa = text.substr(0, e);
  if (e != std::string_view::npos) {
    std::string_view exponent = text.substr(e + 1);
    if (!exponent.empty() && (exponent.front() == '+' || exponent.front() == '-')) {
      exponent.remove_prefix(1);
    }
    if (!all_digits(exponent)) return false;
  }
  const std::size_t dot = mantissa.find('.');
  if (dot == std::string_view::npos) return all_digits(mantissa);
  const std::string_view whole = mantissa.substr(0, dot);
  const std::string_view fraction = mantissa.substr(dot + 1);
  if (whole.empty()) return all_digits(fraction);
  return all_digits(whole) && (fraction.empty() || all_digits(fraction));
}

[[noreturn]] void fail_range(const ConfigNode& node, const std::string& lo, const std::string& hi,
                             const std::string& got) {
  node.fail(fmt::format("expected a value in [{}, {}], got {}", lo, hi, got));
}

}  // namespace

bool read_text_file(const std::filesystem::path& file, std::string& text, std::string& reason) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    reason = std::generic_category().message(errno);
    return false;
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    reason = std::generic_category().message(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    reason = S_ISDIR(st.st_mode) ? std::make_error_code(std::errc::is_a_directory).message()
                                 : fmt::format("{}, not a regular file", file_kind(st.st_mode));
    return false;
  }
  if (static_cast<std::uintmax_t>(st.st_size) > max_file_bytes) {
    reason = fmt::format("{} bytes, more than the limit of {} MiB for a configuration file",
                         st.st_size, max_file_bytes >> 20);
    return false;
  }
  // Read at most one byte beyond the limit, so that a file growing while it is read is caught.
  std::string out(static_cast<std::size_t>(st.st_size) + 1, '\0');
  std::size_t got = 0;
  for (;;) {
    if (got == out.size()) out.resize(std::min(out.size() * 2, max_file_bytes + 1));
    if (got == out.size()) break;
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      reason = std::generic_category().message(errno);
      return false;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > max_file_bytes) {
    reason =
        fmt::format("more than the limit of {} MiB for a configuration file", max_file_bytes >> 20);
    return false;
  }
  out.resize(got);
  text = std::move(out);
  return true;
}

void check_text(std::string_view text, const std::string& name) {
  const std::size_t at = first_bad_byte(text);
  if (at == std::string_view::npos) return;
  const std::size_t newline = at == 0 ? std::string_view::npos : text.rfind('\n', at - 1);
  const std::size_t column_from = newline == std::string_view::npos ? 0 : newline + 1;
  const auto line =
      1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  // The column in characters, as an editor shows it (the text before `at` is valid UTF-8).
  const auto column = 1 + std::count_if(text.begin() + static_cast<std::ptrdiff_t>(column_from),
                                        text.begin() + static_cast<std::ptrdiff_t>(at), [](char c) {
                                          return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
                                        });
  const Origin origin{name, static_cast<int>(line), static_cast<int>(column)};
  const auto byte = static_cast<unsigned>(static_cast<unsigned char>(text[at]));
  if (byte == 0) {
    throw ConfigError(origin, "",
                      "a NUL byte (the file is binary or damaged; save it as UTF-8 text)");
  }
  throw ConfigError(origin, "",
                    fmt::format("byte 0x{:02X} is not UTF-8 (GBK or another encoding?); save the "
                                "file as UTF-8",
                                byte));
}

ConfigError::ConfigError(const Origin& origin, const std::string& key, const std::string& message)
    : std::runtime_error(compose_message(origin, key, message)), origin_(origin), key_(key) {}

const ConfigNode* ConfigNode::find(std::string_view key) const {
  for (const auto& [name, node] : entries) {
    if (name == key) return &node;
  }
  return nullptr;
}

void ConfigNode::fail(const std::string& message) const {
  throw ConfigError(origin, path, message);
}

namespace {

ConfigNode load_file(const std::filesystem::path& file, bool follow_extends) {
  const fs::path normal = file.lexically_normal();
  std::string text;
  std::string reason;
  if (!read_file(normal, text, reason)) {
    throw ConfigError(Origin{}, "",
                      fmt::format("cannot read scenario file '{}': {}", file.string(), reason));
  }
  std::vector<ChainLink> chain{{file_identity(normal), normal.string()}};
  return load_document(text, normal.string(), normal.parent_path(), chain, follow_extends);
}

}  // namespace

ConfigNode load_config_file(const std::filesystem::path& file) {
  return load_file(file, true);
}

ConfigNode load_config_file_unmerged(const std::filesystem::path& file) {
  return load_file(file, false);
}

ConfigNode load_config_text(const std::string& text, const std::string& name,
                            const std::filesystem::path& base_dir) {
  const std::string display = name.empty() ? "<text>" : name;
  std::vector<ChainLink> chain{{file_identity(base_dir / display), display}};
  return load_document(text, display, base_dir, chain);
}

std::string to_yaml(const ConfigNode& node) {
  YAML::Emitter out;
  emit(out, node);
  if (!out.good()) {
    throw ConfigError(node.origin, node.path, "cannot write as YAML: " + out.GetLastError());
  }
  return std::string(out.c_str()) + "\n";
}

double as_double(const ConfigNode& node) {
  if (!node.is_scalar()) node.fail("expected a number, got " + describe(node));
  if (node.tagged_string)
    node.fail("expected a number, got the text " + describe(node) + " (!!str)");
  const std::string& text = node.scalar;
  static const char* const kInfinities[] = {".inf", ".Inf", ".INF"};
  for (const char* word : kInfinities) {
    const std::string_view unsigned_text = without_plus(text);
    if (unsigned_text == word) return std::numeric_limits<double>::infinity();
    if (text == std::string("-") + word) return -std::numeric_limits<double>::infinity();
  }
  if (text == ".nan" || text == ".NaN" || text == ".NAN") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (!is_yaml_float(text)) node.fail("expected a number, got " + describe(node));
  const std::string_view digits = without_plus(text);
  double value = 0.0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    node.fail("expected a number, got " + describe(node) + " (out of range)");
  }
  return value;
}

std::int64_t as_int(const ConfigNode& node) {
  if (!node.is_scalar()) node.fail("expected an integer, got " + describe(node));
  if (node.tagged_string)
    node.fail("expected an integer, got the text " + describe(node) + " (!!str)");
  const std::string_view text = node.scalar;
  const bool signed_text = !text.empty() && (text.front() == '+' || text.front() == '-');
  if (!all_digits(signed_text ? text.substr(1) : text)) {
    node.fail("expected an integer, got " + describe(node));
  }
  const std::string_view digits = without_plus(text);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    node.fail("expected an integer, got " + describe(node) + " (out of range)");
  }
  return value;
}

bool as_bool(const ConfigNode& node) {
  // YAML 1.2 core booleans only: "yes", "no", "on" and "off" are text (a country code "NO"
  // must not silently become false).
  if (node.is_scalar() && !node.tagged_string) {
    const std::string& text = node.scalar;
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
  }
  node.fail("expected true or false, got " + describe(node));
}

std::string as_string(const ConfigNode& node) {
  if (!node.is_scalar()) node.fail("expected a string, got " + describe(node));
  return node.scalar;
}

MapReader::MapReader(const ConfigNode& node) : node_(node) {
  if (!node.is_map()) node.fail("expected a map, got " + describe(node));
}

bool MapReader::has(std::string_view key) const {
  return node_.find(key) != nullptr;
}

const ConfigNode* MapReader::optional(std::string_view key) {
  allow(key);
  return node_.find(key);
}

const ConfigNode& MapReader::required(std::string_view key) {
  const ConfigNode* found = optional(key);
  if (found == nullptr) {
    throw ConfigError(node_.origin, child_path(node_.path, key), "missing required key");
  }
  return *found;
}

double MapReader::get_double(std::string_view key, double fallback, double lo, double hi) {
  const ConfigNode* found = optional(key);
  if (found == nullptr) return fallback;
  return check_range(*found, as_double(*found), lo, hi);
}

double MapReader::require_double(std::string_view key, double lo, double hi) {
  const ConfigNode& found = required(key);
  return check_range(found, as_double(found), lo, hi);
}

std::int64_t MapReader::get_int(std::string_view key, std::int64_t fallback, std::int64_t lo,
                                std::int64_t hi) {
  const ConfigNode* found = optional(key);
  if (found == nullptr) return fallback;
  const std::int64_t value = as_int(*found);
  if (value < lo || value > hi) {
    fail_range(*found, std::to_string(lo), std::to_string(hi), std::to_string(value));
  }
  return value;
}

std::int64_t MapReader::require_int(std::string_view key, std::int64_t lo, std::int64_t hi) {
  const ConfigNode& found = required(key);
  const std::int64_t value = as_int(found);
  if (value < lo || value > hi) {
    fail_range(found, std::to_string(lo), std::to_string(hi), std::to_string(value));
  }
  return value;
}

bool MapReader::get_bool(std::string_view key, bool fallback) {
  const ConfigNode* found = optional(key);
  return found == nullptr ? fallback : as_bool(*found);
}

std::string MapReader::get_string(std::string_view key, const std::string& fallback) {
  const ConfigNode* found = optional(key);
  return found == nullptr ? fallback : as_string(*found);
}

std::string MapReader::require_string(std::string_view key) {
  return as_string(required(key));
}

std::string MapReader::get_choice(std::string_view key, const std::string& fallback,
                                  const std::vector<std::string>& choices) {
  const ConfigNode* found = optional(key);
  if (found == nullptr) return fallback;
  std::string value = as_string(*found);
  if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
    found->fail(fmt::format("expected one of {}, got '{}'", join(choices, "'"), value));
  }
  return value;
}

void MapReader::allow(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
}

void MapReader::finish() const {
  for (const auto& [key, value] : node_.entries) {
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string message = "unknown key";
    const std::string guess = suggest(key, known_);
    if (!guess.empty()) {
      message += fmt::format(" (did you mean '{}'?)", guess);
    } else if (known_.empty()) {
      message += " (no keys are expected here)";
    } else {
      message += fmt::format(" (expected one of: {})", join(known_, ""));
    }
    throw ConfigError(value.key_origin, child_path(node_.path, key), message);
  }
}

double check_range(const ConfigNode& node, double value, double lo, double hi) {
  // Written so that NaN fails too.
  if (!(value >= lo && value <= hi)) {
    fail_range(node, fmt::format("{}", lo), fmt::format("{}", hi), fmt::format("{}", value));
  }
  return value;
}

}  // namespace childsim::config
