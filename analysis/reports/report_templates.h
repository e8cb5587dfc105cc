// The printable reports' mustache templates, compiled into the library: the build turns
// templates/*.mustache (pages) and templates/partials/*.mustache into report_templates.cpp
// (embed_templates.cmake), and does so again whenever one of them changes.
//
// A page is its file's text. A partial is its file's text less the final line break, so that
// `{{>name}}` can sit inside a line (the evidence figure in a table cell) or end one.
// kainjow's mustache drops a line that holds only section tags when the section is rendered,
// but keeps its line break when it is skipped; so in these templates a section's opening tag
// ends a line of its own and its closing tag begins the line that follows the block
// (`{{/rows}}</tbody>`), which leaves no blank line either way.
#pragma once

#include <span>
#include <string_view>

namespace att {

struct ReportTemplate {
  std::string_view name;  // the file name without .mustache, e.g. "site_report"
  std::string_view text;
};

// The page template called `name`; "" when there is none.
std::string_view report_page(std::string_view name);

// Every partial, for `{{>name}}` in any page.
std::span<const ReportTemplate> report_partials();

}  // namespace att
