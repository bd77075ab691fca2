// The report document: Markdown and self-contained HTML writers (see include/pocket/report.hpp).
#include <fmt/format.h>

#include <algorithm>

#include "pocket/report.hpp"
#include "pocket/status.hpp"

namespace pocket::report {
namespace {

// Splits `text` at backticks: even pieces are plain text, odd pieces are code.
std::vector<std::string> code_spans(const std::string& text) {
  std::vector<std::string> pieces(1);
  for (const char c : text) {
    if (c == '`') {
      pieces.emplace_back();
    } else {
      pieces.back() += c;
    }
  }
  if (pieces.size() % 2 == 0) {  // an unmatched backtick: keep it as text
    pieces[pieces.size() - 2] += '`' + pieces.back();
    pieces.pop_back();
  }
  return pieces;
}

std::string md_plain(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '*' || c == '_' || c == '[' || c == ']' || c == '<' || c == '>' || c == '|' || c == '#') out += '\\';
    out += c;
  }
  return out;
}

std::string md_inline(const std::string& text) {
  const auto pieces = code_spans(text);
  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) out += i % 2 ? "`" + pieces[i] + "`" : md_plain(pieces[i]);
  return out;
}

std::string html_inline(const std::string& text) {
  const auto pieces = code_spans(text);
  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    out += i % 2 ? "<code>" + xml_escape(pieces[i]) + "</code>" : xml_escape(pieces[i]);
  }
  return out;
}

bool valid_figure_name(const std::string& name) {
  if (name.empty()) return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

const char* const kStyle = R"(
body { font-family: Helvetica, Arial, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #4c78a8; padding-bottom: .2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .15em; }
table { border-collapse: collapse; margin: .8em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f0f3f7; }
td:first-child, th:first-child { text-align: left; }
pre { background: #f6f8fa; padding: .8em; overflow-x: auto; font-size: 12px; }
code { background: #f3f3f3; padding: 0 .2em; }
pre code { background: none; padding: 0; }
figure { margin: 1.2em 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 13px; color: #555; }
nav ul { columns: 2; }
)";

}  // namespace

Document::Document(std::string title) : title_(std::move(title)) {}

void Document::heading(const std::string& text) { blocks_.push_back({Kind::Heading, text, {}, {}, 0}); }
void Document::subheading(const std::string& text) { blocks_.push_back({Kind::Subheading, text, {}, {}, 0}); }
void Document::paragraph(const std::string& text) { blocks_.push_back({Kind::Paragraph, text, {}, {}, 0}); }
void Document::bullets(const std::vector<std::string>& items) { blocks_.push_back({Kind::Bullets, "", items, {}, 0}); }
void Document::table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  blocks_.push_back({Kind::Table, "", header, rows, 0});
}
void Document::preformatted(const std::string& text) { blocks_.push_back({Kind::Preformatted, text, {}, {}, 0}); }

std::string Document::figure(const std::string& name, const std::string& caption, const std::string& svg) {
  POCKET_CHECK(valid_figure_name(name), "figure name must be [a-z0-9_-]+: " + name);
  const auto taken = [&](const std::string& n) {
    return std::any_of(figures_.begin(), figures_.end(), [&](const FigureFile& f) { return f.name == n; });
  };
  std::string unique = name;
  for (int i = 2; taken(unique); ++i) unique = name + "-" + std::to_string(i);
  figures_.push_back({unique, svg});
  blocks_.push_back({Kind::Figure, caption, {}, {}, figures_.size() - 1});
  return unique;
}

std::string Document::markdown(const std::string& figure_dir) const {
  std::string s = "# " + md_plain(title_) + "\n";
  for (const Block& b : blocks_) {
    s += '\n';
    switch (b.kind) {
      case Kind::Heading: s += "## " + md_inline(b.text) + "\n"; break;
      case Kind::Subheading: s += "### " + md_inline(b.text) + "\n"; break;
      case Kind::Paragraph: s += md_inline(b.text) + "\n"; break;
      case Kind::Bullets:
        for (const std::string& item : b.items) s += "- " + md_inline(item) + "\n";
        break;
      case Kind::Table: {
        std::string line = "|", rule = "|";
        for (const std::string& h : b.items) {
          line.append(" ").append(md_inline(h)).append(" |");
          rule.append(" --- |");
        }
        s += line + "\n" + rule + "\n";
        for (const auto& row : b.rows) {
          std::string cells(1, '|');
          for (const std::string& cell : row) cells.append(" ").append(md_inline(cell)).append(" |");
          s.append(cells).append("\n");
        }
        break;
      }
      case Kind::Preformatted: s += "```\n" + b.text + (b.text.ends_with('\n') ? "" : "\n") + "```\n"; break;
      case Kind::Figure:
        s += "![" + md_plain(b.text) + "](" + figure_dir + "/" + figures_[b.figure].name + ".svg)\n\n*" + md_inline(b.text) +
             "*\n";
        break;
    }
  }
  return s;
}

std::string Document::html() const {
  std::string toc, body;
  int section = 0;
  for (const Block& b : blocks_) {
    switch (b.kind) {
      case Kind::Heading: {
        ++section;
        const std::string id = fmt::format("s{}", section);
        toc += "<li><a href=\"#" + id + "\">" + html_inline(b.text) + "</a></li>\n";
        body += "<h2 id=\"" + id + "\">" + html_inline(b.text) + "</h2>\n";
        break;
      }
      case Kind::Subheading: body += "<h3>" + html_inline(b.text) + "</h3>\n"; break;
      case Kind::Paragraph: body += "<p>" + html_inline(b.text) + "</p>\n"; break;
      case Kind::Bullets:
        body += "<ul>\n";
        for (const std::string& item : b.items) body += "<li>" + html_inline(item) + "</li>\n";
        body += "</ul>\n";
        break;
      case Kind::Table:
        body += "<table>\n<thead><tr>";
        for (const std::string& h : b.items) body += "<th>" + html_inline(h) + "</th>";
        body += "</tr></thead>\n<tbody>\n";
        for (const auto& row : b.rows) {
          body += "<tr>";
          for (const std::string& cell : row) body += "<td>" + html_inline(cell) + "</td>";
          body += "</tr>\n";
        }
        body += "</tbody>\n</table>\n";
        break;
      case Kind::Preformatted: body += "<pre><code>" + xml_escape(b.text) + "</code></pre>\n"; break;
      case Kind::Figure:
        body += "<figure id=\"fig-" + figures_[b.figure].name + "\">\n" + figures_[b.figure].svg + "<figcaption>" +
                html_inline(b.text) + "</figcaption>\n</figure>\n";
        break;
    }
  }
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>" + xml_escape(title_) +
         "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>" + xml_escape(title_) +
         "</h1>\n<nav>\n<ul>\n" + toc + "</ul>\n</nav>\n" + body + "</body>\n</html>\n";
}

}  // namespace pocket::report
