// SPDX-License-Identifier: MIT
// json_lines: the JSON lines that templates shared with nvcc's TU print, declared here and written in
// json_output.cpp, so that nlohmann::json is compiled by the host compiler alone.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include <hat/latency/stats.hpp>
#include <hat/train/update_record.hpp>

namespace hat_cli {

/// `hat latency --json`: {"file", "encoder_ms", "decoder_ms", "total_ms"} and a newline.
std::string latency_json_line(const std::string& file, const hat::latency_result& r);

/// One line of a `hat train --log` file: the update's record and a newline.
std::string update_json_line(const hat::update_record& r);

/// The update count of a `hat train --log` line; nullopt when the line is not one.
std::optional<std::size_t> update_of_log_line(const std::string& line);

}  // namespace hat_cli
