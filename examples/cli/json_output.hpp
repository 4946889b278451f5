// SPDX-License-Identifier: MIT
// json_output: the command line's JSON is the library's (hat/io/json.hpp); standard output adds print_json.
#pragma once

#include <cstdio>

#include <hat/io/json.hpp>

namespace hat_cli {

using hat::json;
using hat::json_get;
using hat::json_line;
using hat::json_text;
using hat::parse_json;
using hat::read_json;
using hat::write_json_atomic;

/// Prints j on one line of standard output.
inline void print_json(const json& j) { std::fputs(json_line(j).c_str(), stdout); }

}  // namespace hat_cli
