// Minimal checkers for the bench's text outputs: a strict JSON validator
// (RFC 8259 grammar, no extensions) and an XML well-formedness walk that is
// enough for SVG (tags balance, attributes are quoted).
#pragma once

#include <cctype>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace strata::bench::testcheck {

class JsonValidator {
 public:
  explicit JsonValidator(std::string_view text) : s_(text) {}
  bool Valid() {
    Ws();
    if (!Value()) return false;
    Ws();
    return i_ == s_.size();
  }

 private:
  void Ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool Lit(std::string_view lit) {
    if (s_.substr(i_, lit.size()) != lit) return false;
    i_ += lit.size();
    return true;
  }
  bool String() {
    if (!Lit("\"")) return false;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (static_cast<unsigned char>(s_[i_]) < 0x20) return false;
      if (s_[i_] == '\\') ++i_;
      ++i_;
    }
    return Lit("\"");
  }
  bool Number() {
    const size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) ||
                              s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E' ||
                              s_[i_] == '+' || s_[i_] == '-')) {
      ++i_;
    }
    return i_ > start && std::isdigit(static_cast<unsigned char>(s_[i_ - 1]));
  }
  bool Value() {
    Ws();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') return Container('}', true);
    if (c == '[') return Container(']', false);
    if (c == '"') return String();
    if (c == 't') return Lit("true");
    if (c == 'f') return Lit("false");
    if (c == 'n') return Lit("null");
    return Number();
  }
  bool Container(char close, bool object) {
    ++i_;
    Ws();
    if (i_ < s_.size() && s_[i_] == close) return ++i_, true;
    while (true) {
      Ws();
      if (object) {
        if (!String()) return false;
        Ws();
        if (!Lit(":")) return false;
      }
      if (!Value()) return false;
      Ws();
      if (Lit(",")) continue;
      return Lit(std::string(1, close));
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attributes;
};

// Walks the document; returns false if tags do not nest or an attribute is
// unquoted. Collects every element it opens into *elements.
inline bool WalkXml(std::string_view s, std::vector<XmlElement>* elements) {
  std::vector<std::string> stack;
  size_t i = 0;
  while ((i = s.find('<', i)) != std::string_view::npos) {
    if (s.substr(i, 2) == "<?") {
      i = s.find("?>", i);
      if (i == std::string_view::npos) return false;
      continue;
    }
    const size_t end = s.find('>', i);
    if (end == std::string_view::npos) return false;
    std::string_view tag = s.substr(i + 1, end - i - 1);
    i = end + 1;
    if (!tag.empty() && tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) return false;
      stack.pop_back();
      continue;
    }
    const bool self_closing = !tag.empty() && tag.back() == '/';
    if (self_closing) tag.remove_suffix(1);
    size_t p = 0;
    while (p < tag.size() && !std::isspace(static_cast<unsigned char>(tag[p]))) ++p;
    XmlElement element{std::string(tag.substr(0, p)), {}};
    if (element.name.empty()) return false;
    while (true) {
      while (p < tag.size() && std::isspace(static_cast<unsigned char>(tag[p]))) ++p;
      if (p >= tag.size()) break;
      const size_t eq = tag.find('=', p);
      if (eq == std::string_view::npos || eq + 1 >= tag.size() || tag[eq + 1] != '"') return false;
      const size_t close = tag.find('"', eq + 2);
      if (close == std::string_view::npos) return false;
      element.attributes[std::string(tag.substr(p, eq - p))] =
          std::string(tag.substr(eq + 2, close - eq - 2));
      p = close + 1;
    }
    if (!self_closing) stack.push_back(element.name);
    elements->push_back(std::move(element));
  }
  return stack.empty();
}

}  // namespace strata::bench::testcheck
