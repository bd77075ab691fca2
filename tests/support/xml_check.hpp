// A small well-formedness checker for the XML-shaped documents the toolkit writes (SVG figures and
// the HTML report, which is written as XHTML-compatible markup): every tag is closed in order,
// attributes are quoted, entities are known, and a parse tree of elements is returned so tests can
// look at what a figure contains.
#pragma once

#include <cctype>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pocket::test {

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::vector<std::unique_ptr<XmlElement>> children;
  std::string text;  // concatenated character data directly inside this element (entities decoded)

  // Every descendant (not this element) named `tag`, in document order.
  void find_all(const std::string& tag, std::vector<const XmlElement*>& out) const {
    for (const auto& c : children) {
      if (c->name == tag) out.push_back(c.get());
      c->find_all(tag, out);
    }
  }
  std::vector<const XmlElement*> all(const std::string& tag) const {
    std::vector<const XmlElement*> out;
    find_all(tag, out);
    return out;
  }
  std::string attr(const std::string& key) const {
    const auto it = attributes.find(key);
    return it == attributes.end() ? std::string() : it->second;
  }
};

// Parses `doc`; on error returns null and sets *error to "offset N: what". A leading <?xml ...?>,
// <!DOCTYPE ...> and comments are skipped. Elements of HTML's void set (meta, br, hr, img, link,
// input) may be written without a closing tag. <style> and <script> hold raw text.
class XmlChecker {
 public:
  explicit XmlChecker(const std::string& doc) : s_(doc) {}

  std::unique_ptr<XmlElement> parse(std::string* error) {
    auto root = std::make_unique<XmlElement>();
    root->name = "#document";
    if (!content(*root, "") || !fail_if_trailing()) {
      if (error) *error = "offset " + std::to_string(pos_) + ": " + error_;
      return nullptr;
    }
    return root;
  }

 private:
  bool fail(const std::string& what) {
    if (error_.empty()) error_ = what;
    return false;
  }
  bool fail_if_trailing() { return pos_ == s_.size() || fail("text after the end"); }
  bool starts(const char* p) const { return s_.compare(pos_, std::char_traits<char>::length(p), p) == 0; }
  static bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == ':' || c == '.';
  }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }
  std::string name() {
    const size_t start = pos_;
    while (pos_ < s_.size() && name_char(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  bool skip_past(const char* end) {
    const size_t at = s_.find(end, pos_);
    if (at == std::string::npos) return fail(std::string("unterminated, expected ") + end);
    pos_ = at + std::char_traits<char>::length(end);
    return true;
  }
  bool entity(std::string& out) {
    const size_t semi = s_.find(';', pos_);
    if (semi == std::string::npos || semi - pos_ > 10) return fail("bare '&'");
    const std::string e = s_.substr(pos_ + 1, semi - pos_ - 1);
    static const std::map<std::string, std::string> known{{"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}};
    if (known.count(e)) {
      out += known.at(e);
    } else if (e.size() > 1 && e[0] == '#') {
      out += '?';  // numeric reference: valid, value not needed
      for (size_t i = 1; i < e.size(); ++i) {
        if (!(std::isalnum(static_cast<unsigned char>(e[i])) || e[i] == 'x')) return fail("bad character reference &" + e + ";");
      }
    } else {
      return fail("unknown entity &" + e + ";");
    }
    pos_ = semi + 1;
    return true;
  }
  static bool is_void(const std::string& tag) {
    return tag == "meta" || tag == "br" || tag == "hr" || tag == "img" || tag == "link" || tag == "input";
  }

  // Children and text of `parent` until its closing tag (or the end, for the document).
  bool content(XmlElement& parent, const std::string& closing) {
    while (pos_ < s_.size()) {
      if (starts("<!--")) {
        if (!skip_past("-->")) return false;
      } else if (starts("<?") || starts("<!DOCTYPE") || starts("<!doctype")) {
        if (!skip_past(">")) return false;
      } else if (starts("</")) {
        pos_ += 2;
        const std::string n = name();
        skip_space();
        if (!starts(">")) return fail("malformed closing tag </" + n);
        ++pos_;
        if (n != closing) return fail("closing tag </" + n + "> does not match <" + closing + ">");
        return true;
      } else if (starts("<")) {
        if (!element(parent)) return false;
      } else if (starts("&")) {
        if (!entity(parent.text)) return false;
      } else {
        parent.text += s_[pos_++];
      }
    }
    if (!closing.empty()) return fail("<" + closing + "> is never closed");
    return true;
  }

  bool element(XmlElement& parent) {
    ++pos_;
    auto e = std::make_unique<XmlElement>();
    e->name = name();
    if (e->name.empty()) return fail("'<' not followed by a tag name");
    for (;;) {
      skip_space();
      if (starts("/>")) {
        pos_ += 2;
        parent.children.push_back(std::move(e));
        return true;
      }
      if (starts(">")) {
        ++pos_;
        break;
      }
      const std::string key = name();
      if (key.empty()) return fail("bad attribute in <" + e->name + ">");
      skip_space();
      if (!starts("=")) return fail("attribute " + key + " of <" + e->name + "> without a value");
      ++pos_;
      skip_space();
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) return fail("unquoted attribute " + key);
      const char quote = s_[pos_++];
      std::string value;
      while (pos_ < s_.size() && s_[pos_] != quote) {
        if (s_[pos_] == '<') return fail("'<' inside attribute " + key);
        if (s_[pos_] == '&') {
          if (!entity(value)) return false;
        } else {
          value += s_[pos_++];
        }
      }
      if (pos_ >= s_.size()) return fail("unterminated attribute " + key);
      ++pos_;
      if (e->attributes.count(key)) return fail("duplicate attribute " + key + " in <" + e->name + ">");
      e->attributes[key] = value;
    }
    if (is_void(e->name)) {
      parent.children.push_back(std::move(e));
      return true;
    }
    if (e->name == "style" || e->name == "script") {
      const std::string end = "</" + e->name + ">";
      const size_t at = s_.find(end, pos_);
      if (at == std::string::npos) return fail("<" + e->name + "> is never closed");
      e->text = s_.substr(pos_, at - pos_);
      pos_ = at + end.size();
      parent.children.push_back(std::move(e));
      return true;
    }
    if (!content(*e, e->name)) return false;
    parent.children.push_back(std::move(e));
    return true;
  }

  const std::string& s_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace pocket::test
